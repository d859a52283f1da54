//! SNMP v1/v2c/v3 (UDP 161/162): which devices are managed with SNMP and how safely.
//!
//! The community string is read only to compare it with a short list of defaults; it is
//! never stored, logged or put into a fact or a detail text.
//!
//! Fact keys (about the sender of the message unless noted):
//! - `snmp.version`: "1", "2c" or "3"
//! - `snmp.pdu`: get-request, get-next-request, response, set-request, trap,
//!   get-bulk-request, inform-request, snmpv2-trap, report
//! - `snmp.v3_security_level`: noAuthNoPriv, authNoPriv or authPriv
//! - `snmp.v3_user_present`: "yes" / "no" (whether a user name was sent; never the name)
//! - `snmp.v3_engine_id`: authoritative engine id (hex), about the agent
//!
//! Security observations, about the agent (the receiver of a request, the sender of a
//! response or trap): `SnmpCleartextCommunity` (a v1/v2c community crossed) and
//! `DefaultSnmpCommunity` (it was one of [`DEFAULT_COMMUNITIES`]).

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{hex, Reader, Seen};
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Communities that ship as factory defaults (compared case-insensitively).
pub const DEFAULT_COMMUNITIES: [&str; 12] = [
    "public",
    "private",
    "community",
    "snmp",
    "admin",
    "manager",
    "default",
    "cisco",
    "secret",
    "write",
    "read",
    "monitor",
];

/// Why a datagram is not SNMP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnmpError {
    #[error("SNMP BER element truncated or malformed at byte offset {offset}")]
    Ber { offset: usize },
    #[error("unknown SNMP version {version}")]
    Version { version: i64 },
}

/// SNMPv3 header information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V3Info<'a> {
    /// msgFlags: 1 auth, 2 priv, 4 reportable.
    pub flags: u8,
    pub security_model: i64,
    pub engine_id: &'a [u8],
    pub user_present: bool,
    /// The scoped PDU is encrypted (no PDU type visible).
    pub encrypted: bool,
}

/// A parsed SNMP message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnmpMessage<'a> {
    /// 0 v1, 1 v2c, 3 v3.
    pub version: i64,
    /// v1/v2c community (borrowed; never stored).
    pub community: Option<&'a [u8]>,
    /// PDU tag (0xa0..=0xa8), when visible.
    pub pdu: Option<u8>,
    pub v3: Option<V3Info<'a>>,
}

/// Reads one BER TLV (single-byte tags, definite lengths up to 4 bytes).
fn tlv<'a>(r: &mut Reader<'a>) -> Option<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let first = r.u8()?;
    let len = if first & 0x80 == 0 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut l = 0usize;
        for b in r.take(n)? {
            l = (l << 8) | *b as usize;
        }
        l
    };
    Some((tag, r.take(len)?))
}

fn int(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let mut x: i64 = if v[0] & 0x80 != 0 { -1 } else { 0 };
    for b in v {
        x = (x << 8) | *b as i64;
    }
    Some(x)
}

/// Parses the SNMP message header (not the variable bindings).
pub fn parse(data: &[u8]) -> Result<SnmpMessage<'_>, SnmpError> {
    let err = |r: &Reader<'_>| SnmpError::Ber { offset: r.pos() };
    let mut outer = Reader::new(data);
    let (tag, body) = tlv(&mut outer).ok_or_else(|| err(&outer))?;
    if tag != 0x30 {
        return Err(SnmpError::Ber { offset: 0 });
    }
    let mut r = Reader::new(body);
    let (t, v) = tlv(&mut r).ok_or_else(|| err(&r))?;
    let version = if t == 0x02 { int(v) } else { None }.ok_or_else(|| err(&r))?;
    match version {
        0 | 1 => {
            let (t, community) = tlv(&mut r).ok_or_else(|| err(&r))?;
            if t != 0x04 {
                return Err(err(&r));
            }
            let pdu = r
                .rest()
                .first()
                .copied()
                .filter(|t| (0xa0..=0xa8).contains(t));
            Ok(SnmpMessage {
                version,
                community: Some(community),
                pdu,
                v3: None,
            })
        }
        3 => {
            let (t, global) = tlv(&mut r).ok_or_else(|| err(&r))?;
            if t != 0x30 {
                return Err(err(&r));
            }
            let mut g = Reader::new(global);
            let _msg_id = tlv(&mut g);
            let _max = tlv(&mut g);
            let flags = match tlv(&mut g) {
                Some((0x04, f)) => f.first().copied().unwrap_or(0),
                _ => return Err(err(&r)),
            };
            let security_model = tlv(&mut g).and_then(|(_, v)| int(v)).unwrap_or(0);
            let (t, sec) = tlv(&mut r).ok_or_else(|| err(&r))?;
            let mut engine_id: &[u8] = &[];
            let mut user_present = false;
            if t == 0x04 {
                let mut s = Reader::new(sec);
                if let Some((0x30, usm)) = tlv(&mut s) {
                    let mut u = Reader::new(usm);
                    if let Some((0x04, e)) = tlv(&mut u) {
                        engine_id = e;
                    }
                    let _boots = tlv(&mut u);
                    let _time = tlv(&mut u);
                    if let Some((0x04, name)) = tlv(&mut u) {
                        user_present = !name.is_empty();
                    }
                }
            }
            let (encrypted, pdu) = match tlv(&mut r) {
                Some((0x04, _)) => (true, None),
                Some((0x30, scoped)) => {
                    let mut s = Reader::new(scoped);
                    let _ctx_engine = tlv(&mut s);
                    let _ctx_name = tlv(&mut s);
                    (
                        false,
                        s.rest()
                            .first()
                            .copied()
                            .filter(|t| (0xa0..=0xa8).contains(t)),
                    )
                }
                _ => (false, None),
            };
            Ok(SnmpMessage {
                version,
                community: None,
                pdu,
                v3: Some(V3Info {
                    flags,
                    security_model,
                    engine_id,
                    user_present,
                    encrypted,
                }),
            })
        }
        v => Err(SnmpError::Version { version: v }),
    }
}

/// Name of a PDU tag.
pub fn pdu_name(tag: u8) -> &'static str {
    match tag {
        0xa0 => "get-request",
        0xa1 => "get-next-request",
        0xa2 => "response",
        0xa3 => "set-request",
        0xa4 => "trap",
        0xa5 => "get-bulk-request",
        0xa6 => "inform-request",
        0xa7 => "snmpv2-trap",
        0xa8 => "report",
        _ => "unknown",
    }
}

fn version_name(v: i64) -> &'static str {
    match v {
        0 => "1",
        1 => "2c",
        _ => "3",
    }
}

/// Per-flow SNMP state.
#[derive(Debug, Default)]
pub struct SnmpFlow {
    seen: Seen,
    cleartext_reported: bool,
    default_reported: bool,
    messages: u32,
    labelled: bool,
}

impl SnmpFlow {
    fn fact(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &str) {
        if self.seen.first_for(side, key, v.as_bytes()) {
            out.fact(side, key, v);
        }
    }
}

impl FlowParser for SnmpFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let Ok(m) = parse(data) else { return };
        self.messages += 1;
        if !self.labelled {
            out.protocol("snmp");
            self.labelled = true;
        }
        let sender = Side::sender(dir);
        // Requests go to the agent; responses, traps and reports come from it.
        let is_request = matches!(m.pdu, Some(0xa0 | 0xa1 | 0xa3 | 0xa5));
        let agent = if is_request {
            Side::receiver(dir)
        } else {
            sender
        };
        let vname = version_name(m.version);
        self.fact(out, sender, "snmp.version", vname);
        if let Some(p) = m.pdu {
            self.fact(out, sender, "snmp.pdu", pdu_name(p));
        }
        if let Some(v3) = m.v3 {
            let level = match v3.flags & 3 {
                0 => "noAuthNoPriv",
                1 => "authNoPriv",
                _ => "authPriv",
            };
            self.fact(out, sender, "snmp.v3_security_level", level);
            let present = if v3.user_present { "yes" } else { "no" };
            self.fact(out, sender, "snmp.v3_user_present", present);
            if !v3.engine_id.is_empty() {
                self.fact(out, agent, "snmp.v3_engine_id", &hex(v3.engine_id));
            }
        }
        if let Some(c) = m.community {
            if !self.cleartext_reported {
                self.cleartext_reported = true;
                out.security(
                    agent,
                    SecurityKind::SnmpCleartextCommunity,
                    Severity::Medium,
                    format!("SNMPv{vname} community string sent in cleartext"),
                );
            }
            let is_default = DEFAULT_COMMUNITIES
                .iter()
                .any(|d| d.as_bytes().eq_ignore_ascii_case(c));
            if is_default && !self.default_reported {
                self.default_reported = true;
                out.security(
                    agent,
                    SecurityKind::DefaultSnmpCommunity,
                    Severity::High,
                    format!("default community in use (SNMPv{vname})"),
                );
            }
        }
    }
    fn finished(&self) -> bool {
        self.messages >= 32
    }
}

/// The SNMP dissector.
pub struct Snmp;

impl Dissector for Snmp {
    fn name(&self) -> &'static str {
        "snmp"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 161), (Transport::Udp, 162)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport == Transport::Udp && parse(data).is_ok() {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(SnmpFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_udp, values};

    fn t(tag: u8, v: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if v.len() < 128 {
            out.push(v.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(v);
        out
    }

    fn v2c(community: &[u8], pdu: u8) -> Vec<u8> {
        let mut body = t(0x02, &[1]);
        body.extend(t(0x04, community));
        body.extend(t(pdu, &[2, 1, 1, 2, 1, 0, 2, 1, 0, 0x30, 0]));
        t(0x30, &body)
    }

    #[test]
    fn v2c_default_community_never_echoed() {
        let req = v2c(b"public", 0xa0);
        let resp = v2c(b"public", 0xa2);
        let f = run_udp(
            &Snmp,
            40000,
            161,
            &[(Direction::ToServer, &req), (Direction::ToClient, &resp)],
        );
        assert_eq!(values(&f, "snmp.version"), vec!["2c", "2c"]);
        assert_eq!(values(&f, "snmp.pdu"), vec!["get-request", "response"]);
        let kinds: Vec<_> = f.security.iter().map(|s| (s.kind, s.side)).collect();
        assert_eq!(
            kinds,
            vec![
                (SecurityKind::SnmpCleartextCommunity, Side::Server),
                (SecurityKind::DefaultSnmpCommunity, Side::Server)
            ]
        );
        assert!(!format!("{f:?}").contains("public"), "community leaked");
    }

    #[test]
    fn custom_community_is_cleartext_not_default() {
        let f = run_udp(
            &Snmp,
            40000,
            161,
            &[(Direction::ToServer, &v2c(b"h0sp1tal", 0xa1))],
        );
        assert_eq!(f.security.len(), 1);
        assert_eq!(f.security[0].kind, SecurityKind::SnmpCleartextCommunity);
        assert!(!format!("{f:?}").contains("h0sp1tal"));
    }

    #[test]
    fn v3_header() {
        let mut global = t(0x02, &[1]);
        global.extend(t(0x02, &[0x05, 0xdc]));
        global.extend(t(0x04, &[0x05]));
        global.extend(t(0x02, &[3]));
        let mut usm = t(0x04, &[0x80, 0, 0x1f, 0x88, 4]);
        usm.extend(t(0x02, &[0]));
        usm.extend(t(0x02, &[0]));
        usm.extend(t(0x04, b"nurse"));
        usm.extend(t(0x04, &[0; 12]));
        usm.extend(t(0x04, &[]));
        let mut scoped = t(0x04, &[]);
        scoped.extend(t(0x04, &[]));
        scoped.extend(t(0xa0, &[2, 1, 1, 2, 1, 0, 2, 1, 0, 0x30, 0]));
        let mut body = t(0x02, &[3]);
        body.extend(t(0x30, &global));
        body.extend(t(0x04, &t(0x30, &usm)));
        body.extend(t(0x30, &scoped));
        let msg = t(0x30, &body);
        let m = parse(&msg).expect("v3 parses");
        assert_eq!(m.version, 3);
        let f = run_udp(&Snmp, 40000, 161, &[(Direction::ToServer, &msg)]);
        assert_eq!(values(&f, "snmp.version"), vec!["3"]);
        assert_eq!(values(&f, "snmp.v3_security_level"), vec!["authNoPriv"]);
        assert_eq!(values(&f, "snmp.v3_user_present"), vec!["yes"]);
        assert_eq!(values(&f, "snmp.v3_engine_id"), vec!["80001f8804"]);
        assert!(f.security.is_empty());
        assert!(!format!("{f:?}").contains("nurse"));
    }

    #[test]
    fn malformed() {
        assert!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse(&[0x30, 3, 2, 1, 7]).is_err());
        assert!(parse(&[]).is_err());
    }
}
