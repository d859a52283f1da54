//! HL7 v2 dissector, over MLLP (0x0B ... 0x1C 0x0D) or plain TCP: which applications and
//! facilities exchange which messages (MSH-3..6, MSH-9, MSH-12), how they are acknowledged
//! (MSA-1), and whether patient data crosses the wire in cleartext.
//!
//! Parts, kept apart:
//! - a pure parser ([`parse_msh`], [`parse_message`]) that borrows its input and splits
//!   fields lazily with `memchr` (no allocation per field);
//! - a per-flow streaming state machine ([`Hl7Parser`]) that finds MLLP frames and segment
//!   boundaries with `memchr`, and keeps at most a bounded prefix of each segment: the whole
//!   MSH/FHS/BHS (up to [`MAX_HEADER_SEGMENT`] bytes), a little of MSA, and only the
//!   three-letter id of every other segment;
//! - fact emission: header facts only when they change within the flow, one `hl7.message`
//!   fact per message (its count is the message count), one `hl7.ack` per acknowledgement.
//!
//! Privacy: the values of PID, PV1, NK1, GT1, IN1, OBX (and every other non-header
//! segment) are never copied, parsed or logged; only the presence of those segment ids is
//! recorded (`hl7.patient_segments`, `CleartextPatientData`). MSH-10 (control id) and MSA-3
//! (free text) are not kept either.
//!
//! Facts: (message sender) `hl7.sending_application` (MSH-3), `hl7.sending_facility`
//! (MSH-4), `hl7.version` (MSH-12), `hl7.processing_id` (MSH-11), `hl7.framing` (`MLLP` or
//! `plain TCP`), `hl7.batch`, `hl7.patient_segments` (`PID,PV1,OBX`), one `hl7.message`
//! (raw MSH-9, e.g. `ORU^R01^ORU_R01`) per message and one `hl7.ack` (MSA-1, e.g. `AA`)
//! per acknowledgement: their observation counts are message counts; (addressed side)
//! `hl7.receiving_application` (MSH-5), `hl7.receiving_facility` (MSH-6); `hl7.role`
//! (`HL7 sender` for the side sending the first non-ACK message, `HL7 receiver` for the
//! other). Security: `CleartextPatientData` on the sender when PID/PV1/NK1/GT1/IN1/OBX pass.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use memchr::{memchr, memchr3};
use ward_capture::{Direction, FlowMeta};
use ward_model::{is_internet_address, SecurityKind, Severity, Timestamp, Transport};

/// MLLP start block.
pub const MLLP_START: u8 = 0x0B;
/// MLLP end block (followed by a carriage return).
pub const MLLP_END: u8 = 0x1C;
/// Longest MSH/FHS/BHS prefix kept while streaming.
pub const MAX_HEADER_SEGMENT: usize = 4096;

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error(
        "no MSH segment at byte {offset}: a message starts with \"MSH\" and its field separator"
    )]
    NoMsh { offset: usize },
    #[error(
        "MSH segment at byte {offset} is too short for its separators and encoding characters"
    )]
    ShortMsh { offset: usize },
    #[error("MSH segment at byte {offset}: invalid field separator 0x{sep:02x}")]
    BadSeparator { offset: usize, sep: u8 },
    #[error("MSH-2 at byte {offset}: encoding characters must be 1 to 4 distinct symbols")]
    BadEncoding { offset: usize },
}

/// A parsed MSH segment. Fields are split on demand; nothing is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msh<'a> {
    seg: &'a [u8],
    /// MSH-1, the field separator.
    pub field_separator: u8,
    /// MSH-2, the encoding characters (component, repetition, escape, subcomponent).
    pub encoding_characters: &'a [u8],
}

impl<'a> Msh<'a> {
    /// MSH-`n` (1-based, as the standard counts: MSH-1 is the separator itself), raw.
    pub fn field(&self, n: usize) -> Option<&'a [u8]> {
        match n {
            0 => None,
            1 => None,
            _ => nth_field(self.seg, self.field_separator, n - 1),
        }
    }
    /// MSH-1..MSH-`N` in one pass (index 0 unused, 1 is empty: the separator itself).
    /// Cheaper than calling [`Msh::field`] repeatedly on the hot path.
    pub fn fields<const N: usize>(&self) -> [&'a [u8]; N] {
        let mut out: [&'a [u8]; N] = [&[]; N];
        let seg = self.seg;
        let sep = self.field_separator;
        // Split field k (0 is the segment id) is MSH-(k+1); one pass that stops after
        // MSH-N. The fields are short, so a plain byte loop beats a vectorised search
        // restarted per field.
        let mut prev = 0usize;
        let mut k = 0usize;
        let mut i = 0usize;
        while k + 1 < N {
            let end = match seg.get(i..).and_then(|r| r.iter().position(|&b| b == sep)) {
                Some(p) => i + p,
                None => seg.len(),
            };
            if k >= 1 {
                match (out.get_mut(k + 1), seg.get(prev..end)) {
                    (Some(slot), Some(v)) => *slot = v,
                    _ => break,
                }
            }
            if end >= seg.len() {
                break;
            }
            prev = end + 1;
            i = end + 1;
            k += 1;
        }
        out
    }

    /// Component separator (normally `^`).
    pub fn component_separator(&self) -> u8 {
        self.encoding_characters.first().copied().unwrap_or(b'^')
    }
    /// The first component of MSH-`n`.
    pub fn component(&self, n: usize, c: usize) -> Option<&'a [u8]> {
        let f = self.field(n)?;
        nth_field_from0(f, self.component_separator(), c)
    }
    pub fn sending_application(&self) -> Option<&'a [u8]> {
        self.field(3)
    }
    pub fn sending_facility(&self) -> Option<&'a [u8]> {
        self.field(4)
    }
    pub fn receiving_application(&self) -> Option<&'a [u8]> {
        self.field(5)
    }
    pub fn receiving_facility(&self) -> Option<&'a [u8]> {
        self.field(6)
    }
    /// MSH-9 raw (`ADT^A01`, `ACK^R01^ACK`).
    pub fn message_type(&self) -> Option<&'a [u8]> {
        self.field(9)
    }
    pub fn control_id(&self) -> Option<&'a [u8]> {
        self.field(10)
    }
    pub fn processing_id(&self) -> Option<&'a [u8]> {
        self.field(11)
    }
    pub fn version(&self) -> Option<&'a [u8]> {
        self.field(12)
    }
    /// Is MSH-9's message code ACK (an acknowledgement)?
    pub fn is_ack(&self) -> bool {
        self.component(9, 0) == Some(b"ACK")
    }
}

/// Field `i` (0-based: the segment id is field 0) of a segment.
fn nth_field(seg: &[u8], sep: u8, i: usize) -> Option<&[u8]> {
    nth_field_from0(seg, sep, i)
}

fn nth_field_from0(s: &[u8], sep: u8, i: usize) -> Option<&[u8]> {
    let mut start = 0usize;
    for _ in 0..i {
        let at = memchr(sep, s.get(start..)?)?;
        start += at + 1;
    }
    let rest = s.get(start..)?;
    let end = memchr(sep, rest).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Parses an MSH (or FHS/BHS, which share its layout) segment, without its terminator.
/// `offset` is only used in errors.
pub fn parse_msh(seg: &[u8], offset: usize) -> Result<Msh<'_>, Hl7Error> {
    let id = seg.get(..3).ok_or(Hl7Error::ShortMsh { offset })?;
    if !matches!(id, b"MSH" | b"FHS" | b"BHS") {
        return Err(Hl7Error::NoMsh { offset });
    }
    let sep = *seg.get(3).ok_or(Hl7Error::ShortMsh { offset })?;
    if sep.is_ascii_alphanumeric() || sep.is_ascii_whitespace() || !(0x20..=0x7e).contains(&sep) {
        return Err(Hl7Error::BadSeparator {
            offset: offset + 3,
            sep,
        });
    }
    let rest = &seg[4..];
    let end = memchr(sep, rest).unwrap_or(rest.len());
    let enc = &rest[..end];
    let distinct = enc
        .iter()
        .enumerate()
        .all(|(i, c)| *c != sep && !enc[..i].contains(c) && c.is_ascii_punctuation());
    if enc.is_empty() || enc.len() > 4 || !distinct {
        return Err(Hl7Error::BadEncoding { offset: offset + 4 });
    }
    Ok(Msh {
        seg,
        field_separator: sep,
        encoding_characters: enc,
    })
}

/// Segments that carry patient data; Ward records their presence, never their values.
pub const PATIENT_SEGMENTS: [&[u8; 3]; 6] = [b"PID", b"PV1", b"NK1", b"GT1", b"IN1", b"OBX"];

/// Bit for a patient segment id in [`PatientSegments`].
fn patient_bit(id: &[u8]) -> u8 {
    PATIENT_SEGMENTS
        .iter()
        .position(|p| &p[..] == id)
        .map_or(0, |i| 1 << i)
}

/// The set of patient-data segments a message carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatientSegments(pub u8);

impl PatientSegments {
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    /// Comma-separated ids in the canonical order (PID,PV1,NK1,GT1,IN1,OBX).
    pub fn names(&self) -> String {
        let mut s = String::new();
        for (i, p) in PATIENT_SEGMENTS.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !s.is_empty() {
                    s.push(',');
                }
                s.push_str(std::str::from_utf8(&p[..]).unwrap_or("?"));
            }
        }
        s
    }
}

/// One whole message, parsed from a buffer (files, tests). Streams use [`Hl7Parser`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hl7Message<'a> {
    pub msh: Msh<'a>,
    pub segment_count: usize,
    pub patient_segments: PatientSegments,
    /// MSA-1 when the message has an MSA segment.
    pub ack_code: Option<&'a [u8]>,
    /// Batch header segments (FHS/BHS) seen before the MSH.
    pub in_batch: bool,
}

/// Parses the first message in `b` (segments separated by CR, LF or CRLF; an MLLP
/// envelope, if any, is stripped). Segment values other than MSH and MSA-1 are not read.
pub fn parse_message(b: &[u8]) -> Result<Hl7Message<'_>, Hl7Error> {
    let mut start = 0usize;
    if b.first() == Some(&MLLP_START) {
        start = 1;
    }
    let mut msh: Option<Msh<'_>> = None;
    let mut in_batch = false;
    let mut count = 0usize;
    let mut patient = 0u8;
    let mut ack = None;
    let mut at = start;
    while at < b.len() {
        let rest = &b[at..];
        let end = memchr3(b'\r', b'\n', MLLP_END, rest).unwrap_or(rest.len());
        let seg = &rest[..end];
        let seg_off = at;
        at += end + 1;
        if rest.get(end) == Some(&MLLP_END) {
            at = b.len();
        }
        if seg.is_empty() {
            continue;
        }
        let id = seg.get(..3).unwrap_or(seg);
        match (id, msh.is_some()) {
            (b"FHS" | b"BHS", false) => {
                parse_msh(seg, seg_off)?;
                in_batch = true;
            }
            (b"MSH", false) => {
                msh = Some(parse_msh(seg, seg_off)?);
                count = 1;
            }
            (_, false) => return Err(Hl7Error::NoMsh { offset: seg_off }),
            (b"MSH", true) | (b"BTS" | b"FTS", true) => break,
            (_, true) => {
                count += 1;
                patient |= patient_bit(id);
                if id == b"MSA" {
                    if let Some(m) = &msh {
                        ack = nth_field(seg, m.field_separator, 1);
                    }
                }
            }
        }
    }
    let msh = msh.ok_or(Hl7Error::NoMsh { offset: start })?;
    Ok(Hl7Message {
        msh,
        segment_count: count,
        patient_segments: PatientSegments(patient),
        ack_code: ack,
        in_batch,
    })
}

// ---------------------------------------------------------------------------------------
// Dissector and streaming state machine
// ---------------------------------------------------------------------------------------

/// The HL7 v2 dissector (TCP 2575 and any port by content).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hl7Dissector;

impl Dissector for Hl7Dissector {
    fn name(&self) -> &'static str {
        "hl7"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Tcp, 2575)]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        probe_bytes(data, meta.midstream)
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(Hl7Parser::new())
    }
}

fn header_prefix_ok(b: &[u8]) -> Option<bool> {
    // "MSH|" or "FHS|" or "BHS|" with any non-alphanumeric separator.
    let n = b.len().min(4);
    for id in [&b"MSH"[..], b"FHS", b"BHS"] {
        if b[..n.min(3)] == id[..n.min(3)] {
            if n < 4 {
                return None;
            }
            let sep = b[3];
            return Some(sep.is_ascii_punctuation());
        }
    }
    Some(false)
}

/// Content probe: an MLLP frame holding an MSH/FHS/BHS, or a bare MSH at the stream start.
/// For a stream picked up in the middle, an MLLP start block followed by MSH anywhere in
/// the chunk.
pub fn probe_bytes(data: &[u8], midstream: bool) -> Probe {
    let Some(&first) = data.first() else {
        return Probe::NeedMore;
    };
    let r = if first == MLLP_START {
        // Some senders put a line break before the MSH.
        let mut i = 1;
        while data.get(i).is_some_and(|c| *c == b'\r' || *c == b'\n') && i < 4 {
            i += 1;
        }
        if data.len() <= i {
            None
        } else {
            header_prefix_ok(&data[i..])
        }
    } else {
        header_prefix_ok(data)
    };
    match r {
        Some(true) => Probe::Match,
        None => Probe::NeedMore,
        Some(false) if midstream => {
            let limit = data.len().min(64 * 1024);
            let mut at = 0usize;
            while let Some(i) = memchr(MLLP_START, &data[at..limit]) {
                let p = at + i + 1;
                if data
                    .get(p..p + 4)
                    .is_some_and(|h| header_prefix_ok(h) == Some(true))
                {
                    return Probe::Match;
                }
                at = p;
            }
            Probe::NeedMore
        }
        Some(false) => Probe::NoMatch,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Not decided yet (first bytes) or lost after a gap.
    Unknown,
    Mllp,
    Plain,
}

/// Per-message state while its segments stream by.
#[derive(Default)]
struct MessageState {
    active: bool,
    is_ack: bool,
    patient: u8,
    /// MSH-9 of the message, for the patient-data observation.
    msg_type: String,
}

/// Header values last emitted in one direction (facts are emitted on change only).
#[derive(Default)]
struct Emitted {
    sending_application: String,
    sending_facility: String,
    receiving_application: String,
    receiving_facility: String,
    version: String,
    processing_id: String,
    patient_masks: Vec<(u8, String)>,
    framing: bool,
    batch: bool,
}

/// A run of messages repeating one fact value (the same message type, the same ACK
/// code): the first is reported at once, with its own evidence; the repeats are counted
/// and reported as one counted fact when the run ends (another value, a gap, the flow's
/// end). One fact per message, without one aggregation per message.
#[derive(Default)]
struct Run {
    value: Vec<u8>,
    repeats: u64,
    /// When the last repeat was seen (its observation's `last_seen`).
    last: Option<Timestamp>,
    active: bool,
}

impl Run {
    fn note(
        &mut self,
        out: &mut Facts,
        side: Side,
        key: &'static str,
        value: &[u8],
        ts: Option<Timestamp>,
    ) {
        if self.active && self.value == value {
            self.repeats += 1;
            self.last = ts;
            return;
        }
        self.flush(out, side, key);
        self.value.clear();
        self.value.extend_from_slice(value);
        self.active = true;
        out.fact_bytes(side, key, value);
    }

    fn flush(&mut self, out: &mut Facts, side: Side, key: &'static str) {
        if self.repeats > 0 {
            let v = String::from_utf8_lossy(&self.value);
            out.fact_count(side, key, v, self.repeats, self.last);
            self.repeats = 0;
        }
    }
}

struct Hl7Stream {
    /// Message types (`hl7.message`) and ACK codes (`hl7.ack`) of this direction.
    messages: Run,
    acks: Run,
    framing: Framing,
    in_frame: bool,
    /// Bounded prefix of the current segment.
    seg: Vec<u8>,
    /// Bytes of the current segment seen (kept or not).
    seg_seen: usize,
    /// Whether the next byte starts a segment (plain framing needs this to spot "MSH").
    msg: MessageState,
    emitted: Emitted,
    in_batch: bool,
    field_sep: u8,
}

impl Hl7Stream {
    fn new() -> Self {
        Hl7Stream {
            messages: Run::default(),
            acks: Run::default(),
            framing: Framing::Unknown,
            in_frame: false,
            seg: Vec::with_capacity(256),
            seg_seen: 0,
            msg: MessageState::default(),
            emitted: Emitted::default(),
            in_batch: false,
            field_sep: b'|',
        }
    }

    /// Reports the repeats counted so far (at a gap and at the flow's end).
    fn flush_runs(&mut self, out: &mut Facts, side: Side) {
        self.messages.flush(out, side, "hl7.message");
        self.acks.flush(out, side, "hl7.ack");
    }

    /// How many bytes of the current segment are worth keeping, given its id.
    fn keep_limit(&self) -> usize {
        keep_limit_of(&self.seg)
    }
}

/// How many bytes of a segment starting with `seg` are worth keeping, given its id.
fn keep_limit_of(seg: &[u8]) -> usize {
    match seg.get(..3) {
        None => 3,
        Some(b"MSH" | b"FHS" | b"BHS") => MAX_HEADER_SEGMENT,
        Some(b"MSA") => 64,
        Some(_) => 3,
    }
}

/// Per-flow HL7 state machine.
pub struct Hl7Parser {
    streams: [Hl7Stream; 2],
    roles_emitted: bool,
    /// Messages that failed to parse (bad MSH), for debugging.
    errors: u32,
}

impl Default for Hl7Parser {
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

fn other(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

/// Emits `key` with `v` when it differs from `last` (then remembers it).
fn on_change(out: &mut Facts, side: Side, key: &'static str, last: &mut String, v: Option<&[u8]>) {
    let Some(v) = v else { return };
    if v.is_empty() || last.as_bytes() == v {
        return;
    }
    last.clear();
    last.push_str(&String::from_utf8_lossy(v));
    out.fact(side, key, last.as_str());
}

impl Hl7Parser {
    pub fn new() -> Self {
        Hl7Parser {
            streams: [Hl7Stream::new(), Hl7Stream::new()],
            roles_emitted: false,
            errors: 0,
        }
    }

    /// Messages whose MSH could not be parsed.
    pub fn error_count(&self) -> u32 {
        self.errors
    }

    /// Feeds stream bytes of one direction.
    pub fn feed(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        data: &[u8],
        out: &mut Facts,
    ) {
        let i = idx(dir);
        let side = Side::sender(dir);
        let mut pos = 0usize;
        let mut guard = data.len().saturating_add(16);
        while pos < data.len() && guard > 0 {
            guard -= 1;
            let s = &mut self.streams[i];
            if s.framing == Framing::Unknown {
                let rest = &data[pos..];
                if rest[0] == MLLP_START {
                    s.framing = Framing::Mllp;
                } else if s.seg_seen == 0 && header_prefix_ok(rest) == Some(true) {
                    s.framing = Framing::Plain;
                    s.in_frame = true;
                } else {
                    // Look for the next MLLP start block.
                    match memchr(MLLP_START, rest) {
                        Some(k) => {
                            pos += k;
                            s.framing = Framing::Mllp;
                        }
                        None => return,
                    }
                }
                continue;
            }
            if !s.in_frame {
                // MLLP, between frames: skip to the next start block.
                match memchr(MLLP_START, &data[pos..]) {
                    Some(k) => {
                        pos += k + 1;
                        s.in_frame = true;
                        s.seg.clear();
                        s.seg_seen = 0;
                    }
                    None => return,
                }
                continue;
            }
            // In a frame: walk the segment terminators of this chunk with one iterator
            // (no per-segment search setup), until the frame ends or the chunk does.
            let rest = &data[pos..];
            let mut start = 0usize;
            let mut left_frame = false;
            for t in memchr::memchr3_iter(b'\r', b'\n', MLLP_END, rest) {
                let piece = &rest[start..t];
                start = t + 1;
                let s = &self.streams[i];
                if s.seg_seen == 0 && s.seg.is_empty() {
                    // The whole segment is in this chunk: read it in place, no copy.
                    let keep = piece.len().min(keep_limit_of(piece));
                    self.segment_done(ctx, dir, side, &piece[..keep], out);
                } else {
                    self.segment_piece(i, piece);
                    self.finish_segment(ctx, dir, side, out);
                }
                if rest[t] == MLLP_END {
                    self.finish_message(ctx, dir, side, out);
                    let s = &mut self.streams[i];
                    s.in_frame = s.framing == Framing::Plain;
                    s.in_batch = false;
                    left_frame = true;
                    break;
                }
            }
            if !left_frame {
                self.segment_piece(i, &rest[start..]);
                return;
            }
            pos += start;
        }
    }

    /// Adds bytes of the current segment: its id always, more only for the segments
    /// worth keeping (MSH/FHS/BHS, a little of MSA).
    fn segment_piece(&mut self, i: usize, piece: &[u8]) {
        let s = &mut self.streams[i];
        if s.seg.len() < s.keep_limit() {
            let first = (3usize.saturating_sub(s.seg.len())).min(piece.len());
            s.seg.extend_from_slice(&piece[..first]);
            let limit = s.keep_limit();
            let more = limit.saturating_sub(s.seg.len()).min(piece.len() - first);
            s.seg.extend_from_slice(&piece[first..first + more]);
        }
        s.seg_seen += piece.len();
    }

    fn finish_segment(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        side: Side,
        out: &mut Facts,
    ) {
        let i = idx(dir);
        let s = &mut self.streams[i];
        let seg = std::mem::take(&mut s.seg);
        let seen = s.seg_seen;
        s.seg_seen = 0;
        if seen > 0 {
            self.segment_done(ctx, dir, side, &seg, out);
        }
        let s = &mut self.streams[i];
        let mut seg = seg;
        seg.clear();
        s.seg = seg;
    }

    /// Acts on one complete segment (`seg`: its kept prefix, see `keep_limit_of`).
    fn segment_done(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        side: Side,
        seg: &[u8],
        out: &mut Facts,
    ) {
        let i = idx(dir);
        if let [a, b, c, ..] = *seg {
            let id = [a, b, c];
            match &id {
                b"MSH" => {
                    self.finish_message(ctx, dir, side, out);
                    self.on_msh(dir, side, seg, ctx.map(|c| c.pkt.ts), out);
                }
                b"FHS" | b"BHS" => {
                    self.finish_message(ctx, dir, side, out);
                    let s = &mut self.streams[i];
                    s.in_batch = true;
                    if !s.emitted.batch {
                        s.emitted.batch = true;
                        out.fact(side, "hl7.batch", "yes");
                    }
                }
                b"MSA" => {
                    let s = &mut self.streams[i];
                    if s.msg.active {
                        if let Some(code) = nth_field(seg, s.field_sep, 1) {
                            if !code.is_empty() && code.len() <= 4 {
                                s.acks
                                    .note(out, side, "hl7.ack", code, ctx.map(|c| c.pkt.ts));
                            }
                        }
                    }
                }
                b"BTS" | b"FTS" => self.finish_message(ctx, dir, side, out),
                _ => {
                    let s = &mut self.streams[i];
                    if s.msg.active {
                        s.msg.patient |= patient_bit(&id);
                    }
                }
            }
        }
    }

    fn on_msh(
        &mut self,
        dir: Direction,
        side: Side,
        seg: &[u8],
        ts: Option<Timestamp>,
        out: &mut Facts,
    ) {
        let i = idx(dir);
        let msh = match parse_msh(seg, 0) {
            Ok(m) => m,
            Err(e) => {
                self.errors = self.errors.saturating_add(1);
                tracing::debug!(error = %e, "hl7: unparseable MSH");
                return;
            }
        };
        out.protocol("hl7");
        let peer = other(side);
        let f = msh.fields::<13>();
        let code_end = memchr(msh.component_separator(), f[9]).unwrap_or(f[9].len());
        let is_ack = &f[9][..code_end] == b"ACK";
        let s = &mut self.streams[i];
        s.field_sep = msh.field_separator;
        // Reuse the message-type buffer: no allocation per message here.
        let mut msg_type = std::mem::take(&mut s.msg.msg_type);
        msg_type.clear();
        s.msg = MessageState {
            active: true,
            is_ack,
            patient: 0,
            msg_type,
        };
        if !s.emitted.framing {
            s.emitted.framing = true;
            let f = if s.framing == Framing::Plain {
                "plain TCP"
            } else {
                "MLLP"
            };
            out.fact(side, "hl7.framing", f);
        }
        // Every field from the one split above: no rescan of the MSH per field.
        let e = &mut s.emitted;
        on_change(
            out,
            side,
            "hl7.sending_application",
            &mut e.sending_application,
            Some(f[3]),
        );
        on_change(
            out,
            side,
            "hl7.sending_facility",
            &mut e.sending_facility,
            Some(f[4]),
        );
        on_change(
            out,
            peer,
            "hl7.receiving_application",
            &mut e.receiving_application,
            Some(f[5]),
        );
        on_change(
            out,
            peer,
            "hl7.receiving_facility",
            &mut e.receiving_facility,
            Some(f[6]),
        );
        on_change(out, side, "hl7.version", &mut e.version, Some(f[12]));
        on_change(
            out,
            side,
            "hl7.processing_id",
            &mut e.processing_id,
            Some(f[11]),
        );
        let mt = f[9];
        // One fact per message: its observation count is the message count.
        s.messages.note(out, side, "hl7.message", mt, ts);
        if !is_ack {
            s.msg.msg_type.push_str(&String::from_utf8_lossy(mt));
            if !self.roles_emitted {
                self.roles_emitted = true;
                out.fact(side, "hl7.role", "HL7 sender");
                out.fact(peer, "hl7.role", "HL7 receiver");
            }
        }
    }

    fn finish_message(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        side: Side,
        out: &mut Facts,
    ) {
        let s = &mut self.streams[idx(dir)];
        if !s.msg.active {
            return;
        }
        s.msg.active = false;
        let (patient, is_ack) = (s.msg.patient, s.msg.is_ack);
        // Report each (segments, message type) combination once per flow direction.
        if patient == 0
            || s.emitted.patient_masks.len() >= 32
            || s.emitted
                .patient_masks
                .iter()
                .any(|(m, t)| *m == patient && *t == s.msg.msg_type)
        {
            return;
        }
        let msg = MessageState {
            active: false,
            is_ack,
            patient,
            msg_type: s.msg.msg_type.clone(),
        };
        let names = PatientSegments(msg.patient).names();
        out.fact(side, "hl7.patient_segments", &names);
        let crosses = ctx.is_some_and(|c| {
            [c.meta.client.ip, c.meta.server.ip]
                .into_iter()
                .flatten()
                .any(|ip| is_internet_address(&ip))
        });
        let severity = if crosses {
            Severity::High
        } else {
            Severity::Medium
        };
        let what = if msg.is_ack {
            "HL7 v2 acknowledgement"
        } else {
            "HL7 v2 message"
        };
        out.security(
            side,
            SecurityKind::CleartextPatientData,
            severity,
            format!(
                "{what} {} carries patient segments {names} in cleartext",
                msg.msg_type
            ),
        );
        s.emitted.patient_masks.push((msg.patient, msg.msg_type));
    }
}

impl FlowParser for Hl7Parser {
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(Some(ctx), dir, data, out);
    }

    fn gap(&mut self, ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, out: &mut Facts) {
        let side = Side::sender(dir);
        self.finish_message(Some(ctx), dir, side, out);
        let s = &mut self.streams[idx(dir)];
        s.flush_runs(out, side);
        s.seg.clear();
        s.seg_seen = 0;
        if s.framing == Framing::Mllp {
            s.in_frame = false;
        } else {
            // Plain framing cannot be resynchronised reliably; look for MLLP or give up.
            s.framing = Framing::Unknown;
            s.in_frame = false;
        }
    }

    fn end(&mut self, ctx: &FlowCtx<'_>, out: &mut Facts) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let side = Side::sender(dir);
            // A plain-TCP message (or an unterminated last segment) ends with the flow.
            let s = &self.streams[idx(dir)];
            if s.in_frame && s.seg_seen > 0 {
                self.finish_segment(Some(ctx), dir, side, out);
            }
            self.finish_message(Some(ctx), dir, side, out);
            self.streams[idx(dir)].flush_runs(out, side);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADT: &[u8] = b"MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB|GHH|198808181126|SECURITY|ADT^A01^ADT_A01|MSG00001|P|2.5.1\rEVN|A01|200708181123\rPID|1||PATID1234^^^GHH^MR||EVERYMAN^ADAM^A^III\rPV1|1|I|2000^2012^01\r";

    #[test]
    fn msh_fields() {
        let m = parse_message(ADT).unwrap();
        assert_eq!(m.msh.sending_application(), Some(&b"ADT1"[..]));
        assert_eq!(m.msh.sending_facility(), Some(&b"GOOD HEALTH HOSPITAL"[..]));
        assert_eq!(m.msh.message_type(), Some(&b"ADT^A01^ADT_A01"[..]));
        assert_eq!(m.msh.version(), Some(&b"2.5.1"[..]));
        assert_eq!(m.patient_segments.names(), "PID,PV1");
        assert_eq!(m.segment_count, 4);
        let f = m.msh.fields::<13>();
        for (n, v) in f.iter().enumerate().skip(2) {
            assert_eq!(Some(*v), m.msh.field(n), "MSH-{n}");
        }
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(
            parse_message(b"PID|1\r").unwrap_err(),
            Hl7Error::NoMsh { offset: 0 }
        );
        assert!(matches!(
            parse_message(b"MSHA^~\\&|x"),
            Err(Hl7Error::BadSeparator { offset: 3, .. })
        ));
        assert!(matches!(
            parse_message(b"MSH||x"),
            Err(Hl7Error::BadEncoding { offset: 4 })
        ));
    }

    /// Messages reported, counted facts included.
    fn message_count(f: &Facts) -> u64 {
        f.facts
            .iter()
            .filter(|x| x.key == "hl7.message")
            .map(|x| x.count)
            .sum()
    }

    #[test]
    fn stream_split_everywhere_gives_same_facts() {
        let mut framed = vec![MLLP_START];
        framed.extend_from_slice(ADT);
        framed.extend_from_slice(&[MLLP_END, b'\r']);
        framed.push(MLLP_START);
        framed.extend_from_slice(ADT);
        framed.extend_from_slice(&[MLLP_END, b'\r']);
        let mut whole = Facts::default();
        let mut p = Hl7Parser::new();
        p.feed(None, Direction::ToServer, &framed, &mut whole);
        // The first message is a fact at once; the repeat is counted until the run ends.
        assert_eq!(message_count(&whole), 1);
        p.streams[0].flush_runs(&mut whole, Side::Client);
        assert_eq!(message_count(&whole), 2);
        assert_eq!(
            whole
                .facts
                .iter()
                .filter(|f| f.key == "hl7.message")
                .count(),
            2,
            "one fact for the first, one counted fact for the repeats"
        );
        for cut in 1..framed.len() {
            let mut f = Facts::default();
            let mut p = Hl7Parser::new();
            p.feed(None, Direction::ToServer, &framed[..cut], &mut f);
            p.feed(None, Direction::ToServer, &framed[cut..], &mut f);
            p.streams[0].flush_runs(&mut f, Side::Client);
            assert_eq!(f.facts, whole.facts, "cut at {cut}");
        }
        assert!(!format!("{whole:?}").contains("EVERYMAN"));
    }

    #[test]
    fn batch_in_one_frame_and_plain_tcp() {
        let batch = b"\x0bFHS|^~\\&|LAB|H\rBHS|^~\\&|LAB|H\rMSH|^~\\&|LAB|H|EHR|H|1||ORU^R01|1|P|2.4\rPID|1\rMSH|^~\\&|LAB|H|EHR|H|1||ORU^R01|2|P|2.4\rOBX|1\rBTS|2\rFTS|1\r\x1c\r";
        let mut f = Facts::default();
        let mut p = Hl7Parser::new();
        for c in batch.chunks(3) {
            p.feed(None, Direction::ToServer, c, &mut f);
        }
        p.streams[0].flush_runs(&mut f, Side::Client);
        assert_eq!(message_count(&f), 2, "two messages in one batch frame");
        assert!(f.facts.iter().any(|x| x.key == "hl7.batch"));
        let segs: Vec<_> = f
            .facts
            .iter()
            .filter(|x| x.key == "hl7.patient_segments")
            .map(|x| x.value.as_str())
            .collect();
        assert_eq!(segs, vec!["PID", "OBX"]);
        // Plain TCP (no MLLP): messages end at the next MSH or at the end of the flow.
        let plain = b"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.3\rPID|1\rMSH|^~\\&|A|B|C|D|1||ADT^A08|2|P|2.3\rPV1|1\r";
        let mut f = Facts::default();
        let mut p = Hl7Parser::new();
        p.feed(None, Direction::ToServer, plain, &mut f);
        let types: Vec<_> = f
            .facts
            .iter()
            .filter(|x| x.key == "hl7.message")
            .map(|x| x.value.as_str())
            .collect();
        assert_eq!(types, vec!["ADT^A01", "ADT^A08"]);
        assert!(f
            .facts
            .iter()
            .any(|x| x.key == "hl7.framing" && x.value == "plain TCP"));
    }
}
