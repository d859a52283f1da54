//! Network services every hospital device speaks: DHCP (RFC 2131/2132, FQDN RFC 4702), DNS
//! (RFC 1035), mDNS/DNS-SD (RFC 6762/6763), SSDP (UPnP Device Architecture 1.1), LLDP
//! (IEEE 802.1AB), CDP (Cisco Discovery Protocol v2) and SNMPv2c (RFC 3416, BER encoded).

use crate::wire::{eth_header, fold, pad_min, sum16, ETH_LLDP, L2};
use std::net::Ipv4Addr;

// ---------------------------------------------------------------------------------------
// ARP (RFC 826)
// ---------------------------------------------------------------------------------------

/// An Ethernet/IPv4 ARP request (`reply == false`) or reply as a complete frame.
pub(crate) fn arp_frame(
    l2: &L2,
    reply: bool,
    sha: [u8; 6],
    spa: Ipv4Addr,
    tha: [u8; 6],
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    eth_header(&mut b, l2, 0x0806);
    b.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, if reply { 2 } else { 1 }]);
    b.extend_from_slice(&sha);
    b.extend_from_slice(&spa.octets());
    b.extend_from_slice(&tha);
    b.extend_from_slice(&tpa.octets());
    pad_min(&mut b);
    b
}

// ---------------------------------------------------------------------------------------
// DHCP
// ---------------------------------------------------------------------------------------

pub(crate) const DHCPDISCOVER: u8 = 1;
pub(crate) const DHCPOFFER: u8 = 2;
pub(crate) const DHCPREQUEST: u8 = 3;
pub(crate) const DHCPACK: u8 = 5;

/// The BOOTP fixed part of a DHCP message.
pub(crate) struct Bootp {
    pub reply: bool,
    pub xid: u32,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 6],
    pub broadcast: bool,
}

/// A DHCP message: BOOTP header, magic cookie, then `options` (code, value) and END.
pub(crate) fn dhcp(b: &Bootp, options: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut m = Vec::with_capacity(300);
    m.push(if b.reply { 2 } else { 1 });
    m.extend_from_slice(&[1, 6, if b.giaddr.is_unspecified() { 0 } else { 1 }]);
    m.extend_from_slice(&b.xid.to_be_bytes());
    m.extend_from_slice(&[0, 0]); // secs
    m.extend_from_slice(&(if b.broadcast { 0x8000u16 } else { 0 }).to_be_bytes());
    for a in [b.ciaddr, b.yiaddr, b.siaddr, b.giaddr] {
        m.extend_from_slice(&a.octets());
    }
    m.extend_from_slice(&b.chaddr);
    m.extend_from_slice(&[0u8; 10 + 64 + 128]);
    m.extend_from_slice(&[99, 130, 83, 99]);
    for (code, v) in options {
        m.push(*code);
        m.push(v.len() as u8);
        m.extend_from_slice(v);
    }
    m.push(255);
    // Pad to the BOOTP minimum of 300 bytes, as most clients do.
    if m.len() < 300 {
        m.resize(300, 0);
    }
    m
}

/// Option 81 (client FQDN, RFC 4702) in ASCII form with the S flag clear.
pub(crate) fn opt_fqdn(name: &str) -> Vec<u8> {
    let mut v = vec![0x00, 0, 0];
    v.extend_from_slice(name.as_bytes());
    v
}

/// Option 61 (client identifier): hardware type 1 + MAC.
pub(crate) fn opt_client_id(mac: &[u8; 6]) -> Vec<u8> {
    let mut v = vec![1];
    v.extend_from_slice(mac);
    v
}

// ---------------------------------------------------------------------------------------
// DNS and mDNS
// ---------------------------------------------------------------------------------------

pub(crate) const QTYPE_A: u16 = 1;
const QTYPE_PTR: u16 = 12;
const QTYPE_TXT: u16 = 16;
const QTYPE_SRV: u16 = 33;

fn name(buf: &mut Vec<u8>, n: &str) {
    for label in n.trim_end_matches('.').split('.') {
        let l = &label.as_bytes()[..label.len().min(63)];
        buf.push(l.len() as u8);
        buf.extend_from_slice(l);
    }
    buf.push(0);
}

fn dns_header(buf: &mut Vec<u8>, id: u16, flags: u16, qd: u16, an: u16) {
    for v in [id, flags, qd, an, 0, 0] {
        buf.extend_from_slice(&v.to_be_bytes());
    }
}

/// A standard recursive query for `qname`.
pub(crate) fn dns_query(id: u16, qname: &str, qtype: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    dns_header(&mut b, id, 0x0100, 1, 0);
    name(&mut b, qname);
    b.extend_from_slice(&qtype.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    b
}

/// The answer to [`dns_query`]: the question, then A records pointing back at it (0xc00c).
pub(crate) fn dns_response(id: u16, qname: &str, answers: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(96);
    dns_header(&mut b, id, 0x8180, 1, answers.len() as u16);
    name(&mut b, qname);
    b.extend_from_slice(&QTYPE_A.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    for a in answers {
        b.extend_from_slice(&[0xc0, 0x0c]);
        b.extend_from_slice(&QTYPE_A.to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
        b.extend_from_slice(&ttl.to_be_bytes());
        b.extend_from_slice(&4u16.to_be_bytes());
        b.extend_from_slice(&a.octets());
    }
    b
}

fn rr(b: &mut Vec<u8>, owner: &str, rtype: u16, flush: bool, ttl: u32, rdata: &[u8]) {
    name(b, owner);
    b.extend_from_slice(&rtype.to_be_bytes());
    let class: u16 = if flush { 0x8001 } else { 0x0001 };
    b.extend_from_slice(&class.to_be_bytes());
    b.extend_from_slice(&ttl.to_be_bytes());
    b.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    b.extend_from_slice(rdata);
}

/// An unsolicited mDNS announcement of one DNS-SD service instance: PTR, SRV, TXT and A.
pub(crate) fn mdns_announce(
    instance: &str,
    service: &str,
    host: &str,
    ip: Ipv4Addr,
    port: u16,
    txt: &[String],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    dns_header(&mut b, 0, 0x8400, 0, 4);
    let full = format!("{instance}.{service}.local");
    let host_local = format!("{host}.local");
    let mut ptr = Vec::new();
    name(&mut ptr, &full);
    rr(
        &mut b,
        &format!("{service}.local"),
        QTYPE_PTR,
        false,
        4500,
        &ptr,
    );
    let mut srv = vec![0, 0, 0, 0];
    srv.extend_from_slice(&port.to_be_bytes());
    name(&mut srv, &host_local);
    rr(&mut b, &full, QTYPE_SRV, true, 120, &srv);
    let mut t = Vec::new();
    for s in txt {
        let s = &s.as_bytes()[..s.len().min(255)];
        t.push(s.len() as u8);
        t.extend_from_slice(s);
    }
    rr(&mut b, &full, QTYPE_TXT, true, 4500, &t);
    rr(&mut b, &host_local, QTYPE_A, true, 120, &ip.octets());
    b
}

// ---------------------------------------------------------------------------------------
// NetBIOS name service (RFC 1002 4.2.2 name registration request)
// ---------------------------------------------------------------------------------------

/// A broadcast NAME REGISTRATION REQUEST for `name` (15 characters at most, space padded)
/// with suffix byte `suffix` (0x00 workstation, 0x20 file server).
pub(crate) fn nbns_registration(id: u16, name: &str, suffix: u8, ip: Ipv4Addr) -> Vec<u8> {
    let mut b = Vec::with_capacity(68);
    for v in [id, 0x2910, 1, 0, 0, 1] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    let mut raw = [b' '; 16];
    for (o, c) in raw.iter_mut().zip(name.bytes().take(15)) {
        *o = c.to_ascii_uppercase();
    }
    raw[15] = suffix;
    b.push(32);
    for c in raw {
        b.push(b'A' + (c >> 4));
        b.push(b'A' + (c & 0x0f));
    }
    b.push(0);
    b.extend_from_slice(&[0x00, 0x20, 0x00, 0x01]); // NB, IN
    b.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x20, 0x00, 0x01]);
    b.extend_from_slice(&300_000u32.to_be_bytes());
    b.extend_from_slice(&6u16.to_be_bytes());
    b.extend_from_slice(&0u16.to_be_bytes()); // B-node, unique
    b.extend_from_slice(&ip.octets());
    b
}

// ---------------------------------------------------------------------------------------
// SSDP
// ---------------------------------------------------------------------------------------

/// An SSDP `NOTIFY * HTTP/1.1` ssdp:alive for the root device.
pub(crate) fn ssdp_notify(ip: Ipv4Addr, server: &str, uuid: &str) -> Vec<u8> {
    format!(
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n\
         LOCATION: http://{ip}:80/upnp/description.xml\r\nNT: upnp:rootdevice\r\n\
         NTS: ssdp:alive\r\nSERVER: {server}\r\nUSN: uuid:{uuid}::upnp:rootdevice\r\n\r\n"
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------
// LLDP and CDP (complete frames: they are not IP)
// ---------------------------------------------------------------------------------------

/// What a switch port says about its switch.
pub(crate) struct SwitchPort<'a> {
    pub chassis_mac: [u8; 6],
    pub port: &'a str,
    pub port_desc: &'a str,
    pub sys_name: &'a str,
    pub sys_desc: &'a str,
    pub platform: &'a str,
    pub mgmt_ip: Ipv4Addr,
    pub native_vlan: u16,
}

fn lldp_tlv(b: &mut Vec<u8>, t: u8, v: &[u8]) {
    let hdr = (u16::from(t) << 9) | (v.len() as u16 & 0x01ff);
    b.extend_from_slice(&hdr.to_be_bytes());
    b.extend_from_slice(v);
}

/// An LLDPDU to the nearest-bridge group address, sent from the port's own MAC.
pub(crate) fn lldp_frame(p: &SwitchPort<'_>, port_mac: [u8; 6]) -> Vec<u8> {
    let mut b = Vec::with_capacity(256);
    let l2 = L2 {
        src: port_mac,
        dst: [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e],
        vlan: None,
    };
    eth_header(&mut b, &l2, ETH_LLDP);
    let mut chassis = vec![4]; // subtype: MAC address
    chassis.extend_from_slice(&p.chassis_mac);
    lldp_tlv(&mut b, 1, &chassis);
    let mut port = vec![5]; // subtype: interface name
    port.extend_from_slice(p.port.as_bytes());
    lldp_tlv(&mut b, 2, &port);
    lldp_tlv(&mut b, 3, &120u16.to_be_bytes());
    lldp_tlv(&mut b, 4, p.port_desc.as_bytes());
    lldp_tlv(&mut b, 5, p.sys_name.as_bytes());
    lldp_tlv(&mut b, 6, p.sys_desc.as_bytes());
    // Capabilities: bridge + router available, bridge enabled.
    lldp_tlv(&mut b, 7, &[0x00, 0x14, 0x00, 0x04]);
    let mut mgmt = vec![5, 1]; // address string length (subtype + 4), IPv4
    mgmt.extend_from_slice(&p.mgmt_ip.octets());
    mgmt.push(2); // interface numbering: ifIndex
    mgmt.extend_from_slice(&1u32.to_be_bytes());
    mgmt.push(0); // no OID
    lldp_tlv(&mut b, 8, &mgmt);
    lldp_tlv(&mut b, 0, &[]);
    pad_min(&mut b);
    b
}

fn cdp_tlv(b: &mut Vec<u8>, t: u16, v: &[u8]) {
    b.extend_from_slice(&t.to_be_bytes());
    b.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
    b.extend_from_slice(v);
}

/// A CDPv2 frame: IEEE 802.3 length, LLC/SNAP (OUI 00000c, PID 0x2000), CDP with checksum.
pub(crate) fn cdp_frame(p: &SwitchPort<'_>, port_mac: [u8; 6]) -> Vec<u8> {
    let mut cdp = vec![2, 180, 0, 0]; // version 2, TTL 180 s, checksum placeholder
    cdp_tlv(&mut cdp, 0x0001, p.sys_name.as_bytes());
    let mut addr = 1u32.to_be_bytes().to_vec();
    addr.extend_from_slice(&[1, 1, 0xcc]); // NLPID, length 1, IP
    addr.extend_from_slice(&4u16.to_be_bytes());
    addr.extend_from_slice(&p.mgmt_ip.octets());
    cdp_tlv(&mut cdp, 0x0002, &addr);
    cdp_tlv(&mut cdp, 0x0003, p.port.as_bytes());
    cdp_tlv(&mut cdp, 0x0004, &0x0000_0028u32.to_be_bytes()); // switch, IGMP
    cdp_tlv(&mut cdp, 0x0005, p.sys_desc.as_bytes());
    cdp_tlv(&mut cdp, 0x0006, p.platform.as_bytes());
    cdp_tlv(&mut cdp, 0x000a, &p.native_vlan.to_be_bytes());
    cdp_tlv(&mut cdp, 0x000b, &[1]); // full duplex
    if cdp.len() % 2 == 1 {
        // Cisco's checksum treats an odd trailing byte specially; a 5-byte VTP management
        // domain TLV keeps the PDU even instead.
        cdp_tlv(&mut cdp, 0x0009, b"H");
    }
    let c = fold(sum16(0, &cdp));
    cdp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut b = Vec::with_capacity(cdp.len() + 22);
    b.extend_from_slice(&[0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]);
    b.extend_from_slice(&port_mac);
    b.extend_from_slice(&((cdp.len() + 8) as u16).to_be_bytes());
    b.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]);
    b.extend_from_slice(&cdp);
    pad_min(&mut b);
    b
}

// ---------------------------------------------------------------------------------------
// SNMPv2c (BER)
// ---------------------------------------------------------------------------------------

pub(crate) fn ber(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut b = vec![tag];
    let n = content.len();
    if n < 0x80 {
        b.push(n as u8);
    } else if n < 0x100 {
        b.extend_from_slice(&[0x81, n as u8]);
    } else {
        b.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    b.extend_from_slice(content);
    b
}

pub(crate) fn ber_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    ber(0x02, &bytes[start..])
}

pub(crate) fn ber_oid(oid: &[u32]) -> Vec<u8> {
    let mut c = Vec::new();
    if oid.len() >= 2 {
        c.push((oid[0] * 40 + oid[1]) as u8);
    }
    for &arc in oid.iter().skip(2) {
        let mut tmp = Vec::new();
        let mut v = arc;
        tmp.push((v & 0x7f) as u8);
        v >>= 7;
        while v > 0 {
            tmp.push(((v & 0x7f) as u8) | 0x80);
            v >>= 7;
        }
        tmp.reverse();
        c.extend_from_slice(&tmp);
    }
    ber(0x06, &c)
}

/// A value in a response varbind.
pub(crate) enum SnmpValue<'a> {
    Null,
    Text(&'a str),
    Oid(&'a [u32]),
    Ticks(u32),
}

pub(crate) const OID_SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
pub(crate) const OID_SYS_OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
pub(crate) const OID_SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
pub(crate) const OID_SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];

/// A v2c GetRequest (PDU 0xa0, `response == false`, values all NULL) or Response (0xa2).
pub(crate) fn snmp_v2c(
    community: &str,
    request_id: i32,
    response: bool,
    binds: &[(&[u32], SnmpValue<'_>)],
) -> Vec<u8> {
    let mut vbl = Vec::new();
    for (oid, val) in binds {
        let mut vb = ber_oid(oid);
        vb.extend_from_slice(&match val {
            SnmpValue::Null => vec![0x05, 0x00],
            SnmpValue::Text(s) => ber(0x04, s.as_bytes()),
            SnmpValue::Oid(o) => ber_oid(o),
            SnmpValue::Ticks(t) => {
                let mut i = ber_int(i64::from(*t));
                i[0] = 0x43;
                i
            }
        });
        vbl.extend_from_slice(&ber(0x30, &vb));
    }
    let mut pdu = ber_int(i64::from(request_id));
    pdu.extend_from_slice(&ber_int(0)); // error-status
    pdu.extend_from_slice(&ber_int(0)); // error-index
    pdu.extend_from_slice(&ber(0x30, &vbl));
    let mut msg = ber_int(1); // version: v2c
    msg.extend_from_slice(&ber(0x04, community.as_bytes()));
    msg.extend_from_slice(&ber(if response { 0xa2 } else { 0xa0 }, &pdu));
    ber(0x30, &msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_encodings() {
        assert_eq!(ber_int(0), vec![2, 1, 0]);
        assert_eq!(ber_int(128), vec![2, 2, 0, 128]);
        assert_eq!(ber_int(-1), vec![2, 1, 0xff]);
        assert_eq!(
            ber_oid(&[1, 3, 6, 1, 4, 1, 9]),
            vec![6, 6, 0x2b, 6, 1, 4, 1, 9]
        );
        assert_eq!(
            ber_oid(&[1, 3, 6, 1, 4, 1, 311]),
            vec![6, 7, 0x2b, 6, 1, 4, 1, 0x82, 0x37]
        );
    }

    #[test]
    fn cdp_checksum_verifies() {
        let p = SwitchPort {
            chassis_mac: [0xf4, 0xbd, 0x9e, 0, 0, 1],
            port: "GigabitEthernet1/0/1",
            port_desc: "uplink",
            sys_name: "sw-core-01",
            sys_desc: "Cisco IOS Software",
            platform: "cisco C9300-48P",
            mgmt_ip: Ipv4Addr::new(10, 99, 0, 2),
            native_vlan: 1,
        };
        let f = cdp_frame(&p, [0xf4, 0xbd, 0x9e, 0, 0, 2]);
        let len = usize::from(u16::from_be_bytes([f[12], f[13]]));
        let cdp = &f[22..14 + len];
        assert_eq!(cdp.len() % 2, 0);
        assert_eq!(fold(sum16(0, cdp)), 0);
    }
}
