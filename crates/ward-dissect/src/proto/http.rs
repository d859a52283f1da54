//! HTTP/1.x request and response heads (TCP 80, 8080, 8000, ... and any port by content):
//! which software clients and servers run. Bodies are skipped by length (Content-Length
//! or chunked framing) without buffering; pipelined and keep-alive messages are followed.
//! After bytes lost in the capture, parsing resumes: a lost stretch inside a body of known
//! length only shortens it; otherwise the next request or status line that starts a line is
//! searched for (up to 1 MiB, then the direction is given up).
//!
//! Fact keys:
//! - `http.request`: "METHOD /path" (client); the query string is dropped and
//!   identifier-like path segments become `{id}` (see [`redact_path`])
//! - `http.user_agent` (client)
//! - `http.host`: the Host header, about the server it names
//! - `http.server`: Server header (server)
//! - `http.status`: response status code (server)
//!
//! Security observation `CleartextCredentials` (about the client) when a request carries
//! `Authorization: Basic` outside TLS; the credentials themselves are never read.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{contains_ci, header, lines, starts_with_ci, trim, Seen};
use std::collections::VecDeque;
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Longest head kept; a longer one ends parsing of that direction.
const MAX_HEAD: usize = 16 * 1024;
/// Messages per flow whose facts are reported; afterwards the parser finishes.
const MAX_MESSAGES: u32 = 16;
/// Bytes searched for the next message start after a gap before the direction is given up.
const MAX_HUNT: u64 = 1 << 20;

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// A parsed request or response head; slices borrow the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpHead<'a> {
    /// Request method, or empty for a response.
    pub method: &'a [u8],
    /// Request target (URI) as sent.
    pub target: &'a [u8],
    /// Response status code (0 for a request).
    pub status: u16,
    pub host: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub server: Option<&'a [u8]>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub basic_auth: bool,
}

impl HttpHead<'_> {
    pub fn is_request(&self) -> bool {
        !self.method.is_empty()
    }
}

/// Why a head is not HTTP/1.x.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("not an HTTP/1.x start line at byte offset 0")]
    StartLine,
}

/// Parses a head (start line and headers, up to and including the blank line or not).
pub fn parse_head(head: &[u8]) -> Result<HttpHead<'_>, HttpError> {
    let mut it = lines(head);
    let first = it.next().unwrap_or(&[]);
    let mut h = HttpHead::default();
    if starts_with_ci(first, b"HTTP/1.") {
        let code = first.get(9..12).ok_or(HttpError::StartLine)?;
        h.status = std::str::from_utf8(code)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(HttpError::StartLine)?;
    } else {
        let mut parts = first.splitn(3, |c| *c == b' ');
        let (Some(m), Some(t), Some(v)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(HttpError::StartLine);
        };
        if m.is_empty() || !m.iter().all(|c| c.is_ascii_uppercase()) || !v.starts_with(b"HTTP/1.") {
            return Err(HttpError::StartLine);
        }
        h.method = m;
        h.target = t;
    }
    for line in it.take(128) {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = header(line) else {
            continue;
        };
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => h.host = Some(value),
            6 if name.eq_ignore_ascii_case(b"server") => h.server = Some(value),
            10 if name.eq_ignore_ascii_case(b"user-agent") => h.user_agent = Some(value),
            13 if name.eq_ignore_ascii_case(b"authorization") => {
                h.basic_auth |= starts_with_ci(value, b"basic ");
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                h.content_length = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                h.chunked |= contains_ci(value, b"chunked");
            }
            _ => {}
        }
    }
    Ok(h)
}

/// The path of a request target without query string or fragment (and without the
/// scheme and authority of an absolute URI).
pub fn target_path(t: &[u8]) -> &[u8] {
    let mut t = t;
    if let Some(pos) = memchr::memmem::find(t, b"://") {
        let after = &t[pos + 3..];
        t = match memchr::memchr(b'/', after) {
            Some(i) => &after[i..],
            None => b"/",
        };
    }
    let end = memchr::memchr2(b'?', b'#', t).unwrap_or(t.len());
    &t[..end]
}

/// Appends `path` with identifier-like segments replaced by `{id}` (a segment of four or
/// more characters holding a digit, or an `@`, or 32 characters or more), at most eight
/// segments. Paths such as `/fhir/Patient/12345` would otherwise carry record numbers.
pub fn redact_path(path: &[u8], out: &mut Vec<u8>) {
    for (i, seg) in path.split(|c| *c == b'/').enumerate() {
        if i > 8 {
            out.extend_from_slice(b"/...");
            return;
        }
        if i > 0 {
            out.push(b'/');
        }
        let id_like = (seg.len() >= 4 && seg.iter().any(u8::is_ascii_digit))
            || seg.contains(&b'@')
            || seg.len() >= 32;
        if id_like {
            out.extend_from_slice(b"{id}");
        } else {
            out.extend_from_slice(seg);
        }
    }
}

/// Chunked-body framing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size { value: u64, in_ext: bool, len: u16 },
    Data(u64),
    Trailer { len: u16 },
}

/// Per-direction state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Head,
    Body(u64),
    Chunked(Chunk),
    /// Body delimited by connection close, a tunnel, or unparseable: ignore the rest.
    Ignore,
    /// Bytes were lost where a message could start: looking for the next request or
    /// response line at the start of a line; `scanned` bytes searched so far.
    Hunt {
        scanned: u64,
    },
}

#[derive(Debug)]
struct DirState {
    state: State,
    buf: Vec<u8>,
}

/// Per-flow HTTP state.
#[derive(Debug)]
pub struct HttpFlow {
    dirs: [DirState; 2],
    /// For each request not yet answered: was it HEAD (no response body)?
    pending_head: VecDeque<bool>,
    messages: u32,
    seen: Seen,
    labelled: bool,
    creds_reported: bool,
}

impl Default for HttpFlow {
    fn default() -> Self {
        let d = || DirState {
            state: State::Head,
            buf: Vec::new(),
        };
        HttpFlow {
            dirs: [d(), d()],
            pending_head: VecDeque::new(),
            messages: 0,
            seen: Seen::default(),
            labelled: false,
            creds_reported: false,
        }
    }
}

impl HttpFlow {
    fn fact(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &[u8]) {
        if self.seen.first_for(side, key, v) {
            out.fact_bytes(side, key, v);
        }
    }

    /// Handles one complete head and returns the state of the body that follows.
    fn on_head(&mut self, head: &[u8], out: &mut Facts) -> State {
        let Ok(h) = parse_head(head) else {
            return State::Ignore;
        };
        self.messages += 1;
        if !self.labelled {
            out.protocol("http");
            self.labelled = true;
        }
        if h.is_request() {
            let mut req = Vec::with_capacity(h.method.len() + 1 + h.target.len());
            req.extend_from_slice(h.method);
            req.push(b' ');
            redact_path(target_path(h.target), &mut req);
            self.fact(out, Side::Client, "http.request", &req);
            if let Some(v) = h.user_agent {
                self.fact(out, Side::Client, "http.user_agent", v);
            }
            if let Some(v) = h.host {
                self.fact(out, Side::Server, "http.host", v);
            }
            if h.basic_auth && !self.creds_reported {
                self.creds_reported = true;
                out.security(
                    Side::Client,
                    SecurityKind::CleartextCredentials,
                    Severity::High,
                    "HTTP Basic authorization sent without TLS",
                );
            }
            if self.pending_head.len() < 64 {
                self.pending_head.push_back(h.method == b"HEAD");
            }
            if h.method == b"CONNECT" {
                return State::Ignore;
            }
            if h.chunked {
                State::Chunked(Chunk::Size {
                    value: 0,
                    in_ext: false,
                    len: 0,
                })
            } else {
                State::Body(h.content_length.unwrap_or(0))
            }
        } else {
            let status = h.status.to_string();
            self.fact(out, Side::Server, "http.status", status.as_bytes());
            if let Some(v) = h.server {
                self.fact(out, Side::Server, "http.server", v);
            }
            if h.status == 101 {
                return State::Ignore;
            }
            if (100..200).contains(&h.status) {
                return State::Body(0);
            }
            let was_head = self.pending_head.pop_front().unwrap_or(false);
            if was_head || h.status == 204 || h.status == 304 {
                State::Body(0)
            } else if h.chunked {
                State::Chunked(Chunk::Size {
                    value: 0,
                    in_ext: false,
                    len: 0,
                })
            } else if let Some(n) = h.content_length {
                State::Body(n)
            } else {
                State::Ignore
            }
        }
    }

    fn feed(&mut self, idx: usize, mut data: &[u8], out: &mut Facts) {
        // Every iteration consumes input or returns.
        while !data.is_empty() {
            match self.dirs[idx].state.clone() {
                State::Ignore => return,
                State::Hunt { scanned } => {
                    let dir = if idx == 0 {
                        Direction::ToServer
                    } else {
                        Direction::ToClient
                    };
                    if let Some(at) = next_message_start(dir, data) {
                        data = &data[at..];
                        self.dirs[idx].state = State::Head;
                    } else {
                        let scanned = scanned + data.len() as u64;
                        self.dirs[idx].state = if scanned >= MAX_HUNT {
                            State::Ignore
                        } else {
                            State::Hunt { scanned }
                        };
                        return;
                    }
                }
                State::Body(n) => {
                    let k = n.min(data.len() as u64) as usize;
                    data = &data[k..];
                    self.dirs[idx].state = if n - k as u64 == 0 {
                        State::Head
                    } else {
                        State::Body(n - k as u64)
                    };
                }
                State::Chunked(c) => {
                    let (next, used) = chunk_step(c, data);
                    data = &data[used..];
                    self.dirs[idx].state = next;
                }
                State::Head => {
                    if self.dirs[idx].buf.is_empty() {
                        // Blank lines between messages are allowed.
                        let skip = data
                            .iter()
                            .take_while(|c| **c == b'\r' || **c == b'\n')
                            .count();
                        data = &data[skip..];
                        if data.is_empty() {
                            return;
                        }
                        if let Some(i) = memchr::memmem::find(data, b"\r\n\r\n") {
                            let next = self.on_head(&data[..i + 4], out);
                            self.dirs[idx].state = next;
                            data = &data[i + 4..];
                        } else if data.len() >= MAX_HEAD {
                            self.dirs[idx].state = State::Ignore;
                        } else {
                            self.dirs[idx].buf.extend_from_slice(data);
                            return;
                        }
                    } else {
                        let old = self.dirs[idx].buf.len();
                        let take = data.len().min(MAX_HEAD.saturating_sub(old));
                        self.dirs[idx].buf.extend_from_slice(&data[..take]);
                        let from = old.saturating_sub(3);
                        let found = memchr::memmem::find(&self.dirs[idx].buf[from..], b"\r\n\r\n")
                            .map(|i| from + i + 4);
                        match found {
                            Some(end) => {
                                let buf = std::mem::take(&mut self.dirs[idx].buf);
                                let next = self.on_head(&buf[..end], out);
                                self.dirs[idx].state = next;
                                // Reuse the allocation for the next straddling head.
                                self.dirs[idx].buf = buf;
                                self.dirs[idx].buf.clear();
                                data = &data[(end - old).min(data.len())..];
                            }
                            None if self.dirs[idx].buf.len() >= MAX_HEAD => {
                                self.dirs[idx].state = State::Ignore;
                                self.dirs[idx].buf = Vec::new();
                                return;
                            }
                            None => return,
                        }
                    }
                }
            }
        }
    }
}

/// Advances the chunked-body machine over `data`; returns the new state and bytes used.
fn chunk_step(c: Chunk, data: &[u8]) -> (State, usize) {
    match c {
        Chunk::Data(n) => {
            let k = n.min(data.len() as u64);
            let left = n - k;
            let next = if left == 0 {
                Chunk::Size {
                    value: 0,
                    in_ext: false,
                    len: 0,
                }
            } else {
                Chunk::Data(left)
            };
            (State::Chunked(next), k as usize)
        }
        Chunk::Size {
            mut value,
            mut in_ext,
            mut len,
        } => {
            for (i, &b) in data.iter().enumerate() {
                len = len.saturating_add(1);
                if len > 1024 {
                    return (State::Ignore, i + 1);
                }
                match b {
                    b'\n' => {
                        let next = if value == 0 {
                            Chunk::Trailer { len: 0 }
                        } else {
                            // Data plus its CRLF.
                            Chunk::Data(value.saturating_add(2))
                        };
                        return (State::Chunked(next), i + 1);
                    }
                    b'\r' => {}
                    _ if in_ext => {}
                    b';' | b' ' | b'\t' => in_ext = true,
                    _ => match (b as char).to_digit(16) {
                        Some(d) => {
                            value = match value.checked_mul(16) {
                                Some(v) => v + d as u64,
                                None => return (State::Ignore, i + 1),
                            }
                        }
                        None => return (State::Ignore, i + 1),
                    },
                }
            }
            (
                State::Chunked(Chunk::Size { value, in_ext, len }),
                data.len(),
            )
        }
        Chunk::Trailer { mut len } => {
            for (i, &b) in data.iter().enumerate() {
                match b {
                    b'\n' if len == 0 => return (State::Head, i + 1),
                    b'\n' => len = 0,
                    b'\r' => {}
                    _ => len = len.saturating_add(1),
                }
            }
            (State::Chunked(Chunk::Trailer { len }), data.len())
        }
    }
}

impl FlowParser for HttpFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(usize::from(dir == Direction::ToClient), data, out);
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, missing: u64, _out: &mut Facts) {
        // A lost request or response breaks the pairing that tells a HEAD response (no
        // body) from others.
        self.pending_head.clear();
        let d = &mut self.dirs[usize::from(dir == Direction::ToClient)];
        d.buf = Vec::new();
        d.state = match d.state {
            State::Ignore => State::Ignore,
            // Lost bytes inside a body of known length only shorten it.
            State::Body(n) if missing < n => State::Body(n - missing),
            State::Body(n) if missing == n => State::Head,
            // Anything else: resume at the next message that starts a line.
            _ => State::Hunt { scanned: 0 },
        };
    }
    fn finished(&self) -> bool {
        self.messages >= MAX_MESSAGES
            || (self.dirs[0].state == State::Ignore && self.dirs[1].state == State::Ignore)
    }
}

/// Where the first request line (to the server) or status line (to the client) that
/// starts a line of `data` begins. A message whose first line is cut by the end of `data`
/// is not found (the next one is).
fn next_message_start(dir: Direction, data: &[u8]) -> Option<usize> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', data).map(|i| i + 1))
        .find(|&at| at < data.len() && looks_like_http(dir, &data[at..]) == Probe::Match)
}

/// Does this look like the start of an HTTP/1.x request or response?
pub fn looks_like_http(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => {
            for m in METHODS {
                if data.len() < m.len() {
                    if m.starts_with(data) {
                        return Probe::NeedMore;
                    }
                    continue;
                }
                if data.starts_with(m) {
                    let line_end = memchr::memchr(b'\n', data).unwrap_or(data.len());
                    let line = trim(&data[..line_end]);
                    return if line.ends_with(b"HTTP/1.1") || line.ends_with(b"HTTP/1.0") {
                        Probe::Match
                    } else if line_end == data.len() && data.len() < 4096 {
                        Probe::NeedMore
                    } else {
                        Probe::NoMatch
                    };
                }
            }
            Probe::NoMatch
        }
        Direction::ToClient => {
            if data.len() < 9 {
                if b"HTTP/1.".starts_with(&data[..data.len().min(7)]) {
                    Probe::NeedMore
                } else {
                    Probe::NoMatch
                }
            } else if data.starts_with(b"HTTP/1.") && data[8] == b' ' {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
    }
}

/// The HTTP/1.x dissector.
pub struct Http;

impl Dissector for Http {
    fn name(&self) -> &'static str {
        "http"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[
            (Transport::Tcp, 80),
            (Transport::Tcp, 8080),
            (Transport::Tcp, 8000),
            (Transport::Tcp, 8008),
            (Transport::Tcp, 8081),
            (Transport::Tcp, 8888),
            (Transport::Tcp, 3128),
        ]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        looks_like_http(dir, data)
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(HttpFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{meta, run_events, run_tcp, values, Event};

    /// Bytes lost in the capture: the parser resumes at the next message (or after a lost
    /// stretch of a body of known length) instead of giving up on the direction.
    #[test]
    fn resumes_after_a_gap() {
        use Direction::{ToClient as C, ToServer as S};
        let m = meta(Transport::Tcp, 40000, 80);
        let run = |events: &[Event<'_>]| run_events(&Http, &m, events);
        // Inside a body of known length: the gap shortens it; exactly its end: next head.
        let f = run(&[
            Event::Data(
                S,
                b"POST /b HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789",
            ),
            Event::Gap(S, 60),
            Event::Data(S, b"abcdefghijklmnopqrstuvwxyz0123GET /c HTTP/1.1\r\n\r\n"),
            Event::Gap(S, 0),
        ]);
        assert_eq!(values(&f, "http.request"), vec!["POST /b", "GET /c"]);
        let f = run(&[
            Event::Data(S, b"POST /b HTTP/1.1\r\nContent-Length: 100\r\n\r\n"),
            Event::Gap(S, 100),
            Event::Data(S, b"GET /c HTTP/1.1\r\n\r\n"),
        ]);
        assert_eq!(values(&f, "http.request"), vec!["POST /b", "GET /c"]);
        // In a head: that message is lost, the next one that starts a line is found.
        let f = run(&[
            Event::Data(S, b"GET /a HTTP/1.1\r\nHo"),
            Event::Gap(S, 500),
            Event::Data(S, b"st: lost.example\r\nGET /x HTTP/1.1 in text\r\n"),
            Event::Data(S, b"\r\nGET /d HTTP/1.1\r\nUser-Agent: Pump/2\r\n\r\n"),
        ]);
        assert_eq!(values(&f, "http.request"), vec!["GET /d"]);
        assert_eq!(values(&f, "http.user_agent"), vec!["Pump/2"]);
        assert!(
            values(&f, "http.host").is_empty(),
            "the cut head is dropped"
        );
        // Responses: a gap running past the end of a body, then the next status line.
        let f = run(&[
            Event::Data(C, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nxxxx"),
            Event::Gap(C, 10_000),
            Event::Data(
                C,
                b"tail of a body\r\nHTTP/1.1 404 Not Found\r\nServer: S/1\r\n",
            ),
            Event::Data(
                C,
                b"Content-Length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            ),
        ]);
        assert_eq!(values(&f, "http.status"), vec!["200", "404", "204"]);
        assert_eq!(values(&f, "http.server"), vec!["S/1"]);
        // The search is bounded: after MAX_HUNT bytes without a message the direction is
        // given up.
        let junk = vec![b'x'; (MAX_HUNT as usize) + 1];
        let f = run(&[
            Event::Data(S, b"GET /a HTTP/1.1\r\n"),
            Event::Gap(S, 10),
            Event::Data(S, &junk),
            Event::Data(S, b"\r\nGET /late HTTP/1.1\r\n\r\n"),
        ]);
        assert!(values(&f, "http.request").is_empty());
    }

    #[test]
    fn pipelined_requests_with_bodies() {
        let req = b"GET /index.html?patient=123 HTTP/1.1\r\nHost: pacs.local\r\nUser-Agent: Wget/1.14 (darwin12.2.0)\r\n\r\nHEAD /a HTTP/1.1\r\nHost: pacs.local\r\n\r\nPOST /upload HTTP/1.1\r\nContent-Length: 5\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\nHELLOGET /last HTTP/1.1\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.3 (Fedora)\r\nContent-Length: 10\r\n\r\n0123456789HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        // Deliver in small pieces to exercise every straddle.
        for step in [1usize, 3, 7, 64, 1000] {
            let mut chunks: Vec<(Direction, &[u8])> = Vec::new();
            for c in req.chunks(step) {
                chunks.push((Direction::ToServer, c));
            }
            for c in resp.chunks(step) {
                chunks.push((Direction::ToClient, c));
            }
            let f = run_tcp(&Http, 40000, 80, &chunks);
            assert_eq!(
                values(&f, "http.request"),
                vec!["GET /index.html", "HEAD /a", "POST /upload", "GET /last"],
                "step {step}"
            );
            assert_eq!(
                values(&f, "http.user_agent"),
                vec!["Wget/1.14 (darwin12.2.0)"]
            );
            assert_eq!(values(&f, "http.host"), vec!["pacs.local"]);
            assert_eq!(values(&f, "http.server"), vec!["Apache/2.4.3 (Fedora)"]);
            assert_eq!(
                values(&f, "http.status"),
                vec!["200", "201", "404"],
                "step {step}"
            );
            assert_eq!(f.security.len(), 1);
            assert!(!format!("{:?}", f).contains("dXNlcjpwYXNz"));
            assert!(!format!("{:?}", f).contains("patient"));
        }
    }

    #[test]
    fn continue_and_close_delimited_bodies() {
        let f = run_tcp(
            &Http,
            40000,
            8080,
            &[
                (Direction::ToServer, b"PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
                (Direction::ToClient, b"HTTP/1.1 100 Continue\r\n\r\n"),
                (Direction::ToServer, b"ok"),
                (Direction::ToClient, b"HTTP/1.0 200 OK\r\nServer: old/1\r\n\r\nHTTP/1.1 999 looks like a head but is body"),
            ],
        );
        assert_eq!(values(&f, "http.status"), vec!["100", "200"]);
        assert_eq!(values(&f, "http.server"), vec!["old/1"]);
    }

    #[test]
    fn large_chunk_spanning_segments_is_skipped() {
        let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n".to_vec();
        resp.extend(std::iter::repeat_n(b'z', 0x1000));
        resp.extend_from_slice(b"\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\nServer: s2\r\n\r\n");
        let req = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        let mut chunks: Vec<(Direction, &[u8])> = vec![(Direction::ToServer, &req[..])];
        chunks.extend(resp.chunks(1000).map(|c| (Direction::ToClient, c)));
        let f = run_tcp(&Http, 40000, 80, &chunks);
        assert_eq!(values(&f, "http.status"), vec!["200", "204"]);
        assert_eq!(values(&f, "http.server"), vec!["s2"]);
    }

    #[test]
    fn probe_by_content() {
        let m = meta(Transport::Tcp, 40000, 11112);
        assert_eq!(Http.probe(&m, Direction::ToServer, b"GE"), Probe::NeedMore);
        assert_eq!(
            Http.probe(&m, Direction::ToServer, b"GET / HTTP/1.1\r\n"),
            Probe::Match
        );
        assert_eq!(
            Http.probe(&m, Direction::ToServer, b"GET /x"),
            Probe::NeedMore
        );
        assert_eq!(
            Http.probe(&m, Direction::ToServer, b"\x16\x03\x01"),
            Probe::NoMatch
        );
        assert_eq!(
            Http.probe(&m, Direction::ToClient, b"HTTP/1.1 200 OK"),
            Probe::Match
        );
        assert_eq!(target_path(b"http://h:80/p/q?x=1"), b"/p/q");
        assert_eq!(target_path(b"*"), b"*");
        let mut v = Vec::new();
        redact_path(b"/fhir/r4/Patient/12345/_history/a1b2c3d4", &mut v);
        assert_eq!(v, b"/fhir/r4/Patient/{id}/_history/{id}");
        let mut v = Vec::new();
        redact_path(b"/download/CHANGES.bro-aux.txt", &mut v);
        assert_eq!(v, b"/download/CHANGES.bro-aux.txt");
    }
}
