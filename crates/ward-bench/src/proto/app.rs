//! Application protocols of IT-side traffic: HTTP/1.1 (RFC 9112), TLS 1.2/1.3 handshakes
//! (RFC 5246/8446) with a self-signed X.509 certificate (RFC 5280) where the server is old,
//! SMB2/3 NEGOTIATE over NetBIOS session service (MS-SMB2 2.2.3/2.2.4), and the cleartext
//! login dialogues of Telnet and FTP plus an SSH version exchange.

use super::net::{ber, ber_int, ber_oid};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------
// HTTP/1.1
// ---------------------------------------------------------------------------------------

pub(crate) fn http_request(method: &str, path: &str, host: &str, ua: &str, body: &[u8]) -> Vec<u8> {
    let mut h = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\n\
         Accept: text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8\r\n\
         Accept-Encoding: identity\r\nConnection: keep-alive\r\n"
    );
    if !body.is_empty() {
        h.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    h.push_str("\r\n");
    let mut out = h.into_bytes();
    out.extend_from_slice(body);
    out
}

pub(crate) fn http_response(server: &str, content_type: &str, date: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nDate: {date}\r\nServer: {server}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// RFC 7231 IMF-fixdate of a Unix time in microseconds.
pub(crate) fn http_date(ts_us: u64) -> String {
    let c = super::civil_timestamp(ts_us);
    let secs = ts_us / 1_000_000;
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((secs / 86_400) % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m: usize = c[4..6].parse().unwrap_or(1);
    format!(
        "{wd}, {} {} {} {}:{}:{} GMT",
        &c[6..8],
        months[(m - 1) % 12],
        &c[0..4],
        &c[8..10],
        &c[10..12],
        &c[12..14]
    )
}

// ---------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------

fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![kind, 0x03, if kind == 0x16 { 0x01 } else { 0x03 }];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut h = vec![kind, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    h.extend_from_slice(body);
    h
}

fn ext(buf: &mut Vec<u8>, t: u16, body: &[u8]) {
    buf.extend_from_slice(&t.to_be_bytes());
    buf.extend_from_slice(&(body.len() as u16).to_be_bytes());
    buf.extend_from_slice(body);
}

fn u16_list(vals: &[u16]) -> Vec<u8> {
    let mut b = ((vals.len() * 2) as u16).to_be_bytes().to_vec();
    for v in vals {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b
}

fn random_bytes<const N: usize>(rng: &mut ChaCha8Rng) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill(&mut b[..]);
    b
}

/// What a TLS client offers.
pub(crate) struct ClientHello<'a> {
    pub sni: &'a str,
    pub alpn: &'a [&'a str],
    /// Offer TLS 1.3 (supported_versions, key_share) in addition to 1.2.
    pub tls13: bool,
}

/// A TLS ClientHello in one handshake record.
pub(crate) fn client_hello(c: &ClientHello<'_>, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&random_bytes::<32>(rng));
    body.push(32);
    body.extend_from_slice(&random_bytes::<32>(rng));
    let suites: &[u16] = if c.tls13 {
        &[
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d,
            0x002f, 0x0035,
        ]
    } else {
        &[
            0xc02b, 0xc02f, 0xc02c, 0xc030, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ]
    };
    body.extend_from_slice(&u16_list(suites));
    body.extend_from_slice(&[1, 0]);
    let mut e = Vec::with_capacity(256);
    let mut sni = ((c.sni.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0);
    sni.extend_from_slice(&(c.sni.len() as u16).to_be_bytes());
    sni.extend_from_slice(c.sni.as_bytes());
    ext(&mut e, 0x0000, &sni);
    ext(&mut e, 0x0017, &[]);
    ext(&mut e, 0xff01, &[0]);
    ext(&mut e, 0x000a, &u16_list(&[0x001d, 0x0017, 0x0018]));
    ext(&mut e, 0x000b, &[1, 0]);
    if !c.alpn.is_empty() {
        let mut list = Vec::new();
        for p in c.alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        let mut a = (list.len() as u16).to_be_bytes().to_vec();
        a.extend_from_slice(&list);
        ext(&mut e, 0x0010, &a);
    }
    ext(
        &mut e,
        0x000d,
        &u16_list(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]),
    );
    if c.tls13 {
        let mut ks = 36u16.to_be_bytes().to_vec();
        ks.extend_from_slice(&0x001du16.to_be_bytes());
        ks.extend_from_slice(&32u16.to_be_bytes());
        ks.extend_from_slice(&random_bytes::<32>(rng));
        ext(&mut e, 0x0033, &ks);
        ext(&mut e, 0x002d, &[1, 1]);
        ext(&mut e, 0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
    }
    body.extend_from_slice(&(e.len() as u16).to_be_bytes());
    body.extend_from_slice(&e);
    record(0x16, &handshake(0x01, &body))
}

fn server_hello(tls13: bool, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&random_bytes::<32>(rng));
    body.push(32);
    body.extend_from_slice(&random_bytes::<32>(rng));
    body.extend_from_slice(&(if tls13 { 0x1301u16 } else { 0xc02b }).to_be_bytes());
    body.push(0);
    let mut e = Vec::new();
    if tls13 {
        ext(&mut e, 0x002b, &[0x03, 0x04]);
        let mut ks = 0x001du16.to_be_bytes().to_vec();
        ks.extend_from_slice(&32u16.to_be_bytes());
        ks.extend_from_slice(&random_bytes::<32>(rng));
        ext(&mut e, 0x0033, &ks);
    } else {
        ext(&mut e, 0xff01, &[0]);
        ext(&mut e, 0x000b, &[1, 0]);
        ext(&mut e, 0x0017, &[]);
    }
    body.extend_from_slice(&(e.len() as u16).to_be_bytes());
    body.extend_from_slice(&e);
    handshake(0x02, &body)
}

fn ec_point(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut p = vec![0x04];
    p.extend_from_slice(&random_bytes::<64>(rng));
    p
}

fn ecdsa_sig(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut seq = Vec::new();
    for _ in 0..2 {
        let mut r = random_bytes::<32>(rng);
        r[0] &= 0x7f; // keep INTEGER positive without a leading zero byte
        r[0] |= 0x01;
        seq.extend_from_slice(&ber(0x02, &r));
    }
    ber(0x30, &seq)
}

fn x509_name(cn: &str, org: &str) -> Vec<u8> {
    // countryName must be a PrintableString (RFC 5280 Appendix A); the others UTF8String.
    let rdn = |oid: &[u32], tag: u8, v: &str| {
        let mut atv = ber_oid(oid);
        atv.extend_from_slice(&ber(tag, v.as_bytes()));
        ber(0x31, &ber(0x30, &atv))
    };
    let mut n = rdn(&[2, 5, 4, 6], 0x13, "US");
    n.extend_from_slice(&rdn(&[2, 5, 4, 10], 0x0c, org));
    n.extend_from_slice(&rdn(&[2, 5, 4, 3], 0x0c, cn));
    ber(0x30, &n)
}

/// An ECDSA P-256 X.509 v3 certificate for `subject` (CN, O) issued by `issuer` (the same
/// for a self-signed one). Validity in UTCTime form `YYMMDDhhmmssZ`. The signature bytes are
/// noise: nobody verifies them, and no real key exists.
pub(crate) fn certificate(
    subject: (&str, &str),
    issuer: (&str, &str),
    not_before: &str,
    not_after: &str,
    rng: &mut ChaCha8Rng,
) -> Vec<u8> {
    let sig_alg = ber(0x30, &ber_oid(&[1, 2, 840, 10045, 4, 3, 2]));
    let mut tbs = ber(0xa0, &ber_int(2));
    tbs.extend_from_slice(&ber_int(i64::from(rng.gen::<u32>() | 1)));
    tbs.extend_from_slice(&sig_alg);
    tbs.extend_from_slice(&x509_name(issuer.0, issuer.1));
    let mut validity = ber(0x17, not_before.as_bytes());
    validity.extend_from_slice(&ber(0x17, not_after.as_bytes()));
    tbs.extend_from_slice(&ber(0x30, &validity));
    tbs.extend_from_slice(&x509_name(subject.0, subject.1));
    let mut alg = ber_oid(&[1, 2, 840, 10045, 2, 1]);
    alg.extend_from_slice(&ber_oid(&[1, 2, 840, 10045, 3, 1, 7]));
    let mut spki = ber(0x30, &alg);
    let mut bits = vec![0];
    bits.extend_from_slice(&ec_point(rng));
    spki.extend_from_slice(&ber(0x03, &bits));
    tbs.extend_from_slice(&ber(0x30, &spki));
    let mut cert = ber(0x30, &tbs);
    cert.extend_from_slice(&sig_alg);
    let mut sig = vec![0];
    sig.extend_from_slice(&ecdsa_sig(rng));
    cert.extend_from_slice(&ber(0x03, &sig));
    ber(0x30, &cert)
}

/// The server's first flight. TLS 1.3: ServerHello, ChangeCipherSpec and encrypted records.
/// TLS 1.2: ServerHello, Certificate (`cert`), ServerKeyExchange (ECDHE P-256), ServerHelloDone.
pub(crate) fn server_flight(tls13: bool, cert: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(3000);
    if tls13 {
        out.extend_from_slice(&record(0x16, &server_hello(true, rng)));
        out.extend_from_slice(&record(0x14, &[1]));
        let n = rng.gen_range(2200..3600);
        out.extend_from_slice(&app_data(n, rng));
        out.extend_from_slice(&app_data(69, rng));
        return out;
    }
    let mut hs = server_hello(false, rng);
    let n = cert.len();
    let mut list = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    list.extend_from_slice(cert);
    let m = list.len();
    let mut certs = vec![(m >> 16) as u8, (m >> 8) as u8, m as u8];
    certs.extend_from_slice(&list);
    hs.extend_from_slice(&handshake(0x0b, &certs));
    let mut ske = vec![3, 0x00, 0x17, 65];
    ske.extend_from_slice(&ec_point(rng));
    ske.extend_from_slice(&0x0403u16.to_be_bytes());
    let sig = ecdsa_sig(rng);
    ske.extend_from_slice(&(sig.len() as u16).to_be_bytes());
    ske.extend_from_slice(&sig);
    hs.extend_from_slice(&handshake(0x0c, &ske));
    hs.extend_from_slice(&handshake(0x0e, &[]));
    out.extend_from_slice(&record(0x16, &hs));
    out
}

/// The client's second flight: TLS 1.2 ClientKeyExchange + CCS + Finished; TLS 1.3 CCS +
/// encrypted Finished.
pub(crate) fn client_finish(tls13: bool, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if !tls13 {
        let mut cke = vec![65];
        cke.extend_from_slice(&ec_point(rng));
        out.extend_from_slice(&record(0x16, &handshake(0x10, &cke)));
    }
    out.extend_from_slice(&record(0x14, &[1]));
    if tls13 {
        out.extend_from_slice(&app_data(53, rng));
    } else {
        let mut fin = vec![0x16, 0x03, 0x03, 0, 40];
        fin.extend_from_slice(&random_bytes::<40>(rng));
        out.extend_from_slice(&fin);
    }
    out
}

/// TLS 1.2 server CCS + encrypted Finished.
pub(crate) fn server_finish(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = record(0x14, &[1]);
    let mut fin = vec![0x16, 0x03, 0x03, 0, 40];
    fin.extend_from_slice(&random_bytes::<40>(rng));
    out.extend_from_slice(&fin);
    out
}

/// Application data records totalling about `n` bytes of ciphertext (16 KiB max per record).
pub(crate) fn app_data(n: usize, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    let mut left = n.max(1);
    while left > 0 {
        let len = left.min(16_384);
        out.extend_from_slice(&[0x17, 0x03, 0x03]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        let start = out.len();
        out.resize(start + len, 0);
        rng.fill(&mut out[start..]);
        left -= len;
    }
    out
}

// ---------------------------------------------------------------------------------------
// SMB2/3 NEGOTIATE
// ---------------------------------------------------------------------------------------

fn netbios(smb: &[u8]) -> Vec<u8> {
    let n = smb.len();
    let mut out = vec![0x00, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    out.extend_from_slice(smb);
    out
}

fn smb2_header(response: bool) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(&[0xfe, b'S', b'M', b'B']);
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // credit charge
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.extend_from_slice(&0u16.to_le_bytes()); // NEGOTIATE
    h.extend_from_slice(&1u16.to_le_bytes()); // credits
    h.extend_from_slice(&u32::from(response).to_le_bytes()); // SMB2_FLAGS_SERVER_TO_REDIR
    h.extend_from_slice(&[0u8; 4 + 8 + 4 + 4 + 8 + 16]);
    h
}

fn pad8(b: &mut Vec<u8>, base: usize) {
    while (b.len() - base) & 7 != 0 {
        b.push(0);
    }
}

fn neg_context(b: &mut Vec<u8>, t: u16, data: &[u8]) {
    b.extend_from_slice(&t.to_le_bytes());
    b.extend_from_slice(&(data.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0u8; 4]);
    b.extend_from_slice(data);
}

fn preauth_ctx(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&32u16.to_le_bytes());
    d.extend_from_slice(&1u16.to_le_bytes()); // SHA-512
    d.extend_from_slice(&random_bytes::<32>(rng));
    d
}

/// SMB2 NEGOTIATE request offering 2.0.2 through 3.1.1, as Windows 10/11 does.
pub(crate) fn smb2_negotiate_request(client_guid: [u8; 16], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = smb2_header(false);
    let dialects = [0x0202u16, 0x0210, 0x0300, 0x0302, 0x0311];
    b.extend_from_slice(&36u16.to_le_bytes());
    b.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // signing enabled
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&0x7fu32.to_le_bytes());
    b.extend_from_slice(&client_guid);
    let ctx_off_at = b.len();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    for d in dialects {
        b.extend_from_slice(&d.to_le_bytes());
    }
    pad8(&mut b, 0);
    let off = b.len() as u32;
    b[ctx_off_at..ctx_off_at + 4].copy_from_slice(&off.to_le_bytes());
    neg_context(&mut b, 1, &preauth_ctx(rng));
    pad8(&mut b, 0);
    neg_context(&mut b, 2, &[2, 0, 2, 0, 1, 0]); // AES-128-GCM, AES-128-CCM
    netbios(&b)
}

/// SPNEGO negTokenInit offering NTLMSSP, as Windows servers put in NEGOTIATE responses
/// (RFC 4178; the negHints string is the constant Windows sends, MS-SPNG 2.2.1).
fn spnego_init() -> Vec<u8> {
    let mech = ber(0x30, &ber_oid(&[1, 3, 6, 1, 4, 1, 311, 2, 2, 10]));
    let mut init = ber(0xa0, &mech);
    let hint = ber(0x1b, b"not_defined_in_RFC4178@please_ignore");
    init.extend_from_slice(&ber(0xa3, &ber(0x30, &ber(0xa0, &hint))));
    let mut gss = ber_oid(&[1, 3, 6, 1, 5, 5, 2]);
    gss.extend_from_slice(&ber(0xa0, &ber(0x30, &init)));
    ber(0x60, &gss)
}

/// SMB2 NEGOTIATE response selecting 3.1.1.
pub(crate) fn smb2_negotiate_response(
    server_guid: [u8; 16],
    filetime: u64,
    rng: &mut ChaCha8Rng,
) -> Vec<u8> {
    let mut b = smb2_header(true);
    let blob = spnego_init();
    b.extend_from_slice(&65u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0x0311u16.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&server_guid);
    b.extend_from_slice(&0x2fu32.to_le_bytes());
    for _ in 0..3 {
        b.extend_from_slice(&8_388_608u32.to_le_bytes());
    }
    b.extend_from_slice(&filetime.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&128u16.to_le_bytes());
    b.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    let ctx_off_at = b.len();
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&blob);
    pad8(&mut b, 0);
    let off = b.len() as u32;
    b[ctx_off_at..ctx_off_at + 4].copy_from_slice(&off.to_le_bytes());
    neg_context(&mut b, 1, &preauth_ctx(rng));
    pad8(&mut b, 0);
    neg_context(&mut b, 2, &[1, 0, 2, 0]);
    netbios(&b)
}

// ---------------------------------------------------------------------------------------
// SMB1 (MS-CIFS 2.2.4.52 NEGOTIATE, 2.2.4.53 SESSION_SETUP_ANDX), as legacy Windows XP
// Embedded devices still speak it. Strings are OEM (Flags2 without UNICODE).
// ---------------------------------------------------------------------------------------

fn smb1_header(command: u8, response: bool, uid: u16, mid: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(&[0xff, b'S', b'M', b'B', command]);
    h.extend_from_slice(&0u32.to_le_bytes()); // STATUS_SUCCESS
    h.push(if response { 0x98 } else { 0x18 });
    h.extend_from_slice(&0x4001u16.to_le_bytes()); // NT status codes, long names
    h.extend_from_slice(&[0u8; 2 + 8 + 2]); // PIDHigh, SecurityFeatures, Reserved
    h.extend_from_slice(&0u16.to_le_bytes()); // TID
    h.extend_from_slice(&0xfeffu16.to_le_bytes()); // PIDLow
    h.extend_from_slice(&uid.to_le_bytes());
    h.extend_from_slice(&mid.to_le_bytes());
    h
}

fn smb1_body(h: &mut Vec<u8>, words: &[u8], bytes: &[u8]) {
    h.push((words.len() / 2) as u8);
    h.extend_from_slice(words);
    h.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    h.extend_from_slice(bytes);
}

fn cstr(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(s.as_bytes());
    b.push(0);
}

/// SMB1 NEGOTIATE request with the classic dialect list ending in "NT LM 0.12".
pub(crate) fn smb1_negotiate_request() -> Vec<u8> {
    let mut dialects = Vec::new();
    for d in [
        "PC NETWORK PROGRAM 1.0",
        "LANMAN1.0",
        "Windows for Workgroups 3.1a",
        "LM1.2X002",
        "LANMAN2.1",
        "NT LM 0.12",
    ] {
        dialects.push(0x02);
        cstr(&mut dialects, d);
    }
    let mut m = smb1_header(0x72, false, 0, 1);
    smb1_body(&mut m, &[], &dialects);
    netbios(&m)
}

/// SMB1 NEGOTIATE response choosing "NT LM 0.12" (index 5) without extended security.
pub(crate) fn smb1_negotiate_response(
    domain: &str,
    filetime: u64,
    rng: &mut ChaCha8Rng,
) -> Vec<u8> {
    let mut w = Vec::with_capacity(34);
    w.extend_from_slice(&5u16.to_le_bytes());
    w.push(0x03); // user-level security, challenge/response
    w.extend_from_slice(&50u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&16_644u32.to_le_bytes());
    w.extend_from_slice(&65_536u32.to_le_bytes());
    w.extend_from_slice(&rng.gen::<u32>().to_le_bytes());
    w.extend_from_slice(&0x0000_e3fdu32.to_le_bytes());
    w.extend_from_slice(&filetime.to_le_bytes());
    w.extend_from_slice(&0i16.to_le_bytes());
    w.push(8);
    let mut b = random_bytes::<8>(rng).to_vec();
    cstr(&mut b, domain);
    let mut m = smb1_header(0x72, true, 0, 1);
    smb1_body(&mut m, &w, &b);
    netbios(&m)
}

/// SMB1 SESSION_SETUP_ANDX request (NTLM challenge responses, then account, domain,
/// NativeOS and NativeLanMan).
pub(crate) fn smb1_session_setup_request(
    account: &str,
    domain: &str,
    native_os: &str,
    native_lanman: &str,
    rng: &mut ChaCha8Rng,
) -> Vec<u8> {
    let mut w = vec![0xff, 0, 0, 0]; // no AndX command
    w.extend_from_slice(&16_644u16.to_le_bytes());
    w.extend_from_slice(&50u16.to_le_bytes());
    w.extend_from_slice(&0u16.to_le_bytes());
    w.extend_from_slice(&0u32.to_le_bytes());
    w.extend_from_slice(&24u16.to_le_bytes());
    w.extend_from_slice(&24u16.to_le_bytes());
    w.extend_from_slice(&0u32.to_le_bytes());
    w.extend_from_slice(&0x0000_00d4u32.to_le_bytes());
    let mut b = random_bytes::<48>(rng).to_vec();
    cstr(&mut b, account);
    cstr(&mut b, domain);
    cstr(&mut b, native_os);
    cstr(&mut b, native_lanman);
    let mut m = smb1_header(0x73, false, 0, 2);
    smb1_body(&mut m, &w, &b);
    netbios(&m)
}

/// SMB1 SESSION_SETUP_ANDX response carrying the server's NativeOS and NativeLanMan.
pub(crate) fn smb1_session_setup_response(
    native_os: &str,
    native_lanman: &str,
    domain: &str,
    uid: u16,
) -> Vec<u8> {
    let w = [0xff, 0, 0, 0, 0, 0]; // no AndX, Action 0
    let mut b = Vec::new();
    cstr(&mut b, native_os);
    cstr(&mut b, native_lanman);
    cstr(&mut b, domain);
    let mut m = smb1_header(0x73, true, uid, 2);
    smb1_body(&mut m, &w, &b);
    netbios(&m)
}

/// Windows FILETIME (100 ns ticks since 1601) of a Unix time in microseconds.
pub(crate) fn filetime(ts_us: u64) -> u64 {
    (ts_us + 11_644_473_600_000_000) * 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ch = client_hello(
            &ClientHello {
                sni: "emr.rgh.local",
                alpn: &["h2", "http/1.1"],
                tls13: true,
            },
            &mut rng,
        );
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len + 5, ch.len());
        let hs_len = (usize::from(ch[6]) << 16) | (usize::from(ch[7]) << 8) | usize::from(ch[8]);
        assert_eq!(hs_len + 4, rec_len);
        assert!(ch.windows(13).any(|w| w == b"emr.rgh.local"));
    }

    #[test]
    fn http_date_format() {
        assert_eq!(
            http_date(1_795_939_200_000_000),
            "Sun, 29 Nov 2026 08:00:00 GMT"
        );
    }

    #[test]
    fn smb2_negotiate_context_offset_is_aligned_and_in_bounds() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let r = smb2_negotiate_response([1; 16], filetime(0), &mut rng);
        let smb = &r[4..];
        let off =
            u32::from_le_bytes([smb[64 + 60], smb[64 + 61], smb[64 + 62], smb[64 + 63]]) as usize;
        assert_eq!(off % 8, 0);
        assert!(off < smb.len());
        assert_eq!(u16::from_le_bytes([smb[off], smb[off + 1]]), 1);
    }
}
