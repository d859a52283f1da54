//! LLDP (IEEE 802.1AB, EtherType 0x88cc): what switches, phones and some medical devices
//! say about themselves on the link. A [`FrameDissector`]: facts are about the frame's
//! sender.
//!
//! Fact keys:
//! - `lldp.chassis_id`: MAC (subtype 4), address (subtype 5) or text
//! - `lldp.port_id`, `lldp.port_description`
//! - `lldp.system_name`, `lldp.system_description`
//! - `lldp.capabilities`: system capabilities, "bridge,router"
//! - `lldp.mgmt_address`: management address (IPv4/IPv6/MAC)
//! - LLDP-MED inventory (TIA-1057): `lldp.med_hardware`, `lldp.med_firmware`,
//!   `lldp.med_software`, `lldp.med_serial`, `lldp.med_manufacturer`, `lldp.med_model`

use crate::framework::{Facts, FrameDissector, Side};
use crate::proto::util::hex;
use std::net::{Ipv4Addr, Ipv6Addr};
use ward_capture::{L2Frame, L2Kind};
use ward_model::MacAddr;

/// One LLDP TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub kind: u8,
    pub value: &'a [u8],
}

/// Iterates over the TLVs of an LLDPDU, stopping at the End TLV or at damage.
pub fn tlvs(data: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let h = data.get(pos..pos + 2)?;
        let kind = h[0] >> 1;
        let len = (((h[0] & 1) as usize) << 8) | h[1] as usize;
        let value = data.get(pos + 2..pos + 2 + len)?;
        if kind == 0 {
            return None;
        }
        pos += 2 + len;
        Some(Tlv { kind, value })
    })
    .take(128)
}

fn mac_text(b: &[u8]) -> Option<String> {
    let a: [u8; 6] = b.try_into().ok()?;
    Some(MacAddr(a).to_string())
}

/// An IANA address-family-numbered address: 1 IPv4, 2 IPv6, 6 802 MAC.
fn family_addr(family: u8, b: &[u8]) -> Option<String> {
    match (family, b.len()) {
        (1, 4) => Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
        (2, 16) => {
            let a: [u8; 16] = b.try_into().ok()?;
            Some(Ipv6Addr::from(a).to_string())
        }
        (6, 6) => mac_text(b),
        _ => None,
    }
}

/// Chassis and port ids: MAC, network address or (printable) text, else hex.
fn id_text(subtype: u8, v: &[u8], mac_subtype: u8, addr_subtype: u8) -> String {
    if subtype == mac_subtype {
        if let Some(m) = mac_text(v) {
            return m;
        }
    }
    if subtype == addr_subtype {
        if let Some((fam, a)) = v.split_first() {
            if let Some(s) = family_addr(*fam, a) {
                return s;
            }
        }
    }
    if v.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        String::from_utf8_lossy(v).into_owned()
    } else {
        hex(v)
    }
}

const CAPS: [&str; 11] = [
    "other",
    "repeater",
    "bridge",
    "wlan-ap",
    "router",
    "telephone",
    "docsis",
    "station",
    "c-vlan",
    "s-vlan",
    "tpmr",
];

/// Names of the set capability bits.
pub fn capability_names(bits: u16) -> String {
    let mut s = String::new();
    for (i, n) in CAPS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(n);
        }
    }
    s
}

/// Turns an LLDPDU into facts about its sender.
pub fn emit(data: &[u8], out: &mut Facts) {
    let side = Side::Client;
    for t in tlvs(data) {
        let v = t.value;
        match t.kind {
            1 => {
                if let Some((st, id)) = v.split_first() {
                    out.fact(side, "lldp.chassis_id", id_text(*st, id, 4, 5));
                }
            }
            2 => {
                if let Some((st, id)) = v.split_first() {
                    out.fact(side, "lldp.port_id", id_text(*st, id, 3, 4));
                }
            }
            4 => out.fact_bytes(side, "lldp.port_description", v),
            5 => out.fact_bytes(side, "lldp.system_name", v),
            6 => out.fact_bytes(side, "lldp.system_description", v),
            7 if v.len() >= 2 => {
                out.fact(
                    side,
                    "lldp.capabilities",
                    capability_names(u16::from_be_bytes([v[0], v[1]])),
                );
            }
            8 => {
                // Address string length (subtype + address), subtype, address, ...
                if let Some(&alen) = v.first() {
                    if let (Some(&fam), Some(a)) = (v.get(1), v.get(2..(1 + alen as usize).max(2)))
                    {
                        if let Some(s) = family_addr(fam, a) {
                            out.fact(side, "lldp.mgmt_address", s);
                        }
                    }
                }
            }
            127 if v.len() >= 4 && v[..3] == [0x00, 0x12, 0xbb] => {
                let key = match v[3] {
                    5 => "lldp.med_hardware",
                    6 => "lldp.med_firmware",
                    7 => "lldp.med_software",
                    8 => "lldp.med_serial",
                    9 => "lldp.med_manufacturer",
                    10 => "lldp.med_model",
                    _ => continue,
                };
                out.fact_bytes(side, key, &v[4..]);
            }
            _ => {}
        }
    }
}

/// The LLDP frame dissector.
pub struct Lldp;

impl FrameDissector for Lldp {
    fn name(&self) -> &'static str {
        "lldp"
    }
    fn accepts(&self, kind: L2Kind) -> bool {
        kind == L2Kind::EtherType(0x88cc)
    }
    fn frame(&self, frame: &L2Frame<'_>, out: &mut Facts) {
        emit(frame.payload, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_frame, values};

    fn tlv(kind: u8, v: &[u8]) -> Vec<u8> {
        let len = v.len();
        let mut out = vec![(kind << 1) | ((len >> 8) as u8 & 1), len as u8];
        out.extend_from_slice(v);
        out
    }

    #[test]
    fn lldpdu_with_med_inventory() {
        let mut pdu = Vec::new();
        pdu.extend(tlv(1, &[4, 0x00, 0x1b, 0x21, 1, 2, 3]));
        pdu.extend(tlv(2, b"\x05Gi1/0/7"));
        pdu.extend(tlv(3, &[0, 120]));
        pdu.extend(tlv(5, b"SW-ICU-3"));
        pdu.extend(tlv(6, b"Cisco IOS Software, C3560"));
        pdu.extend(tlv(7, &[0x00, 0x14, 0x00, 0x04]));
        pdu.extend(tlv(8, &[5, 1, 10, 0, 0, 254, 2, 0, 0, 0, 1, 0]));
        let mut med = vec![0x00, 0x12, 0xbb, 10];
        med.extend_from_slice(b"Monitor X2");
        pdu.extend(tlv(127, &med));
        pdu.extend(tlv(0, &[]));
        pdu.extend(tlv(5, b"after-end"));
        let f = run_frame(&Lldp, L2Kind::EtherType(0x88cc), &pdu);
        assert_eq!(values(&f, "lldp.chassis_id"), vec!["00:1b:21:01:02:03"]);
        assert_eq!(values(&f, "lldp.port_id"), vec!["Gi1/0/7"]);
        assert_eq!(values(&f, "lldp.system_name"), vec!["SW-ICU-3"]);
        assert_eq!(
            values(&f, "lldp.system_description"),
            vec!["Cisco IOS Software, C3560"]
        );
        assert_eq!(values(&f, "lldp.capabilities"), vec!["bridge,router"]);
        assert_eq!(values(&f, "lldp.mgmt_address"), vec!["10.0.0.254"]);
        assert_eq!(values(&f, "lldp.med_model"), vec!["Monitor X2"]);
        assert!(f.facts.iter().all(|x| x.side == Side::Client));
    }

    #[test]
    fn network_address_ids_and_hex_fallback() {
        let mut pdu = tlv(1, &[5, 1, 192, 168, 1, 20]);
        pdu.extend(tlv(2, &[7, 0x01, 0xff]));
        let f = run_frame(&Lldp, L2Kind::EtherType(0x88cc), &pdu);
        assert_eq!(values(&f, "lldp.chassis_id"), vec!["192.168.1.20"]);
        assert_eq!(values(&f, "lldp.port_id"), vec!["01ff"]);
    }

    #[test]
    fn truncated_tlv_stops() {
        let pdu = [0x0a, 0xff, b'a'];
        let f = run_frame(&Lldp, L2Kind::EtherType(0x88cc), &pdu);
        assert!(f.facts.is_empty());
        assert!(run_frame(&Lldp, L2Kind::EtherType(0x0800), &[])
            .facts
            .is_empty());
    }
}
