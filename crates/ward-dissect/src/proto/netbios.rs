//! NetBIOS Name Service (RFC 1002, UDP 137): Windows and embedded-Windows device names.
//!
//! NetBIOS names are printed as `NAME<xx>` with the suffix (service type) byte in hex,
//! e.g. `XSTREAM_HY<00>` (workstation) or `OZI<1c>` (domain controllers).
//!
//! Fact keys:
//! - `netbios.query`: a name the sender looked up
//! - `netbios.name`: a name the sender registers, refreshes or releases, or lists in a
//!   node status response; for a positive query response, recorded about the answered
//!   address (subject `{ip}`)

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::dns::{self, DnsMessage};
use crate::proto::util::Seen;
use std::net::{IpAddr, Ipv4Addr};
use ward_capture::{Direction, FlowMeta};
use ward_model::{EndpointAddr, Transport};

/// Formats a 16-byte NetBIOS name ("NAME<xx>"): 15 space-padded characters plus suffix.
pub fn format_name(raw: &[u8; 16]) -> String {
    let name = String::from_utf8_lossy(&raw[..15]);
    format!("{}<{:02x}>", name.trim_end_matches([' ', '\0']), raw[15])
}

/// Decodes the first-level encoded name at `off` (following up to 4 pointers).
pub fn encoded_name(msg: &[u8], mut off: usize) -> Option<[u8; 16]> {
    for _ in 0..4 {
        let len = *msg.get(off)?;
        if len & 0xc0 == 0xc0 {
            off = ((len as usize & 0x3f) << 8) | *msg.get(off + 1)? as usize;
            continue;
        }
        if len != 32 {
            return None;
        }
        let enc = msg.get(off + 1..off + 33)?;
        let mut out = [0u8; 16];
        for (i, pair) in enc.chunks_exact(2).enumerate() {
            let hi = pair[0].checked_sub(b'A').filter(|v| *v < 16)?;
            let lo = pair[1].checked_sub(b'A').filter(|v| *v < 16)?;
            out[i] = (hi << 4) | lo;
        }
        return Some(out);
    }
    None
}

/// Turns one name-service packet into facts.
fn emit(m: &DnsMessage<'_>, dir: Direction, seen: &mut Seen, out: &mut Facts) {
    let side = Side::sender(dir);
    let opcode = m.opcode();
    // Checked on the raw name so that repeated broadcasts allocate nothing.
    let mut put = |out: &mut Facts, key: &'static str, raw: &[u8; 16]| {
        if seen.first_for(side, key, raw) {
            out.fact(side, key, format_name(raw));
        }
    };
    for r in m.records() {
        let Some(raw) = encoded_name(m.msg, r.name_off) else {
            continue;
        };
        match (m.is_response(), opcode, r.section) {
            (false, 0, 0) => put(out, "netbios.query", &raw),
            (false, 5 | 6 | 8 | 9 | 15, 0) => put(out, "netbios.name", &raw),
            (true, 0, 1) if r.rtype == 0x21 => {
                // Node status: a list of the responder's own names.
                let n = r.rdata.first().copied().unwrap_or(0) as usize;
                for e in r
                    .rdata
                    .get(1..)
                    .unwrap_or(&[])
                    .chunks_exact(18)
                    .take(n.min(32))
                {
                    let mut own = [0u8; 16];
                    own.copy_from_slice(&e[..16]);
                    put(out, "netbios.name", &own);
                }
            }
            (true, 0, 1) if r.rtype == 0x20 && m.flags & 0x000f == 0 => {
                for e in r.rdata.chunks_exact(6).take(8) {
                    let ip = IpAddr::V4(Ipv4Addr::new(e[2], e[3], e[4], e[5]));
                    if ip.is_unspecified() {
                        continue;
                    }
                    let subject = EndpointAddr {
                        mac: None,
                        ip: Some(ip),
                    };
                    out.fact_about(subject, "netbios.name", format_name(&raw));
                }
            }
            _ => {}
        }
    }
}

/// Per-flow state.
#[derive(Debug, Default)]
pub struct NbnsFlow {
    seen: Seen,
    labelled: bool,
}

impl FlowParser for NbnsFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let Ok(m) = dns::parse(data) else { return };
        if !self.labelled {
            out.protocol("netbios-ns");
            self.labelled = true;
        }
        emit(&m, dir, &mut self.seen, out);
    }
}

/// The NetBIOS name service dissector.
pub struct NetbiosNs;

impl Dissector for NetbiosNs {
    fn name(&self) -> &'static str {
        "netbios-ns"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 137)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        let Ok(m) = dns::parse(data) else {
            return Probe::NoMatch;
        };
        let first_ok = encoded_name(data, 12).is_some();
        if meta.transport == Transport::Udp && first_ok && m.qdcount + m.ancount <= 8 {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(NbnsFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_udp, values};

    fn encode(name: &str, suffix: u8) -> Vec<u8> {
        let mut raw = [b' '; 16];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        raw[15] = suffix;
        let mut v = vec![32];
        for b in raw {
            v.push(b'A' + (b >> 4));
            v.push(b'A' + (b & 0x0f));
        }
        v.push(0);
        v
    }

    fn packet(flags: u16, qd: u16, an: u16, ar: u16) -> Vec<u8> {
        let mut v = vec![0, 1];
        for x in [flags, qd, an, 0, ar] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    #[test]
    fn query_registration_and_response() {
        let mut q = packet(0x0110, 1, 0, 0);
        q.extend(encode("XSTREAM_HY", 0x00));
        q.extend_from_slice(&[0, 0x20, 0, 1]);
        let mut reg = packet(0x2910, 1, 0, 1);
        reg.extend(encode("OZI", 0x1c));
        reg.extend_from_slice(&[0, 0x20, 0, 1]);
        reg.extend_from_slice(&[0xc0, 12, 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0, 10, 0, 0, 1]);
        let mut resp = packet(0x8500, 0, 1, 0);
        resp.extend(encode("PACS", 0x20));
        resp.extend_from_slice(&[0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0, 10, 0, 0, 9]);
        let f = run_udp(
            &NetbiosNs,
            137,
            137,
            &[
                (Direction::ToServer, &q),
                (Direction::ToServer, &reg),
                (Direction::ToClient, &resp),
            ],
        );
        assert_eq!(values(&f, "netbios.query"), vec!["XSTREAM_HY<00>"]);
        let names = values(&f, "netbios.name");
        assert_eq!(names, vec!["OZI<1c>", "PACS<20>"]);
        let about = f
            .about
            .iter()
            .find(|x| x.value == "PACS<20>")
            .expect("answer");
        assert_eq!(about.subject.ip, Some("10.0.0.9".parse().expect("ip")));
    }

    #[test]
    fn bad_encoding_rejected() {
        let mut q = packet(0x0110, 1, 0, 0);
        q.push(32);
        q.extend_from_slice(&[b'z'; 32]);
        assert_eq!(encoded_name(&q, 12), None);
        // Pointer loop.
        let q2 = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12];
        assert_eq!(encoded_name(&q2, 12), None);
    }
}
