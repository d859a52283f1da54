//! ASTM E1381 / CLSI LIS1 framing and ASTM E1394 / CLSI LIS2 records: the protocol lab
//! analyzers speak to the laboratory information system. Ward reads the header record's
//! sender (analyzer name, manufacturer, version) and notes which record types pass
//! (patient, order, result records mean patient data in cleartext), never their values.
//!
//! Parts: a pure parser ([`checksum`], [`parse_frame`], [`Delimiters`], [`split_record`]),
//! a per-flow state machine ([`AstmParser`]) following ENQ / STX frame ETX|ETB checksum
//! CR LF / EOT, and fact emission. Only the header record (H) is copied (bounded); of every
//! other record only its type letter is looked at.
//!
//! Facts (sender of the message): `astm.sender` (H-5, raw), `astm.sender_name` (its first
//! component), `astm.processing_id` (H-12), `astm.version` (H-13), `astm.framing`
//! (`E1381` or `unframed`), `astm.patient_records` (`P,O,R`); the peer gets
//! `astm.receiver` (H-10). Security: `CleartextPatientData` when P/O/R/C records pass.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use memchr::memchr;
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

pub const ENQ: u8 = 0x05;
pub const ACK: u8 = 0x06;
pub const NAK: u8 = 0x15;
pub const EOT: u8 = 0x04;
pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
pub const ETB: u8 = 0x17;
/// Longest frame kept (E1381 allows 247 text characters; some analyzers send more).
pub const MAX_FRAME: usize = 4096;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AstmError {
    #[error("frame at byte {offset}: {problem}")]
    Framing {
        offset: usize,
        problem: &'static str,
    },
    /// `found` is the transmitted checksum when it is two hex digits (never echoed raw,
    /// so an error message cannot carry payload bytes).
    #[error(
        "frame at byte {offset}: checksum {found:02X?} does not match computed {computed:02X}"
    )]
    Checksum {
        offset: usize,
        found: Option<u8>,
        computed: u8,
    },
}

/// The E1381 checksum: the sum of the bytes, modulo 256 (callers pass the frame number
/// through ETX/ETB inclusive).
pub fn checksum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, c| a.wrapping_add(*c))
}

/// A decoded E1381 frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Frame number 0-7.
    pub number: u8,
    /// The record text (one or more CR-terminated records, or part of one).
    pub text: &'a [u8],
    /// ETX (last frame of a message) rather than ETB (intermediate).
    pub last: bool,
}

/// Parses a whole frame: STX, frame number, text, ETX|ETB, two hex checksum characters,
/// CR, LF. The checksum is verified.
pub fn parse_frame(b: &[u8]) -> Result<Frame<'_>, AstmError> {
    let bad = |problem| AstmError::Framing { offset: 0, problem };
    if b.first() != Some(&STX) {
        return Err(bad("does not start with STX"));
    }
    let end = b
        .iter()
        .rposition(|c| *c == ETX || *c == ETB)
        .ok_or(bad("no ETX or ETB"))?;
    let tail = b.get(end + 1..).unwrap_or_default();
    if tail.len() != 4 || tail[2] != b'\r' || tail[3] != b'\n' {
        return Err(bad(
            "ETX/ETB must be followed by two checksum characters, CR and LF",
        ));
    }
    let body = b.get(1..=end).ok_or(bad("empty frame"))?;
    let computed = checksum(body);
    let found = std::str::from_utf8(&tail[..2])
        .ok()
        .and_then(|t| u8::from_str_radix(t, 16).ok());
    if found != Some(computed) {
        return Err(AstmError::Checksum {
            offset: end + 1,
            found,
            computed,
        });
    }
    decode_frame(&b[1..end + 1])
}

/// Decodes a frame's inside: frame number, text and the closing ETX/ETB (no STX, no
/// checksum), as python-astm's `decode_frame` does.
pub fn decode_frame(b: &[u8]) -> Result<Frame<'_>, AstmError> {
    let bad = |problem| AstmError::Framing { offset: 0, problem };
    let (&last, inner) = b.split_last().ok_or(bad("empty frame"))?;
    if last != ETX && last != ETB {
        return Err(bad("frame does not end with ETX or ETB"));
    }
    let (&fnum, text) = inner.split_first().ok_or(bad("no frame number"))?;
    if !(b'0'..=b'7').contains(&fnum) {
        return Err(bad("frame number is not 0-7"));
    }
    Ok(Frame {
        number: fnum - b'0',
        text,
        last: last == ETX,
    })
}

/// The delimiters a header record declares (`H|\^&`): field, repeat, component, escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: u8,
    pub repeat: u8,
    pub component: u8,
    pub escape: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            field: b'|',
            repeat: b'\\',
            component: b'^',
            escape: b'&',
        }
    }
}

impl Delimiters {
    /// Reads the delimiters from a header record (`H|\^&...`).
    pub fn from_header(h: &[u8]) -> Option<Delimiters> {
        if h.first() != Some(&b'H') {
            return None;
        }
        let d = h.get(1..5)?;
        Some(Delimiters {
            field: d[0],
            repeat: d[1],
            component: d[2],
            escape: d[3],
        })
    }
}

/// Splits a record into its fields (field 0 is the record type).
pub fn split_record(rec: &[u8], d: Delimiters) -> impl Iterator<Item = &[u8]> {
    rec.split(move |c| *c == d.field)
}

/// Field `n` of a record, counting the record type as field 1 (E1394 numbering: H-5 is
/// the sender). The header's delimiter field (H-2) is returned whole.
pub fn record_field(rec: &[u8], d: Delimiters, n: usize) -> Option<&[u8]> {
    if n == 0 {
        return None;
    }
    if rec.first() == Some(&b'H') {
        // "H|\^&|..." : after "H|", the delimiter definition is H-2 and contains no field
        // separator of its own.
        return match n {
            1 => rec.get(..1),
            2 => rec.get(2..5),
            _ => split_record(rec.get(6..)?, d).nth(n - 3),
        };
    }
    split_record(rec, d).nth(n - 1)
}

/// Which patient-related records a message carried (P patient, O order, R result,
/// C comment), by type letter only.
fn record_bit(t: u8) -> u8 {
    match t {
        b'P' => 1,
        b'O' => 2,
        b'R' => 4,
        b'C' => 8,
        _ => 0,
    }
}

fn record_names(mask: u8) -> String {
    let mut v = Vec::new();
    for (bit, n) in [(1, "P"), (2, "O"), (4, "R"), (8, "C")] {
        if mask & bit != 0 {
            v.push(n);
        }
    }
    v.join(",")
}

/// The ASTM dissector (content-detected on any TCP port).
#[derive(Debug, Default, Clone, Copy)]
pub struct AstmDissector;

impl Dissector for AstmDissector {
    fn name(&self) -> &'static str {
        "astm"
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
        Box::new(AstmParser::new())
    }
}

/// Content probe: ENQ alone (wait for the frame), a first frame holding a header record
/// (`STX 1 H|\^&`), or an unframed header record.
pub fn probe_bytes(data: &[u8]) -> Probe {
    match data {
        [] => Probe::NeedMore,
        [ENQ] | [ACK] => Probe::NeedMore,
        [ENQ, rest @ ..] | [ACK, rest @ ..] => probe_bytes(rest),
        [STX, n, b'H', d, ..] if (b'0'..=b'7').contains(n) && d.is_ascii_punctuation() => {
            Probe::Match
        }
        [STX, ..] if data.len() < 4 => Probe::NeedMore,
        [b'H', d, r, c, e, ..]
            if [d, r, c, e].iter().all(|x| x.is_ascii_punctuation()) && d != r =>
        {
            Probe::Match
        }
        _ => Probe::NoMatch,
    }
}

#[derive(Default)]
struct AstmStream {
    /// Current frame bytes (from STX), bounded by [`MAX_FRAME`].
    frame: Vec<u8>,
    in_frame: bool,
    /// Record text carried across ETB frames: only the start of the current record.
    record: Vec<u8>,
    record_open: bool,
    delims: Delimiters,
    patient: u8,
    /// Unframed mode: records arrive as plain CR-terminated lines.
    unframed: bool,
}

/// Per-flow ASTM state machine.
pub struct AstmParser {
    streams: [AstmStream; 2],
    sent: Vec<(&'static str, String)>,
    bad_checksums: u32,
    reported_patient: u8,
}

impl Default for AstmParser {
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

impl AstmParser {
    pub fn new() -> Self {
        AstmParser {
            streams: [AstmStream::default(), AstmStream::default()],
            sent: Vec::new(),
            bad_checksums: 0,
            reported_patient: 0,
        }
    }

    /// Frames whose checksum did not verify.
    pub fn bad_checksums(&self) -> u32 {
        self.bad_checksums
    }

    fn emit_once(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &[u8]) {
        let v = String::from_utf8_lossy(v);
        let v = v.trim();
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
        let mut pos = 0usize;
        while pos < data.len() {
            let s = &mut self.streams[i];
            if s.in_frame {
                // Up to and including LF ends the frame.
                let rest = &data[pos..];
                let end = memchr(b'\n', rest);
                let take = end.map_or(rest.len(), |e| e + 1);
                if s.frame.len() + take <= MAX_FRAME {
                    s.frame.extend_from_slice(&rest[..take]);
                } else {
                    s.frame.clear();
                    s.in_frame = false;
                }
                pos += take;
                if end.is_some() && s.in_frame {
                    s.in_frame = false;
                    let frame = std::mem::take(&mut s.frame);
                    self.on_frame(side, i, &frame, out);
                    let mut frame = frame;
                    frame.clear();
                    self.streams[i].frame = frame;
                }
                continue;
            }
            let b = data[pos];
            match b {
                STX => {
                    s.in_frame = true;
                    s.frame.clear();
                    s.frame.push(STX);
                    pos += 1;
                }
                ENQ => {
                    out.protocol("astm");
                    s.patient = 0;
                    pos += 1;
                }
                EOT => {
                    self.end_message(side, i, out);
                    pos += 1;
                }
                b'H' if !s.in_frame && s.record.is_empty() && !s.record_open => {
                    // Unframed records (LIS2 over TCP without E1381 framing).
                    s.unframed = true;
                    s.record_open = true;
                    pos += self.unframed_text(side, i, &data[pos..], out);
                }
                _ if s.unframed => {
                    pos += self.unframed_text(side, i, &data[pos..], out);
                }
                _ => pos += 1,
            }
        }
    }

    fn unframed_text(&mut self, side: Side, i: usize, data: &[u8], out: &mut Facts) -> usize {
        let end = memchr(b'\r', data);
        let take = end.map_or(data.len(), |e| e + 1);
        self.record_text(side, i, &data[..take], out);
        take
    }

    fn on_frame(&mut self, side: Side, i: usize, frame: &[u8], out: &mut Facts) {
        match parse_frame(frame) {
            Ok(f) => {
                out.protocol("astm");
                self.record_text(side, i, f.text, out);
            }
            Err(e) => {
                self.bad_checksums = self.bad_checksums.saturating_add(1);
                tracing::debug!(error = %e, "astm: bad frame");
            }
        }
    }

    /// Handles record text (CR ends a record; a record may continue in the next frame).
    fn record_text(&mut self, side: Side, i: usize, text: &[u8], out: &mut Facts) {
        let mut rest = text;
        while !rest.is_empty() {
            let end = memchr(b'\r', rest);
            let piece = &rest[..end.unwrap_or(rest.len())];
            let s = &mut self.streams[i];
            let keep = match s.record.first().or(piece.first()) {
                Some(b'H') => 1024,
                _ => 1,
            };
            if s.record.len() < keep {
                let n = (keep - s.record.len()).min(piece.len());
                s.record.extend_from_slice(&piece[..n]);
            }
            s.record_open = true;
            match end {
                Some(e) => {
                    rest = &rest[e + 1..];
                    let rec = std::mem::take(&mut s.record);
                    s.record_open = false;
                    self.on_record(side, i, &rec, out);
                }
                None => break,
            }
        }
    }

    fn on_record(&mut self, side: Side, i: usize, rec: &[u8], out: &mut Facts) {
        let Some(&t) = rec.first() else { return };
        let s = &mut self.streams[i];
        match t {
            b'H' => {
                s.delims = Delimiters::from_header(rec).unwrap_or_default();
                s.patient = 0;
                let d = s.delims;
                let unframed = s.unframed;
                out.protocol("astm");
                if let Some(sender) = record_field(rec, d, 5) {
                    self.emit_once(out, side, "astm.sender", sender);
                    let mut comps = sender.split(|c| *c == d.component);
                    if let Some(name) = comps.next() {
                        self.emit_once(out, side, "astm.sender_name", name);
                    }
                }
                if let Some(recv) = record_field(rec, d, 10) {
                    let peer = match side {
                        Side::Client => Side::Server,
                        Side::Server => Side::Client,
                    };
                    self.emit_once(out, peer, "astm.receiver", recv);
                }
                if let Some(p) = record_field(rec, d, 12) {
                    self.emit_once(out, side, "astm.processing_id", p);
                }
                if let Some(v) = record_field(rec, d, 13) {
                    self.emit_once(out, side, "astm.version", v);
                }
                let framing: &[u8] = if unframed { b"unframed" } else { b"E1381" };
                self.emit_once(out, side, "astm.framing", framing);
            }
            b'L' => self.end_message(side, i, out),
            other => s.patient |= record_bit(other),
        }
    }

    fn end_message(&mut self, side: Side, i: usize, out: &mut Facts) {
        let mask = std::mem::take(&mut self.streams[i].patient);
        if mask == 0 || self.reported_patient & mask == mask {
            return;
        }
        self.reported_patient |= mask;
        let names = record_names(mask);
        out.fact(side, "astm.patient_records", &names);
        out.security(
            side,
            SecurityKind::CleartextPatientData,
            Severity::Medium,
            format!("ASTM/LIS2 message carries {names} records in cleartext"),
        );
    }
}

impl FlowParser for AstmParser {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(dir, data, out);
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let s = &mut self.streams[idx(dir)];
        s.frame.clear();
        s.in_frame = false;
        s.record.clear();
        s.record_open = false;
    }
    fn end(&mut self, _ctx: &FlowCtx<'_>, out: &mut Facts) {
        for (i, side) in [(0, Side::Client), (1, Side::Server)] {
            self.end_message(side, i, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(n: u8, text: &[u8]) -> Vec<u8> {
        let mut body = vec![b'0' + n];
        body.extend_from_slice(text);
        body.push(ETX);
        let cs = checksum(&body);
        let mut f = vec![STX];
        f.extend_from_slice(&body);
        f.extend_from_slice(format!("{cs:02X}\r\n").as_bytes());
        f
    }

    #[test]
    fn header_and_patient_records() {
        let mut stream = vec![ENQ];
        stream.extend(framed(1, b"H|\\^&|||cobas^Roche^6000^01.03|||||LIS||P|1\r"));
        stream.extend(framed(2, b"P|1||PATID123||DOE^JANE\r"));
        stream.extend(framed(3, b"R|1|^^^GLU|5.5|mmol/L\r"));
        stream.extend(framed(4, b"L|1|N\r"));
        stream.push(EOT);
        let mut f = Facts::default();
        let mut p = AstmParser::new();
        for c in stream.chunks(5) {
            p.feed(Direction::ToServer, c, &mut f);
        }
        let get = |k: &str| f.facts.iter().find(|x| x.key == k).map(|x| x.value.clone());
        assert_eq!(
            get("astm.sender").as_deref(),
            Some("cobas^Roche^6000^01.03")
        );
        assert_eq!(get("astm.sender_name").as_deref(), Some("cobas"));
        assert_eq!(get("astm.receiver").as_deref(), Some("LIS"));
        assert_eq!(get("astm.patient_records").as_deref(), Some("P,R"));
        assert_eq!(p.bad_checksums(), 0);
        let dump = format!("{f:?}");
        assert!(!dump.contains("DOE") && !dump.contains("PATID"));
    }
}
