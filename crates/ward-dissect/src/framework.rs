//! The contract between the engine and a protocol dissector.

use ward_capture::{Direction, FlowMeta, L2Frame, L2Kind, PacketCtx};
use ward_model::{EndpointAddr, SecurityKind, Severity, Timestamp, Transport};

/// What a dissector thinks of the first bytes it was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// This is my protocol: attach my parser to the flow.
    Match,
    /// This is not my protocol.
    NoMatch,
    /// Cannot tell yet; show me the next chunk.
    NeedMore,
}

/// Which endpoint of the flow a fact is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The side that sent data travelling in `dir`.
    pub fn sender(dir: Direction) -> Side {
        match dir {
            Direction::ToServer => Side::Client,
            Direction::ToClient => Side::Server,
        }
    }
    /// The side that receives data travelling in `dir`.
    pub fn receiver(dir: Direction) -> Side {
        match dir {
            Direction::ToServer => Side::Server,
            Direction::ToClient => Side::Client,
        }
    }
}

/// One fact emitted by a dissector, before the engine attaches addresses and evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFact {
    pub side: Side,
    pub key: &'static str,
    pub value: String,
    /// How many times the fact was seen (at least 1; see [`Facts::fact_count`]).
    pub count: u64,
    /// For counted facts: when the last of them was seen, if earlier than the packet the
    /// engine attributes the fact to.
    pub last_seen: Option<Timestamp>,
}

/// A fact about an endpoint named by the dissector rather than by the flow's sides
/// (the DHCP client's MAC in a server reply, the address in a DNS answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSubjectFact {
    pub subject: EndpointAddr,
    pub key: &'static str,
    pub value: String,
}

/// One security observation emitted by a dissector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSecurity {
    pub side: Side,
    pub kind: SecurityKind,
    pub severity: Severity,
    pub detail: String,
}

/// Longest value a fact may carry; longer values are cut (on a char boundary).
pub const MAX_FACT_LEN: usize = 256;

/// The output buffer a dissector writes facts into. The engine drains it after each call.
#[derive(Debug, Default)]
pub struct Facts {
    pub facts: Vec<PendingFact>,
    pub security: Vec<PendingSecurity>,
    /// Application protocol names to label the flow's connection edge with.
    pub protocols: Vec<&'static str>,
    /// Facts about an explicitly named endpoint (see [`Facts::fact_about`]).
    pub about: Vec<PendingSubjectFact>,
}

impl Facts {
    /// Records a fact about `side`. The value is trimmed, control characters are replaced
    /// and it is cut to [`MAX_FACT_LEN`]; empty values are dropped.
    pub fn fact(&mut self, side: Side, key: &'static str, value: impl AsRef<str>) {
        self.fact_count(side, key, value, 1, None);
    }

    /// Records a fact seen `count` times (0 records nothing). For dissectors that count
    /// repeats of one value themselves (one fact per message on a busy interface), so
    /// that the engine aggregates once per run instead of once per message; the
    /// observation's count is the same as with `count` calls of [`Facts::fact`].
    /// `last_seen`: when the last of them was seen (default: the current packet).
    pub fn fact_count(
        &mut self,
        side: Side,
        key: &'static str,
        value: impl AsRef<str>,
        count: u64,
        last_seen: Option<Timestamp>,
    ) {
        if count == 0 {
            return;
        }
        let v = clean_value(value.as_ref());
        if !v.is_empty() {
            self.facts.push(PendingFact {
                side,
                key,
                value: v,
                count,
                last_seen,
            });
        }
    }

    /// Records a fact about an endpoint that is not (or not only) one side of the flow,
    /// such as the DHCP client named by `chaddr` in a reply sent to broadcast. Same value
    /// cleaning as [`Facts::fact`].
    pub fn fact_about(&mut self, subject: EndpointAddr, key: &'static str, value: impl AsRef<str>) {
        let v = clean_value(value.as_ref());
        if !v.is_empty() {
            self.about.push(PendingSubjectFact {
                subject,
                key,
                value: v,
            });
        }
    }

    /// Records a fact from raw bytes (lossy UTF-8).
    pub fn fact_bytes(&mut self, side: Side, key: &'static str, value: &[u8]) {
        self.fact(side, key, String::from_utf8_lossy(value));
    }

    /// Records a security observation about `side`.
    pub fn security(
        &mut self,
        side: Side,
        kind: SecurityKind,
        severity: Severity,
        detail: impl Into<String>,
    ) {
        self.security.push(PendingSecurity {
            side,
            kind,
            severity,
            detail: detail.into(),
        });
    }

    /// Labels the flow with an application protocol.
    pub fn protocol(&mut self, name: &'static str) {
        if !self.protocols.contains(&name) {
            self.protocols.push(name);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
            && self.security.is_empty()
            && self.protocols.is_empty()
            && self.about.is_empty()
    }

    pub fn clear(&mut self) {
        self.facts.clear();
        self.security.clear();
        self.protocols.clear();
        self.about.clear();
    }
}

/// Normalises a metadata value: trimmed, control characters replaced by spaces, at most
/// [`MAX_FACT_LEN`] bytes.
pub fn clean_value(v: &str) -> String {
    let t = v.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    let mut out = String::with_capacity(t.len().min(MAX_FACT_LEN));
    for c in t.chars() {
        if out.len() + c.len_utf8() > MAX_FACT_LEN {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// Context of the current call: the flow and the packet that completed the data.
#[derive(Debug, Clone, Copy)]
pub struct FlowCtx<'a> {
    pub meta: &'a FlowMeta,
    pub pkt: &'a PacketCtx,
}

/// A protocol dissector for TCP streams and UDP datagrams. Implementations are stateless
/// factories; per-flow state lives in the [`FlowParser`] they create.
pub trait Dissector: Send + Sync {
    /// Short lowercase protocol name ("dhcp", "tls", "dicom" ...), also used as the edge
    /// label and fact-key prefix.
    fn name(&self) -> &'static str;
    /// Transports and ports the protocol usually runs on. A flow on one of these ports is
    /// probed by this dissector first; flows on other ports are probed by content only
    /// if [`Dissector::probe_any_port`] says so.
    fn ports(&self) -> &'static [(Transport, u16)];
    /// Whether the dissector should also be probed on flows on any port (content-based
    /// detection). Defaults to `false`.
    fn probe_any_port(&self) -> bool {
        false
    }
    /// Looks at a chunk of data (stream bytes as delivered, or one datagram) to decide.
    /// Must be cheap and must not panic on any input.
    fn probe(&self, meta: &FlowMeta, dir: Direction, data: &[u8]) -> Probe;
    /// Creates the per-flow parser, which will then receive every chunk from the one that
    /// matched onwards (including that chunk).
    fn new_parser(&self, meta: &FlowMeta) -> Box<dyn FlowParser>;
}

/// Per-flow protocol state. Never panics; malformed data is skipped or ends parsing.
pub trait FlowParser: Send {
    /// In-order stream bytes (TCP) or one datagram (UDP) in `dir`.
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts);
    /// `missing` bytes of `dir` were lost; resynchronise.
    fn gap(&mut self, _ctx: &FlowCtx<'_>, _dir: Direction, _missing: u64, _out: &mut Facts) {}
    /// The flow ended.
    fn end(&mut self, _ctx: &FlowCtx<'_>, _out: &mut Facts) {}
    /// The parser has learnt all it will from this flow; the engine stops feeding it.
    fn finished(&self) -> bool {
        false
    }
}

/// A dissector for non-IP layer-2 frames (LLDP, CDP). Stateless: each frame stands alone.
/// Facts about [`Side::Client`] are about the frame's sender.
pub trait FrameDissector: Send + Sync {
    fn name(&self) -> &'static str;
    fn accepts(&self, kind: L2Kind) -> bool;
    fn frame(&self, frame: &L2Frame<'_>, out: &mut Facts);
}
