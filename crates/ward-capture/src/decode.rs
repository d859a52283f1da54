//! Link-layer to transport decoding, by slicing: nothing is copied or allocated.
//!
//! The decoder is hand-written for the hot path: one pass, no checksum validation, no
//! intermediate structures; `etherparse` builds the crafted frames its tests are checked
//! against. Every read is bounds-checked, so any byte string is safe input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_model::MacAddr;

use crate::events::{ArpBinding, L2Frame, L2Kind};
use crate::source::linktype as lt;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The frame ends inside the named header.
    Truncated(&'static str),
    /// The named header holds an impossible value.
    Malformed(&'static str),
    /// The capture's link type is not supported.
    UnsupportedLinktype(u32),
}

/// Layer-2 facts about a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L2Info {
    pub src: Option<MacAddr>,
    pub dst: Option<MacAddr>,
    /// The outer (first) 802.1Q/802.1ad VLAN id.
    pub vlan: Option<u16>,
}

/// IPv4 or IPv6 fragment description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragInfo {
    pub id: u32,
    /// Offset of this fragment's data in the original payload, in bytes.
    pub offset: u32,
    pub more: bool,
}

/// An IP packet: addresses, the transport protocol and its bytes (header included).
#[derive(Debug, Clone, Copy)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number of `payload` (after IPv6 extension headers).
    pub proto: u8,
    pub payload: &'a [u8],
    pub frag: Option<FragInfo>,
}

/// What a frame carries.
#[derive(Debug, Clone, Copy)]
pub enum Decoded<'a> {
    Ip(L2Info, IpPacket<'a>),
    Arp(ArpBinding),
    L2(L2Frame<'a>),
    /// Something valid but of no interest (e.g. a non-IP frame on a raw-IP link).
    Ignored,
}

#[inline]
fn be16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(o)?, *b.get(o + 1)?]))
}

#[inline]
fn be32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(o)?,
        *b.get(o + 1)?,
        *b.get(o + 2)?,
        *b.get(o + 3)?,
    ]))
}

fn mac_at(b: &[u8], o: usize) -> Option<MacAddr> {
    let s = b.get(o..o + 6)?;
    let mut m = [0u8; 6];
    m.copy_from_slice(s);
    Some(MacAddr(m))
}

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
/// Nested VLAN tags beyond this are treated as malformed (no loop on crafted input).
const MAX_VLAN_TAGS: usize = 4;

/// Whether [`decode`] understands this link type.
pub fn is_supported_linktype(linktype: u32) -> bool {
    matches!(
        linktype,
        lt::ETHERNET
            | lt::RAW
            | lt::RAW_12
            | lt::RAW_14
            | lt::IPV4
            | lt::IPV6
            | lt::LINUX_SLL
            | lt::LINUX_SLL2
            | lt::NULL
            | lt::LOOP
    )
}

/// Decode one captured frame of the given link type.
pub fn decode(linktype: u32, data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match linktype {
        lt::ETHERNET => decode_ethernet(data),
        lt::RAW | lt::RAW_12 | lt::RAW_14 => decode_raw_ip(data, L2Info::default()),
        lt::IPV4 => decode_ipv4(data, L2Info::default()),
        lt::IPV6 => decode_ipv6(data, L2Info::default()),
        lt::LINUX_SLL => decode_sll(data),
        lt::LINUX_SLL2 => decode_sll2(data),
        lt::NULL | lt::LOOP => decode_null(data, linktype == lt::LOOP),
        other => Err(DecodeError::UnsupportedLinktype(other)),
    }
}

/// Decode an Ethernet II / 802.3 frame.
pub fn decode_ethernet(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let dst = mac_at(data, 0).ok_or(DecodeError::Truncated("ethernet"))?;
    let src = mac_at(data, 6).ok_or(DecodeError::Truncated("ethernet"))?;
    let ethertype = be16(data, 12).ok_or(DecodeError::Truncated("ethernet"))?;
    let l2 = L2Info {
        src: Some(src),
        dst: Some(dst),
        vlan: None,
    };
    dispatch_ethertype(ethertype, &data[14..], l2)
}

fn dispatch_ethertype(
    mut ethertype: u16,
    mut rest: &[u8],
    mut l2: L2Info,
) -> Result<Decoded<'_>, DecodeError> {
    let mut tags = 0;
    while matches!(ethertype, ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(DecodeError::Malformed("too many VLAN tags"));
        }
        let tci = be16(rest, 0).ok_or(DecodeError::Truncated("vlan tag"))?;
        ethertype = be16(rest, 2).ok_or(DecodeError::Truncated("vlan tag"))?;
        if l2.vlan.is_none() {
            l2.vlan = Some(tci & 0x0fff);
        }
        rest = &rest[4..];
    }
    match ethertype {
        ETH_IPV4 => decode_ipv4(rest, l2),
        ETH_IPV6 => decode_ipv6(rest, l2),
        ETH_ARP => decode_arp(rest, l2),
        0..=1500 => decode_llc(ethertype as usize, rest, l2),
        // 1501..1535 are undefined; treat like any other non-IP EtherType.
        other => Ok(l2_frame(l2, L2Kind::EtherType(other), rest)),
    }
}

fn l2_frame(l2: L2Info, kind: L2Kind, payload: &[u8]) -> Decoded<'_> {
    match (l2.src, l2.dst) {
        (Some(src), Some(dst)) => Decoded::L2(L2Frame {
            src,
            dst,
            vlan: l2.vlan,
            kind,
            payload,
        }),
        // Link types without both MACs (cooked capture) cannot describe an L2 frame.
        _ => Decoded::Ignored,
    }
}

/// IEEE 802.3 length field followed by LLC (and SNAP).
fn decode_llc(len: usize, rest: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    let body = rest.get(..len).unwrap_or(rest);
    let dsap = *body.first().ok_or(DecodeError::Truncated("llc"))?;
    let ssap = *body.get(1).ok_or(DecodeError::Truncated("llc"))?;
    let control = *body.get(2).ok_or(DecodeError::Truncated("llc"))?;
    // U-frames have a one-byte control field, I/S-frames two.
    let ctl_len = if control & 0x03 == 0x03 { 1 } else { 2 };
    let after = body
        .get(2 + ctl_len..)
        .ok_or(DecodeError::Truncated("llc"))?;
    if dsap == 0xaa && ssap == 0xaa {
        let oui_b = after.get(..3).ok_or(DecodeError::Truncated("snap"))?;
        let pid = be16(after, 3).ok_or(DecodeError::Truncated("snap"))?;
        let oui = [oui_b[0], oui_b[1], oui_b[2]];
        if oui == [0, 0, 0] {
            // RFC 1042 encapsulation: the PID is an EtherType.
            return dispatch_ethertype(pid, &after[5..], l2);
        }
        Ok(l2_frame(l2, L2Kind::Snap { oui, pid }, &after[5..]))
    } else {
        Ok(l2_frame(l2, L2Kind::Llc { dsap, ssap }, after))
    }
}

fn decode_arp(b: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    let htype = be16(b, 0).ok_or(DecodeError::Truncated("arp"))?;
    let ptype = be16(b, 2).ok_or(DecodeError::Truncated("arp"))?;
    let hlen = *b.get(4).ok_or(DecodeError::Truncated("arp"))?;
    let plen = *b.get(5).ok_or(DecodeError::Truncated("arp"))?;
    let operation = be16(b, 6).ok_or(DecodeError::Truncated("arp"))?;
    if htype != 1 || ptype != ETH_IPV4 || hlen != 6 || plen != 4 {
        return Ok(Decoded::Ignored);
    }
    let ip = |o: usize| -> Result<Ipv4Addr, DecodeError> {
        Ok(Ipv4Addr::from(
            be32(b, o).ok_or(DecodeError::Truncated("arp"))?,
        ))
    };
    Ok(Decoded::Arp(ArpBinding {
        operation,
        sender_mac: mac_at(b, 8).ok_or(DecodeError::Truncated("arp"))?,
        sender_ip: ip(14)?,
        target_mac: mac_at(b, 18).ok_or(DecodeError::Truncated("arp"))?,
        target_ip: ip(24)?,
        vlan: l2.vlan,
    }))
}

fn decode_raw_ip(b: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    match b.first().map(|v| v >> 4) {
        Some(4) => decode_ipv4(b, l2),
        Some(6) => decode_ipv6(b, l2),
        Some(_) => Err(DecodeError::Malformed("raw ip version")),
        None => Err(DecodeError::Truncated("raw ip")),
    }
}

/// Linux cooked capture v1 (16-byte header).
fn decode_sll(b: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let arphrd = be16(b, 2).ok_or(DecodeError::Truncated("sll"))?;
    let alen = be16(b, 4).ok_or(DecodeError::Truncated("sll"))?;
    let proto = be16(b, 14).ok_or(DecodeError::Truncated("sll"))?;
    let src = if arphrd == 1 && alen == 6 {
        mac_at(b, 6)
    } else {
        None
    };
    cooked(
        proto,
        &b[16..],
        L2Info {
            src,
            dst: None,
            vlan: None,
        },
    )
}

/// Linux cooked capture v2 (20-byte header).
fn decode_sll2(b: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let proto = be16(b, 0).ok_or(DecodeError::Truncated("sll2"))?;
    let arphrd = be16(b, 8).ok_or(DecodeError::Truncated("sll2"))?;
    let alen = *b.get(11).ok_or(DecodeError::Truncated("sll2"))?;
    if b.len() < 20 {
        return Err(DecodeError::Truncated("sll2"));
    }
    let src = if arphrd == 1 && alen == 6 {
        mac_at(b, 12)
    } else {
        None
    };
    cooked(
        proto,
        &b[20..],
        L2Info {
            src,
            dst: None,
            vlan: None,
        },
    )
}

fn cooked(proto: u16, rest: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    match proto {
        // Linux pseudo protocol numbers: 0x0004 is 802.2 LLC without the length field.
        0x0004 => decode_llc(rest.len(), rest, l2),
        p if p > 1500 => dispatch_ethertype(p, rest, l2),
        _ => Ok(Decoded::Ignored),
    }
}

/// BSD loopback: a 4-byte address family (host order for NULL, network order for LOOP).
fn decode_null(b: &[u8], network_order: bool) -> Result<Decoded<'_>, DecodeError> {
    let h = b.get(..4).ok_or(DecodeError::Truncated("loopback"))?;
    let h = [h[0], h[1], h[2], h[3]];
    let fam = if network_order {
        u32::from_be_bytes(h)
    } else {
        // The writer's host order is unknown; families are small, so pick the order
        // that gives a small number.
        let le = u32::from_le_bytes(h);
        if le <= 0xffff {
            le
        } else {
            u32::from_be_bytes(h)
        }
    };
    let rest = &b[4..];
    match fam {
        2 => decode_ipv4(rest, L2Info::default()),
        // AF_INET6 differs between BSDs: 24, 28, 30 (and 10 on Linux).
        10 | 24 | 28 | 30 => decode_ipv6(rest, L2Info::default()),
        _ => Ok(Decoded::Ignored),
    }
}

/// Decode an IPv4 header; the payload is cut to the header's total length (Ethernet
/// padding removed) or to what was captured.
pub fn decode_ipv4(b: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    let v = *b.first().ok_or(DecodeError::Truncated("ipv4"))?;
    if v >> 4 != 4 {
        return Err(DecodeError::Malformed("ipv4 version"));
    }
    let ihl = ((v & 0x0f) as usize) * 4;
    if ihl < 20 {
        return Err(DecodeError::Malformed("ipv4 header length"));
    }
    if b.len() < ihl {
        return Err(DecodeError::Truncated("ipv4"));
    }
    let total = be16(b, 2).ok_or(DecodeError::Truncated("ipv4"))? as usize;
    if total < ihl {
        return Err(DecodeError::Malformed("ipv4 total length"));
    }
    let end = total.min(b.len());
    let id = be16(b, 4).ok_or(DecodeError::Truncated("ipv4"))?;
    let ff = be16(b, 6).ok_or(DecodeError::Truncated("ipv4"))?;
    let proto = b[9];
    let src = Ipv4Addr::from(be32(b, 12).ok_or(DecodeError::Truncated("ipv4"))?);
    let dst = Ipv4Addr::from(be32(b, 16).ok_or(DecodeError::Truncated("ipv4"))?);
    let more = ff & 0x2000 != 0;
    let offset = ((ff & 0x1fff) as u32) * 8;
    let frag = (more || offset != 0).then_some(FragInfo {
        id: id as u32,
        offset,
        more,
    });
    Ok(Decoded::Ip(
        l2,
        IpPacket {
            src: src.into(),
            dst: dst.into(),
            proto,
            payload: &b[ihl..end],
            frag,
        },
    ))
}

/// Decode an IPv6 header and its extension-header chain.
pub fn decode_ipv6(b: &[u8], l2: L2Info) -> Result<Decoded<'_>, DecodeError> {
    let v = *b.first().ok_or(DecodeError::Truncated("ipv6"))?;
    if v >> 4 != 6 {
        return Err(DecodeError::Malformed("ipv6 version"));
    }
    if b.len() < 40 {
        return Err(DecodeError::Truncated("ipv6"));
    }
    let plen = be16(b, 4).ok_or(DecodeError::Truncated("ipv6"))? as usize;
    let nh = b[6];
    let mut s = [0u8; 16];
    s.copy_from_slice(&b[8..24]);
    let mut d = [0u8; 16];
    d.copy_from_slice(&b[24..40]);
    // Payload length 0 means a jumbogram (or TSO capture): use what was captured.
    let end = if plen == 0 {
        b.len()
    } else {
        (40 + plen).min(b.len())
    };
    let (proto, payload, frag) = ipv6_ext_chain(nh, &b[40..end])?;
    Ok(Decoded::Ip(
        l2,
        IpPacket {
            src: Ipv6Addr::from(s).into(),
            dst: Ipv6Addr::from(d).into(),
            proto,
            payload,
            frag,
        },
    ))
}

/// Walk IPv6 extension headers starting with next-header `nh`. Stops at the first
/// upper-layer protocol, at ESP (encrypted) or at a fragment header (the rest is a
/// fragment and is walked again after reassembly).
pub fn ipv6_ext_chain(
    mut nh: u8,
    mut rest: &[u8],
) -> Result<(u8, &[u8], Option<FragInfo>), DecodeError> {
    // A chain longer than this is crafted; stop rather than walk it.
    for _ in 0..16 {
        match nh {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let next = *rest.first().ok_or(DecodeError::Truncated("ipv6 ext"))?;
                let len =
                    (*rest.get(1).ok_or(DecodeError::Truncated("ipv6 ext"))? as usize + 1) * 8;
                rest = rest.get(len..).ok_or(DecodeError::Truncated("ipv6 ext"))?;
                nh = next;
            }
            // Authentication header: length in 4-octet units minus 2.
            51 => {
                let next = *rest.first().ok_or(DecodeError::Truncated("ipv6 ah"))?;
                let len = (*rest.get(1).ok_or(DecodeError::Truncated("ipv6 ah"))? as usize + 2) * 4;
                rest = rest.get(len..).ok_or(DecodeError::Truncated("ipv6 ah"))?;
                nh = next;
            }
            44 => {
                let next = *rest.first().ok_or(DecodeError::Truncated("ipv6 frag"))?;
                let off = be16(rest, 2).ok_or(DecodeError::Truncated("ipv6 frag"))?;
                let id = be32(rest, 4).ok_or(DecodeError::Truncated("ipv6 frag"))?;
                let offset = (off & 0xfff8) as u32;
                let more = off & 1 != 0;
                let data = &rest[8..];
                if offset == 0 && !more {
                    // Atomic fragment: not fragmented at all.
                    rest = data;
                    nh = next;
                    continue;
                }
                return Ok((next, data, Some(FragInfo { id, offset, more })));
            }
            _ => return Ok((nh, rest, None)),
        }
    }
    Err(DecodeError::Malformed(
        "ipv6 extension header chain too long",
    ))
}

/// TCP flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const ACK: u8 = 0x10;
}

/// The transport layer of an IP packet.
#[derive(Debug, Clone, Copy)]
pub enum L4<'a> {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        flags: u8,
        payload: &'a [u8],
    },
    Udp {
        sport: u16,
        dport: u16,
        payload: &'a [u8],
    },
    /// ICMP, ICMPv6 or another protocol: counted, no payload delivered.
    Other,
}

pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_ICMPV6: u8 = 58;

/// Decode the transport header of an unfragmented (or reassembled) IP payload.
pub fn decode_l4(proto: u8, b: &[u8]) -> Result<L4<'_>, DecodeError> {
    match proto {
        PROTO_TCP => {
            let sport = be16(b, 0).ok_or(DecodeError::Truncated("tcp"))?;
            let dport = be16(b, 2).ok_or(DecodeError::Truncated("tcp"))?;
            let seq = be32(b, 4).ok_or(DecodeError::Truncated("tcp"))?;
            let off = *b.get(12).ok_or(DecodeError::Truncated("tcp"))?;
            let flags = *b.get(13).ok_or(DecodeError::Truncated("tcp"))?;
            let hl = ((off >> 4) as usize) * 4;
            if hl < 20 {
                return Err(DecodeError::Malformed("tcp data offset"));
            }
            let payload = b.get(hl..).ok_or(DecodeError::Truncated("tcp"))?;
            Ok(L4::Tcp {
                sport,
                dport,
                seq,
                flags,
                payload,
            })
        }
        PROTO_UDP => {
            let sport = be16(b, 0).ok_or(DecodeError::Truncated("udp"))?;
            let dport = be16(b, 2).ok_or(DecodeError::Truncated("udp"))?;
            let len = be16(b, 4).ok_or(DecodeError::Truncated("udp"))? as usize;
            if b.len() < 8 {
                return Err(DecodeError::Truncated("udp"));
            }
            // Trust the UDP length when it fits; otherwise use what was captured.
            let end = if (8..=b.len()).contains(&len) {
                len
            } else {
                b.len()
            };
            Ok(L4::Udp {
                sport,
                dport,
                payload: &b[8..end],
            })
        }
        _ => Ok(L4::Other),
    }
}

/// Transport-level key fields of a packet, by a full [`decode`]: the VLAN and the two IP
/// addresses. [`flow_hash`] must agree with this for every packet it decodes as IP.
pub fn flow_hash_input(linktype: u32, data: &[u8]) -> Option<(Option<u16>, IpAddr, IpAddr)> {
    match decode(linktype, data) {
        Ok(Decoded::Ip(l2, ip)) => Some((l2.vlan, ip.src, ip.dst)),
        _ => None,
    }
}

/// Mixes 64 bits (the murmur3 finaliser): cheap, and every input bit reaches the output.
#[inline]
fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The symmetric hash of a flow's (VLAN, address pair): both directions, and every IP
/// fragment of the flow, give the same value. `None` for a frame that is not IP.
pub fn flow_hash_of(vlan: Option<u16>, a: IpAddr, b: IpAddr) -> u64 {
    let v = vlan.map_or(0x1_0000, u64::from);
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => hash_v4(v, u32::from(a), u32::from(b)),
        (a, b) => {
            let w = |ip: IpAddr| match ip {
                IpAddr::V4(x) => u128::from(x.to_ipv6_mapped()),
                IpAddr::V6(x) => u128::from(x),
            };
            hash_v6(v, w(a), w(b))
        }
    }
}

#[inline]
fn hash_v4(vlan: u64, a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    mix64(((u64::from(lo) << 32) | u64::from(hi)) ^ mix64(vlan))
}

#[inline]
fn hash_v6(vlan: u64, a: u128, b: u128) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let h = mix64(vlan ^ 0x6) ^ mix64(lo as u64) ^ mix64((lo >> 64) as u64).rotate_left(17);
    mix64(h ^ mix64(hi as u64).rotate_left(31) ^ mix64((hi >> 64) as u64).rotate_left(47))
}

/// The worker-dispatch hash of a frame, read from its headers only (no transport
/// decoding, no allocation): equal to `flow_hash_of` over [`flow_hash_input`] for every
/// frame that [`decode`] turns into an IP packet (tested on the corpus and on random
/// frames). Ethernet (with VLAN tags) carrying IPv4/IPv6 directly is handled inline; any
/// other frame goes through the full decoder. `None`: not an IP packet.
#[inline]
pub fn flow_hash(linktype: u32, data: &[u8]) -> Option<u64> {
    if linktype == lt::ETHERNET {
        let mut et = be16(data, 12)?;
        let mut off = 14;
        let mut vlan = None;
        let mut tags = 0;
        while matches!(et, ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD) && tags < MAX_VLAN_TAGS {
            tags += 1;
            let tci = be16(data, off)?;
            vlan.get_or_insert(tci & 0x0fff);
            et = be16(data, off + 2)?;
            off += 4;
        }
        let v = vlan.map_or(0x1_0000, u64::from);
        match et {
            ETH_IPV4 => {
                let ip = data.get(off..)?;
                // Exactly the checks that make `decode_ipv4` succeed.
                let ihl = usize::from(*ip.first()? & 0x0f) * 4;
                if ip[0] >> 4 == 4 && ihl >= 20 && ip.len() >= ihl {
                    let total = usize::from(be16(ip, 2)?);
                    if total >= ihl {
                        return Some(hash_v4(v, be32(ip, 12)?, be32(ip, 16)?));
                    }
                }
                return None;
            }
            ETH_IPV6 => {
                let ip = data.get(off..off + 40)?;
                if ip[0] >> 4 != 6 {
                    return None;
                }
                let mut s = [0u8; 16];
                s.copy_from_slice(&ip[8..24]);
                let mut d = [0u8; 16];
                d.copy_from_slice(&ip[24..40]);
                // `decode_ipv6` can still reject the extension-header chain; then the
                // frame is a decode error wherever it goes.
                return Some(hash_v6(v, u128::from_be_bytes(s), u128::from_be_bytes(d)));
            }
            _ => {}
        }
    }
    flow_hash_input(linktype, data).map(|(vlan, a, b)| flow_hash_of(vlan, a, b))
}
