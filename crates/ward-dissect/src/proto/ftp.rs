//! FTP control connections (TCP 21): server banners, and whether a login crossed the
//! network in cleartext. User names and passwords are never read into a fact.
//!
//! Fact keys:
//! - `ftp.banner`: text of the server's first 220 greeting line (server)
//! - `ftp.system`: text of a 215 reply to SYST ("UNIX Type: L8") (server)
//!
//! Security observations: `FtpInUse` (about the server, once per flow) and
//! `CleartextCredentials` (about the client) when it sends USER or PASS without having
//! switched to TLS (AUTH TLS): the user name alone is already a credential in clear.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{starts_with_ci, trim};
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Longest control line kept when it straddles segments.
const MAX_LINE: usize = 512;

/// What an FTP control line says, as far as Ward cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpLine<'a> {
    /// A server reply: code and text (after the code and its separator).
    Reply { code: u16, text: &'a [u8] },
    /// USER (the argument is not kept).
    User,
    /// PASS (the argument is not kept).
    Pass,
    /// AUTH TLS / AUTH SSL.
    AuthTls,
    /// Any other command.
    Other,
}

/// Classifies one control line (without its line ending).
pub fn parse_line(line: &[u8], from_server: bool) -> FtpLine<'_> {
    if from_server {
        let code = line
            .get(..3)
            .filter(|c| c.iter().all(u8::is_ascii_digit))
            .map(|c| c.iter().fold(0u16, |a, d| a * 10 + (d - b'0') as u16));
        match code {
            Some(code) => FtpLine::Reply {
                code,
                text: trim(line.get(4..).unwrap_or(&[])),
            },
            None => FtpLine::Other,
        }
    } else if starts_with_ci(line, b"USER ") || line.eq_ignore_ascii_case(b"USER") {
        FtpLine::User
    } else if starts_with_ci(line, b"PASS ") || line.eq_ignore_ascii_case(b"PASS") {
        FtpLine::Pass
    } else if starts_with_ci(line, b"AUTH TLS") || starts_with_ci(line, b"AUTH SSL") {
        FtpLine::AuthTls
    } else {
        FtpLine::Other
    }
}

/// Per-flow FTP state.
#[derive(Debug, Default)]
pub struct FtpFlow {
    partial: [Vec<u8>; 2],
    /// Skip to the next newline (an over-long line was dropped).
    overflow: [bool; 2],
    banner_done: bool,
    in_use_reported: bool,
    creds_reported: bool,
    tls: bool,
    lines: u32,
}

impl FtpFlow {
    fn line(&mut self, dir: Direction, line: &[u8], out: &mut Facts) {
        self.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match parse_line(line, dir == Direction::ToClient) {
            FtpLine::Reply { code, text } => {
                if !self.in_use_reported {
                    self.in_use_reported = true;
                    out.protocol("ftp");
                    out.security(
                        Side::Server,
                        SecurityKind::FtpInUse,
                        Severity::Medium,
                        "FTP control connection (cleartext)",
                    );
                }
                match code {
                    220 if !self.banner_done => {
                        self.banner_done = true;
                        out.fact_bytes(Side::Server, "ftp.banner", text);
                    }
                    215 => out.fact_bytes(Side::Server, "ftp.system", text),
                    234 => self.tls = true,
                    _ => {}
                }
            }
            FtpLine::User | FtpLine::Pass if !self.tls && !self.creds_reported => {
                self.creds_reported = true;
                out.security(
                    Side::Client,
                    SecurityKind::CleartextCredentials,
                    Severity::High,
                    "FTP login (USER/PASS) sent in cleartext",
                );
            }
            _ => {}
        }
    }
}

impl FlowParser for FtpFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        let mut rest = data;
        // Bounded by the number of newlines in the chunk.
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let piece = &rest[..nl];
            rest = &rest[nl + 1..];
            if self.overflow[d] {
                self.overflow[d] = false;
                continue;
            }
            if self.partial[d].is_empty() {
                self.line(dir, piece, out);
            } else {
                let mut l = std::mem::take(&mut self.partial[d]);
                let take = piece.len().min(MAX_LINE.saturating_sub(l.len()));
                l.extend_from_slice(&piece[..take]);
                self.line(dir, &l, out);
                l.clear();
                self.partial[d] = l;
            }
            if self.finished() {
                return;
            }
        }
        if !rest.is_empty() && !self.overflow[d] {
            if self.partial[d].len() + rest.len() > MAX_LINE {
                self.partial[d].clear();
                self.overflow[d] = true;
            } else {
                self.partial[d].extend_from_slice(rest);
            }
        }
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let d = usize::from(dir == Direction::ToClient);
        self.partial[d].clear();
        self.overflow[d] = true;
    }
    fn finished(&self) -> bool {
        self.tls || self.lines > 200 || (self.creds_reported && self.banner_done && self.lines > 20)
    }
}

/// The FTP control-connection dissector.
pub struct Ftp;

impl Dissector for Ftp {
    fn name(&self) -> &'static str {
        "ftp"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Tcp, 21)]
    }
    fn probe(&self, meta: &FlowMeta, dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        match dir {
            Direction::ToClient if data.len() < 4 => Probe::NeedMore,
            Direction::ToClient => match parse_line(data, true) {
                FtpLine::Reply { .. } => Probe::Match,
                _ => Probe::NoMatch,
            },
            // Midstream pickup: a client command in upper-case letters.
            Direction::ToServer => {
                let word = data.iter().take_while(|c| c.is_ascii_alphabetic()).count();
                if (3..=4).contains(&word) {
                    Probe::Match
                } else {
                    Probe::NoMatch
                }
            }
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(FtpFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, values};

    #[test]
    fn banner_login_and_system() {
        let f = run_tcp(
            &Ftp,
            40000,
            21,
            &[
                (Direction::ToClient, b"220 (vsFTPd 3.0.3)\r\n"),
                (Direction::ToServer, b"USER anonym"),
                (Direction::ToServer, b"ous\r\n"),
                (Direction::ToClient, b"331 Please specify the password.\r\n"),
                (Direction::ToServer, b"PASS s3cret-canary\r\n"),
                (Direction::ToClient, b"530 Login incorrect.\r\n"),
                (Direction::ToServer, b"SYST\r\n"),
                (Direction::ToClient, b"215 UNIX Type: L8\r\n"),
            ],
        );
        assert_eq!(values(&f, "ftp.banner"), vec!["(vsFTPd 3.0.3)"]);
        assert_eq!(values(&f, "ftp.system"), vec!["UNIX Type: L8"]);
        let kinds: Vec<_> = f.security.iter().map(|s| (s.kind, s.side)).collect();
        assert_eq!(
            kinds,
            vec![
                (SecurityKind::FtpInUse, Side::Server),
                (SecurityKind::CleartextCredentials, Side::Client)
            ]
        );
        let dump = format!("{f:?}");
        assert!(!dump.contains("s3cret") && !dump.contains("anonymous"));
    }

    #[test]
    fn auth_tls_means_no_cleartext_credentials() {
        let f = run_tcp(
            &Ftp,
            40000,
            21,
            &[
                (
                    Direction::ToClient,
                    b"220-Welcome\r\n220 FileZilla Server\r\n",
                ),
                (Direction::ToServer, b"AUTH TLS\r\n"),
                (
                    Direction::ToClient,
                    b"234 Using authentication type TLS\r\n",
                ),
                (Direction::ToServer, b"PASS x\r\n"),
            ],
        );
        assert_eq!(values(&f, "ftp.banner"), vec!["Welcome"]);
        assert!(f
            .security
            .iter()
            .all(|s| s.kind != SecurityKind::CleartextCredentials));
    }
}
