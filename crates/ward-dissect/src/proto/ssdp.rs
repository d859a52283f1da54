//! SSDP (UPnP discovery, UDP 1900, and SSDP-like "M-SEARCH * HTTP/1.1" text on any UDP
//! port): what devices announce about themselves.
//!
//! Fact keys, all about the sender of the message:
//! - `ssdp.method`: NOTIFY, M-SEARCH or RESPONSE
//! - `ssdp.server`: SERVER header (OS, UPnP stack and product)
//! - `ssdp.usn`: USN header (unique service name, often uuid::urn:...)
//! - `ssdp.location`: LOCATION header (device description URL)
//! - `ssdp.user_agent`: USER-AGENT header (searchers)
//! - `ssdp.nt`: NT header of a NOTIFY; `ssdp.st`: ST header of a search or response

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::util::{header, lines, starts_with_ci, Seen};
use ward_capture::{Direction, FlowMeta};
use ward_model::Transport;

/// What kind of SSDP message a datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsdpKind {
    Notify,
    Search,
    Response,
}

/// A parsed SSDP message; header values borrow the datagram.
#[derive(Debug, Clone, Default)]
pub struct SsdpMessage<'a> {
    pub kind: Option<SsdpKind>,
    pub server: Option<&'a [u8]>,
    pub usn: Option<&'a [u8]>,
    pub location: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub nt: Option<&'a [u8]>,
    pub st: Option<&'a [u8]>,
}

/// Why a datagram is not SSDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsdpError {
    #[error("not an SSDP start line at byte offset 0")]
    NotSsdp,
}

fn kind_of(first: &[u8]) -> Option<SsdpKind> {
    if starts_with_ci(first, b"NOTIFY * HTTP/1.") {
        Some(SsdpKind::Notify)
    } else if starts_with_ci(first, b"M-SEARCH * HTTP/1.") {
        Some(SsdpKind::Search)
    } else if starts_with_ci(first, b"HTTP/1.1 200") || starts_with_ci(first, b"HTTP/1.0 200") {
        Some(SsdpKind::Response)
    } else {
        None
    }
}

/// Parses an SSDP datagram (start line plus headers; at most 64 header lines).
pub fn parse(data: &[u8]) -> Result<SsdpMessage<'_>, SsdpError> {
    let mut it = lines(data);
    let kind = kind_of(it.next().unwrap_or(&[])).ok_or(SsdpError::NotSsdp)?;
    let mut m = SsdpMessage {
        kind: Some(kind),
        ..Default::default()
    };
    for line in it.take(64) {
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = header(line) else {
            continue;
        };
        let slot = if name.eq_ignore_ascii_case(b"server") {
            &mut m.server
        } else if name.eq_ignore_ascii_case(b"usn") {
            &mut m.usn
        } else if name.eq_ignore_ascii_case(b"location") {
            &mut m.location
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            &mut m.user_agent
        } else if name.eq_ignore_ascii_case(b"nt") {
            &mut m.nt
        } else if name.eq_ignore_ascii_case(b"st") {
            &mut m.st
        } else {
            continue;
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }
    Ok(m)
}

/// Per-flow state: remembers what was already reported so repeated NOTIFYs cost nothing.
#[derive(Debug, Default)]
pub struct SsdpFlow {
    seen: Seen,
    labelled: bool,
}

impl FlowParser for SsdpFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let Ok(m) = parse(data) else { return };
        if !self.labelled {
            out.protocol("ssdp");
            self.labelled = true;
        }
        let side = Side::sender(dir);
        let method = match m.kind {
            Some(SsdpKind::Notify) => "NOTIFY",
            Some(SsdpKind::Search) => "M-SEARCH",
            _ => "RESPONSE",
        };
        if self.seen.first_for(side, "ssdp.method", method.as_bytes()) {
            out.fact(side, "ssdp.method", method);
        }
        for (key, v) in [
            ("ssdp.server", m.server),
            ("ssdp.usn", m.usn),
            ("ssdp.location", m.location),
            ("ssdp.user_agent", m.user_agent),
            ("ssdp.nt", m.nt),
            ("ssdp.st", m.st),
        ] {
            if let Some(v) = v {
                if self.seen.first_for(side, key, v) {
                    out.fact_bytes(side, key, v);
                }
            }
        }
    }
}

/// The SSDP dissector.
pub struct Ssdp;

impl Dissector for Ssdp {
    fn name(&self) -> &'static str {
        "ssdp"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 1900)]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Udp {
            return Probe::NoMatch;
        }
        let first = data.split(|c| *c == b'\n').next().unwrap_or(&[]);
        match kind_of(first) {
            Some(SsdpKind::Response) => {
                // A 200 response is SSDP only on port 1900 or with SSDP headers.
                let p = parse(data).ok();
                if p.is_some_and(|m| m.usn.is_some() || m.st.is_some()) {
                    Probe::Match
                } else {
                    Probe::NoMatch
                }
            }
            Some(_) => Probe::Match,
            None => Probe::NoMatch,
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(SsdpFlow::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{meta, run_udp, values};

    #[test]
    fn notify_and_search() {
        let notify = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://10.0.0.1:80/desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.10 UPnP/1.0 AcmeMonitor/2.1\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n";
        let search = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nUSER-AGENT: Chrome/99 Mac OS X\r\n\r\n";
        let f = run_udp(
            &Ssdp,
            1900,
            1900,
            &[
                (Direction::ToServer, notify),
                (Direction::ToServer, notify),
                (Direction::ToClient, search),
            ],
        );
        assert_eq!(
            values(&f, "ssdp.server"),
            vec!["Linux/3.10 UPnP/1.0 AcmeMonitor/2.1"]
        );
        assert_eq!(values(&f, "ssdp.usn"), vec!["uuid:1234::upnp:rootdevice"]);
        assert_eq!(
            values(&f, "ssdp.location"),
            vec!["http://10.0.0.1:80/desc.xml"]
        );
        assert_eq!(values(&f, "ssdp.nt"), vec!["upnp:rootdevice"]);
        assert_eq!(values(&f, "ssdp.st"), vec!["ssdp:all"]);
        assert_eq!(values(&f, "ssdp.user_agent"), vec!["Chrome/99 Mac OS X"]);
        let ua = f
            .facts
            .iter()
            .find(|x| x.key == "ssdp.user_agent")
            .expect("ua");
        assert_eq!(ua.side, Side::Server, "the searcher sent ToClient");
    }

    #[test]
    fn probe_rejects_plain_http_off_port() {
        let m = meta(Transport::Udp, 5000, 6000);
        assert_eq!(
            Ssdp.probe(
                &m,
                Direction::ToServer,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            ),
            Probe::NoMatch
        );
        assert_eq!(
            Ssdp.probe(&m, Direction::ToServer, b"M-SEARCH * HTTP/1.1\r\n"),
            Probe::Match
        );
        assert!(parse(b"GET / HTTP/1.1\r\n").is_err());
    }
}
