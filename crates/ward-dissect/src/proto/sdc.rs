//! IEEE 11073 SDC discovery and metadata: WS-Discovery (SOAP over UDP 3702) Hello, Bye,
//! Probe, ProbeMatches, Resolve and ResolveMatches messages (types, scopes, transport
//! addresses, endpoint reference), and, where the BICEPS MDIB travels in cleartext over
//! HTTP, the MDS `MetaData` (manufacturer, model name and number, serial number).
//!
//! Parts: pure parsers ([`parse_discovery`], [`parse_mds_metadata`]) over one message, the
//! datagram / stream state machines ([`SdcParser`]) and fact emission.
//!
//! Privacy: SDC scopes can carry the patient context (`sdc.ctxt.pat:...`, with patient
//! identifiers); such scopes are dropped. From an MDIB only the `MetaData` elements of
//! the MDS descriptors are read; context states (patient, location) are never looked at.
//!
//! Facts (sender): `sdc.discovery` (action), and for Hello/ProbeMatches/ResolveMatches/
//! Bye `sdc.type`, `sdc.scope`, `sdc.xaddr`, `sdc.endpoint`, `sdc.medical_device`; for
//! Probe/Resolve `sdc.probe_type`, `sdc.resolve_endpoint` (what is looked for); from an
//! MDIB `sdc.manufacturer`, `sdc.model_name`, `sdc.model_number`, `sdc.serial_number`.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::xml;
use memchr::memmem;
use ward_capture::{Direction, FlowMeta};
use ward_model::Transport;

/// Longest HTTP/SOAP stream prefix searched for an MDIB `MetaData` block, per direction.
pub const MAX_MDIB_BUFFER: usize = 512 * 1024;

/// What a WS-Discovery message says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Last segment of the WS-Addressing action (`Hello`, `ProbeMatches` ...).
    pub action: Option<String>,
    pub types: Vec<String>,
    pub scopes: Vec<String>,
    pub xaddrs: Vec<String>,
    /// Endpoint reference address (`urn:uuid:...`).
    pub endpoint: Option<String>,
}

impl Discovery {
    /// Types name an IEEE 11073-20702 medical device (`mdpws:MedicalDevice`).
    pub fn is_medical_device(&self) -> bool {
        self.types.iter().any(|t| t.ends_with("MedicalDevice"))
    }
}

/// Is this scope about the patient (and so never kept)?
pub fn is_patient_scope(scope: &str) -> bool {
    let l = scope.to_ascii_lowercase();
    l.contains("ctxt.pat") || l.contains("patient")
}

/// Parses a WS-Discovery SOAP envelope. Returns `None` when it is not one.
pub fn parse_discovery(b: &[u8]) -> Option<Discovery> {
    memmem::find(b, b"Envelope")?;
    let mut d = Discovery::default();
    let mut in_epr = false;
    for t in xml::tags(b) {
        let local = t.local_name();
        if local == b"EndpointReference" {
            in_epr = !t.is_end && !t.self_closing;
            continue;
        }
        if t.is_end || t.self_closing {
            continue;
        }
        let text = || xml::unescape(xml::text_after(b, &t));
        match local {
            b"Action" if d.action.is_none() => {
                let a = text();
                let last = a.rsplit('/').next().unwrap_or("").to_string();
                if !last.is_empty() {
                    d.action = Some(last);
                }
            }
            b"Types" => d
                .types
                .extend(text().split_whitespace().map(str::to_string)),
            b"Scopes" => d.scopes.extend(
                text()
                    .split_whitespace()
                    .filter(|s| !is_patient_scope(s))
                    .map(str::to_string),
            ),
            b"XAddrs" => d
                .xaddrs
                .extend(text().split_whitespace().map(str::to_string)),
            b"Address" if in_epr && d.endpoint.is_none() => {
                let a = text();
                if !a.is_empty() {
                    d.endpoint = Some(a);
                }
            }
            _ => {}
        }
        if d.types.len() + d.scopes.len() + d.xaddrs.len() > 256 {
            break;
        }
    }
    d.action.as_ref()?;
    Some(d)
}

/// The MDS `MetaData` of a BICEPS MDIB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdsMetadata {
    pub manufacturer: Vec<String>,
    pub model_name: Vec<String>,
    pub model_number: Option<String>,
    pub serial_number: Vec<String>,
}

impl MdsMetadata {
    pub fn is_empty(&self) -> bool {
        self.manufacturer.is_empty()
            && self.model_name.is_empty()
            && self.model_number.is_none()
            && self.serial_number.is_empty()
    }
}

/// Reads every `MetaData` block of an MDIB (or a GetMdibResponse / GetMetadataResponse).
/// Elements outside `MetaData` are not read.
pub fn parse_mds_metadata(b: &[u8]) -> Vec<MdsMetadata> {
    let mut out = Vec::new();
    let mut cur: Option<MdsMetadata> = None;
    for t in xml::tags(b) {
        let local = t.local_name();
        if local == b"MetaData" {
            if t.self_closing {
                continue;
            }
            if t.is_end {
                if let Some(m) = cur.take() {
                    if !m.is_empty() {
                        out.push(m);
                    }
                }
            } else {
                cur = Some(MdsMetadata::default());
            }
            continue;
        }
        let Some(m) = cur.as_mut() else { continue };
        if t.is_end || t.self_closing {
            continue;
        }
        let v = xml::unescape(xml::text_after(b, &t));
        if v.is_empty() {
            continue;
        }
        match local {
            b"Manufacturer" => m.manufacturer.push(v),
            b"ModelName" => m.model_name.push(v),
            b"ModelNumber" => m.model_number = Some(v),
            b"SerialNumber" => m.serial_number.push(v),
            _ => {}
        }
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// The SDC dissector: WS-Discovery on UDP 3702; SDC SOAP over cleartext HTTP by content.
#[derive(Debug, Default, Clone, Copy)]
pub struct SdcDissector;

impl Dissector for SdcDissector {
    fn name(&self) -> &'static str {
        "sdc"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Udp, 3702)]
    }
    fn probe_any_port(&self) -> bool {
        true
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        match meta.transport {
            Transport::Udp if meta.server_port == 3702 || meta.client_port == 3702 => {
                if memmem::find(data, b"Envelope").is_some() {
                    Probe::Match
                } else {
                    Probe::NoMatch
                }
            }
            Transport::Tcp => probe_http_soap(data),
            _ => Probe::NoMatch,
        }
    }
    fn new_parser(&self, meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(SdcParser::new(meta.transport == Transport::Udp))
    }
}

/// SDC over cleartext HTTP: a request or response whose first chunk names the BICEPS or
/// MDPWS namespaces.
pub fn probe_http_soap(data: &[u8]) -> Probe {
    let http = data.starts_with(b"POST ") || data.starts_with(b"HTTP/1.");
    if !http {
        return Probe::NoMatch;
    }
    let window = &data[..data.len().min(8192)];
    if memmem::find(window, b"11073").is_some() {
        Probe::Match
    } else if window.len() < 1024 {
        Probe::NeedMore
    } else {
        Probe::NoMatch
    }
}

/// Per-flow SDC state.
pub struct SdcParser {
    udp: bool,
    bufs: [Vec<u8>; 2],
    sent: Vec<(&'static str, String)>,
    done: [bool; 2],
}

impl SdcParser {
    pub fn new(udp: bool) -> Self {
        SdcParser {
            udp,
            bufs: [Vec::new(), Vec::new()],
            sent: Vec::new(),
            done: [false, false],
        }
    }

    fn emit_once(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &str) {
        if v.is_empty() || self.sent.iter().any(|(k, x)| *k == key && x == v) {
            return;
        }
        if self.sent.len() < 256 {
            self.sent.push((key, v.to_string()));
        }
        out.fact(side, key, v);
    }

    /// One WS-Discovery datagram.
    pub fn datagram(&mut self, dir: Direction, data: &[u8], out: &mut Facts) {
        let Some(d) = parse_discovery(data) else {
            return;
        };
        let side = Side::sender(dir);
        out.protocol("sdc");
        let action = d.action.clone().unwrap_or_default();
        self.emit_once(out, side, "sdc.discovery", &action);
        // Probe and Resolve name what the sender looks for; the other messages describe
        // the sender itself.
        let searching = matches!(action.as_str(), "Probe" | "Resolve");
        if searching {
            for t in &d.types {
                self.emit_once(out, side, "sdc.probe_type", t);
            }
            if let Some(e) = &d.endpoint {
                self.emit_once(out, side, "sdc.resolve_endpoint", e);
            }
            return;
        }
        for t in &d.types {
            self.emit_once(out, side, "sdc.type", t);
        }
        for s in &d.scopes {
            self.emit_once(out, side, "sdc.scope", s);
        }
        for x in &d.xaddrs {
            self.emit_once(out, side, "sdc.xaddr", x);
        }
        if let Some(e) = &d.endpoint {
            self.emit_once(out, side, "sdc.endpoint", e);
        }
        if d.is_medical_device() {
            self.emit_once(out, side, "sdc.medical_device", "yes");
        }
    }

    /// Stream bytes (SOAP over HTTP): buffered, bounded, until a MetaData block is seen.
    pub fn stream(&mut self, dir: Direction, data: &[u8], out: &mut Facts) {
        let i = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        if self.done[i] {
            return;
        }
        let room = MAX_MDIB_BUFFER.saturating_sub(self.bufs[i].len());
        self.bufs[i].extend_from_slice(&data[..room.min(data.len())]);
        let buf = &self.bufs[i];
        // Parse only once a MetaData tag has arrived (or the buffer is full).
        if memmem::find(buf, b"MetaData>").is_none() && buf.len() < MAX_MDIB_BUFFER {
            return;
        }
        let metas = parse_mds_metadata(buf);
        if metas.is_empty() && buf.len() < MAX_MDIB_BUFFER {
            return;
        }
        self.done[i] = true;
        self.bufs[i] = Vec::new();
        out.protocol("sdc");
        let side = Side::sender(dir);
        for m in metas {
            for v in &m.manufacturer {
                self.emit_once(out, side, "sdc.manufacturer", v);
            }
            for v in &m.model_name {
                self.emit_once(out, side, "sdc.model_name", v);
            }
            if let Some(v) = &m.model_number {
                self.emit_once(out, side, "sdc.model_number", v);
            }
            for v in &m.serial_number {
                self.emit_once(out, side, "sdc.serial_number", v);
            }
        }
    }
}

impl FlowParser for SdcParser {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        if self.udp {
            self.datagram(dir, data, out);
        } else {
            self.stream(dir, data, out);
        }
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let i = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        self.bufs[i].clear();
    }
    fn finished(&self) -> bool {
        !self.udp && self.done[0] && self.done[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01" xmlns:mdpws="http://standards.ieee.org/downloads/11073/11073-20702-2016"><s12:Header><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action></s12:Header><s12:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:1d4b7f6e-0000-4000-8000-000000000001</wsa:Address></wsa:EndpointReference><wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types><wsd:Scopes>sdc.mds.pkp:1.2.840.10004.20701.1.1 sdc.ctxt.loc:/sdc.ctxt.loc.detail/ICU%2F%2F%2F3%2F1?fac=ICU&amp;bldng=A sdc.ctxt.pat:/patient/SECRET-PATIENT</wsd:Scopes><wsd:XAddrs>http://10.0.0.5:6464/device</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello></s12:Body></s12:Envelope>"#;

    #[test]
    fn hello_of_a_medical_device() {
        let d = parse_discovery(HELLO).unwrap();
        assert_eq!(d.action.as_deref(), Some("Hello"));
        assert!(d.is_medical_device());
        assert_eq!(d.xaddrs, vec!["http://10.0.0.5:6464/device"]);
        assert_eq!(d.scopes.len(), 2, "patient scope dropped: {:?}", d.scopes);
        assert_eq!(
            d.endpoint.as_deref(),
            Some("urn:uuid:1d4b7f6e-0000-4000-8000-000000000001")
        );
        let mut f = Facts::default();
        SdcParser::new(true).datagram(Direction::ToServer, HELLO, &mut f);
        assert!(!format!("{f:?}").contains("SECRET-PATIENT"));
        assert!(f.facts.iter().any(|x| x.key == "sdc.medical_device"));
    }
}
