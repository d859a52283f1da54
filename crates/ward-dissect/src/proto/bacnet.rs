//! BACnet/IP (UDP 47808): building-automation presence (HVAC, which in a hospital also
//! means operating-theatre air and pharmacy fridges), services used and I-Am identities.
//!
//! Fact keys (about the sender):
//! - `bacnet.service`: "confirmed:read-property", "unconfirmed:who-is", ...
//! - `bacnet.device_instance`: the device object instance from an I-Am
//! - `bacnet.vendor_id`: the vendor identifier from an I-Am (ASHRAE registry number)

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{be16, Reader, Seen};
use ward_capture::{Direction, FlowMeta};
use ward_model::Transport;

/// Why a datagram is not BACnet/IP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacnetError {
    #[error("BVLC header missing or not type 0x81 at byte offset 0")]
    Bvlc,
    #[error("NPDU truncated or not version 1 at byte offset {offset}")]
    Npdu { offset: usize },
}

/// What an APDU says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// PDU type (0 confirmed request ... 7 abort).
    pub pdu_type: u8,
    /// Service choice, where the PDU type carries one.
    pub service: Option<u8>,
    /// Service parameters after the service choice.
    pub params: &'a [u8],
}

/// A parsed BACnet/IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacnetMessage<'a> {
    pub bvlc_function: u8,
    /// `None` for BVLC-only messages and network-layer messages.
    pub apdu: Option<Apdu<'a>>,
}

/// Parses BVLC, NPDU and the APDU head.
pub fn parse(data: &[u8]) -> Result<BacnetMessage<'_>, BacnetError> {
    if data.len() < 4 || data[0] != 0x81 {
        return Err(BacnetError::Bvlc);
    }
    let function = data[1];
    let len = (be16(data, 2).unwrap_or(0) as usize).min(data.len());
    let npdu_off = match function {
        0x04 => 10,
        0x09..=0x0b => 4,
        _ => {
            return Ok(BacnetMessage {
                bvlc_function: function,
                apdu: None,
            })
        }
    };
    let npdu = data
        .get(npdu_off..len)
        .ok_or(BacnetError::Npdu { offset: npdu_off })?;
    let err = |r: &Reader<'_>| BacnetError::Npdu {
        offset: npdu_off + r.pos(),
    };
    let mut r = Reader::new(npdu);
    if r.u8() != Some(1) {
        return Err(err(&r));
    }
    let control = r.u8().ok_or_else(|| err(&r))?;
    if control & 0x20 != 0 {
        r.skip(2).ok_or_else(|| err(&r))?;
        r.vec8().ok_or_else(|| err(&r))?;
    }
    if control & 0x08 != 0 {
        r.skip(2).ok_or_else(|| err(&r))?;
        r.vec8().ok_or_else(|| err(&r))?;
    }
    if control & 0x20 != 0 {
        r.skip(1).ok_or_else(|| err(&r))?;
    }
    if control & 0x80 != 0 {
        return Ok(BacnetMessage {
            bvlc_function: function,
            apdu: None,
        });
    }
    let apdu = r.rest();
    let first = *apdu.first().ok_or_else(|| err(&r))?;
    let pdu_type = first >> 4;
    let segmented = first & 0x08 != 0;
    let service_at = match pdu_type {
        0 => Some(if segmented { 5 } else { 3 }),
        1 => Some(1),
        2 | 5 => Some(2),
        3 => Some(if segmented { 4 } else { 2 }),
        _ => None,
    };
    let service = service_at.and_then(|i| apdu.get(i).copied());
    let params = service_at.and_then(|i| apdu.get(i + 1..)).unwrap_or(&[]);
    Ok(BacnetMessage {
        bvlc_function: function,
        apdu: Some(Apdu {
            pdu_type,
            service,
            params,
        }),
    })
}

/// Name of a confirmed service choice.
pub fn confirmed_name(s: u8) -> &'static str {
    match s {
        0 => "acknowledge-alarm",
        1 => "confirmed-cov-notification",
        2 => "confirmed-event-notification",
        5 => "subscribe-cov",
        6 => "atomic-read-file",
        7 => "atomic-write-file",
        8 => "add-list-element",
        9 => "remove-list-element",
        10 => "create-object",
        11 => "delete-object",
        12 => "read-property",
        14 => "read-property-multiple",
        15 => "write-property",
        16 => "write-property-multiple",
        17 => "device-communication-control",
        18 => "confirmed-private-transfer",
        19 => "confirmed-text-message",
        20 => "reinitialize-device",
        26 => "read-range",
        _ => "other",
    }
}

/// Name of an unconfirmed service choice.
pub fn unconfirmed_name(s: u8) -> &'static str {
    match s {
        0 => "i-am",
        1 => "i-have",
        2 => "unconfirmed-cov-notification",
        3 => "unconfirmed-event-notification",
        4 => "unconfirmed-private-transfer",
        5 => "unconfirmed-text-message",
        6 => "time-synchronization",
        7 => "who-has",
        8 => "who-is",
        9 => "utc-time-synchronization",
        10 => "write-group",
        _ => "other",
    }
}

/// Reads one application-tagged value (tag number, bytes).
fn app_tag<'a>(r: &mut Reader<'a>) -> Option<(u8, &'a [u8])> {
    let b = r.u8()?;
    if b & 0x08 != 0 {
        return None;
    }
    let len = match b & 0x07 {
        5 => r.u8()? as usize,
        n => n as usize,
    };
    Some((b >> 4, r.take(len)?))
}

fn unsigned(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0u32, |a, b| (a << 8) | *b as u32))
}

/// The device instance and vendor id of an I-Am.
pub fn i_am(params: &[u8]) -> Option<(u32, u32)> {
    let mut r = Reader::new(params);
    let (t, obj) = app_tag(&mut r)?;
    if t != 12 || obj.len() != 4 {
        return None;
    }
    let v = u32::from_be_bytes([obj[0], obj[1], obj[2], obj[3]]);
    let instance = v & 0x3f_ffff;
    let _max_apdu = app_tag(&mut r)?;
    let _segmentation = app_tag(&mut r)?;
    let (t, vendor) = app_tag(&mut r)?;
    if t != 2 {
        return None;
    }
    Some((instance, unsigned(vendor)?))
}

/// Per-flow BACnet state.
#[derive(Debug, Default)]
pub struct BacnetFlow {
    seen: Seen,
    labelled: bool,
}

impl FlowParser for BacnetFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let Ok(m) = parse(data) else { return };
        if !self.labelled {
            out.protocol("bacnet");
            self.labelled = true;
        }
        let side = Side::sender(dir);
        let Some(apdu) = m.apdu else { return };
        let Some(s) = apdu.service else { return };
        let name = match apdu.pdu_type {
            1 => ("unconfirmed", unconfirmed_name(s)),
            _ => ("confirmed", confirmed_name(s)),
        };
        // Requests name the service the sender uses; acks name the one it serves.
        if self.seen.first_for(side, name.0, name.1.as_bytes()) {
            out.fact(side, "bacnet.service", format!("{}:{}", name.0, name.1));
        }
        if apdu.pdu_type == 1 && s == 0 {
            if let Some((inst, vendor)) = i_am(apdu.params) {
                out.fact(side, "bacnet.device_instance", inst.to_string());
                out.fact(side, "bacnet.vendor_id", vendor.to_string());
            }
        }
    }
}

/// The BACnet/IP dissector.
pub struct Bacnet;

impl Dissector for Bacnet {
    fn name(&self) -> &'static str {
        "bacnet"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 47808)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport == Transport::Udp && parse(data).is_ok() {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(BacnetFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_udp, values};

    #[test]
    fn who_is_and_i_am() {
        let who_is = [0x81, 0x0b, 0, 8, 1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x08];
        let mut who_is = who_is.to_vec();
        let l = who_is.len() as u16;
        who_is[2..4].copy_from_slice(&l.to_be_bytes());
        // I-Am device 1234, max APDU 1476, segmentation 3, vendor 5.
        let mut i_am = vec![0x81, 0x0b, 0, 0, 1, 0x00, 0x10, 0x00];
        i_am.extend_from_slice(&[
            0xc4, 0x02, 0x00, 0x04, 0xd2, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x05,
        ]);
        let l = i_am.len() as u16;
        i_am[2..4].copy_from_slice(&l.to_be_bytes());
        let f = run_udp(
            &Bacnet,
            47808,
            47808,
            &[(Direction::ToServer, &who_is), (Direction::ToClient, &i_am)],
        );
        assert_eq!(
            values(&f, "bacnet.service"),
            vec!["unconfirmed:who-is", "unconfirmed:i-am"]
        );
        assert_eq!(values(&f, "bacnet.device_instance"), vec!["1234"]);
        assert_eq!(values(&f, "bacnet.vendor_id"), vec!["5"]);
    }

    #[test]
    fn read_property_and_garbage() {
        let rp = [
            0x81, 0x0a, 0, 17, 1, 0x04, 0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0, 0, 1, 0x19, 0x4d,
        ];
        let m = parse(&rp).expect("parses");
        assert_eq!(m.apdu.map(|a| (a.pdu_type, a.service)), Some((0, Some(12))));
        assert!(parse(&[0x81]).is_err());
        assert!(parse(&[0x81, 0x0a, 0, 6, 2, 0]).is_err());
    }
}
