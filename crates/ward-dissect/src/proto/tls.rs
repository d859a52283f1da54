//! TLS handshakes (TCP 443 and any port by content): versions, SNI, ALPN, JA3/JA3S/JA4
//! fingerprints and the server certificate (TLS 1.2 and below, where it is in clear).
//!
//! Fact keys:
//! - `tls.sni`: server name from the ClientHello, about the server
//! - `tls.client_version`: highest version the client offers ("TLS 1.3")
//! - `tls.alpn`: the client's ALPN list ("h2,http/1.1")
//! - `tls.ja3`, `tls.ja4`: client fingerprints (JA3 md5 hex; JA4 per FoxIO's spec)
//! - `tls.version`: the version the server selected (about both sides)
//! - `tls.ja3s`: server fingerprint
//! - `tls.cert_subject`, `tls.cert_cn`, `tls.cert_org`, `tls.cert_issuer`,
//!   `tls.cert_not_before`, `tls.cert_not_after` (RFC 3339 UTC): the first certificate
//!   a side sent, about that side (client certificates included)
//!
//! Security observations: `WeakTlsVersion` (server selected below TLS 1.2),
//! `SelfSignedCertificate` (subject equals issuer), `ExpiredCertificate` (notAfter before
//! the packet's timestamp), each about the side that sent the certificate / selected the
//! version.
//!
//! Records may span segments and handshake messages may span records: each direction
//! keeps at most 64 KiB of handshake bytes.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{Frame, Reader, RecordStream};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use std::fmt::Write as _;
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Most handshake bytes buffered per direction.
const MAX_HANDSHAKE: usize = 64 * 1024;

/// Is this a GREASE value (RFC 8701)?
pub fn is_grease(v: u16) -> bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Human name of a protocol version.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        0x0200 => "SSL 2.0".into(),
        other => format!("0x{other:04x}"),
    }
}

/// Why a handshake message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("TLS {what} truncated at byte offset {offset}")]
    Truncated { what: &'static str, offset: usize },
}

/// A parsed ClientHello (values in wire order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello<'a> {
    pub legacy_version: u16,
    pub ciphers: Vec<u16>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    pub sni: Option<&'a [u8]>,
    pub alpn: Vec<&'a [u8]>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub sig_algs: Vec<u16>,
    pub supported_versions: Vec<u16>,
}

/// A parsed ServerHello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub cipher: u16,
    pub extensions: Vec<u16>,
    /// From the supported_versions extension (TLS 1.3).
    pub selected_version: Option<u16>,
}

impl ServerHello {
    /// The version actually negotiated.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

fn trunc(what: &'static str, r: &Reader<'_>) -> TlsError {
    TlsError::Truncated {
        what,
        offset: r.pos(),
    }
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    let mut r = Reader::new(body);
    let mut ch = ClientHello {
        legacy_version: r.u16().ok_or_else(|| trunc("ClientHello version", &r))?,
        ..Default::default()
    };
    r.skip(32).ok_or_else(|| trunc("ClientHello random", &r))?;
    r.vec8()
        .ok_or_else(|| trunc("ClientHello session id", &r))?;
    ch.ciphers = u16s(r.vec16().ok_or_else(|| trunc("ClientHello ciphers", &r))?);
    r.vec8()
        .ok_or_else(|| trunc("ClientHello compression", &r))?;
    let Some(exts) = r.vec16() else {
        return Ok(ch);
    };
    let mut e = Reader::new(exts);
    while e.remaining() >= 4 {
        let (Some(t), Some(v)) = (e.u16(), e.vec16()) else {
            break;
        };
        ch.extensions.push(t);
        let mut x = Reader::new(v);
        match t {
            0 => {
                if let Some(list) = x.vec16() {
                    let mut l = Reader::new(list);
                    if l.u8() == Some(0) {
                        ch.sni = l.vec16();
                    }
                }
            }
            10 => ch.groups = u16s(x.vec16().unwrap_or(&[])),
            11 => ch.point_formats = x.vec8().unwrap_or(&[]).to_vec(),
            13 => ch.sig_algs = u16s(x.vec16().unwrap_or(&[])),
            16 => {
                let mut l = Reader::new(x.vec16().unwrap_or(&[]));
                while let Some(p) = l.vec8() {
                    ch.alpn.push(p);
                }
            }
            43 => ch.supported_versions = u16s(x.vec8().unwrap_or(&[])),
            _ => {}
        }
    }
    Ok(ch)
}

/// Parses a ServerHello body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut r = Reader::new(body);
    let mut sh = ServerHello {
        legacy_version: r.u16().ok_or_else(|| trunc("ServerHello version", &r))?,
        ..Default::default()
    };
    r.skip(32).ok_or_else(|| trunc("ServerHello random", &r))?;
    r.vec8()
        .ok_or_else(|| trunc("ServerHello session id", &r))?;
    sh.cipher = r.u16().ok_or_else(|| trunc("ServerHello cipher", &r))?;
    r.u8().ok_or_else(|| trunc("ServerHello compression", &r))?;
    let Some(exts) = r.vec16() else {
        return Ok(sh);
    };
    let mut e = Reader::new(exts);
    while e.remaining() >= 4 {
        let (Some(t), Some(v)) = (e.u16(), e.vec16()) else {
            break;
        };
        sh.extensions.push(t);
        if t == 43 && v.len() == 2 {
            sh.selected_version = Some(u16::from_be_bytes([v[0], v[1]]));
        }
    }
    Ok(sh)
}

fn dash_join<T: std::fmt::Display>(it: impl IntoIterator<Item = T>) -> String {
    let mut s = String::new();
    for (i, v) in it.into_iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{v}");
    }
    s
}

fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    crate::proto::util::hex(&d)
}

/// The JA3 string and its md5 (GREASE removed).
pub fn ja3(ch: &ClientHello<'_>) -> (String, String) {
    let s = format!(
        "{},{},{},{},{}",
        ch.legacy_version,
        dash_join(ch.ciphers.iter().filter(|c| !is_grease(**c))),
        dash_join(ch.extensions.iter().filter(|c| !is_grease(**c))),
        dash_join(ch.groups.iter().filter(|c| !is_grease(**c))),
        dash_join(ch.point_formats.iter()),
    );
    let h = md5_hex(&s);
    (s, h)
}

/// The JA3S string and its md5.
pub fn ja3s(sh: &ServerHello) -> (String, String) {
    let s = format!(
        "{},{},{}",
        sh.legacy_version,
        sh.cipher,
        dash_join(sh.extensions.iter())
    );
    let h = md5_hex(&s);
    (s, h)
}

fn sha12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".into();
    }
    let d = Sha256::digest(s.as_bytes());
    let mut h = crate::proto::util::hex(&d);
    h.truncate(12);
    h
}

fn hex4_join(v: &[u16]) -> String {
    let mut s = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x:04x}");
    }
    s
}

/// The highest version a ClientHello offers (supported_versions, else legacy).
pub fn client_max_version(ch: &ClientHello<'_>) -> u16 {
    ch.supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(ch.legacy_version)
}

/// JA4 (TLS over TCP) of a ClientHello, e.g. `t13d1516h2_8daaf6152771_02713d6af862`.
pub fn ja4(ch: &ClientHello<'_>) -> String {
    let version = match client_max_version(ch) {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0200 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let alpn = match ch.alpn.first() {
        Some(a) if !a.is_empty() => {
            let (f, l) = (a[0], a[a.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                format!("{}{}", f as char, l as char)
            } else {
                let h = crate::proto::util::hex(a);
                let b = h.as_bytes();
                format!("{}{}", b[0] as char, b[b.len() - 1] as char)
            }
        }
        _ => "00".into(),
    };
    let a = format!(
        "t{}{}{:02}{:02}{}",
        version,
        if ch.sni.is_some() { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        alpn
    );
    let mut sorted_c = ciphers;
    sorted_c.sort_unstable();
    let b = sha12(&hex4_join(&sorted_c));
    let mut sorted_e: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 16).collect();
    sorted_e.sort_unstable();
    let mut cs = hex4_join(&sorted_e);
    let sigs: Vec<u16> = ch
        .sig_algs
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    if !sigs.is_empty() {
        cs.push('_');
        cs.push_str(&hex4_join(&sigs));
    }
    let c = if sorted_e.is_empty() {
        "000000000000".into()
    } else {
        sha12(&cs)
    };
    format!("{a}_{b}_{c}")
}

/// Formats Unix seconds as RFC 3339 UTC ("2024-01-31T12:00:00Z").
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), after H. Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// What Ward keeps of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub cn: Option<String>,
    pub org: Option<String>,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub self_signed: bool,
}

/// Parses the first certificate of a Certificate handshake body (TLS <= 1.2 layout).
pub fn first_certificate(body: &[u8]) -> Option<CertInfo> {
    let mut r = Reader::new(body);
    let list = r.vec24()?;
    let der = Reader::new(list).vec24()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string);
    let org = subject
        .iter_organization()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string);
    Some(CertInfo {
        subject: cert.subject().to_string(),
        cn,
        org,
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
    })
}

/// Per-direction handshake state.
#[derive(Debug)]
struct DirState {
    records: RecordStream,
    hs: Vec<u8>,
    /// ChangeCipherSpec seen or the stream is unusable: no more clear handshake.
    done: bool,
    cert_seen: bool,
}

impl DirState {
    fn new() -> Self {
        DirState {
            records: RecordStream::new(5, 5 + 18 * 1024),
            hs: Vec::new(),
            done: false,
            cert_seen: false,
        }
    }
}

/// Per-flow TLS state.
#[derive(Debug)]
pub struct TlsFlow {
    dirs: [DirState; 2],
    client_hello: bool,
    server_hello: bool,
    tls13: bool,
    labelled: bool,
}

impl Default for TlsFlow {
    fn default() -> Self {
        TlsFlow {
            dirs: [DirState::new(), DirState::new()],
            client_hello: false,
            server_hello: false,
            tls13: false,
            labelled: false,
        }
    }
}

/// Frames TLS records: handshake records whole, others by header only.
fn frame_record(h: &[u8], want_handshake: bool) -> Frame {
    let len = u16::from_be_bytes([h[3], h[4]]) as usize;
    if !(20..=24).contains(&h[0]) || h[1] != 3 || len > 18 * 1024 {
        return Frame::Invalid;
    }
    let want = if h[0] == 22 && want_handshake {
        5 + len
    } else {
        5
    };
    Frame::Record {
        total: 5 + len,
        want: if h[0] == 20 { 5 } else { want },
    }
}

impl TlsFlow {
    fn handshake_message(
        &mut self,
        ctx: &FlowCtx<'_>,
        dir: Direction,
        kind: u8,
        body: &[u8],
        out: &mut Facts,
    ) {
        let side = Side::sender(dir);
        match kind {
            1 if !self.client_hello => {
                let Ok(ch) = parse_client_hello(body) else {
                    return;
                };
                self.client_hello = true;
                if let Some(sni) = ch.sni {
                    out.fact_bytes(Side::receiver(dir), "tls.sni", sni);
                }
                out.fact(
                    side,
                    "tls.client_version",
                    version_name(client_max_version(&ch)),
                );
                if !ch.alpn.is_empty() {
                    let alpn: Vec<String> = ch
                        .alpn
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    out.fact(side, "tls.alpn", alpn.join(","));
                }
                out.fact(side, "tls.ja3", ja3(&ch).1);
                out.fact(side, "tls.ja4", ja4(&ch));
            }
            2 if !self.server_hello => {
                let Ok(sh) = parse_server_hello(body) else {
                    return;
                };
                self.server_hello = true;
                let v = sh.version();
                self.tls13 = (0x0304..0x0400).contains(&v);
                let name = version_name(v);
                out.fact(side, "tls.version", &name);
                out.fact(Side::receiver(dir), "tls.version", &name);
                out.fact(side, "tls.ja3s", ja3s(&sh).1);
                if v < 0x0303 {
                    out.security(
                        side,
                        SecurityKind::WeakTlsVersion,
                        Severity::Medium,
                        format!("{name} negotiated (below TLS 1.2)"),
                    );
                }
                if self.tls13 {
                    // The rest of the server's handshake is encrypted.
                    self.dirs[usize::from(dir == Direction::ToClient)].done = true;
                }
            }
            11 => {
                let d = usize::from(dir == Direction::ToClient);
                if self.dirs[d].cert_seen {
                    return;
                }
                self.dirs[d].cert_seen = true;
                let Some(c) = first_certificate(body) else {
                    return;
                };
                out.fact(side, "tls.cert_subject", &c.subject);
                if let Some(cn) = &c.cn {
                    out.fact(side, "tls.cert_cn", cn);
                }
                if let Some(o) = &c.org {
                    out.fact(side, "tls.cert_org", o);
                }
                out.fact(side, "tls.cert_issuer", &c.issuer);
                out.fact(side, "tls.cert_not_before", rfc3339(c.not_before));
                out.fact(side, "tls.cert_not_after", rfc3339(c.not_after));
                if c.self_signed {
                    out.security(
                        side,
                        SecurityKind::SelfSignedCertificate,
                        Severity::Medium,
                        format!("self-signed certificate: {}", c.subject),
                    );
                }
                let now = ctx.pkt.ts.secs() as i64;
                if c.not_after < now {
                    out.security(
                        side,
                        SecurityKind::ExpiredCertificate,
                        Severity::Medium,
                        format!("certificate {} expired {}", c.subject, rfc3339(c.not_after)),
                    );
                }
            }
            _ => {}
        }
    }

    /// Consumes complete handshake messages from `buf`; returns the bytes used.
    fn handshake_bytes(
        &mut self,
        ctx: &FlowCtx<'_>,
        dir: Direction,
        buf: &[u8],
        out: &mut Facts,
    ) -> usize {
        let mut used = 0;
        while let Some(h) = buf.get(used..used + 4) {
            let len = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
            let Some(body) = buf.get(used + 4..used + 4 + len) else {
                break;
            };
            self.handshake_message(ctx, dir, h[0], body, out);
            used += 4 + len;
            if self.dirs[usize::from(dir == Direction::ToClient)].done {
                break;
            }
        }
        used
    }

    fn record(&mut self, ctx: &FlowCtx<'_>, dir: Direction, rec: &[u8], out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        if !self.labelled {
            out.protocol("tls");
            self.labelled = true;
        }
        match rec.first() {
            // ChangeCipherSpec, or encrypted records (TLS 1.3 sends its handshake as
            // application data): nothing more in clear from this side.
            Some(20) | Some(23) => {
                self.dirs[d].done = true;
                self.dirs[d].hs = Vec::new();
            }
            Some(22) if !self.dirs[d].done => {
                let payload = rec.get(5..).unwrap_or(&[]);
                if self.dirs[d].hs.is_empty() {
                    let used = self.handshake_bytes(ctx, dir, payload, out);
                    if !self.dirs[d].done {
                        self.dirs[d]
                            .hs
                            .extend_from_slice(&payload[used.min(payload.len())..]);
                    }
                } else {
                    let mut hs = std::mem::take(&mut self.dirs[d].hs);
                    if hs.len() + payload.len() > MAX_HANDSHAKE {
                        self.dirs[d].done = true;
                        return;
                    }
                    hs.extend_from_slice(payload);
                    let used = self.handshake_bytes(ctx, dir, &hs, out);
                    hs.drain(..used.min(hs.len()));
                    if !self.dirs[d].done {
                        self.dirs[d].hs = hs;
                    }
                }
            }
            _ => {}
        }
    }
}

impl FlowParser for TlsFlow {
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        let want_hs = !self.dirs[d].done;
        let mut records = std::mem::replace(&mut self.dirs[d].records, RecordStream::new(5, 5));
        records.feed(
            data,
            |h| frame_record(h, want_hs),
            |rec| self.record(ctx, dir, rec, out),
        );
        if records.is_broken() {
            self.dirs[d].done = true;
        }
        self.dirs[d].records = records;
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let d = &mut self.dirs[usize::from(dir == Direction::ToClient)];
        d.done = true;
        d.records.set_broken();
        d.hs = Vec::new();
    }
    fn finished(&self) -> bool {
        // The client's CCS follows its own certificate (mutual TLS), so wait for it.
        let server_done = self.dirs[1].done || self.dirs[1].cert_seen;
        self.dirs[0].done && server_done
    }
}

/// Does this look like a TLS handshake record (ClientHello, or ServerHello midstream)?
pub fn looks_like_tls(data: &[u8]) -> Probe {
    match data {
        [] => Probe::NeedMore,
        [22] | [22, 3] | [22, 3, 0..=4] | [22, 3, 0..=4, _] | [22, 3, 0..=4, _, _] => {
            Probe::NeedMore
        }
        [22, 3, 0..=4, _, _, 1 | 2, ..] => Probe::Match,
        _ => Probe::NoMatch,
    }
}

/// The TLS dissector.
pub struct Tls;

impl Dissector for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[
            (Transport::Tcp, 443),
            (Transport::Tcp, 8443),
            (Transport::Tcp, 2762),
            (Transport::Tcp, 636),
            (Transport::Tcp, 993),
            (Transport::Tcp, 995),
            (Transport::Tcp, 465),
        ]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        looks_like_tls(data)
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(TlsFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, values};

    fn ext(t: u16, body: &[u8]) -> Vec<u8> {
        let mut v = t.to_be_bytes().to_vec();
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// A Chrome-like ClientHello with GREASE, SNI, ALPN and supported_versions.
    fn client_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[0u8; 32]);
        b.push(0);
        let ciphers = [0x0a0au16, 0x1301, 0x1302, 0xc02b];
        b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            b.extend_from_slice(&c.to_be_bytes());
        }
        b.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        exts.extend(ext(0x1a1a, &[]));
        let host = b"pacs.example";
        let mut sni = ((host.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
        sni.extend_from_slice(host);
        exts.extend(ext(0, &sni));
        exts.extend(ext(10, &[0, 4, 0x2a, 0x2a, 0, 29]));
        exts.extend(ext(11, &[1, 0]));
        exts.extend(ext(13, &[0, 4, 0x04, 0x03, 0x08, 0x04]));
        exts.extend(ext(
            16,
            &[
                0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
            ],
        ));
        exts.extend(ext(43, &[4, 0x3a, 0x3a, 3, 4]));
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend(exts);
        let mut hs = vec![1];
        hs.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        hs.extend(b);
        hs
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 1];
        r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn fingerprints_of_a_crafted_client_hello() {
        let hs = client_hello();
        let ch = parse_client_hello(&hs[4..]).expect("parses");
        let (s, _) = ja3(&ch);
        assert_eq!(s, "771,4865-4866-49195,0-10-11-13-16-43,29,0");
        let j = ja4(&ch);
        // 3 ciphers, 6 extensions (GREASE dropped), ALPN h2.
        assert!(j.starts_with("t13d0306h2_"), "{j}");
        let expect_b = sha12("1301,1302,c02b");
        let expect_c = sha12("000a,000b,000d,002b_0403,0804");
        assert_eq!(j, format!("t13d0306h2_{expect_b}_{expect_c}"));
        assert_eq!(client_max_version(&ch), 0x0304);
    }

    #[test]
    fn ja4_known_vector() {
        // The reference string from FoxIO's JA4 spec.
        assert_eq!(
            sha12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
        assert_eq!(
            sha12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"),
            "e5627efa2ab1"
        );
    }

    #[test]
    fn split_records_and_weak_server_version() {
        let ch = record(22, &client_hello());
        // ServerHello TLS 1.0 with one extension.
        let mut sh = vec![3, 1];
        sh.extend_from_slice(&[0u8; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0x00, 0x2f, 0, 0, 5, 0xff, 0x01, 0, 1, 0]);
        let mut shm = vec![2];
        shm.extend_from_slice(&(sh.len() as u32).to_be_bytes()[1..]);
        shm.extend(sh);
        // Handshake message split across two records, records split across segments.
        let (a, b) = shm.split_at(10);
        let srv: Vec<u8> = [record(22, a), record(22, b), record(20, &[1])].concat();
        let mut chunks: Vec<(Direction, &[u8])> =
            ch.chunks(3).map(|c| (Direction::ToServer, c)).collect();
        chunks.extend(srv.chunks(7).map(|c| (Direction::ToClient, c)));
        let f = run_tcp(&Tls, 40000, 443, &chunks);
        assert_eq!(values(&f, "tls.sni"), vec!["pacs.example"]);
        assert_eq!(values(&f, "tls.alpn"), vec!["h2,http/1.1"]);
        assert_eq!(values(&f, "tls.version"), vec!["TLS 1.0", "TLS 1.0"]);
        assert_eq!(values(&f, "tls.ja3s"), vec![md5_hex("769,47,65281")]);
        assert_eq!(f.security.len(), 1);
        assert_eq!(f.security[0].kind, SecurityKind::WeakTlsVersion);
        assert_eq!(f.security[0].side, Side::Server);
        let sni = f.facts.iter().find(|x| x.key == "tls.sni").expect("sni");
        assert_eq!(sni.side, Side::Server);
    }

    #[test]
    fn tls13_flow_finishes_after_encrypted_records() {
        use crate::proto::harness::meta;
        use ward_capture::PacketCtx;
        let m = meta(Transport::Tcp, 40000, 443);
        let pkt = PacketCtx {
            file: 0,
            packet: 1,
            ts: m.first_ts,
        };
        let ctx = FlowCtx {
            meta: &m,
            pkt: &pkt,
        };
        let mut p = Tls.new_parser(&m);
        let mut out = Facts::default();
        p.data(
            &ctx,
            Direction::ToServer,
            &record(22, &client_hello()),
            &mut out,
        );
        let mut sh = vec![3, 3];
        sh.extend_from_slice(&[0u8; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
        let mut shm = vec![2, 0, 0, sh.len() as u8];
        shm.extend(sh);
        p.data(&ctx, Direction::ToClient, &record(22, &shm), &mut out);
        assert!(!p.finished(), "client side may still send clear records");
        p.data(&ctx, Direction::ToServer, &record(23, &[0; 40]), &mut out);
        assert!(p.finished());
        assert_eq!(values(&out, "tls.version"), vec!["TLS 1.3", "TLS 1.3"]);
        assert!(out.security.is_empty());
    }

    #[test]
    fn dates_and_probe() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(looks_like_tls(&[22, 3, 1, 0, 5, 1]), Probe::Match);
        assert_eq!(looks_like_tls(&[22, 3]), Probe::NeedMore);
        assert_eq!(looks_like_tls(b"GET / HTTP/1.1"), Probe::NoMatch);
        assert!(is_grease(0x1a1a) && !is_grease(0x1a1b) && !is_grease(0x0a1a));
    }
}
