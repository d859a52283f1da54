//! FHIR over cleartext HTTP/1.x: which hosts serve and use FHIR, for which resource types,
//! with which server software and FHIR version.
//!
//! Parts: pure parsers ([`parse_head`], [`resource_type`], [`fhir_version`]) over one
//! HTTP message head or body prefix, a per-flow state machine ([`FhirParser`]) that walks
//! requests and responses (bodies skipped by `Content-Length` without copying; only a
//! `/metadata` response body prefix is searched for `fhirVersion`), and fact emission.
//!
//! Privacy: only resource *type names* are kept, never ids, query values or bodies. Query
//! strings are cut off before the path is looked at.
//!
//! Facts: (client) `fhir.role` = `FHIR client`, `fhir.request` (`GET Patient`); (server)
//! `fhir.role` = `FHIR server`, `fhir.resource_type`, `fhir.server_software` (`Server:`),
//! `fhir.version` (CapabilityStatement `fhirVersion` or the media type parameter);
//! (sender) `fhir.content_type`. Security: `CleartextPatientData` on the server when
//! patient-bearing resource types are exchanged over cleartext HTTP.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use memchr::memmem;
use ward_capture::{Direction, FlowMeta};
use ward_model::{is_internet_address, SecurityKind, Severity, Transport};

/// Longest HTTP head buffered.
pub const MAX_HEAD: usize = 16 * 1024;
/// How much of a CapabilityStatement body is searched for `fhirVersion`.
pub const MAX_CAPABILITY_BODY: usize = 64 * 1024;

/// FHIR R4/R5 resource types recognised in paths (a subset: clinical, administrative and
/// infrastructure resources commonly exposed by EHR and device gateways). Source: HL7 FHIR
/// R4 resource list, <https://hl7.org/fhir/R4/resourcelist.html>.
pub const RESOURCE_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Appointment",
    "AuditEvent",
    "Binary",
    "Bundle",
    "CarePlan",
    "CareTeam",
    "CapabilityStatement",
    "Claim",
    "Communication",
    "Composition",
    "Condition",
    "Consent",
    "Coverage",
    "Device",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Endpoint",
    "EpisodeOfCare",
    "Flag",
    "Goal",
    "Group",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "Location",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationRequest",
    "MedicationStatement",
    "MessageHeader",
    "NutritionOrder",
    "Observation",
    "OperationOutcome",
    "Organization",
    "Patient",
    "Person",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "Schedule",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "Subscription",
    "Task",
    "ValueSet",
    "CodeSystem",
    "StructureDefinition",
];

/// Resource types distinctive enough to recognise FHIR by path alone (generic words such
/// as `Device`, `Group` or `Location` also appear in other web applications' paths).
const DISTINCTIVE_RESOURCES: &[&str] = &[
    "AllergyIntolerance",
    "CapabilityStatement",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "ImagingStudy",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "ServiceRequest",
    "DeviceMetric",
];

/// Resource types whose instances describe a patient or their care.
const PATIENT_RESOURCES: &[&str] = &[
    "AllergyIntolerance",
    "CarePlan",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "ImagingStudy",
    "Immunization",
    "MedicationAdministration",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Patient",
    "Procedure",
    "RelatedPerson",
    "ServiceRequest",
    "Specimen",
    "Bundle",
];

/// An HTTP message head (request or response), borrowing the buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head<'a> {
    pub method: Option<&'a [u8]>,
    /// Request path, query removed.
    pub path: Option<&'a [u8]>,
    pub status: Option<u16>,
    pub content_type: Option<&'a [u8]>,
    pub server: Option<&'a [u8]>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Length of the head including the blank line.
    pub len: usize,
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

/// Parses an HTTP/1.x head at the start of `b`; `None` until the blank line arrives or
/// when it is not HTTP.
pub fn parse_head(b: &[u8]) -> Option<Head<'_>> {
    let end = memmem::find(b, b"\r\n\r\n")?;
    let head = &b[..end];
    let mut lines = head.split(|c| *c == b'\n').map(trim);
    let first = lines.next()?;
    let mut h = Head {
        len: end + 4,
        ..Head::default()
    };
    let mut parts = first.splitn(3, |c| *c == b' ');
    let a = parts.next()?;
    let b2 = parts.next()?;
    if a.starts_with(b"HTTP/1.") {
        h.status = std::str::from_utf8(b2).ok()?.parse().ok();
    } else {
        let version = parts.next()?;
        if !version.starts_with(b"HTTP/1.") || !a.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        h.method = Some(a);
        let q = b2
            .iter()
            .position(|c| *c == b'?' || *c == b'#')
            .unwrap_or(b2.len());
        h.path = Some(&b2[..q]);
    }
    for l in lines {
        let Some(colon) = l.iter().position(|c| *c == b':') else {
            continue;
        };
        let (name, value) = (&l[..colon], trim(&l[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-type") {
            h.content_type = Some(value);
        } else if name.eq_ignore_ascii_case(b"server") {
            h.server = Some(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            h.content_length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            h.chunked = memmem::find(&value.to_ascii_lowercase(), b"chunked").is_some();
        }
    }
    Some(h)
}

/// The FHIR resource type a request path addresses (`/fhir/r4/Patient/123/_history` ->
/// `Patient`), `metadata` for the capabilities interaction, or `None`.
pub fn resource_type(path: &[u8]) -> Option<&'static str> {
    for seg in path.split(|c| *c == b'/') {
        if seg == b"metadata" {
            return Some("metadata");
        }
        if let Some(t) = RESOURCE_TYPES.iter().find(|t| t.as_bytes() == seg) {
            return Some(t);
        }
    }
    None
}

/// Whether a content type is a FHIR one.
pub fn is_fhir_content_type(ct: &[u8]) -> bool {
    let l = ct.to_ascii_lowercase();
    memmem::find(&l, b"fhir+json").is_some() || memmem::find(&l, b"fhir+xml").is_some()
}

/// `fhirVersion` of a CapabilityStatement body prefix (JSON or XML).
pub fn fhir_version(body: &[u8]) -> Option<String> {
    let at = memmem::find(body, b"fhirVersion")?;
    let rest = body.get(at + 11..)?;
    // JSON `"fhirVersion" : "4.0.1"`, XML `<fhirVersion value="4.0.1"/>`: the version
    // is the first run of digits and dots shortly after the name.
    let rest = &rest[..rest.len().min(32)];
    let start = rest.iter().position(u8::is_ascii_digit)?;
    if rest[..start].iter().any(|c| !b"\": \t=value".contains(c)) {
        return None;
    }
    let v = &rest[start..];
    // The value must be closed (by a quote) to be complete.
    let end = v
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-'))?;
    Some(String::from_utf8_lossy(&v[..end]).into_owned())
}

/// The FHIR dissector (HTTP on any TCP port, by content).
#[derive(Debug, Default, Clone, Copy)]
pub struct FhirDissector;

impl Dissector for FhirDissector {
    fn name(&self) -> &'static str {
        "fhir"
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
        Box::new(FhirParser::new())
    }
}

/// Content probe: an HTTP request for a FHIR path (`/fhir/...`, a resource type,
/// `/metadata`) or an HTTP message with a FHIR content type.
pub fn probe_bytes(data: &[u8]) -> Probe {
    let starts_http = data.starts_with(b"HTTP/1.")
        || [
            &b"GET "[..],
            b"POST ",
            b"PUT ",
            b"DELETE ",
            b"PATCH ",
            b"HEAD ",
        ]
        .iter()
        .any(|m| data.starts_with(m));
    if !starts_http {
        return if data.len() < 8 && data.iter().all(u8::is_ascii_uppercase) {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    }
    match parse_head(data) {
        Some(h) => {
            let fhir_path = h.path.is_some_and(|p| {
                memmem::find(&p.to_ascii_lowercase(), b"/fhir").is_some()
                    || resource_type(p).is_some_and(|t| DISTINCTIVE_RESOURCES.contains(&t))
            });
            // Any header announcing a FHIR media type (Content-Type or Accept).
            let head = &data[..h.len.min(data.len())];
            let fhir_header = memmem::find(head, b"fhir+json").is_some()
                || memmem::find(head, b"fhir+xml").is_some();
            if fhir_path || fhir_header {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        None if data.len() < MAX_HEAD => Probe::NeedMore,
        None => Probe::NoMatch,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyMode {
    /// Waiting for a head.
    Head,
    /// Skipping `n` body bytes.
    Skip(u64),
    /// Keeping a CapabilityStatement body prefix; `n` bytes left.
    Capability(u64),
    /// Cannot follow this direction any more (chunked body, garbage).
    Lost,
}

struct Stream {
    buf: Vec<u8>,
    mode: BodyMode,
}

/// Per-flow FHIR state machine.
pub struct FhirParser {
    streams: [Stream; 2],
    /// Requests awaiting responses: was it `/metadata`?
    pending_metadata: std::collections::VecDeque<bool>,
    sent: Vec<(&'static str, String)>,
    patient_reported: bool,
}

impl Default for FhirParser {
    fn default() -> Self {
        Self::new()
    }
}

impl FhirParser {
    pub fn new() -> Self {
        FhirParser {
            streams: [
                Stream {
                    buf: Vec::new(),
                    mode: BodyMode::Head,
                },
                Stream {
                    buf: Vec::new(),
                    mode: BodyMode::Head,
                },
            ],
            pending_metadata: Default::default(),
            sent: Vec::new(),
            patient_reported: false,
        }
    }

    fn emit_once(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &str) {
        if v.is_empty() || self.sent.iter().any(|(k, x)| *k == key && x == v) {
            return;
        }
        if self.sent.len() < 128 {
            self.sent.push((key, v.to_string()));
        }
        out.fact(side, key, v);
    }

    /// Feeds stream bytes of one direction.
    pub fn feed(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        data: &[u8],
        out: &mut Facts,
    ) {
        let i = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        let side = Side::sender(dir);
        let mut data = data;
        let mut guard = 4096;
        while !data.is_empty() && guard > 0 {
            guard -= 1;
            let s = &mut self.streams[i];
            match s.mode {
                BodyMode::Lost => return,
                BodyMode::Skip(n) => {
                    let take = (n.min(data.len() as u64)) as usize;
                    data = &data[take..];
                    s.mode = if n == take as u64 {
                        BodyMode::Head
                    } else {
                        BodyMode::Skip(n - take as u64)
                    };
                }
                BodyMode::Capability(n) => {
                    let take = (n.min(data.len() as u64)) as usize;
                    let room = MAX_CAPABILITY_BODY.saturating_sub(s.buf.len());
                    s.buf.extend_from_slice(&data[..take.min(room)]);
                    data = &data[take..];
                    let left = n - take as u64;
                    if let Some(v) = fhir_version(&s.buf) {
                        s.buf.clear();
                        s.mode = if left == 0 {
                            BodyMode::Head
                        } else {
                            BodyMode::Skip(left)
                        };
                        out.protocol("fhir");
                        self.emit_once(out, side, "fhir.version", &v);
                    } else if left == 0 || s.buf.len() >= MAX_CAPABILITY_BODY {
                        s.buf.clear();
                        s.mode = if left == 0 {
                            BodyMode::Head
                        } else {
                            BodyMode::Skip(left)
                        };
                    } else {
                        s.mode = BodyMode::Capability(left);
                    }
                }
                BodyMode::Head => {
                    let room = MAX_HEAD.saturating_sub(s.buf.len());
                    let take = room.min(data.len());
                    s.buf.extend_from_slice(&data[..take]);
                    let buf = std::mem::take(&mut s.buf);
                    let Some(h) = parse_head(&buf) else {
                        let s = &mut self.streams[i];
                        s.buf = buf;
                        if s.buf.len() >= MAX_HEAD {
                            s.mode = BodyMode::Lost;
                            s.buf.clear();
                        }
                        data = &data[take..];
                        continue;
                    };
                    // Bytes of this chunk past the head go back to the loop.
                    let used_from_data = h.len.saturating_sub(buf.len() - take);
                    let body_len = h.content_length.unwrap_or(0);
                    let chunked = h.chunked;
                    let is_request = h.method.is_some();
                    let metadata = self.on_head(ctx, side, &h, out);
                    let s = &mut self.streams[i];
                    let mut buf = buf;
                    buf.clear();
                    s.buf = buf;
                    data = &data[used_from_data.min(data.len())..];
                    s.mode = if chunked {
                        BodyMode::Lost
                    } else if body_len == 0 {
                        BodyMode::Head
                    } else if !is_request && metadata {
                        BodyMode::Capability(body_len)
                    } else {
                        BodyMode::Skip(body_len)
                    };
                }
            }
        }
    }

    /// Emits facts for one head; returns whether it is the response to `/metadata`.
    fn on_head(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        side: Side,
        h: &Head<'_>,
        out: &mut Facts,
    ) -> bool {
        let peer = match side {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        if let Some(ct) = h.content_type.filter(|c| is_fhir_content_type(c)) {
            out.protocol("fhir");
            let ct = String::from_utf8_lossy(ct);
            let base = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            self.emit_once(out, side, "fhir.content_type", &base);
            if let Some(v) = ct
                .split(';')
                .find_map(|p| p.trim().strip_prefix("fhirVersion="))
            {
                let v = v.to_string();
                self.emit_once(out, side, "fhir.version", &v);
            }
        }
        if let (Some(method), Some(path)) = (h.method, h.path) {
            let Some(rt) = resource_type(path) else {
                self.pending_metadata.push_back(false);
                return false;
            };
            if self.pending_metadata.len() < 64 {
                self.pending_metadata.push_back(rt == "metadata");
            }
            out.protocol("fhir");
            self.emit_once(out, side, "fhir.role", "FHIR client");
            self.emit_once(out, peer, "fhir.role", "FHIR server");
            let rt_name = if rt == "metadata" {
                "CapabilityStatement"
            } else {
                rt
            };
            self.emit_once(out, peer, "fhir.resource_type", rt_name);
            let m = String::from_utf8_lossy(method);
            let req = format!("{m} {rt_name}");
            self.emit_once(out, side, "fhir.request", &req);
            if PATIENT_RESOURCES.contains(&rt) && !self.patient_reported {
                self.patient_reported = true;
                let internet = ctx.is_some_and(|c| {
                    [c.meta.client.ip, c.meta.server.ip]
                        .into_iter()
                        .flatten()
                        .any(|ip| is_internet_address(&ip))
                });
                out.security(
                    peer,
                    SecurityKind::CleartextPatientData,
                    if internet {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    format!("FHIR {rt_name} resources exchanged over cleartext HTTP"),
                );
            }
            return false;
        }
        // A response.
        let metadata = self.pending_metadata.pop_front().unwrap_or(false);
        if let Some(server) = h.server {
            if !self.sent.is_empty() || h.content_type.is_some_and(is_fhir_content_type) {
                let v = String::from_utf8_lossy(server).into_owned();
                self.emit_once(out, side, "fhir.server_software", &v);
            }
        }
        metadata
    }
}

impl FlowParser for FhirParser {
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(Some(ctx), dir, data, out);
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let i = match dir {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        };
        self.streams[i].buf.clear();
        self.streams[i].mode = BodyMode::Lost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_capabilities() {
        let req = b"GET /fhir/r4/Patient/123?name=SECRET HTTP/1.1\r\nHost: ehr\r\nAccept: application/fhir+json\r\n\r\nGET /fhir/r4/metadata HTTP/1.1\r\nHost: ehr\r\n\r\n";
        let body = br#"{"resourceType":"Bundle","entry":[{"resource":{"name":"SECRET"}}]}"#;
        let cap =
            br#"{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","status":"active"}"#;
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nServer: HAPI FHIR 6.4.0 REST Server\r\nContent-Type: application/fhir+json;charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body);
        resp.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\n\r\n",
                cap.len()
            )
            .as_bytes(),
        );
        resp.extend_from_slice(cap);
        assert_eq!(probe_bytes(req), Probe::Match);
        // Generic words in other web applications' paths are not enough.
        assert_eq!(
            probe_bytes(b"GET /api/Location/5 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Probe::NoMatch
        );
        assert_eq!(
            probe_bytes(b"GET /Location/5 HTTP/1.1\r\nAccept: application/fhir+json\r\n\r\n"),
            Probe::Match
        );
        for step in [1usize, 7, 100_000] {
            let mut f = Facts::default();
            let mut p = FhirParser::new();
            for c in req.chunks(step) {
                p.feed(None, Direction::ToServer, c, &mut f);
            }
            for c in resp.chunks(step) {
                p.feed(None, Direction::ToClient, c, &mut f);
            }
            let got: Vec<_> = f.facts.iter().map(|x| (x.key, x.value.as_str())).collect();
            for want in [
                ("fhir.resource_type", "Patient"),
                ("fhir.resource_type", "CapabilityStatement"),
                ("fhir.server_software", "HAPI FHIR 6.4.0 REST Server"),
                ("fhir.version", "4.0.1"),
                ("fhir.role", "FHIR server"),
            ] {
                assert!(got.contains(&want), "step {step}: {want:?} in {got:?}");
            }
            assert!(!format!("{f:?}").contains("SECRET"), "step {step}");
            assert!(!format!("{f:?}").contains("123"), "step {step}");
        }
    }
}
