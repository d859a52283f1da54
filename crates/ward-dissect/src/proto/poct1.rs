//! POCT1-A (CLSI POCT1-A2) dissector: point-of-care analyzers (blood gas, glucose meters)
//! announce themselves to their data manager in XML `HEL.R01` "hello" messages whose `DEV`
//! block names the vendor, model, serial number and software version; `DST.R01` device
//! status messages repeat some of it.
//!
//! Parts: a pure parser ([`parse_device`], [`message_root`]) over one complete XML
//! message, a per-flow state machine ([`Poct1Parser`]) that cuts the stream into top-level
//! messages, and fact emission. Only `HEL`/`DST` messages are buffered (bounded by
//! [`MAX_MESSAGE`]); every other message (observations `OBS.R01`, patient lists ...) is
//! skipped to its end tag without being kept, and only its root name is recorded.
//! Patient and observation values are never read.
//!
//! Facts (sender): `poct1.message` (root element, e.g. `HEL.R01`), `poct1.device_id`,
//! `poct1.vendor_id`, `poct1.model_id`, `poct1.serial_id`, `poct1.manufacturer`,
//! `poct1.hw_version`, `poct1.sw_version`, `poct1.device_name`. Security:
//! `CleartextPatientData` when observation or patient-list messages pass.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::xml;
use memchr::memmem;
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Largest HEL/DST message buffered.
pub const MAX_MESSAGE: usize = 64 * 1024;

fn end_tag_for(root: &[u8]) -> Vec<u8> {
    let mut t = b"</".to_vec();
    t.extend_from_slice(root);
    t.push(b'>');
    t
}

/// The buffer after leading whitespace and an XML declaration; empty while the
/// declaration is incomplete.
fn skip_decl(b: &[u8]) -> &[u8] {
    let t = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = &b[t..];
    if b.starts_with(b"<?") {
        return match memmem::find(b, b"?>") {
            Some(e) => &b[e + 2..],
            None => &[],
        };
    }
    b
}

/// Device identity from a `DEV` block. Values are raw `V` attributes (entities decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: Option<String>,
    pub vendor_id: Option<String>,
    pub model_id: Option<String>,
    pub serial_id: Option<String>,
    pub manufacturer_name: Option<String>,
    pub hw_version: Option<String>,
    pub sw_version: Option<String>,
    pub device_name: Option<String>,
}

/// The root element name of a POCT1-A message at the start of `b` (after whitespace and
/// an XML declaration), e.g. `HEL.R01`. POCT1-A names are three letters, a dot, a letter
/// and two digits.
pub fn message_root(b: &[u8]) -> Option<&[u8]> {
    let t = xml::tags(b).next()?;
    is_poct_name(t.name).then_some(t.name)
}

fn is_poct_name(n: &[u8]) -> bool {
    n.len() == 7
        && n[..3].iter().all(|c| c.is_ascii_uppercase())
        && n[3] == b'.'
        && n[4].is_ascii_uppercase()
        && n[5].is_ascii_digit()
        && n[6].is_ascii_digit()
}

/// Reads the `DEV.*` elements of a HEL/DST message. Nothing outside `DEV` is read.
pub fn parse_device(msg: &[u8]) -> DeviceInfo {
    let mut d = DeviceInfo::default();
    for t in xml::tags(msg) {
        if t.is_end {
            continue;
        }
        let slot = match t.name {
            b"DEV.device_id" => &mut d.device_id,
            b"DEV.vendor_id" => &mut d.vendor_id,
            b"DEV.model_id" => &mut d.model_id,
            b"DEV.serial_id" => &mut d.serial_id,
            b"DEV.manufacturer_name" => &mut d.manufacturer_name,
            b"DEV.hw_version" => &mut d.hw_version,
            b"DEV.sw_version" => &mut d.sw_version,
            b"DEV.device_name" => &mut d.device_name,
            _ => continue,
        };
        if let Some(v) = t.attr(b"V") {
            let v = xml::unescape(v);
            if !v.is_empty() && slot.is_none() {
                *slot = Some(v);
            }
        }
    }
    d
}

/// The POCT1-A dissector (content-detected on any TCP port).
#[derive(Debug, Default, Clone, Copy)]
pub struct Poct1Dissector;

impl Dissector for Poct1Dissector {
    fn name(&self) -> &'static str {
        "poct1"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        probe_bytes(data)
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(Poct1Parser::new())
    }
}

/// Content probe: the stream starts (after whitespace / an XML declaration) with a POCT1-A
/// message root such as `<HEL.R01>`.
pub fn probe_bytes(data: &[u8]) -> Probe {
    let t = data.iter().position(|c| !c.is_ascii_whitespace());
    let Some(t) = t else {
        return Probe::NeedMore;
    };
    if data[t] != b'<' {
        return Probe::NoMatch;
    }
    let window = &data[t..data.len().min(t + 512)];
    match message_root(window) {
        Some(_) => Probe::Match,
        None if window.starts_with(b"<?xml") && memmem::find(window, b"?>").is_none() => {
            Probe::NeedMore
        }
        None if window.len() < 16 => Probe::NeedMore,
        None => Probe::NoMatch,
    }
}

#[derive(Default)]
struct Stream {
    buf: Vec<u8>,
    /// Root name of the message being skipped, and the end tag to find.
    skipping: Option<Vec<u8>>,
    dead: bool,
}

/// Per-flow POCT1-A state machine.
pub struct Poct1Parser {
    streams: [Stream; 2],
    sent: Vec<(&'static str, String)>,
    patient_reported: bool,
}

impl Default for Poct1Parser {
    fn default() -> Self {
        Self::new()
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl Poct1Parser {
    pub fn new() -> Self {
        Poct1Parser {
            streams: [Stream::default(), Stream::default()],
            sent: Vec::new(),
            patient_reported: false,
        }
    }

    fn emit_once(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &str) {
        if v.is_empty() || self.sent.iter().any(|(k, x)| *k == key && x == v) {
            return;
        }
        if self.sent.len() < 64 {
            self.sent.push((key, v.to_string()));
        }
        out.fact(side, key, v);
    }

    /// Feeds stream bytes of one direction.
    pub fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Facts) {
        let i = idx(dir);
        let side = Side::sender(dir);
        let mut data = data;
        // Each pass either consumes data or ends the call.
        while !data.is_empty() {
            let s = &mut self.streams[i];
            if s.dead {
                return;
            }
            if let Some(end_tag) = s.skipping.clone() {
                // Find the end tag, also across the chunk boundary (carry in `buf`).
                let carry_len = s.buf.len();
                let mut joint = std::mem::take(&mut s.buf);
                joint.extend_from_slice(&data[..data.len().min(end_tag.len())]);
                let found = memmem::find(&joint, &end_tag)
                    .map(|h| (h + end_tag.len()).saturating_sub(carry_len))
                    .or_else(|| memmem::find(data, &end_tag).map(|h| h + end_tag.len()));
                match found {
                    Some(n) => {
                        s.skipping = None;
                        data = &data[n.min(data.len())..];
                    }
                    None => {
                        let keep = end_tag.len().saturating_sub(1);
                        let src: &[u8] = if data.len() >= keep { data } else { &joint };
                        let from = src.len().saturating_sub(keep);
                        s.buf.clear();
                        s.buf.extend_from_slice(&src[from..]);
                        return;
                    }
                }
                continue;
            }
            let room = MAX_MESSAGE.saturating_sub(s.buf.len());
            let take = room.min(data.len());
            s.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.drain(i, side, out);
            let s = &mut self.streams[i];
            if s.buf.len() >= MAX_MESSAGE && s.skipping.is_none() && !s.dead {
                // An oversized message: read what we have, then skip to its end.
                let root = message_root(skip_decl(&s.buf)).map(<[u8]>::to_vec);
                match root {
                    Some(root) => {
                        let d = parse_device(&s.buf);
                        s.buf.clear();
                        s.skipping = Some(end_tag_for(&root));
                        self.emit_device(side, &d, out);
                    }
                    None => s.dead = true,
                }
            }
        }
    }

    /// Handles every complete message at the start of the buffer.
    fn drain(&mut self, i: usize, side: Side, out: &mut Facts) {
        for _ in 0..4096 {
            let s = &mut self.streams[i];
            let Some(start) = s.buf.iter().position(|c| *c == b'<') else {
                s.buf.clear();
                return;
            };
            let body = skip_decl(&s.buf[start..]);
            let body_start = s.buf.len() - body.len();
            if body.is_empty() {
                return; // declaration not complete yet
            }
            let Some(root) = message_root(body).map(<[u8]>::to_vec) else {
                if memchr::memchr(b'>', body).is_some() {
                    // Not POCT1-A (or garbage): stop looking at this direction.
                    s.dead = true;
                    s.buf.clear();
                }
                return;
            };
            let end_tag = end_tag_for(&root);
            let root_s = String::from_utf8_lossy(&root).into_owned();
            let found = memmem::find(&s.buf[body_start..], &end_tag);
            let wanted = root.starts_with(b"HEL") || root.starts_with(b"DST");
            out.protocol("poct1");
            self.emit_once(out, side, "poct1.message", &root_s);
            if (root.starts_with(b"OBS") || root.starts_with(b"PTL")) && !self.patient_reported {
                self.patient_reported = true;
                out.security(
                    side,
                    SecurityKind::CleartextPatientData,
                    Severity::Medium,
                    format!("POCT1-A {root_s} message carries patient observations in cleartext"),
                );
            }
            let s = &mut self.streams[i];
            match found {
                Some(e) => {
                    let end = body_start + e + end_tag.len();
                    if wanted {
                        let d = parse_device(&s.buf[body_start..end]);
                        s.buf.drain(..end);
                        self.emit_device(side, &d, out);
                    } else {
                        s.buf.drain(..end);
                    }
                }
                None if wanted => return, // wait for the rest
                None => {
                    // Skip an unwanted message without keeping it.
                    let keep = end_tag.len().saturating_sub(1).min(s.buf.len());
                    let tail = s.buf.split_off(s.buf.len() - keep);
                    s.buf = tail;
                    s.skipping = Some(end_tag);
                    return;
                }
            }
        }
    }

    fn emit_device(&mut self, side: Side, d: &DeviceInfo, out: &mut Facts) {
        let fields: [(&'static str, &Option<String>); 8] = [
            ("poct1.device_id", &d.device_id),
            ("poct1.vendor_id", &d.vendor_id),
            ("poct1.model_id", &d.model_id),
            ("poct1.serial_id", &d.serial_id),
            ("poct1.manufacturer", &d.manufacturer_name),
            ("poct1.hw_version", &d.hw_version),
            ("poct1.sw_version", &d.sw_version),
            ("poct1.device_name", &d.device_name),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                self.emit_once(out, side, k, v);
            }
        }
    }
}

impl FlowParser for Poct1Parser {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(dir, data, out);
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let s = &mut self.streams[idx(dir)];
        s.buf.clear();
        s.skipping = None;
        s.dead = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEL: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01>
  <HDR><HDR.control_id V="1"/><HDR.version_id V="POCT1"/></HDR>
  <DEV>
    <DEV.device_id V="ABL90-0042"/>
    <DEV.vendor_id V="RADIOMETER"/>
    <DEV.model_id V="ABL90 FLEX"/>
    <DEV.serial_id V="I393-092R0042"/>
    <DEV.manufacturer_name V="Radiometer Medical ApS"/>
    <DEV.sw_version V="3.4 MR2"/>
  </DEV>
</HEL.R01>"#;

    const OBS: &[u8] = br#"<OBS.R01><PT><PT.patient_id V="SECRET-PAT-1"/></PT></OBS.R01>"#;

    #[test]
    fn hello_gives_device_identity() {
        let d = parse_device(HEL);
        assert_eq!(d.vendor_id.as_deref(), Some("RADIOMETER"));
        assert_eq!(d.model_id.as_deref(), Some("ABL90 FLEX"));
        assert_eq!(d.serial_id.as_deref(), Some("I393-092R0042"));
        assert_eq!(d.sw_version.as_deref(), Some("3.4 MR2"));
        assert_eq!(probe_bytes(HEL), Probe::Match);
    }

    #[test]
    fn stream_in_pieces_and_observations_skipped() {
        let mut stream = OBS.to_vec();
        stream.extend_from_slice(HEL);
        stream.extend_from_slice(OBS);
        for step in [1usize, 3, 17, 4096] {
            let mut f = Facts::default();
            let mut p = Poct1Parser::new();
            for c in stream.chunks(step) {
                p.feed(Direction::ToServer, c, &mut f);
            }
            let vals: Vec<_> = f.facts.iter().map(|x| (x.key, x.value.as_str())).collect();
            assert!(
                vals.contains(&("poct1.model_id", "ABL90 FLEX")),
                "step {step}: {vals:?}"
            );
            assert!(vals.contains(&("poct1.message", "OBS.R01")), "step {step}");
            assert!(!format!("{f:?}").contains("SECRET-PAT"), "step {step}");
            assert_eq!(f.security.len(), 1, "step {step}");
        }
    }
}
