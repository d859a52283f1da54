//! CDP (Cisco Discovery Protocol, 802.3 + SNAP OUI 00:00:0c PID 0x2000): what Cisco
//! switches, routers and phones announce. A [`FrameDissector`]: facts are about the
//! frame's sender.
//!
//! Fact keys:
//! - `cdp.device_id`, `cdp.software_version`, `cdp.platform`, `cdp.port_id`
//! - `cdp.address`: each IPv4/IPv6 address of the Addresses and Management Address TLVs
//! - `cdp.capabilities`: "router,switch,igmp"
//! - `cdp.native_vlan`

use crate::framework::{Facts, FrameDissector, Side};
use crate::proto::util::Reader;
use std::net::{Ipv4Addr, Ipv6Addr};
use ward_capture::{L2Frame, L2Kind};

/// One CDP TLV (type, value without the 4-byte TLV header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub kind: u16,
    pub value: &'a [u8],
}

/// Why a payload is not CDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdpError {
    #[error("CDP header truncated: {len} bytes, need 4")]
    TooShort { len: usize },
    #[error("unsupported CDP version {version} at byte offset 0")]
    Version { version: u8 },
}

/// Checks the 4-byte header and returns the TLV iterator.
pub fn parse(data: &[u8]) -> Result<impl Iterator<Item = Tlv<'_>>, CdpError> {
    if data.len() < 4 {
        return Err(CdpError::TooShort { len: data.len() });
    }
    if !(1..=2).contains(&data[0]) {
        return Err(CdpError::Version { version: data[0] });
    }
    let body = &data[4..];
    let mut pos = 0usize;
    Ok(std::iter::from_fn(move || {
        let h = body.get(pos..pos + 4)?;
        let kind = u16::from_be_bytes([h[0], h[1]]);
        let len = u16::from_be_bytes([h[2], h[3]]) as usize;
        if len < 4 {
            return None;
        }
        let value = body.get(pos + 4..pos + len)?;
        pos += len;
        Some(Tlv { kind, value })
    })
    .take(128))
}

/// The addresses of an Addresses TLV.
pub fn addresses(v: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut r = Reader::new(v);
    let n = r.u32().unwrap_or(0).min(16);
    for _ in 0..n {
        let (Some(ptype), Some(proto)) = (r.u8(), r.vec8()) else {
            break;
        };
        let Some(addr) = r.vec16() else { break };
        match (ptype, proto, addr.len()) {
            (1, [0xcc], 4) => {
                out.push(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string())
            }
            (2, [.., 0x86, 0xdd], 16) => {
                if let Ok(a) = <[u8; 16]>::try_from(addr) {
                    out.push(Ipv6Addr::from(a).to_string());
                }
            }
            _ => {}
        }
    }
    out
}

const CAPS: [&str; 10] = [
    "router",
    "trans-bridge",
    "source-route-bridge",
    "switch",
    "host",
    "igmp",
    "repeater",
    "phone",
    "remotely-managed",
    "cvta",
];

/// Turns a CDP payload into facts about its sender.
pub fn emit(data: &[u8], out: &mut Facts) {
    let Ok(tlvs) = parse(data) else { return };
    let side = Side::Client;
    for t in tlvs {
        let v = t.value;
        match t.kind {
            1 => out.fact_bytes(side, "cdp.device_id", v),
            2 | 0x16 => {
                for a in addresses(v) {
                    out.fact(side, "cdp.address", a);
                }
            }
            3 => out.fact_bytes(side, "cdp.port_id", v),
            4 if v.len() == 4 => {
                let bits = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                let names: Vec<&str> = CAPS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, n)| *n)
                    .collect();
                out.fact(side, "cdp.capabilities", names.join(","));
            }
            5 => out.fact_bytes(side, "cdp.software_version", v),
            6 => out.fact_bytes(side, "cdp.platform", v),
            0x0a if v.len() == 2 => out.fact(
                side,
                "cdp.native_vlan",
                u16::from_be_bytes([v[0], v[1]]).to_string(),
            ),
            _ => {}
        }
    }
}

/// The CDP frame dissector.
pub struct Cdp;

impl FrameDissector for Cdp {
    fn name(&self) -> &'static str {
        "cdp"
    }
    fn accepts(&self, kind: L2Kind) -> bool {
        kind == (L2Kind::Snap {
            oui: [0x00, 0x00, 0x0c],
            pid: 0x2000,
        })
    }
    fn frame(&self, frame: &L2Frame<'_>, out: &mut Facts) {
        emit(frame.payload, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_frame, values};

    fn tlv(kind: u16, v: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
        out.extend_from_slice(v);
        out
    }

    const SNAP: L2Kind = L2Kind::Snap {
        oui: [0, 0, 0x0c],
        pid: 0x2000,
    };

    #[test]
    fn cdp_v2_frame() {
        let mut p = vec![2, 180, 0, 0];
        p.extend(tlv(1, b"R1"));
        p.extend(tlv(2, &[0, 0, 0, 1, 1, 1, 0xcc, 0, 4, 192, 168, 0, 1]));
        p.extend(tlv(3, b"Ethernet0"));
        p.extend(tlv(4, &[0, 0, 0, 0x29]));
        p.extend(tlv(5, b"Cisco IOS 12.2"));
        p.extend(tlv(6, b"cisco 1601"));
        let f = run_frame(&Cdp, SNAP, &p);
        assert_eq!(values(&f, "cdp.device_id"), vec!["R1"]);
        assert_eq!(values(&f, "cdp.address"), vec!["192.168.0.1"]);
        assert_eq!(values(&f, "cdp.port_id"), vec!["Ethernet0"]);
        assert_eq!(values(&f, "cdp.capabilities"), vec!["router,switch,igmp"]);
        assert_eq!(values(&f, "cdp.software_version"), vec!["Cisco IOS 12.2"]);
        assert_eq!(values(&f, "cdp.platform"), vec!["cisco 1601"]);
    }

    #[test]
    fn ipv6_management_address() {
        let mut v = vec![
            0, 0, 0, 1, 2, 8, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd, 0, 16,
        ];
        v.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(addresses(&v), vec!["fe80::1"]);
    }

    #[test]
    fn bad_lengths() {
        assert!(parse(&[2, 0]).is_err());
        assert!(parse(&[9, 0, 0, 0]).is_err());
        // A TLV with length 0 would loop forever if not rejected.
        let p = [2, 180, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        assert_eq!(parse(&p).map(|t| t.count()).unwrap_or(99), 0);
        assert_eq!(addresses(&[0, 0, 0, 200, 1]), Vec::<String>::new());
    }
}
