// A real OpenID Provider for Ward's OIDC tests: panva/oidc-provider with its development
// login/consent pages (they accept any login name and password).
//
// Started by crates/ward-server/tests/oidc.rs as `node provider.js` with its settings in the
// environment:
//   WARD_TEST_REDIRECT_URI  Ward's callback URL (the static client's only redirect URI)
//   WARD_TEST_CLIENT_SECRET the static client's secret (client id "ward")
//   WARD_TEST_ACCOUNTS      JSON object: login name -> extra claims (e.g. {"groups": [...]})
//   WARD_TEST_ID_TOKEN_CLAIMS "1": put scope claims in the ID token too (otherwise, as the
//                           provider does by default for the code flow, only in userinfo)
// It listens on an ephemeral port of 127.0.0.1, prints `ISSUER <url>` on stdout once ready,
// and exits when its stdin closes (so it never outlives the test).
import http from 'node:http';
import Provider from 'oidc-provider';

const redirectUri = process.env.WARD_TEST_REDIRECT_URI;
const clientSecret = process.env.WARD_TEST_CLIENT_SECRET;
if (!redirectUri || !clientSecret) {
  console.error('provider.js: WARD_TEST_REDIRECT_URI and WARD_TEST_CLIENT_SECRET are required');
  process.exit(2);
}
const accounts = JSON.parse(process.env.WARD_TEST_ACCOUNTS || '{}');

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'ward',
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // Every authorization request must carry a PKCE challenge (S256).
    pkce: { required: () => true },
    conformIdTokenClaims: process.env.WARD_TEST_ID_TOKEN_CLAIMS !== '1',
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
    },
    cookies: { keys: ['ward-oidc-test-cookie-key'] },
    async findAccount(ctx, id) {
      const extra = accounts[id] || {};
      return {
        accountId: id,
        async claims() {
          return {
            sub: id, name: `Test ${id}`, preferred_username: id, email: `${id}@hospital.test`, ...extra,
          };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`ISSUER ${issuer}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
