//! Telnet (TCP 23): the server's greeting text, and whether a login crossed in
//! cleartext. Nothing the client types is ever kept.
//!
//! Fact keys:
//! - `telnet.banner`: the first printable server text (option negotiation removed), up to
//!   and including the login prompt, at most 256 bytes (server)
//!
//! Security observations: `TelnetInUse` (about the server, once per flow) and
//! `CleartextCredentials` (about the client) when the client answers a password prompt.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::contains_ci;
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

const IAC: u8 = 255;
const MAX_BANNER: usize = 256;
/// Recent server text kept to find prompts split across segments.
const WINDOW: usize = 32;

/// Removes Telnet option negotiation (IAC sequences) from `data`, appending the text
/// bytes to `out` (at most `limit` bytes). `state` carries a sequence cut at a chunk end.
pub fn strip_iac(data: &[u8], state: &mut IacState, out: &mut Vec<u8>, limit: usize) {
    for &b in data {
        *state = match *state {
            IacState::Text if b == IAC => IacState::Iac,
            IacState::Text => {
                if out.len() < limit {
                    out.push(b);
                }
                IacState::Text
            }
            IacState::Iac => match b {
                IAC => {
                    if out.len() < limit {
                        out.push(IAC);
                    }
                    IacState::Text
                }
                251..=254 => IacState::Option,
                250 => IacState::Sub,
                _ => IacState::Text,
            },
            IacState::Option => IacState::Text,
            IacState::Sub if b == IAC => IacState::SubIac,
            IacState::Sub => IacState::Sub,
            IacState::SubIac if b == 240 => IacState::Text,
            IacState::SubIac => IacState::Sub,
        };
    }
}

/// Position inside a Telnet command sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IacState {
    #[default]
    Text,
    Iac,
    Option,
    Sub,
    SubIac,
}

/// Per-flow Telnet state.
#[derive(Debug, Default)]
pub struct TelnetFlow {
    iac: [IacState; 2],
    banner: Vec<u8>,
    banner_done: bool,
    window: Vec<u8>,
    password_prompt: bool,
    in_use_reported: bool,
    creds_reported: bool,
    scratch: Vec<u8>,
}

impl TelnetFlow {
    fn emit_banner(&mut self, out: &mut Facts) {
        if !self.banner_done {
            self.banner_done = true;
            if !self.banner.is_empty() {
                out.fact_bytes(Side::Server, "telnet.banner", &self.banner);
            }
            self.banner = Vec::new();
        }
    }

    fn server_text(&mut self, out: &mut Facts) {
        let text = std::mem::take(&mut self.scratch);
        if !self.banner_done {
            let room = MAX_BANNER.saturating_sub(self.banner.len());
            self.banner.extend_from_slice(&text[..text.len().min(room)]);
        }
        self.window.extend_from_slice(&text);
        if self.window.len() > WINDOW {
            let cut = self.window.len() - WINDOW;
            self.window.drain(..cut);
        }
        let login = contains_ci(&self.window, b"login:")
            || contains_ci(&self.window, b"username:")
            || contains_ci(&self.window, b"user name:");
        if contains_ci(&self.window, b"password:") {
            self.password_prompt = true;
            self.window.clear();
        }
        if login || self.password_prompt || (!self.banner_done && self.banner.len() >= MAX_BANNER) {
            self.emit_banner(out);
        }
        self.scratch = text;
        self.scratch.clear();
    }
}

impl FlowParser for TelnetFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let limit = if dir == Direction::ToClient { 4096 } else { 16 };
        strip_iac(data, &mut self.iac[d], &mut scratch, limit);
        self.scratch = scratch;
        if dir == Direction::ToClient {
            if !self.in_use_reported {
                self.in_use_reported = true;
                out.protocol("telnet");
                out.security(
                    Side::Server,
                    SecurityKind::TelnetInUse,
                    Severity::High,
                    "Telnet service in use (cleartext)",
                );
            }
            self.server_text(out);
        } else if self.password_prompt
            && !self.creds_reported
            && self.scratch.iter().any(|c| c.is_ascii_graphic())
        {
            self.creds_reported = true;
            out.security(
                Side::Client,
                SecurityKind::CleartextCredentials,
                Severity::High,
                "Telnet login password sent in cleartext",
            );
        }
        self.scratch.clear();
    }
    fn end(&mut self, _ctx: &FlowCtx<'_>, out: &mut Facts) {
        self.emit_banner(out);
    }
    fn finished(&self) -> bool {
        self.creds_reported && self.banner_done
    }
}

/// The Telnet dissector.
pub struct Telnet;

impl Dissector for Telnet {
    fn name(&self) -> &'static str {
        "telnet"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Tcp, 23)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        match data.first() {
            _ if meta.transport != Transport::Tcp => Probe::NoMatch,
            Some(&IAC) => Probe::Match,
            Some(c) if c.is_ascii_graphic() || c.is_ascii_whitespace() => Probe::Match,
            Some(_) => Probe::NoMatch,
            None => Probe::NeedMore,
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(TelnetFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, values};

    #[test]
    fn options_stripped_and_login_detected() {
        let f = run_tcp(
            &Telnet,
            40000,
            23,
            &[
                (
                    Direction::ToClient,
                    &[IAC, 253, 24, IAC, 250, 24, 1, IAC, 240][..],
                ),
                (Direction::ToClient, b"\r\nAcme Infusion Gateway 4.2\r\nlog"),
                (Direction::ToClient, b"in: "),
                (Direction::ToServer, b"admin\r\n"),
                (Direction::ToClient, b"Pass"),
                (Direction::ToClient, b"word: "),
                (Direction::ToServer, b"canary-pw\r\n"),
            ],
        );
        assert_eq!(
            values(&f, "telnet.banner"),
            vec!["Acme Infusion Gateway 4.2  login:"]
        );
        let kinds: Vec<_> = f.security.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                SecurityKind::TelnetInUse,
                SecurityKind::CleartextCredentials
            ]
        );
        let dump = format!("{f:?}");
        assert!(!dump.contains("canary") && !dump.contains("admin"));
    }

    #[test]
    fn iac_escape_and_split_sequence() {
        let mut st = IacState::default();
        let mut out = Vec::new();
        strip_iac(&[b'a', IAC], &mut st, &mut out, 100);
        strip_iac(&[IAC, b'b', IAC, 251], &mut st, &mut out, 100);
        strip_iac(&[1, b'c'], &mut st, &mut out, 100);
        assert_eq!(out, vec![b'a', IAC, b'b', b'c']);
    }
}
