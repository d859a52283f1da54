//! Modbus/TCP (TCP 502): presence, unit ids and function codes, and the device
//! identification objects of function 43/14 responses.
//!
//! Fact keys (about the server, the Modbus slave):
//! - `modbus.unit_id`: a unit id addressed ("1")
//! - `modbus.function`: a function code requested ("3 read-holding-registers")
//! - `modbus.vendor`, `modbus.product_code`, `modbus.revision`, `modbus.product_name`,
//!   `modbus.model`: Read Device Identification objects 0, 1, 2, 4, 5

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{be16, Frame, Reader, RecordStream};
use ward_capture::{Direction, FlowMeta};
use ward_model::Transport;

/// A Modbus/TCP application data unit head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adu<'a> {
    pub transaction: u16,
    pub unit: u8,
    pub function: u8,
    /// PDU data after the function code (possibly cut to the parsed prefix).
    pub data: &'a [u8],
}

/// Why bytes are not a Modbus/TCP ADU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModbusError {
    #[error("Modbus/TCP header truncated: {len} bytes, need 8")]
    TooShort { len: usize },
    #[error("Modbus/TCP protocol id {pid} is not 0 (byte offset 2)")]
    ProtocolId { pid: u16 },
}

/// Parses one ADU (MBAP header, function code and data).
pub fn parse(b: &[u8]) -> Result<Adu<'_>, ModbusError> {
    if b.len() < 8 {
        return Err(ModbusError::TooShort { len: b.len() });
    }
    let pid = be16(b, 2).unwrap_or(1);
    if pid != 0 {
        return Err(ModbusError::ProtocolId { pid });
    }
    Ok(Adu {
        transaction: be16(b, 0).unwrap_or(0),
        unit: b[6],
        function: b[7],
        data: &b[8..],
    })
}

/// Name of a public function code.
pub fn function_name(fc: u8) -> &'static str {
    match fc {
        1 => "read-coils",
        2 => "read-discrete-inputs",
        3 => "read-holding-registers",
        4 => "read-input-registers",
        5 => "write-single-coil",
        6 => "write-single-register",
        7 => "read-exception-status",
        8 => "diagnostics",
        11 => "get-comm-event-counter",
        12 => "get-comm-event-log",
        15 => "write-multiple-coils",
        16 => "write-multiple-registers",
        17 => "report-server-id",
        20 => "read-file-record",
        21 => "write-file-record",
        22 => "mask-write-register",
        23 => "read-write-multiple-registers",
        24 => "read-fifo-queue",
        43 => "encapsulated-interface",
        _ => "other",
    }
}

fn frame(h: &[u8]) -> Frame {
    let pid = be16(h, 2).unwrap_or(1);
    let len = be16(h, 4).unwrap_or(0) as usize;
    if pid != 0 || !(2..=256).contains(&len) {
        return Frame::Invalid;
    }
    Frame::Record {
        total: 6 + len,
        want: 6 + len,
    }
}

/// Emits the objects of a Read Device Identification (43/14) response.
fn device_id(data: &[u8], out: &mut Facts) {
    let mut r = Reader::new(data);
    // MEI type, read device id code, conformity, more follows, next object, count.
    if r.u8() != Some(14) {
        return;
    }
    let Some(head) = r.take(5) else { return };
    let count = head[4].min(16);
    for _ in 0..count {
        let Some(id) = r.u8() else { return };
        let Some(v) = r.vec8() else { return };
        let key = match id {
            0 => "modbus.vendor",
            1 => "modbus.product_code",
            2 => "modbus.revision",
            4 => "modbus.product_name",
            5 => "modbus.model",
            _ => continue,
        };
        out.fact_bytes(Side::Server, key, v);
    }
}

/// Per-flow Modbus state: bitsets of what was already reported.
#[derive(Debug)]
pub struct ModbusFlow {
    streams: [RecordStream; 2],
    units: [u64; 4],
    functions: [u64; 2],
    labelled: bool,
}

impl Default for ModbusFlow {
    fn default() -> Self {
        ModbusFlow {
            streams: [RecordStream::new(6, 262), RecordStream::new(6, 262)],
            units: [0; 4],
            functions: [0; 2],
            labelled: false,
        }
    }
}

fn first_bit(set: &mut [u64], i: usize) -> bool {
    let (w, b) = (i / 64, i % 64);
    match set.get_mut(w) {
        Some(word) if *word & (1 << b) == 0 => {
            *word |= 1 << b;
            true
        }
        _ => false,
    }
}

impl ModbusFlow {
    fn adu(&mut self, dir: Direction, rec: &[u8], out: &mut Facts) {
        let Ok(adu) = parse(rec) else { return };
        if !self.labelled {
            out.protocol("modbus");
            self.labelled = true;
        }
        if dir == Direction::ToServer {
            if first_bit(&mut self.units, adu.unit as usize) {
                out.fact(Side::Server, "modbus.unit_id", adu.unit.to_string());
            }
            let fc = adu.function & 0x7f;
            if first_bit(&mut self.functions, fc as usize) {
                out.fact(
                    Side::Server,
                    "modbus.function",
                    format!("{fc} {}", function_name(fc)),
                );
            }
        } else if adu.function == 43 {
            device_id(adu.data, out);
        }
    }
}

impl FlowParser for ModbusFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        let mut s = std::mem::replace(&mut self.streams[d], RecordStream::new(6, 6));
        s.feed(data, frame, |rec| self.adu(dir, rec, out));
        self.streams[d] = s;
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        self.streams[usize::from(dir == Direction::ToClient)].set_broken();
    }
    fn finished(&self) -> bool {
        self.streams[0].is_broken() && self.streams[1].is_broken()
    }
}

/// The Modbus/TCP dissector.
pub struct Modbus;

impl Dissector for Modbus {
    fn name(&self) -> &'static str {
        "modbus"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Tcp, 502)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        if data.len() < 8 {
            return Probe::NeedMore;
        }
        match frame(&data[..6]) {
            Frame::Record { .. } if data[7] & 0x7f != 0 => Probe::Match,
            _ => Probe::NoMatch,
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(ModbusFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, values};

    #[test]
    fn requests_and_device_identification() {
        let req1 = [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10];
        let req2 = [0, 2, 0, 0, 0, 6, 1, 3, 0, 10, 0, 10];
        let req3 = [0, 3, 0, 0, 0, 5, 7, 43, 14, 1, 0];
        let mut resp = vec![0, 3, 0, 0, 0, 0, 7, 43, 14, 1, 1, 0, 0, 2, 0, 4];
        resp.extend_from_slice(b"Acme");
        resp.extend_from_slice(&[1, 3]);
        resp.extend_from_slice(b"X10");
        let len = (resp.len() - 6) as u16;
        resp[4..6].copy_from_slice(&len.to_be_bytes());
        let stream: Vec<u8> = [&req1[..], &req2[..], &req3[..]].concat();
        let f = run_tcp(
            &Modbus,
            40000,
            502,
            &[
                (Direction::ToServer, &stream[..5]),
                (Direction::ToServer, &stream[5..]),
                (Direction::ToClient, &resp),
            ],
        );
        assert_eq!(values(&f, "modbus.unit_id"), vec!["1", "7"]);
        assert_eq!(
            values(&f, "modbus.function"),
            vec!["3 read-holding-registers", "43 encapsulated-interface"]
        );
        assert_eq!(values(&f, "modbus.vendor"), vec!["Acme"]);
        assert_eq!(values(&f, "modbus.product_code"), vec!["X10"]);
    }

    #[test]
    fn bad_protocol_id() {
        assert_eq!(
            parse(&[0, 1, 0, 9, 0, 2, 1, 3]),
            Err(ModbusError::ProtocolId { pid: 9 })
        );
        assert!(parse(&[0, 1]).is_err());
    }
}
