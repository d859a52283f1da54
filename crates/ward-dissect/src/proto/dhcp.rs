//! DHCP (BOOTP, RFC 2131/2132) over UDP 67/68: who the client says it is.
//!
//! Facts are about the *client* named by `chaddr`, even in server replies sent to
//! broadcast; they are recorded with the subject `{mac: chaddr}` (via
//! [`Facts::fact_about`]). When `chaddr` is not an Ethernet host address, request facts
//! fall back to the sending side of the flow.
//!
//! Fact keys (client unless noted):
//! - `dhcp.message_type`: DISCOVER, REQUEST, INFORM, ... (client messages only)
//! - `dhcp.hostname`: option 12
//! - `dhcp.requested_ip`: option 50
//! - `dhcp.param_req_list`: option 55 as "1,3,6,15" (a fingerprint)
//! - `dhcp.max_msg_size`: option 57
//! - `dhcp.vendor_class`: option 60
//! - `dhcp.client_id`: option 61, hex
//! - `dhcp.client_fqdn`: option 81 domain name
//! - `dhcp.mud_url`: option 161 (RFC 8520)
//! - `dhcp.option_list`: every option code in the order sent, "53,61,50,12,55"
//! - `dhcp.lease_ip`: `yiaddr` of an OFFER or ACK (binds the MAC to an IP)
//! - `dhcp.router`, `dhcp.dns_server`: first address of options 3 and 6 of an OFFER or
//!   ACK (the gateway and resolver the client was given)
//! - `dhcp.server_id`: option 54 of a server reply, about the replying server (sender)
//! - `dhcp.vendor_class` in a server reply (servers may echo the class they served, e.g.
//!   "ArubaAP") is recorded about the replying server (sender)
//!
//! Option 52 (overload) is honoured: options continue in `file` then `sname`.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{hex, join_nums};
use std::net::Ipv4Addr;
use ward_capture::{Direction, FlowMeta};
use ward_model::{EndpointAddr, MacAddr, Transport};

/// Length of the fixed BOOTP header before the magic cookie.
const FIXED_LEN: usize = 236;
const MAGIC: [u8; 4] = [99, 130, 83, 99];

/// Why a datagram is not a DHCP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    #[error("DHCP message too short: {len} bytes, need at least 240")]
    TooShort { len: usize },
    #[error("DHCP magic cookie missing at byte offset 236")]
    BadMagic,
}

/// A parsed DHCP message; slices borrow the datagram.
#[derive(Debug, Clone, Copy)]
pub struct DhcpMessage<'a> {
    /// 1 BOOTREQUEST, 2 BOOTREPLY.
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub xid: u32,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub chaddr: &'a [u8],
    pub sname: &'a [u8],
    pub file: &'a [u8],
    /// The options area after the magic cookie.
    pub options_area: &'a [u8],
    /// Option 52 value (1 file, 2 sname, 3 both), 0 when absent.
    pub overload: u8,
}

fn ip_at(b: &[u8], off: usize) -> Ipv4Addr {
    match b.get(off..off + 4) {
        Some(s) => Ipv4Addr::new(s[0], s[1], s[2], s[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

/// Parses one DHCP message. Truncated options are tolerated (iteration stops there).
pub fn parse(data: &[u8]) -> Result<DhcpMessage<'_>, DhcpError> {
    if data.len() < FIXED_LEN + 4 {
        return Err(DhcpError::TooShort { len: data.len() });
    }
    if data[FIXED_LEN..FIXED_LEN + 4] != MAGIC {
        return Err(DhcpError::BadMagic);
    }
    let mut msg = DhcpMessage {
        op: data[0],
        htype: data[1],
        hlen: data[2],
        xid: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
        ciaddr: ip_at(data, 12),
        yiaddr: ip_at(data, 16),
        chaddr: &data[28..44],
        sname: &data[44..108],
        file: &data[108..236],
        options_area: &data[FIXED_LEN + 4..],
        overload: 0,
    };
    if let Some(v) = OptionIter::area(msg.options_area).find(|(c, _)| *c == 52) {
        msg.overload = v.1.first().copied().unwrap_or(0) & 3;
    }
    Ok(msg)
}

/// Iterates over (code, value) of one options area, then the overloaded areas.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    areas: [&'a [u8]; 3],
    area: usize,
    pos: usize,
}

impl<'a> OptionIter<'a> {
    fn area(a: &'a [u8]) -> Self {
        OptionIter {
            areas: [a, &[], &[]],
            area: 0,
            pos: 0,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        // Every step advances `pos` by at least one byte or moves to the next area.
        while self.area < self.areas.len() {
            let a = self.areas[self.area];
            let Some(&code) = a.get(self.pos) else {
                self.area += 1;
                self.pos = 0;
                continue;
            };
            match code {
                0 => self.pos += 1,
                255 => {
                    self.area += 1;
                    self.pos = 0;
                }
                _ => {
                    let len = a.get(self.pos + 1).copied().unwrap_or(0) as usize;
                    let start = self.pos + 2;
                    let Some(v) = a.get(start..start + len) else {
                        // Truncated option: the rest of this area is unusable.
                        self.area += 1;
                        self.pos = 0;
                        continue;
                    };
                    self.pos = start + len;
                    return Some((code, v));
                }
            }
        }
        None
    }
}

impl<'a> DhcpMessage<'a> {
    /// All options in wire order, including those moved to `file`/`sname` by option 52.
    pub fn options(&self) -> OptionIter<'a> {
        let file: &[u8] = if self.overload & 1 != 0 {
            self.file
        } else {
            &[]
        };
        let sname: &[u8] = if self.overload & 2 != 0 {
            self.sname
        } else {
            &[]
        };
        OptionIter {
            areas: [self.options_area, file, sname],
            area: 0,
            pos: 0,
        }
    }

    /// The first occurrence of an option.
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options().find(|(c, _)| *c == code).map(|(_, v)| v)
    }

    /// Option 53.
    pub fn message_type(&self) -> Option<u8> {
        self.option(53).and_then(|v| v.first().copied())
    }

    /// The client's Ethernet address, when `chaddr` holds one that names a host.
    pub fn client_mac(&self) -> Option<MacAddr> {
        if self.htype != 1 || self.hlen != 6 {
            return None;
        }
        let mut m = [0u8; 6];
        m.copy_from_slice(self.chaddr.get(..6)?);
        let mac = MacAddr(m);
        mac.is_unicast_host().then_some(mac)
    }
}

/// Name of a DHCP message type (option 53).
pub fn message_type_name(t: u8) -> &'static str {
    match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        9 => "FORCERENEW",
        10 => "LEASEQUERY",
        _ => "OTHER",
    }
}

/// Decodes option 81's domain name: ASCII, or DNS wire format when the E flag is set.
fn fqdn_name(v: &[u8]) -> Option<String> {
    let flags = *v.first()?;
    let name = v.get(3..)?;
    if flags & 0x04 == 0 {
        return Some(String::from_utf8_lossy(name).into_owned());
    }
    let mut out = String::new();
    let mut pos = 0;
    // Labels only (no compression in option 81); bounded by the option length.
    while let Some(&len) = name.get(pos) {
        if len == 0 || len & 0xc0 != 0 {
            break;
        }
        let label = name.get(pos + 1..pos + 1 + len as usize)?;
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&String::from_utf8_lossy(label));
        pos += 1 + len as usize;
    }
    Some(out)
}

/// Where facts about the client go.
enum ClientSubject {
    Mac(EndpointAddr),
    Side(Side),
    None,
}

fn put(out: &mut Facts, s: &ClientSubject, key: &'static str, value: &str) {
    match s {
        ClientSubject::Mac(a) => out.fact_about(*a, key, value),
        ClientSubject::Side(side) => out.fact(*side, key, value),
        ClientSubject::None => {}
    }
}

/// Turns one DHCP message into facts.
pub fn emit(msg: &DhcpMessage<'_>, dir: Direction, out: &mut Facts) {
    let subject = match msg.client_mac() {
        Some(mac) => ClientSubject::Mac(EndpointAddr {
            mac: Some(mac),
            ip: None,
        }),
        None if msg.op == 1 => ClientSubject::Side(Side::sender(dir)),
        None => ClientSubject::None,
    };
    let mtype = msg.message_type();
    if msg.op == 1 {
        if let Some(t) = mtype {
            put(out, &subject, "dhcp.message_type", message_type_name(t));
        }
        let mut codes: Vec<u8> = Vec::with_capacity(16);
        for (code, v) in msg.options().take(255) {
            codes.push(code);
            match code {
                12 => put(out, &subject, "dhcp.hostname", &String::from_utf8_lossy(v)),
                50 if v.len() == 4 => {
                    put(out, &subject, "dhcp.requested_ip", &ip_at(v, 0).to_string())
                }
                55 => put(out, &subject, "dhcp.param_req_list", &join_nums(v, ",")),
                57 if v.len() == 2 => put(
                    out,
                    &subject,
                    "dhcp.max_msg_size",
                    &u16::from_be_bytes([v[0], v[1]]).to_string(),
                ),
                60 => put(
                    out,
                    &subject,
                    "dhcp.vendor_class",
                    &String::from_utf8_lossy(v),
                ),
                61 => put(out, &subject, "dhcp.client_id", &hex(v)),
                81 => {
                    if let Some(n) = fqdn_name(v) {
                        put(out, &subject, "dhcp.client_fqdn", &n);
                    }
                }
                161 => put(out, &subject, "dhcp.mud_url", &String::from_utf8_lossy(v)),
                _ => {}
            }
        }
        if !codes.is_empty() {
            put(out, &subject, "dhcp.option_list", &join_nums(&codes, ","));
        }
    } else if msg.op == 2 {
        if matches!(mtype, Some(2) | Some(5)) && !msg.yiaddr.is_unspecified() {
            put(out, &subject, "dhcp.lease_ip", &msg.yiaddr.to_string());
        }
        if let Some(v) = msg.option(12) {
            put(out, &subject, "dhcp.hostname", &String::from_utf8_lossy(v));
        }
        if matches!(mtype, Some(2) | Some(5)) {
            if let Some(v) = msg.option(3).filter(|v| v.len() >= 4) {
                put(out, &subject, "dhcp.router", &ip_at(v, 0).to_string());
            }
            if let Some(v) = msg.option(6).filter(|v| v.len() >= 4) {
                put(out, &subject, "dhcp.dns_server", &ip_at(v, 0).to_string());
            }
        }
        if let Some(v) = msg.option(54).filter(|v| v.len() == 4) {
            out.fact(Side::sender(dir), "dhcp.server_id", ip_at(v, 0).to_string());
        }
        if let Some(v) = msg.option(60) {
            out.fact_bytes(Side::sender(dir), "dhcp.vendor_class", v);
        }
    }
}

/// Per-flow state: DHCP is one message per datagram, so there is none beyond the label.
#[derive(Debug, Default)]
pub struct DhcpFlow {
    labelled: bool,
}

impl FlowParser for DhcpFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        if let Ok(msg) = parse(data) {
            if !self.labelled {
                out.protocol("dhcp");
                self.labelled = true;
            }
            emit(&msg, dir, out);
        }
    }
}

/// The DHCP dissector (UDP 67/68).
pub struct Dhcp;

impl Dissector for Dhcp {
    fn name(&self) -> &'static str {
        "dhcp"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 67), (Transport::Udp, 68)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport == Transport::Udp && parse(data).is_ok() {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(DhcpFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness;

    /// Builds a DHCP message with the given options area (without magic) and extras.
    pub(crate) fn build(op: u8, mac: [u8; 6], yiaddr: [u8; 4], opts: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; FIXED_LEN];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        m[16..20].copy_from_slice(&yiaddr);
        m[28..34].copy_from_slice(&mac);
        m.extend_from_slice(&MAGIC);
        m.extend_from_slice(opts);
        m
    }

    const MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c];

    #[test]
    fn discover_fingerprint_facts() {
        let mut opts = vec![53, 1, 1, 12, 5];
        opts.extend_from_slice(b"pump1");
        opts.extend_from_slice(&[55, 4, 1, 3, 6, 15, 57, 2, 0x05, 0xdc, 60, 8]);
        opts.extend_from_slice(b"MSFT 5.0");
        opts.extend_from_slice(&[61, 3, 1, 2, 3, 50, 4, 10, 0, 0, 7]);
        opts.extend_from_slice(&[81, 8, 0x04, 0, 0, 3, b'a', b'b', b'c', 0]);
        opts.extend_from_slice(&[161, 4]);
        opts.extend_from_slice(b"http");
        opts.push(255);
        let msg = build(1, MAC, [0; 4], &opts);
        let facts = harness::run_udp(&Dhcp, 68, 67, &[(Direction::ToServer, &msg)]);
        let subject = EndpointAddr {
            mac: Some(MacAddr(MAC)),
            ip: None,
        };
        let get = |k: &str| {
            facts
                .about
                .iter()
                .find(|f| f.key == k && f.subject == subject)
                .map(|f| f.value.clone())
        };
        assert_eq!(get("dhcp.message_type").as_deref(), Some("DISCOVER"));
        assert_eq!(get("dhcp.hostname").as_deref(), Some("pump1"));
        assert_eq!(get("dhcp.param_req_list").as_deref(), Some("1,3,6,15"));
        assert_eq!(get("dhcp.max_msg_size").as_deref(), Some("1500"));
        assert_eq!(get("dhcp.vendor_class").as_deref(), Some("MSFT 5.0"));
        assert_eq!(get("dhcp.client_id").as_deref(), Some("010203"));
        assert_eq!(get("dhcp.requested_ip").as_deref(), Some("10.0.0.7"));
        assert_eq!(get("dhcp.client_fqdn").as_deref(), Some("abc"));
        assert_eq!(get("dhcp.mud_url").as_deref(), Some("http"));
        assert_eq!(
            get("dhcp.option_list").as_deref(),
            Some("53,12,55,57,60,61,50,81,161")
        );
        assert_eq!(facts.protocols, vec!["dhcp"]);
    }

    #[test]
    fn ack_binds_lease_to_chaddr() {
        let opts = [53, 1, 5, 54, 4, 10, 0, 0, 1, 255];
        let msg = build(2, MAC, [10, 0, 0, 7], &opts);
        let facts = harness::run_udp(&Dhcp, 68, 67, &[(Direction::ToClient, &msg)]);
        let f = facts
            .about
            .iter()
            .find(|f| f.key == "dhcp.lease_ip")
            .expect("lease fact");
        assert_eq!(f.value, "10.0.0.7");
        assert_eq!(f.subject.mac, Some(MacAddr(MAC)));
        assert!(facts
            .facts
            .iter()
            .any(|f| f.key == "dhcp.server_id" && f.side == Side::Server && f.value == "10.0.0.1"));
    }

    #[test]
    fn option_overload_reads_file_and_sname() {
        let mut msg = build(1, MAC, [0; 4], &[53, 1, 3, 52, 1, 3, 255]);
        // file area (offset 108): hostname; sname area (offset 44): vendor class.
        msg[108..115].copy_from_slice(&[12, 4, b'h', b'o', b's', b't', 255]);
        msg[44..50].copy_from_slice(&[60, 3, b'v', b'c', b'1', 255]);
        let m = parse(&msg).expect("parses");
        assert_eq!(m.overload, 3);
        assert_eq!(m.option(12), Some(&b"host"[..]));
        assert_eq!(m.option(60), Some(&b"vc1"[..]));
        let codes: Vec<u8> = m.options().map(|(c, _)| c).collect();
        assert_eq!(codes, vec![53, 52, 12, 60]);
    }

    #[test]
    fn ascii_fqdn_and_non_ethernet_client() {
        let mut opts = vec![53, 1, 3, 81, 8, 0, 0, 0];
        opts.extend_from_slice(b"a.b.c");
        opts.push(255);
        let mut msg = build(1, MAC, [0; 4], &opts);
        msg[1] = 6; // IEEE 802 but hlen 8: not an Ethernet chaddr
        msg[2] = 8;
        let facts = harness::run_udp(&Dhcp, 68, 67, &[(Direction::ToServer, &msg)]);
        assert!(
            facts.about.is_empty(),
            "no chaddr subject for a non-Ethernet client"
        );
        let fqdn = facts
            .facts
            .iter()
            .find(|f| f.key == "dhcp.client_fqdn")
            .expect("fqdn fact on the sender");
        assert_eq!((fqdn.side, fqdn.value.as_str()), (Side::Client, "a.b.c"));
    }

    #[test]
    fn malformed_inputs() {
        assert_eq!(
            parse(&[0; 10]).unwrap_err(),
            DhcpError::TooShort { len: 10 }
        );
        let mut m = build(1, MAC, [0; 4], &[]);
        m[237] = 0;
        assert_eq!(parse(&m).unwrap_err(), DhcpError::BadMagic);
        // Truncated option: length runs past the end.
        let m = build(1, MAC, [0; 4], &[53, 1, 1, 12, 200, b'x']);
        let p = parse(&m).expect("header ok");
        assert_eq!(p.options().count(), 1);
    }
}
