//! DNS (UDP/TCP 53) and multicast DNS with DNS-SD (UDP 5353): names devices use and
//! announce.
//!
//! Fact keys:
//! - `dns.query`: a name the client asked for (about the querying side)
//! - `dns.answer`: an A/AAAA answer from a unicast server, recorded about the answered
//!   address (subject `{ip}`), value the owner name (and the question name if different);
//!   a PTR answer to a reverse lookup gives the same fact about the looked-up address
//! - `mdns.query`: a name an mDNS querier asked for (about the sender; reverse
//!   `in-addr.arpa`/`ip6.arpa` lookups are skipped)
//! - `mdns.hostname`: an A/AAAA owner name or SRV target in an mDNS response (about the
//!   sender when the address is the sender's own, else about the announced address)
//! - `mdns.service`: a DNS-SD service type ("_ipp._tcp.local") or instance name
//!   ("Printer 3._ipp._tcp.local") announced by the sender
//! - `mdns.txt`: one `key=value` string of a DNS-SD TXT record (at most 16 per record)
//! - `mdns.hinfo`: HINFO "cpu os"
//!
//! Compressed names are followed at most 16 pointers deep and 255 bytes long, so a
//! pointer loop ends the name instead of the parser.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{be16, Frame, Reader, RecordStream, Seen};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use ward_capture::{Direction, FlowMeta};
use ward_model::{EndpointAddr, Transport};

/// Why bytes are not a DNS message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS message too short: {len} bytes, need 12")]
    TooShort { len: usize },
}

/// A DNS message header with a view of the whole message for name decompression.
#[derive(Debug, Clone, Copy)]
pub struct DnsMessage<'a> {
    pub msg: &'a [u8],
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

/// One question (`rdata` empty, `ttl` 0) or resource record.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// 0 question, 1 answer, 2 authority, 3 additional.
    pub section: u8,
    /// Offset of the owner name in the message.
    pub name_off: usize,
    pub rtype: u16,
    pub class: u16,
    /// Offset of the rdata in the message.
    pub rdata_off: usize,
    pub rdata: &'a [u8],
}

/// Parses the header. Records are walked lazily with [`DnsMessage::records`].
pub fn parse(data: &[u8]) -> Result<DnsMessage<'_>, DnsError> {
    if data.len() < 12 {
        return Err(DnsError::TooShort { len: data.len() });
    }
    let w = |o: usize| be16(data, o).unwrap_or(0);
    Ok(DnsMessage {
        msg: data,
        id: w(0),
        flags: w(2),
        qdcount: w(4),
        ancount: w(6),
        nscount: w(8),
        arcount: w(10),
    })
}

/// Most pointers followed while decoding one name.
const MAX_JUMPS: usize = 16;
/// Most records walked per message.
const MAX_RECORDS: usize = 64;

/// Returns the offset just after the name at `pos` (without decoding it).
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    // Each step moves forward in the message, so this ends within msg.len() steps.
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + len as usize,
            0xc0 => return Some(pos + 2).filter(|e| *e <= msg.len()),
            _ => return None,
        }
    }
}

/// Decodes the (possibly compressed) name at `pos` into `out` ("a.b.c", no trailing
/// dot). Returns `None` on a bad label, a pointer loop or a name over 255 bytes.
pub fn read_name(msg: &[u8], mut pos: usize, out: &mut String) -> Option<()> {
    let mut jumps = 0;
    let mut wire_len = 0usize;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Some(()),
            0x00 => {
                let label = msg.get(pos + 1..pos + 1 + len as usize)?;
                wire_len += len as usize + 1;
                if wire_len > 255 {
                    return None;
                }
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&String::from_utf8_lossy(label));
                pos += 1 + len as usize;
            }
            0xc0 => {
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return None;
                }
                let lo = *msg.get(pos + 1)? as usize;
                pos = ((len as usize & 0x3f) << 8) | lo;
            }
            _ => return None,
        }
    }
}

impl<'a> DnsMessage<'a> {
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }

    /// Walks questions then resource records, stopping quietly at the first damage.
    pub fn records(&self) -> impl Iterator<Item = Record<'a>> + 'a {
        let msg = self.msg;
        let counts = [self.qdcount, self.ancount, self.nscount, self.arcount];
        let mut section = 0u8;
        let mut left = counts[0];
        let mut pos = 12usize;
        let mut done = false;
        std::iter::from_fn(move || loop {
            if done {
                return None;
            }
            if left == 0 {
                section += 1;
                if section > 3 {
                    done = true;
                    return None;
                }
                left = counts[section as usize];
                continue;
            }
            left -= 1;
            let Some(after) = skip_name(msg, pos) else {
                done = true;
                return None;
            };
            let mut r = Reader::new(msg.get(after..).unwrap_or(&[]));
            let (Some(rtype), Some(class)) = (r.u16(), r.u16()) else {
                done = true;
                return None;
            };
            let name_off = pos;
            if section == 0 {
                pos = after + 4;
                return Some(Record {
                    section,
                    name_off,
                    rtype,
                    class,
                    rdata_off: pos,
                    rdata: &[],
                });
            }
            let (Some(_ttl), Some(rdata)) = (r.u32(), r.vec16()) else {
                done = true;
                return None;
            };
            let rdata_off = after + 10;
            pos = rdata_off + rdata.len();
            return Some(Record {
                section,
                name_off,
                rtype,
                class,
                rdata_off,
                rdata,
            });
        })
        .take(MAX_RECORDS)
    }

    /// The name at an offset, or `None` when it cannot be decoded.
    pub fn name(&self, off: usize) -> Option<String> {
        let mut s = String::new();
        read_name(self.msg, off, &mut s)?;
        Some(s)
    }
}

/// The address in an A or AAAA record.
pub fn record_addr(r: &Record<'_>) -> Option<IpAddr> {
    match (r.rtype, r.rdata.len()) {
        (1, 4) => Some(IpAddr::V4(Ipv4Addr::new(
            r.rdata[0], r.rdata[1], r.rdata[2], r.rdata[3],
        ))),
        (28, 16) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(r.rdata);
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// Facts from a unicast DNS message.
fn emit_dns(m: &DnsMessage<'_>, dir: Direction, seen: &mut Seen, out: &mut Facts) {
    let mut question: Option<String> = None;
    for r in m.records() {
        if r.section == 0 {
            if question.is_none() {
                question = m.name(r.name_off);
            }
            if !m.is_response() {
                if let Some(n) = m.name(r.name_off) {
                    if seen.first_for(Side::sender(dir), "dns.query", n.as_bytes()) {
                        out.fact(Side::sender(dir), "dns.query", n);
                    }
                }
            }
        } else if r.section == 1 && m.is_response() {
            if r.rtype == 12 {
                // A PTR answer names the host behind an address.
                let (Some(owner), Some(target)) = (m.name(r.name_off), m.name(r.rdata_off)) else {
                    continue;
                };
                if let Some(ip) = reverse_ip(&owner) {
                    let subject = EndpointAddr {
                        mac: None,
                        ip: Some(ip),
                    };
                    out.fact_about(subject, "dns.answer", target);
                }
                continue;
            }
            let (Some(addr), Some(owner)) = (record_addr(&r), m.name(r.name_off)) else {
                continue;
            };
            let subject = EndpointAddr {
                mac: None,
                ip: Some(addr),
            };
            if let Some(q) = question
                .as_ref()
                .filter(|q| !q.eq_ignore_ascii_case(&owner))
            {
                out.fact_about(subject, "dns.answer", q);
            }
            out.fact_about(subject, "dns.answer", owner);
        }
    }
}

/// The address a reverse-lookup name stands for ("7.2.0.10.in-addr.arpa" -> 10.0.2.7).
pub fn reverse_ip(name: &str) -> Option<IpAddr> {
    let lower = name.to_ascii_lowercase();
    if let Some(v4) = lower.strip_suffix(".in-addr.arpa") {
        let mut o = [0u8; 4];
        let parts: Vec<&str> = v4.split('.').collect();
        if parts.len() != 4 {
            return None;
        }
        for (i, p) in parts.iter().rev().enumerate() {
            o[i] = p.parse().ok()?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(o)));
    }
    let v6 = lower.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = v6
        .split('.')
        .map(|n| u8::from_str_radix(n, 16).ok().filter(|_| n.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        b[i] = (pair[1] << 4) | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(b)))
}

fn is_reverse(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".in-addr.arpa") || n.ends_with(".ip6.arpa")
}

/// Facts from an mDNS message, about its sender unless an address says otherwise.
fn emit_mdns(
    m: &DnsMessage<'_>,
    dir: Direction,
    sender_ip: Option<IpAddr>,
    seen: &mut Seen,
    out: &mut Facts,
) {
    let side = Side::sender(dir);
    let mut put = |out: &mut Facts, key: &'static str, v: &str| {
        if seen.first_for(side, key, v.as_bytes()) {
            out.fact(side, key, v);
        }
    };
    let mut queries = 0;
    for r in m.records() {
        if r.section == 0 {
            if queries < 8 && !m.is_response() {
                // Reverse lookups name addresses, not services or hosts: skipped.
                if let Some(n) = m.name(r.name_off).filter(|n| !is_reverse(n)) {
                    put(out, "mdns.query", &n);
                }
                queries += 1;
            }
            continue;
        }
        match r.rtype {
            1 | 28 => {
                let (Some(addr), Some(owner)) = (record_addr(&r), m.name(r.name_off)) else {
                    continue;
                };
                if Some(addr) == sender_ip || sender_ip.is_none() {
                    put(out, "mdns.hostname", &owner);
                } else {
                    let subject = EndpointAddr {
                        mac: None,
                        ip: Some(addr),
                    };
                    out.fact_about(subject, "mdns.hostname", owner);
                }
            }
            12 => {
                let (Some(owner), Some(target)) = (m.name(r.name_off), m.name(r.rdata_off)) else {
                    continue;
                };
                if is_reverse(&owner) {
                    continue;
                }
                put(out, "mdns.service", &target);
            }
            33 => {
                if let Some(owner) = m.name(r.name_off) {
                    put(out, "mdns.service", &owner);
                }
                if let Some(target) = m.name(r.rdata_off + 6) {
                    put(out, "mdns.hostname", &target);
                }
            }
            16 => {
                let mut rd = Reader::new(r.rdata);
                for _ in 0..16 {
                    let Some(s) = rd.vec8() else { break };
                    if s.is_empty() {
                        continue;
                    }
                    put(out, "mdns.txt", &String::from_utf8_lossy(s));
                }
            }
            13 => {
                let mut rd = Reader::new(r.rdata);
                if let (Some(cpu), Some(os)) = (rd.vec8(), rd.vec8()) {
                    let v = format!(
                        "{} {}",
                        String::from_utf8_lossy(cpu),
                        String::from_utf8_lossy(os)
                    );
                    put(out, "mdns.hinfo", &v);
                }
            }
            _ => {}
        }
    }
}

/// Per-flow DNS state.
pub struct DnsFlow {
    mdns: bool,
    tcp: Option<[RecordStream; 2]>,
    seen: Seen,
    labelled: bool,
}

impl DnsFlow {
    fn message(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let Ok(m) = parse(data) else { return };
        if !self.labelled {
            out.protocol(if self.mdns { "mdns" } else { "dns" });
            self.labelled = true;
        }
        if self.mdns {
            let sender = match dir {
                Direction::ToServer => ctx.meta.client.ip,
                Direction::ToClient => ctx.meta.server.ip,
            };
            emit_mdns(&m, dir, sender, &mut self.seen, out);
        } else {
            emit_dns(&m, dir, &mut self.seen, out);
        }
    }
}

fn frame_tcp(h: &[u8]) -> Frame {
    let len = be16(h, 0).unwrap_or(0) as usize;
    Frame::Record {
        total: 2 + len,
        want: 2 + len,
    }
}

impl FlowParser for DnsFlow {
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        if let Some(mut streams) = self.tcp.take() {
            let idx = usize::from(dir == Direction::ToClient);
            let mut msgs: Vec<Vec<u8>> = Vec::new();
            streams[idx].feed(data, frame_tcp, |rec| {
                if msgs.len() < 16 {
                    msgs.push(rec.get(2..).unwrap_or(&[]).to_vec())
                }
            });
            self.tcp = Some(streams);
            for m in msgs {
                self.message(ctx, dir, &m, out);
            }
        } else {
            self.message(ctx, dir, data, out);
        }
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        if let Some(s) = self.tcp.as_mut() {
            s[usize::from(dir == Direction::ToClient)].set_broken();
        }
    }
}

/// DNS and mDNS/DNS-SD.
pub struct Dns;

/// Plausibility check of a DNS header: standard query/notify/update opcode and small counts.
fn plausible(data: &[u8]) -> bool {
    let Ok(m) = parse(data) else { return false };
    matches!(m.opcode(), 0 | 4 | 5)
        && m.qdcount <= 32
        && m.ancount <= 512
        && (m.qdcount > 0 || m.ancount > 0)
}

impl Dissector for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[
            (Transport::Udp, 53),
            (Transport::Udp, 5353),
            (Transport::Tcp, 53),
        ]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        match meta.transport {
            Transport::Udp if plausible(data) => Probe::Match,
            Transport::Tcp if data.len() < 14 => Probe::NeedMore,
            Transport::Tcp if plausible(&data[2..]) => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn new_parser(&self, meta: &FlowMeta) -> Box<dyn FlowParser> {
        let mdns = meta.server_port == 5353 || meta.client_port == 5353;
        Box::new(DnsFlow {
            mdns,
            tcp: (meta.transport == Transport::Tcp)
                .then(|| [RecordStream::new(2, 65537), RecordStream::new(2, 65537)]),
            seen: Seen::default(),
            labelled: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, run_udp, values};

    fn name(n: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in n.split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    fn header(flags: u16, qd: u16, an: u16, ar: u16) -> Vec<u8> {
        let mut v = vec![0x12, 0x34];
        for x in [flags, qd, an, 0, ar] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    fn rr(owner: &[u8], t: u16, rdata: &[u8]) -> Vec<u8> {
        let mut v = owner.to_vec();
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&[0, 1, 0, 0, 0, 120]);
        v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        v.extend_from_slice(rdata);
        v
    }

    #[test]
    fn query_and_answer_with_compression() {
        let mut q = header(0x0100, 1, 0, 0);
        q.extend(name("pacs.hospital.example"));
        q.extend_from_slice(&[0, 1, 0, 1]);
        let mut a = header(0x8180, 1, 1, 0);
        a.extend(name("pacs.hospital.example"));
        a.extend_from_slice(&[0, 1, 0, 1]);
        a.extend(rr(&[0xc0, 12], 1, &[10, 1, 2, 3]));
        let f = run_udp(
            &Dns,
            5000,
            53,
            &[(Direction::ToServer, &q), (Direction::ToClient, &a)],
        );
        assert_eq!(values(&f, "dns.query"), vec!["pacs.hospital.example"]);
        let ans: Vec<_> = f.about.iter().filter(|x| x.key == "dns.answer").collect();
        assert_eq!(ans.len(), 1);
        assert_eq!(ans[0].value, "pacs.hospital.example");
        assert_eq!(ans[0].subject.ip, Some("10.1.2.3".parse().expect("ip")));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_ip("7.2.0.10.in-addr.arpa"),
            Some("10.0.2.7".parse().expect("ip"))
        );
        let v6 = "f.2.8.f.3.6.5.1.6.c.b.5.8.6.9.5.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa";
        assert_eq!(
            reverse_ip(v6),
            Some(
                "fd52:429e:c03c:8235:5968:5bc6:1563:f82f"
                    .parse()
                    .expect("ip")
            )
        );
        assert_eq!(reverse_ip("1.2.3.in-addr.arpa"), None);
        assert_eq!(reverse_ip("300.2.0.10.in-addr.arpa"), None);
        assert_eq!(reverse_ip("pacs.local"), None);
        let mut a = header(0x8180, 1, 1, 0);
        a.extend(name("7.2.0.10.in-addr.arpa"));
        a.extend_from_slice(&[0, 12, 0, 1]);
        a.extend(rr(&[0xc0, 12], 12, &name("pump-12.icu.example")));
        let f = run_udp(&Dns, 5000, 53, &[(Direction::ToClient, &a)]);
        assert_eq!(f.about.len(), 1);
        assert_eq!(f.about[0].value, "pump-12.icu.example");
        assert_eq!(f.about[0].subject.ip, Some("10.0.2.7".parse().expect("ip")));
    }

    #[test]
    fn pointer_loop_is_bounded() {
        let mut q = header(0x0100, 1, 0, 0);
        q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let m = parse(&q).expect("header");
        assert_eq!(m.name(12), None, "self-pointing name must fail, not hang");
        let f = run_udp(&Dns, 5000, 53, &[(Direction::ToServer, &q)]);
        assert!(values(&f, "dns.query").is_empty());
    }

    #[test]
    fn mdns_dns_sd_announcement() {
        let mut a = header(0x8400, 0, 4, 1);
        let inst = name("Infusion 7._ipp._tcp.local");
        a.extend(rr(&name("_ipp._tcp.local"), 12, &inst));
        let mut srv = vec![0, 0, 0, 0, 0x02, 0x77];
        srv.extend(name("pump7.local"));
        a.extend(rr(&inst, 33, &srv));
        let mut txt = vec![];
        for s in ["ty=Acme Pump", "fw=1.2.3"] {
            txt.push(s.len() as u8);
            txt.extend_from_slice(s.as_bytes());
        }
        a.extend(rr(&inst, 16, &txt));
        a.extend(rr(&name("pump7.local"), 1, &[10, 0, 0, 1]));
        a.extend(rr(&name("other.local"), 1, &[10, 0, 0, 9]));
        let f = run_udp(&Dns, 5353, 5353, &[(Direction::ToServer, &a)]);
        // The PTR target and the SRV owner are the same instance: reported once.
        assert_eq!(
            values(&f, "mdns.service"),
            vec!["Infusion 7._ipp._tcp.local"]
        );
        assert_eq!(values(&f, "mdns.txt"), vec!["ty=Acme Pump", "fw=1.2.3"]);
        // pump7.local is the sender's own address (10.0.0.1 is the harness client).
        assert!(f.facts.iter().any(|x| x.key == "mdns.hostname"
            && x.value == "pump7.local"
            && x.side == Side::Client));
        assert!(f.about.iter().any(|x| x.key == "mdns.hostname"
            && x.value == "other.local"
            && x.subject.ip == Some("10.0.0.9".parse().expect("ip"))));
        assert_eq!(f.protocols, vec!["mdns"]);
    }

    #[test]
    fn dns_over_tcp_split() {
        let mut q = header(0x0100, 1, 0, 0);
        q.extend(name("ris.example"));
        q.extend_from_slice(&[0, 1, 0, 1]);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend(&q);
        let (a, b) = framed.split_at(7);
        let f = run_tcp(
            &Dns,
            5000,
            53,
            &[(Direction::ToServer, a), (Direction::ToServer, b)],
        );
        assert_eq!(values(&f, "dns.query"), vec!["ris.example"]);
    }
}
