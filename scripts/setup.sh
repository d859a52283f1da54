#!/usr/bin/env bash
# Installs the system packages Ward's build and tests need (Debian). Idempotent; safe to
# run on every CI run. Needs root (or sudo) only when something is missing.
set -euo pipefail

need=()
dpkg -s libpcap-dev >/dev/null 2>&1 || need+=(libpcap-dev)   # live capture (feature `live`)
dpkg -s ieee-data >/dev/null 2>&1 || need+=(ieee-data)       # IEEE OUI registry (MA-L/M/S)
dpkg -s poppler-utils >/dev/null 2>&1 || need+=(poppler-utils) # PDF report test (pdftoppm, pdftotext)
dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)           # browser end-to-end tests
dpkg -s chromium-driver >/dev/null 2>&1 || need+=(chromium-driver) # WebDriver for chromium
command -v openssl >/dev/null 2>&1 || need+=(openssl)           # TLS test certificate (ward-server tests/serve.rs)
if [ "${WARD_BENCH_TOOLS:-0}" = 1 ]; then
  command -v tshark >/dev/null 2>&1 || need+=(tshark)        # benchmark peer only
  command -v wrk >/dev/null 2>&1 || need+=(wrk)              # HTTP load benchmark (docs/BENCHMARKS.md)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The CycloneDX VEX export test validates against the official JSON schema with Python's
# jsonschema (no offline Rust validator for draft-07 with $refs was available).
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema

# The OIDC single sign-on test (crates/ward-server/tests/oidc.rs) runs a real OpenID Provider,
# the npm package oidc-provider, under Node.js (20 or later), pinned by its package-lock.json.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
  echo "setup: installing nodejs npm"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}
(cd crates/ward-server/tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
