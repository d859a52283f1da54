//! DICOM upper layer (PS3.8) dissector: who calls whom (AE titles), with which software
//! (implementation class UID and version name), for which services (presentation contexts,
//! DIMSE commands), and how associations end (accepted, rejected, released, aborted).
//!
//! Three parts, kept apart:
//! - a pure parser ([`parse_pdu`], [`parse_command_set`], [`read_device_elements`]) that
//!   borrows its input and treats "need more bytes" as a normal result;
//! - a per-flow state machine ([`DicomParser`]) that follows PDU and PDV boundaries in each
//!   direction, copies only control PDUs (A-ASSOCIATE, at most [`MAX_CONTROL_PDU`] bytes) and
//!   DIMSE command sets, and skips datasets by length without copying them;
//! - fact emission ([`DicomParser`] methods named `emit_*`).
//!
//! Parsed by hand rather than with `dicom-ul`: that crate decodes whole PDUs into owned
//! values (it needs the complete P-DATA PDU in memory, copying pixel data) and reports
//! truncation as an error, while this dissector must follow a reassembled stream in
//! pieces, skip multi-megabyte datasets without touching them and resynchronise on the
//! next PDU header after a gap. The upper-layer framing is small (seven PDU types, a dozen
//! item types), so a few hundred lines of bounds-checked code do.
//!
//! Privacy: dataset PDVs are never read, with one exception: the first fragment of a
//! C-STORE dataset is walked element by element and only the six device elements
//! (Manufacturer, Model Name, Software Versions, Device Serial Number, Modality, Station
//! Name) are read; every other element (patient name, ids ...) is stepped over by its
//! length and never decoded. User identity negotiation yields its *type* only; the
//! username and passcode are never read.
//!
//! Facts (side in parentheses; the requestor is normally the client):
//! - (requestor) `dicom.calling_ae`, `dicom.ae_title`, `dicom.role` = `SCU`,
//!   `dicom.application_context`, `dicom.abstract_syntax` (proposed), `dicom.service_scu`
//!   (accepted abstract syntaxes), `dicom.user_identity` (type name only),
//!   `dicom.role_selection`, `dicom.extended_negotiation`, `dicom.common_extended_negotiation`;
//! - (acceptor) `dicom.called_ae` (as addressed), `dicom.ae_title` (as answered in the
//!   AC), `dicom.role` = `SCP`, `dicom.presentation_context`
//!   (`id=1 abstract=UID proposed=TS,TS result=acceptance accepted=TS`),
//!   `dicom.service_scp`, `dicom.association` (`accepted`, `rejected`,
//!   `accepted, then aborted`, `aborted`: one per association), `dicom.reject`;
//! - (either, from its own PDUs) `dicom.implementation_class_uid`,
//!   `dicom.implementation_version`, `dicom.max_pdu_length`, `dicom.release`,
//!   `dicom.abort` (`source=0 (...) reason=0 (...)`), and per DIMSE message
//!   `dicom.command` (`C-STORE-RQ`) and `dicom.dimse` (`C-STORE-RSP <SOP class>
//!   status=0x0000`): their observation counts are message counts;
//! - (C-STORE sender) `dicom.manufacturer`, `dicom.model_name`, `dicom.software_versions`,
//!   `dicom.device_serial_number`, `dicom.modality`, `dicom.station_name`. These describe
//!   the device that *created* the stored object: the sender itself for a modality, but
//!   another device when a PACS or router forwards images, so they are weaker evidence
//!   about the sender than the AE title or implementation UID.
//!
//! Security observations: `DicomWithoutTls` (requestor; high when an address is on the
//! internet, medium when outside private space otherwise), `DicomAcceptsAnyCaller`
//! (acceptor; see [`GENERIC_AE_TITLES`]), `DicomAssociationRejected` (requestor, with the
//! reason), `DicomNoUserIdentity` (acceptor, when it accepted without user identity).

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use std::net::IpAddr;
use ward_capture::{Direction, FlowMeta};
use ward_model::{is_internet_address, SecurityKind, Severity, Transport};

/// A-ASSOCIATE-RQ.
pub const PDU_ASSOCIATE_RQ: u8 = 0x01;
/// A-ASSOCIATE-AC.
pub const PDU_ASSOCIATE_AC: u8 = 0x02;
/// A-ASSOCIATE-RJ.
pub const PDU_ASSOCIATE_RJ: u8 = 0x03;
/// P-DATA-TF.
pub const PDU_P_DATA: u8 = 0x04;
/// A-RELEASE-RQ.
pub const PDU_RELEASE_RQ: u8 = 0x05;
/// A-RELEASE-RP.
pub const PDU_RELEASE_RP: u8 = 0x06;
/// A-ABORT.
pub const PDU_ABORT: u8 = 0x07;

/// Largest control PDU (A-ASSOCIATE-*) the state machine buffers; real ones are a few KiB.
pub const MAX_CONTROL_PDU: usize = 64 * 1024;
/// Largest DIMSE command set buffered (command sets are a few hundred bytes).
pub const MAX_COMMAND_SET: usize = 64 * 1024;
/// How much of the first C-STORE dataset fragment is looked at for device elements.
pub const DEVICE_HEADER_WINDOW: usize = 8 * 1024;

/// Why a PDU or item could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DicomError {
    #[error("unknown PDU type 0x{pdu_type:02x} at byte 0")]
    UnknownPduType { pdu_type: u8 },
    #[error("{what} at byte {offset}: {problem}")]
    Invalid {
        what: &'static str,
        offset: usize,
        problem: &'static str,
    },
    #[error("{what} at byte {offset} is truncated: needs {need} bytes, {have} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
}

/// The 6-byte PDU header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduHeader {
    pub pdu_type: u8,
    pub length: u32,
}

/// Reads a PDU header; `None` when fewer than 6 bytes are available.
pub fn parse_pdu_header(b: &[u8]) -> Option<PduHeader> {
    let h = b.get(..6)?;
    Some(PduHeader {
        pdu_type: h[0],
        length: u32::from_be_bytes([h[2], h[3], h[4], h[5]]),
    })
}

/// One parsed PDU, borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu<'a> {
    AssociateRq(Associate<'a>),
    AssociateAc(Associate<'a>),
    AssociateRj(Reject),
    PData(Vec<Pdv<'a>>),
    ReleaseRq,
    ReleaseRp,
    Abort(Abort),
}

/// The common body of A-ASSOCIATE-RQ and -AC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Associate<'a> {
    pub protocol_version: u16,
    pub called_ae: &'a [u8],
    pub calling_ae: &'a [u8],
    pub application_context: Option<&'a [u8]>,
    pub presentation_contexts: Vec<PresentationContext<'a>>,
    pub user: UserInfo<'a>,
}

impl Associate<'_> {
    pub fn called_ae_str(&self) -> String {
        text(self.called_ae)
    }
    pub fn calling_ae_str(&self) -> String {
        text(self.calling_ae)
    }
}

/// A presentation context item (0x20 in -RQ, 0x21 in -AC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresentationContext<'a> {
    pub id: u8,
    /// Result/reason (AC only): 0 acceptance, 1 user-rejection, 2 no-reason,
    /// 3 abstract-syntax-not-supported, 4 transfer-syntaxes-not-supported.
    pub result: Option<u8>,
    pub abstract_syntax: Option<&'a [u8]>,
    pub transfer_syntaxes: Vec<&'a [u8]>,
}

/// SCP/SCU role selection sub-item (0x54).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleSelection<'a> {
    pub sop_class: &'a [u8],
    pub scu_role: u8,
    pub scp_role: u8,
}

/// User information item (0x50) contents. The user identity's primary and secondary
/// fields (username, passcode, token) are deliberately not represented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo<'a> {
    pub max_pdu_length: Option<u32>,
    pub implementation_class_uid: Option<&'a [u8]>,
    pub implementation_version_name: Option<&'a [u8]>,
    /// User identity type (RQ): 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT.
    pub user_identity_type: Option<u8>,
    /// An AC carried a user identity server response (0x59).
    pub user_identity_response: bool,
    /// Asynchronous operations window (invoked, performed).
    pub async_ops: Option<(u16, u16)>,
    pub role_selections: Vec<RoleSelection<'a>>,
    /// SOP classes with SOP class extended negotiation (0x56).
    pub extended_negotiation: Vec<&'a [u8]>,
    /// SOP classes with SOP class common extended negotiation (0x57).
    pub common_extended_negotiation: Vec<&'a [u8]>,
}

/// A-ASSOCIATE-RJ fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    pub result: u8,
    pub source: u8,
    pub reason: u8,
}

/// A-ABORT fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort {
    pub source: u8,
    pub reason: u8,
}

/// One presentation data value of a P-DATA-TF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdv<'a> {
    pub context_id: u8,
    /// Message control header: bit 0 command (1) or dataset (0), bit 1 last fragment.
    pub control: u8,
    pub data: &'a [u8],
}

impl Pdv<'_> {
    pub fn is_command(&self) -> bool {
        self.control & 0x01 != 0
    }
    pub fn is_last(&self) -> bool {
        self.control & 0x02 != 0
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Strips DICOM padding (NUL and spaces) from both ends of a value.
pub fn trim_value(v: &[u8]) -> &[u8] {
    let pad = |c: &u8| *c == 0 || *c == b' ';
    let start = v.iter().position(|c| !pad(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !pad(c)).map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or_default()
}

/// A trimmed value as text (lossy).
pub fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(trim_value(v)).into_owned()
}

/// Parses one complete PDU from the start of `b`. `Ok(None)` means more bytes are needed;
/// otherwise the PDU and the number of bytes it used are returned.
pub fn parse_pdu(b: &[u8]) -> Result<Option<(Pdu<'_>, usize)>, DicomError> {
    let Some(h) = parse_pdu_header(b) else {
        return Ok(None);
    };
    if !(PDU_ASSOCIATE_RQ..=PDU_ABORT).contains(&h.pdu_type) {
        return Err(DicomError::UnknownPduType {
            pdu_type: h.pdu_type,
        });
    }
    let total = 6usize.saturating_add(h.length as usize);
    let Some(body) = b.get(6..total) else {
        return Ok(None);
    };
    let pdu = parse_pdu_body(h.pdu_type, body)?;
    Ok(Some((pdu, total)))
}

/// Parses a PDU body (after the 6-byte header). Offsets in errors count from the PDU start.
pub fn parse_pdu_body(pdu_type: u8, body: &[u8]) -> Result<Pdu<'_>, DicomError> {
    match pdu_type {
        PDU_ASSOCIATE_RQ => parse_associate(body, false).map(Pdu::AssociateRq),
        PDU_ASSOCIATE_AC => parse_associate(body, true).map(Pdu::AssociateAc),
        PDU_ASSOCIATE_RJ => {
            let f = fixed4(body, "A-ASSOCIATE-RJ")?;
            Ok(Pdu::AssociateRj(Reject {
                result: f[1],
                source: f[2],
                reason: f[3],
            }))
        }
        PDU_P_DATA => parse_pdvs(body).map(Pdu::PData),
        PDU_RELEASE_RQ => fixed4(body, "A-RELEASE-RQ").map(|_| Pdu::ReleaseRq),
        PDU_RELEASE_RP => fixed4(body, "A-RELEASE-RP").map(|_| Pdu::ReleaseRp),
        PDU_ABORT => {
            let f = fixed4(body, "A-ABORT")?;
            Ok(Pdu::Abort(Abort {
                source: f[2],
                reason: f[3],
            }))
        }
        other => Err(DicomError::UnknownPduType { pdu_type: other }),
    }
}

fn fixed4<'a>(body: &'a [u8], what: &'static str) -> Result<&'a [u8], DicomError> {
    body.get(..4).ok_or(DicomError::Truncated {
        what,
        offset: 6,
        need: 4,
        have: body.len(),
    })
}

fn parse_pdvs(body: &[u8]) -> Result<Vec<Pdv<'_>>, DicomError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < body.len() {
        let len = be32(body, at).ok_or(DicomError::Truncated {
            what: "PDV item header",
            offset: 6 + at,
            need: 4,
            have: body.len() - at,
        })? as usize;
        if len < 2 {
            return Err(DicomError::Invalid {
                what: "PDV item",
                offset: 6 + at,
                problem: "length below 2",
            });
        }
        let data = body
            .get(at + 4..at + 4 + len)
            .ok_or(DicomError::Truncated {
                what: "PDV item",
                offset: 6 + at,
                need: len + 4,
                have: body.len() - at,
            })?;
        out.push(Pdv {
            context_id: data[0],
            control: data[1],
            data: &data[2..],
        });
        at += 4 + len;
    }
    Ok(out)
}

/// Iterates over `type, value, offset` items (1-byte type, 1 reserved, 2-byte BE length).
fn items(b: &[u8], base: usize) -> impl Iterator<Item = Result<(u8, &[u8], usize), DicomError>> {
    let mut at = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at >= b.len() {
            return None;
        }
        let Some(len) = be16(b, at + 2) else {
            failed = true;
            return Some(Err(DicomError::Truncated {
                what: "item header",
                offset: base + at,
                need: 4,
                have: b.len() - at,
            }));
        };
        let ty = b[at];
        let start = at + 4;
        let end = start + len as usize;
        match b.get(start..end) {
            Some(v) => {
                let off = base + at;
                at = end;
                Some(Ok((ty, v, off)))
            }
            None => {
                failed = true;
                Some(Err(DicomError::Truncated {
                    what: "item",
                    offset: base + at,
                    need: len as usize + 4,
                    have: b.len() - at,
                }))
            }
        }
    })
}

/// A UID-length-prefixed value inside a sub-item (role selection, extended negotiation).
fn uid_prefixed(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = be16(v, 0)? as usize;
    let uid = v.get(2..2 + n)?;
    Some((uid, v.get(2 + n..).unwrap_or_default()))
}

fn parse_associate(body: &[u8], is_ac: bool) -> Result<Associate<'_>, DicomError> {
    let what = if is_ac {
        "A-ASSOCIATE-AC"
    } else {
        "A-ASSOCIATE-RQ"
    };
    if body.len() < 68 {
        return Err(DicomError::Truncated {
            what,
            offset: 6,
            need: 68,
            have: body.len(),
        });
    }
    let mut a = Associate {
        protocol_version: be16(body, 0).unwrap_or_default(),
        called_ae: trim_value(&body[4..20]),
        calling_ae: trim_value(&body[20..36]),
        ..Associate::default()
    };
    for item in items(&body[68..], 6 + 68) {
        let (ty, v, off) = item?;
        match ty {
            0x10 => a.application_context = Some(trim_value(v)),
            0x20 | 0x21 => {
                let mut pc = PresentationContext {
                    id: *v.first().ok_or(DicomError::Truncated {
                        what: "presentation context item",
                        offset: off,
                        need: 8,
                        have: v.len() + 4,
                    })?,
                    ..PresentationContext::default()
                };
                if is_ac {
                    pc.result = v.get(2).copied();
                }
                for sub in items(v.get(4..).unwrap_or_default(), off + 8) {
                    let (sty, sv, _) = sub?;
                    match sty {
                        0x30 => pc.abstract_syntax = Some(trim_value(sv)),
                        0x40 => pc.transfer_syntaxes.push(trim_value(sv)),
                        _ => {}
                    }
                }
                a.presentation_contexts.push(pc);
            }
            0x50 => parse_user_info(v, off + 4, &mut a.user)?,
            _ => {}
        }
    }
    Ok(a)
}

fn parse_user_info<'a>(v: &'a [u8], base: usize, u: &mut UserInfo<'a>) -> Result<(), DicomError> {
    for sub in items(v, base) {
        let (ty, sv, off) = sub?;
        match ty {
            0x51 => u.max_pdu_length = be32(sv, 0),
            0x52 => u.implementation_class_uid = Some(trim_value(sv)),
            0x53 => {
                if let (Some(i), Some(p)) = (be16(sv, 0), be16(sv, 2)) {
                    u.async_ops = Some((i, p));
                }
            }
            0x54 => {
                let (uid, rest) = uid_prefixed(sv).ok_or(DicomError::Invalid {
                    what: "SCP/SCU role selection sub-item",
                    offset: off,
                    problem: "UID length exceeds item",
                })?;
                u.role_selections.push(RoleSelection {
                    sop_class: trim_value(uid),
                    scu_role: rest.first().copied().unwrap_or_default(),
                    scp_role: rest.get(1).copied().unwrap_or_default(),
                });
            }
            0x55 => u.implementation_version_name = Some(trim_value(sv)),
            0x56 => {
                if let Some((uid, _)) = uid_prefixed(sv) {
                    u.extended_negotiation.push(trim_value(uid));
                }
            }
            0x57 => {
                if let Some((uid, _)) = uid_prefixed(sv) {
                    u.common_extended_negotiation.push(trim_value(uid));
                }
            }
            // Only the identity *type* is read; the primary/secondary fields that follow
            // (username, passcode, token) are never looked at.
            0x58 => u.user_identity_type = sv.first().copied(),
            0x59 => u.user_identity_response = true,
            _ => {}
        }
    }
    Ok(())
}

/// The DIMSE command set fields Ward keeps (PS3.7 group 0000, implicit VR little endian).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DimseCommand<'a> {
    pub command_field: Option<u16>,
    pub affected_sop_class: Option<&'a [u8]>,
    pub requested_sop_class: Option<&'a [u8]>,
    pub message_id: Option<u16>,
    pub responded_message_id: Option<u16>,
    /// Command Data Set Type: anything but 0x0101 means a dataset follows.
    pub data_set_type: Option<u16>,
    pub status: Option<u16>,
}

impl DimseCommand<'_> {
    pub fn has_dataset(&self) -> bool {
        matches!(self.data_set_type, Some(t) if t != 0x0101)
    }
    pub fn name(&self) -> &'static str {
        self.command_field.map_or("unknown", command_name)
    }
    pub fn sop_class(&self) -> Option<&[u8]> {
        self.affected_sop_class.or(self.requested_sop_class)
    }
}

/// The DIMSE name of a Command Field value (PS3.7 E.1).
pub fn command_name(field: u16) -> &'static str {
    match field {
        0x0001 => "C-STORE-RQ",
        0x8001 => "C-STORE-RSP",
        0x0010 => "C-GET-RQ",
        0x8010 => "C-GET-RSP",
        0x0020 => "C-FIND-RQ",
        0x8020 => "C-FIND-RSP",
        0x0021 => "C-MOVE-RQ",
        0x8021 => "C-MOVE-RSP",
        0x0030 => "C-ECHO-RQ",
        0x8030 => "C-ECHO-RSP",
        0x0100 => "N-EVENT-REPORT-RQ",
        0x8100 => "N-EVENT-REPORT-RSP",
        0x0110 => "N-GET-RQ",
        0x8110 => "N-GET-RSP",
        0x0120 => "N-SET-RQ",
        0x8120 => "N-SET-RSP",
        0x0130 => "N-ACTION-RQ",
        0x8130 => "N-ACTION-RSP",
        0x0140 => "N-CREATE-RQ",
        0x8140 => "N-CREATE-RSP",
        0x0150 => "N-DELETE-RQ",
        0x8150 => "N-DELETE-RSP",
        0x0FFF => "C-CANCEL-RQ",
        _ => "unknown",
    }
}

/// Parses a complete DIMSE command set (group 0000 elements, implicit VR little endian).
pub fn parse_command_set(b: &[u8]) -> Result<DimseCommand<'_>, DicomError> {
    let mut c = DimseCommand::default();
    let mut at = 0usize;
    while at < b.len() {
        let (Some(group), Some(elem), Some(len)) = (le16(b, at), le16(b, at + 2), le32(b, at + 4))
        else {
            return Err(DicomError::Truncated {
                what: "command element header",
                offset: at,
                need: 8,
                have: b.len() - at,
            });
        };
        if group != 0x0000 {
            return Err(DicomError::Invalid {
                what: "command element",
                offset: at,
                problem: "tag outside the command group 0000",
            });
        }
        let v =
            b.get(at + 8..(at + 8).saturating_add(len as usize))
                .ok_or(DicomError::Truncated {
                    what: "command element value",
                    offset: at + 8,
                    need: len as usize,
                    have: b.len() - at - 8,
                })?;
        let us = || le16(v, 0);
        match elem {
            0x0002 => c.affected_sop_class = Some(trim_value(v)),
            0x0003 => c.requested_sop_class = Some(trim_value(v)),
            0x0100 => c.command_field = us(),
            0x0110 => c.message_id = us(),
            0x0120 => c.responded_message_id = us(),
            0x0800 => c.data_set_type = us(),
            0x0900 => c.status = us(),
            _ => {}
        }
        at += 8 + v.len();
    }
    if c.command_field.is_none() {
        return Err(DicomError::Invalid {
            what: "command set",
            offset: 0,
            problem: "no Command Field (0000,0100)",
        });
    }
    Ok(c)
}

/// The identifying device elements of a stored object's header. Nothing else is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceHeader<'a> {
    pub modality: Option<&'a [u8]>,
    pub manufacturer: Option<&'a [u8]>,
    pub station_name: Option<&'a [u8]>,
    pub model_name: Option<&'a [u8]>,
    pub device_serial_number: Option<&'a [u8]>,
    pub software_versions: Option<&'a [u8]>,
}

/// How a dataset is encoded, from the accepted transfer syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetEncoding {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
    /// Deflated or unknown: not read.
    Opaque,
}

impl DatasetEncoding {
    pub fn from_transfer_syntax(ts: &[u8]) -> DatasetEncoding {
        match trim_value(ts) {
            b"1.2.840.10008.1.2" => DatasetEncoding::ImplicitLittle,
            b"1.2.840.10008.1.2.2" => DatasetEncoding::ExplicitBig,
            b"1.2.840.10008.1.2.1.99" => DatasetEncoding::Opaque,
            // Every other standard transfer syntax (encapsulated pixel data included) is
            // explicit VR little endian for the header elements.
            t if t.starts_with(b"1.2.840.10008.1.2.") => DatasetEncoding::ExplicitLittle,
            _ => DatasetEncoding::Opaque,
        }
    }
}

/// Guesses a dataset's encoding from its first element when the transfer syntax is
/// unknown: explicit VR little endian when bytes 4-5 are two upper-case letters (a VR),
/// implicit VR little endian otherwise.
pub fn sniff_encoding(ds: &[u8]) -> DatasetEncoding {
    match ds.get(4..6) {
        Some([a, b]) if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
            DatasetEncoding::ExplicitLittle
        }
        _ => DatasetEncoding::ImplicitLittle,
    }
}

/// Walks the first elements of a dataset and returns the device elements found before
/// the first tag past (0018,1020). Other elements are stepped over by their length, never
/// decoded; a sequence or value of undefined length ends the walk.
pub fn read_device_elements(ds: &[u8], enc: DatasetEncoding) -> DeviceHeader<'_> {
    let mut h = DeviceHeader::default();
    let big = enc == DatasetEncoding::ExplicitBig;
    let explicit = matches!(
        enc,
        DatasetEncoding::ExplicitLittle | DatasetEncoding::ExplicitBig
    );
    if enc == DatasetEncoding::Opaque {
        return h;
    }
    let rd16 = |at: usize| if big { be16(ds, at) } else { le16(ds, at) };
    let rd32 = |at: usize| if big { be32(ds, at) } else { le32(ds, at) };
    let mut at = 0usize;
    // Bounded: each step advances by at least 8 bytes.
    while at < ds.len() {
        let (Some(g), Some(e)) = (rd16(at), rd16(at + 2)) else {
            break;
        };
        let tag = (u32::from(g) << 16) | u32::from(e);
        if tag > 0x0018_1020 {
            break;
        }
        let (len, hdr) = if explicit {
            let Some(vr) = ds.get(at + 4..at + 6) else {
                break;
            };
            if matches!(
                vr,
                b"OB"
                    | b"OD"
                    | b"OF"
                    | b"OL"
                    | b"OV"
                    | b"OW"
                    | b"SQ"
                    | b"SV"
                    | b"UC"
                    | b"UN"
                    | b"UR"
                    | b"UT"
                    | b"UV"
            ) {
                let Some(l) = rd32(at + 8) else { break };
                (l, 12)
            } else {
                let Some(l) = rd16(at + 6) else { break };
                (u32::from(l), 8)
            }
        } else {
            let Some(l) = rd32(at + 4) else { break };
            (l, 8)
        };
        if len == u32::MAX {
            break;
        }
        let start = at + hdr;
        let end = start.saturating_add(len as usize);
        let slot = match tag {
            0x0008_0060 => Some(&mut h.modality),
            0x0008_0070 => Some(&mut h.manufacturer),
            0x0008_1010 => Some(&mut h.station_name),
            0x0008_1090 => Some(&mut h.model_name),
            0x0018_1000 => Some(&mut h.device_serial_number),
            0x0018_1020 => Some(&mut h.software_versions),
            _ => None,
        };
        if let Some(slot) = slot {
            match ds.get(start..end) {
                Some(v) => *slot = Some(trim_value(v)),
                None => break,
            }
        }
        at = end;
    }
    h
}

/// Text of an A-ASSOCIATE-RJ result (PS3.8 9.3.4), as tshark names it.
pub fn reject_result_text(r: u8) -> &'static str {
    match r {
        1 => "rejected-permanent",
        2 => "rejected-transient",
        _ => "unknown",
    }
}

/// Text of an A-ASSOCIATE-RJ source.
pub fn reject_source_text(s: u8) -> &'static str {
    match s {
        1 => "DICOM UL service-user",
        2 => "DICOM UL service-provider (ACSE related function)",
        3 => "DICOM UL service-provider (presentation related function)",
        _ => "unknown",
    }
}

/// Text of an A-ASSOCIATE-RJ reason, which depends on the source.
pub fn reject_reason_text(source: u8, reason: u8) -> &'static str {
    match (source, reason) {
        (1, 1) | (2, 1) => "no-reason-given",
        (1, 2) => "application-context-name-not-supported",
        (1, 3) => "calling-AE-title-not-recognized",
        (1, 7) => "called-AE-title-not-recognized",
        (2, 2) => "protocol-version-not-supported",
        (3, 1) => "temporary-congestion",
        (3, 2) => "local-limit-exceeded",
        _ => "reserved",
    }
}

/// Text of an A-ABORT source.
pub fn abort_source_text(s: u8) -> &'static str {
    match s {
        0 => "DICOM UL service-user (initiated abort)",
        2 => "DICOM UL service-provider (initiated abort)",
        _ => "reserved",
    }
}

/// Text of an A-ABORT reason (meaningful for provider-initiated aborts).
pub fn abort_reason_text(r: u8) -> &'static str {
    match r {
        0 => "reason-not-specified",
        1 => "unrecognized-PDU",
        2 => "unexpected-PDU",
        4 => "unrecognized-PDU-parameter",
        5 => "unexpected-PDU-parameter",
        6 => "invalid-PDU-parameter-value",
        _ => "reserved",
    }
}

/// Text of a presentation context result (A-ASSOCIATE-AC).
pub fn context_result_text(r: u8) -> &'static str {
    match r {
        0 => "acceptance",
        1 => "user-rejection",
        2 => "no-reason",
        3 => "abstract-syntax-not-supported",
        4 => "transfer-syntaxes-not-supported",
        _ => "reserved",
    }
}

/// Does `b` start with something that looks like a PDU header? `None`: too few bytes to
/// tell. Strict enough to resynchronise a stream picked up in the middle: each PDU type
/// has fixed bytes or an internal length that must agree.
pub fn looks_like_pdu(b: &[u8]) -> Option<bool> {
    let h = parse_pdu_header(b)?;
    if b[1] != 0 {
        return Some(false);
    }
    let len = h.length;
    Some(match h.pdu_type {
        PDU_ASSOCIATE_RQ | PDU_ASSOCIATE_AC => {
            let v = b.get(6..10)?;
            (68..MAX_CONTROL_PDU as u32).contains(&len) && v == [0, 1, 0, 0]
        }
        PDU_ASSOCIATE_RJ => {
            let v = b.get(6..10)?;
            len == 4 && v[0] == 0 && (1..=2).contains(&v[1]) && (1..=3).contains(&v[2])
        }
        PDU_P_DATA => {
            let pdv_len = be32(b, 6)?;
            let ctx = *b.get(10)?;
            let mch = *b.get(11)?;
            (6..=(1 << 26)).contains(&len)
                && pdv_len >= 2
                && pdv_len.saturating_add(4) <= len
                && ctx % 2 == 1
                && mch <= 3
        }
        PDU_RELEASE_RQ | PDU_RELEASE_RP => len == 4 && b.get(6..10)? == [0, 0, 0, 0],
        PDU_ABORT => {
            let v = b.get(6..10)?;
            len == 4 && v[0] == 0 && v[1] == 0 && (v[2] == 0 || v[2] == 2) && v[3] <= 6
        }
        _ => false,
    })
}

/// Calling AE titles that ship as defaults in DICOM toolkits and test tools (DCMTK's
/// storescu/echoscu/findscu/movescu/getscu, pynetdicom, dcm4che, Orthanc). An SCP that
/// accepts one of them, or accepts an association whose called AE title is empty or a
/// wildcard, is not checking who calls it. Sources: DCMTK man pages (default "ECHOSCU",
/// "STORESCU" ...), pynetdicom `AE()` default "PYNETDICOM", dcm4che tools default
/// "DCM4CHE", "ANY-SCU"/"ANY-SCP" in the pynetdicom documentation examples.
pub const GENERIC_AE_TITLES: &[&str] = &[
    "ANY-SCU",
    "ANY-SCP",
    "ANY",
    "ANYAE",
    "STORESCU",
    "STORESCP",
    "ECHOSCU",
    "FINDSCU",
    "MOVESCU",
    "GETSCU",
    "PYNETDICOM",
    "DCM4CHE",
    "DCMQRSCP",
    "ORTHANC",
    "DEFAULT",
    "TEST",
    "SCU",
];

fn is_generic_ae(ae: &str) -> bool {
    ae.is_empty() || GENERIC_AE_TITLES.iter().any(|g| g.eq_ignore_ascii_case(ae))
}

// ---------------------------------------------------------------------------------------
// Dissector and per-flow state machine
// ---------------------------------------------------------------------------------------

/// The DICOM upper-layer dissector (TCP 104, 11112, 4242, 2761/2762 and any port by content).
#[derive(Debug, Default, Clone, Copy)]
pub struct DicomDissector;

impl Dissector for DicomDissector {
    fn name(&self) -> &'static str {
        "dicom"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[
            (Transport::Tcp, 104),
            (Transport::Tcp, 11112),
            (Transport::Tcp, 4242),
            (Transport::Tcp, 2761),
            (Transport::Tcp, 2762),
        ]
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
    fn new_parser(&self, meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(DicomParser::new(meta.midstream))
    }
}

/// Content probe: an A-ASSOCIATE-RQ at the start of a stream, or, for a stream picked up
/// in the middle, any PDU header found within the first bytes.
pub fn probe_bytes(data: &[u8], midstream: bool) -> Probe {
    if data.len() < 10 {
        return if data.first().is_some_and(|b| (1..=7).contains(b)) || midstream {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    }
    if data[0] == PDU_ASSOCIATE_RQ && looks_like_pdu(data) == Some(true) {
        return Probe::Match;
    }
    if midstream {
        // Look for the next PDU header within the chunk (bounded).
        let limit = data.len().min(64 * 1024);
        for i in 0..limit {
            if (1..=7).contains(&data[i]) && looks_like_pdu(&data[i..]) == Some(true) {
                return Probe::Match;
            }
        }
        return Probe::NeedMore;
    }
    Probe::NoMatch
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting the 6-byte PDU header.
    Header,
    /// Buffering a control PDU body.
    Control { remaining: usize },
    /// Skipping a PDU body that is not worth reading (oversized control PDU).
    Skip { remaining: usize },
    /// Inside a P-DATA-TF, at a PDV item boundary; `pdu_left` bytes of the PDU remain.
    PdvHeader { pdu_left: usize },
    /// Inside a PDV's data.
    PdvData {
        pdu_left: usize,
        remaining: usize,
        command: bool,
        last: bool,
        context: u8,
    },
    /// Lost: looking for the next PDU header.
    Hunt,
}

/// Per-direction stream state.
struct Stream {
    state: State,
    /// Header bytes (PDU or PDV) collected so far.
    hdr: [u8; 12],
    hdr_len: usize,
    /// Control PDU body being buffered.
    ctl: Vec<u8>,
    ctl_type: u8,
    /// DIMSE command set fragments being buffered.
    cmd: Vec<u8>,
    /// Bytes of the first dataset fragment after a C-STORE-RQ command, for device elements.
    dev: Vec<u8>,
    /// A C-STORE-RQ command with a dataset was just seen on this context.
    want_device: Option<u8>,
    /// Tail of the previous chunk while hunting (a header may straddle chunks).
    carry: Vec<u8>,
}

impl Stream {
    fn new(hunting: bool) -> Self {
        Stream {
            state: if hunting { State::Hunt } else { State::Header },
            hdr: [0; 12],
            hdr_len: 0,
            ctl: Vec::new(),
            ctl_type: 0,
            cmd: Vec::new(),
            dev: Vec::new(),
            want_device: None,
            carry: Vec::new(),
        }
    }
}

/// A proposed presentation context remembered until the A-ASSOCIATE-AC.
struct Proposed {
    id: u8,
    abstract_syntax: String,
    transfer_syntaxes: Vec<String>,
}

/// What one association looked like, for emission when it ends.
#[derive(Default)]
struct Association {
    calling_ae: String,
    called_ae: String,
    proposed: Vec<Proposed>,
    user_identity: bool,
    accepted: bool,
    outcome_emitted: bool,
    requested_by: Option<Side>,
}

/// Per-flow DICOM state machine.
pub struct DicomParser {
    streams: [Stream; 2],
    assoc: Association,
    /// Dataset encoding per presentation context id (from the A-ASSOCIATE-AC).
    encodings: Vec<(u8, DatasetEncoding)>,
    /// Device header values already emitted on this flow (emit on change only).
    device_seen: Vec<(&'static str, String)>,
    /// Malformed PDUs seen (reported once at the end).
    errors: u32,
    first_error: Option<DicomError>,
    cleartext_checked: bool,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl DicomParser {
    /// A parser for a flow seen from its start (`midstream == false`) or picked up in the
    /// middle (it then hunts for the next PDU header).
    pub fn new(midstream: bool) -> Self {
        DicomParser {
            streams: [Stream::new(midstream), Stream::new(midstream)],
            assoc: Association::default(),
            encodings: Vec::new(),
            device_seen: Vec::new(),
            errors: 0,
            first_error: None,
            cleartext_checked: false,
        }
    }

    /// Errors met so far (malformed PDUs, unparseable command sets).
    pub fn error_count(&self) -> u32 {
        self.errors
    }

    fn note_error(&mut self, e: DicomError) {
        self.errors = self.errors.saturating_add(1);
        tracing::debug!(error = %e, "dicom: malformed PDU");
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }

    /// Feeds stream bytes of one direction.
    pub fn feed(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        dir: Direction,
        data: &[u8],
        out: &mut Facts,
    ) {
        let side = Side::sender(dir);
        let mut pos = 0usize;
        // Each iteration consumes at least one byte or changes state in a way that the
        // next one consumes; the guard makes a bug a stall, never a hang.
        let mut guard = data.len().saturating_mul(2).saturating_add(64);
        while pos < data.len() && guard > 0 {
            guard -= 1;
            let s = &mut self.streams[idx(dir)];
            match s.state {
                State::Hunt => {
                    let (used, replay) = self.hunt(dir, &data[pos..]);
                    pos += used;
                    if let Some(replay) = replay {
                        // The header began in the previous chunk: feed those bytes first.
                        self.feed(ctx, dir, &replay, out);
                    }
                }
                State::Header => {
                    let need = 6 - s.hdr_len;
                    let take = need.min(data.len() - pos);
                    s.hdr[s.hdr_len..s.hdr_len + take].copy_from_slice(&data[pos..pos + take]);
                    s.hdr_len += take;
                    pos += take;
                    if s.hdr_len == 6 {
                        s.hdr_len = 0;
                        let ty = s.hdr[0];
                        let len =
                            u32::from_be_bytes([s.hdr[2], s.hdr[3], s.hdr[4], s.hdr[5]]) as usize;
                        if !(PDU_ASSOCIATE_RQ..=PDU_ABORT).contains(&ty) || s.hdr[1] != 0 {
                            let e = DicomError::UnknownPduType { pdu_type: ty };
                            self.streams[idx(dir)].state = State::Hunt;
                            self.note_error(e);
                            continue;
                        }
                        if ty == PDU_P_DATA {
                            s.state = if len == 0 {
                                State::Header
                            } else {
                                State::PdvHeader { pdu_left: len }
                            };
                        } else if len > MAX_CONTROL_PDU {
                            s.state = State::Skip { remaining: len };
                        } else {
                            s.ctl.clear();
                            s.ctl_type = ty;
                            s.state = State::Control { remaining: len };
                            if len == 0 {
                                self.finish_control(ctx, dir, out);
                            }
                        }
                    }
                }
                State::Control { remaining } => {
                    let take = remaining.min(data.len() - pos);
                    s.ctl.extend_from_slice(&data[pos..pos + take]);
                    pos += take;
                    s.state = State::Control {
                        remaining: remaining - take,
                    };
                    if remaining == take {
                        self.finish_control(ctx, dir, out);
                    }
                }
                State::Skip { remaining } => {
                    let take = remaining.min(data.len() - pos);
                    pos += take;
                    s.state = if remaining == take {
                        State::Header
                    } else {
                        State::Skip {
                            remaining: remaining - take,
                        }
                    };
                }
                State::PdvHeader { pdu_left } => {
                    let need = 6 - s.hdr_len;
                    let take = need.min(data.len() - pos);
                    s.hdr[s.hdr_len..s.hdr_len + take].copy_from_slice(&data[pos..pos + take]);
                    s.hdr_len += take;
                    pos += take;
                    if s.hdr_len == 6 {
                        s.hdr_len = 0;
                        let len =
                            u32::from_be_bytes([s.hdr[0], s.hdr[1], s.hdr[2], s.hdr[3]]) as usize;
                        if len < 2 || pdu_left < 6 || len + 4 > pdu_left {
                            s.state = State::Hunt;
                            self.note_error(DicomError::Invalid {
                                what: "PDV item",
                                offset: 0,
                                problem: "length does not fit its P-DATA-TF PDU",
                            });
                            continue;
                        }
                        let context = s.hdr[4];
                        let mch = s.hdr[5];
                        let command = mch & 1 != 0;
                        s.state = State::PdvData {
                            pdu_left: pdu_left - 4 - len,
                            remaining: len - 2,
                            command,
                            last: mch & 2 != 0,
                            context,
                        };
                        if len == 2 {
                            self.finish_pdv(dir, side, out);
                        }
                    }
                }
                State::PdvData {
                    pdu_left,
                    remaining,
                    command,
                    last,
                    context,
                } => {
                    let take = remaining.min(data.len() - pos);
                    let chunk = &data[pos..pos + take];
                    if command {
                        if s.cmd.len() + take <= MAX_COMMAND_SET {
                            s.cmd.extend_from_slice(chunk);
                        }
                    } else if s.want_device == Some(context) && s.dev.len() < DEVICE_HEADER_WINDOW {
                        let room = DEVICE_HEADER_WINDOW - s.dev.len();
                        s.dev.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    }
                    // Otherwise dataset bytes are skipped: never copied, never scanned.
                    pos += take;
                    s.state = State::PdvData {
                        pdu_left,
                        remaining: remaining - take,
                        command,
                        last,
                        context,
                    };
                    if remaining == take {
                        self.finish_pdv(dir, side, out);
                    }
                }
            }
        }
    }

    /// Scans for the next PDU header. Returns how many bytes of `data` were consumed and,
    /// when the header began in the previous chunk's tail, the carried bytes to replay.
    fn hunt(&mut self, dir: Direction, data: &[u8]) -> (usize, Option<Vec<u8>>) {
        let s = &mut self.streams[idx(dir)];
        // First, headers straddling the previous chunk's tail and this chunk's head.
        if !s.carry.is_empty() {
            let mut joint = std::mem::take(&mut s.carry);
            let carried = joint.len();
            joint.extend_from_slice(&data[..data.len().min(12)]);
            for i in 0..carried {
                if looks_like_pdu(&joint[i..]) == Some(true) {
                    s.state = State::Header;
                    s.hdr_len = 0;
                    joint.truncate(carried);
                    joint.drain(..i);
                    return (0, Some(joint));
                }
            }
        }
        let n = data.len();
        for i in 0..n {
            if !(1..=7).contains(&data[i]) {
                continue;
            }
            match looks_like_pdu(&data[i..]) {
                Some(true) => {
                    s.state = State::Header;
                    s.hdr_len = 0;
                    return (i, None);
                }
                Some(false) => {}
                None => {
                    // Too close to the end of the chunk to tell: keep the tail (< 12 bytes).
                    s.carry.extend_from_slice(&data[i..]);
                    return (n, None);
                }
            }
        }
        (n, None)
    }

    fn finish_pdv(&mut self, dir: Direction, side: Side, out: &mut Facts) {
        let s = &mut self.streams[idx(dir)];
        let State::PdvData {
            pdu_left,
            command,
            last,
            context,
            ..
        } = s.state
        else {
            return;
        };
        s.state = if pdu_left == 0 {
            State::Header
        } else {
            State::PdvHeader { pdu_left }
        };
        if command {
            if last {
                let cmd = std::mem::take(&mut s.cmd);
                match parse_command_set(&cmd) {
                    Ok(c) => {
                        let wants = c.command_field == Some(0x0001) && c.has_dataset();
                        self.emit_command(side, &c, out);
                        let s = &mut self.streams[idx(dir)];
                        s.want_device = if wants { Some(context) } else { None };
                        s.dev.clear();
                    }
                    Err(e) => self.note_error(e),
                }
                let s = &mut self.streams[idx(dir)];
                let mut cmd = cmd;
                cmd.clear();
                s.cmd = cmd;
            }
        } else if s.want_device == Some(context) {
            // The first dataset fragment of a C-STORE: read the device elements, then
            // forget the bytes.
            let dev = std::mem::take(&mut s.dev);
            s.want_device = None;
            // Picked up mid-association, the accepted transfer syntax is unknown: tell
            // explicit from implicit VR by whether bytes 4-5 spell a VR.
            let enc = self
                .encodings
                .iter()
                .find(|(id, _)| *id == context)
                .map_or_else(|| sniff_encoding(&dev), |(_, e)| *e);
            let h = read_device_elements(&dev, enc);
            self.emit_device(side, &h, out);
        }
    }

    fn finish_control(&mut self, ctx: Option<&FlowCtx<'_>>, dir: Direction, out: &mut Facts) {
        let s = &mut self.streams[idx(dir)];
        s.state = State::Header;
        let ty = s.ctl_type;
        let body = std::mem::take(&mut s.ctl);
        let side = Side::sender(dir);
        match parse_pdu_body(ty, &body) {
            Ok(pdu) => self.on_control(ctx, side, &pdu, out),
            Err(e) => self.note_error(e),
        }
        let mut body = body;
        body.clear();
        self.streams[idx(dir)].ctl = body;
    }

    fn on_control(
        &mut self,
        ctx: Option<&FlowCtx<'_>>,
        side: Side,
        pdu: &Pdu<'_>,
        out: &mut Facts,
    ) {
        let peer = other(side);
        match pdu {
            Pdu::AssociateRq(a) => {
                out.protocol("dicom");
                let calling = a.calling_ae_str();
                let called = a.called_ae_str();
                out.fact(side, "dicom.calling_ae", &calling);
                out.fact(side, "dicom.ae_title", &calling);
                out.fact(side, "dicom.role", "SCU");
                out.fact(peer, "dicom.called_ae", &called);
                out.fact(peer, "dicom.role", "SCP");
                if let Some(ac) = a.application_context {
                    out.fact_bytes(side, "dicom.application_context", ac);
                }
                self.emit_user_info(side, &a.user, out);
                let mut proposed = Vec::with_capacity(a.presentation_contexts.len());
                for pc in &a.presentation_contexts {
                    let abs = pc.abstract_syntax.map(text).unwrap_or_default();
                    out.fact(side, "dicom.abstract_syntax", &abs);
                    proposed.push(Proposed {
                        id: pc.id,
                        abstract_syntax: abs,
                        transfer_syntaxes: pc.transfer_syntaxes.iter().map(|t| text(t)).collect(),
                    });
                }
                self.assoc = Association {
                    calling_ae: calling,
                    called_ae: called,
                    proposed,
                    user_identity: a.user.user_identity_type.is_some(),
                    accepted: false,
                    outcome_emitted: false,
                    requested_by: Some(side),
                };
                self.encodings.clear();
                if !self.cleartext_checked {
                    self.cleartext_checked = true;
                    if let Some(ctx) = ctx {
                        cleartext_check(ctx, side, out);
                    }
                }
            }
            Pdu::AssociateAc(a) => {
                out.protocol("dicom");
                out.fact(side, "dicom.role", "SCP");
                out.fact(side, "dicom.ae_title", a.called_ae_str());
                self.emit_user_info(side, &a.user, out);
                self.assoc.accepted = true;
                for pc in &a.presentation_contexts {
                    let result = pc.result.unwrap_or(0xff);
                    let ts = pc.transfer_syntaxes.first().map(|t| text(t));
                    if result == 0 {
                        if let Some(t) = &ts {
                            self.encodings
                                .push((pc.id, DatasetEncoding::from_transfer_syntax(t.as_bytes())));
                        }
                    }
                    let prop = self.assoc.proposed.iter().find(|p| p.id == pc.id);
                    let abs = prop.map(|p| p.abstract_syntax.as_str()).unwrap_or("");
                    if result == 0 && !abs.is_empty() {
                        out.fact(side, "dicom.service_scp", abs);
                        out.fact(peer, "dicom.service_scu", abs);
                    }
                    let mut v = format!("id={} abstract={abs}", pc.id);
                    if let Some(p) = prop {
                        v.push_str(" proposed=");
                        v.push_str(&p.transfer_syntaxes.join(","));
                    }
                    v.push_str(" result=");
                    v.push_str(context_result_text(result));
                    if result == 0 {
                        if let Some(t) = ts {
                            v.push_str(" accepted=");
                            v.push_str(&t);
                        }
                    }
                    out.fact(side, "dicom.presentation_context", v);
                }
                if !self.assoc.user_identity {
                    out.security(
                        side,
                        SecurityKind::DicomNoUserIdentity,
                        Severity::Low,
                        format!(
                            "association from calling AE {:?} accepted without user identity negotiation",
                            self.assoc.calling_ae
                        ),
                    );
                }
                let calling = &self.assoc.calling_ae;
                let called = &self.assoc.called_ae;
                if is_generic_ae(calling) || is_generic_ae(called) {
                    out.security(
                        side,
                        SecurityKind::DicomAcceptsAnyCaller,
                        Severity::Medium,
                        format!(
                            "SCP accepted an association with generic AE titles (calling {calling:?}, called {called:?})"
                        ),
                    );
                }
            }
            Pdu::AssociateRj(r) => {
                out.protocol("dicom");
                out.fact(side, "dicom.role", "SCP");
                let v = format!(
                    "result={} ({}) source={} ({}) reason={} ({})",
                    r.result,
                    reject_result_text(r.result),
                    r.source,
                    reject_source_text(r.source),
                    r.reason,
                    reject_reason_text(r.source, r.reason)
                );
                out.fact(side, "dicom.reject", &v);
                self.emit_outcome(side, "rejected", out);
                out.security(
                    peer,
                    SecurityKind::DicomAssociationRejected,
                    Severity::Low,
                    format!(
                        "association from calling AE {:?} to called AE {:?} rejected: {}",
                        self.assoc.calling_ae,
                        self.assoc.called_ae,
                        reject_reason_text(r.source, r.reason)
                    ),
                );
            }
            Pdu::ReleaseRq => out.fact(side, "dicom.release", "A-RELEASE-RQ"),
            Pdu::ReleaseRp => {
                out.fact(side, "dicom.release", "A-RELEASE-RP");
                if self.assoc.accepted {
                    let acceptor = self.acceptor_side();
                    self.emit_outcome(acceptor, "accepted", out);
                }
            }
            Pdu::Abort(ab) => {
                out.fact(
                    side,
                    "dicom.abort",
                    format!(
                        "source={} ({}) reason={} ({})",
                        ab.source,
                        abort_source_text(ab.source),
                        ab.reason,
                        abort_reason_text(ab.reason)
                    ),
                );
                let acceptor = self.acceptor_side();
                let outcome = if self.assoc.accepted {
                    "accepted, then aborted"
                } else {
                    "aborted"
                };
                self.emit_outcome(acceptor, outcome, out);
            }
            Pdu::PData(_) => {}
        }
    }

    fn acceptor_side(&self) -> Side {
        self.assoc.requested_by.map_or(Side::Server, other)
    }

    fn emit_outcome(&mut self, acceptor: Side, outcome: &str, out: &mut Facts) {
        if !self.assoc.outcome_emitted {
            self.assoc.outcome_emitted = true;
            out.fact(acceptor, "dicom.association", outcome);
        }
    }

    fn emit_user_info(&self, side: Side, u: &UserInfo<'_>, out: &mut Facts) {
        if let Some(uid) = u.implementation_class_uid {
            out.fact_bytes(side, "dicom.implementation_class_uid", uid);
        }
        if let Some(v) = u.implementation_version_name {
            out.fact_bytes(side, "dicom.implementation_version", v);
        }
        if let Some(m) = u.max_pdu_length {
            out.fact(side, "dicom.max_pdu_length", m.to_string());
        }
        if let Some(t) = u.user_identity_type {
            let name = match t {
                1 => "username",
                2 => "username+passcode",
                3 => "kerberos",
                4 => "saml",
                5 => "jwt",
                _ => "other",
            };
            out.fact(side, "dicom.user_identity", name);
        }
        for r in &u.role_selections {
            out.fact(
                side,
                "dicom.role_selection",
                format!(
                    "{} scu={} scp={}",
                    text(r.sop_class),
                    r.scu_role,
                    r.scp_role
                ),
            );
        }
        for uid in &u.extended_negotiation {
            out.fact_bytes(side, "dicom.extended_negotiation", uid);
        }
        for uid in &u.common_extended_negotiation {
            out.fact_bytes(side, "dicom.common_extended_negotiation", uid);
        }
    }

    fn emit_command(&mut self, side: Side, c: &DimseCommand<'_>, out: &mut Facts) {
        out.protocol("dicom");
        let name = c.name();
        out.fact(side, "dicom.command", name);
        let mut v = String::with_capacity(64);
        v.push_str(name);
        if let Some(uid) = c.sop_class() {
            v.push(' ');
            v.push_str(&String::from_utf8_lossy(uid));
        }
        if let Some(st) = c.status {
            v.push_str(&format!(" status=0x{st:04X}"));
        }
        out.fact(side, "dicom.dimse", v);
    }

    fn emit_device(&mut self, side: Side, h: &DeviceHeader<'_>, out: &mut Facts) {
        let fields: [(&'static str, Option<&[u8]>); 6] = [
            ("dicom.manufacturer", h.manufacturer),
            ("dicom.model_name", h.model_name),
            ("dicom.software_versions", h.software_versions),
            ("dicom.device_serial_number", h.device_serial_number),
            ("dicom.modality", h.modality),
            ("dicom.station_name", h.station_name),
        ];
        for (key, v) in fields {
            let Some(v) = v.filter(|v| !v.is_empty()) else {
                continue;
            };
            let v = String::from_utf8_lossy(v);
            if self
                .device_seen
                .iter()
                .any(|(k, old)| *k == key && *old == v)
            {
                continue;
            }
            if self.device_seen.len() < 64 {
                self.device_seen.push((key, v.to_string()));
            }
            out.fact(side, key, v);
        }
    }
}

fn other(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

fn is_rfc1918_or_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// DICOM in cleartext crossing the site boundary: to or from an internet address (high),
/// or with an address outside RFC 1918 / ULA / link-local space that is not on the
/// internet either (CGNAT, reserved: medium, usually a VPN or carrier link).
fn cleartext_check(ctx: &FlowCtx<'_>, requestor: Side, out: &mut Facts) {
    let (c, s) = (ctx.meta.client.ip, ctx.meta.server.ip);
    let mut worst: Option<(Severity, IpAddr)> = None;
    for ip in [c, s].into_iter().flatten() {
        let sev = if is_internet_address(&ip) {
            Severity::High
        } else if !is_rfc1918_or_local(&ip) {
            Severity::Medium
        } else {
            continue;
        };
        if worst.is_none_or(|(w, _)| sev > w) {
            worst = Some((sev, ip));
        }
    }
    if let Some((sev, ip)) = worst {
        out.security(
            requestor,
            SecurityKind::DicomWithoutTls,
            sev,
            format!(
                "DICOM association in cleartext with {ip} outside the site's private address space"
            ),
        );
    }
}

impl FlowParser for DicomParser {
    fn data(&mut self, ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        self.feed(Some(ctx), dir, data, out);
    }

    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        let s = &mut self.streams[idx(dir)];
        // Bytes are gone: whatever we were inside of is lost; find the next PDU.
        s.state = State::Hunt;
        s.hdr_len = 0;
        s.ctl.clear();
        s.cmd.clear();
        s.dev.clear();
        s.want_device = None;
        s.carry.clear();
    }

    fn end(&mut self, _ctx: &FlowCtx<'_>, out: &mut Facts) {
        if self.assoc.accepted {
            let acceptor = self.acceptor_side();
            self.emit_outcome(acceptor, "accepted", out);
        }
        if let Some(e) = &self.first_error {
            tracing::debug!(errors = self.errors, first = %e, "dicom: flow had malformed PDUs");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rq_bytes() -> Vec<u8> {
        // A-ASSOCIATE-RQ: calling "MODALITY", called "PACS", one presentation context
        // (Verification, implicit VR LE), user info with max length, UID and version.
        let mut items = Vec::new();
        let push_item = |v: &mut Vec<u8>, ty: u8, body: &[u8]| {
            v.push(ty);
            v.push(0);
            v.extend_from_slice(&(body.len() as u16).to_be_bytes());
            v.extend_from_slice(body);
        };
        push_item(&mut items, 0x10, b"1.2.840.10008.3.1.1.1");
        let mut pc = vec![1, 0, 0, 0];
        push_item(&mut pc, 0x30, b"1.2.840.10008.1.1");
        push_item(&mut pc, 0x40, b"1.2.840.10008.1.2");
        push_item(&mut items, 0x20, &pc);
        let mut ui = Vec::new();
        push_item(&mut ui, 0x51, &16384u32.to_be_bytes());
        push_item(&mut ui, 0x52, b"1.2.3.4");
        push_item(&mut ui, 0x55, b"TEST_1");
        push_item(&mut items, 0x50, &ui);
        let mut body = vec![0, 1, 0, 0];
        body.extend_from_slice(b"PACS            ");
        body.extend_from_slice(b"MODALITY        ");
        body.extend_from_slice(&[0u8; 32]);
        body.extend_from_slice(&items);
        let mut pdu = vec![1, 0];
        pdu.extend_from_slice(&(body.len() as u32).to_be_bytes());
        pdu.extend_from_slice(&body);
        pdu
    }

    #[test]
    fn parses_crafted_associate_rq() {
        let b = rq_bytes();
        let (pdu, used) = parse_pdu(&b).unwrap().unwrap();
        assert_eq!(used, b.len());
        let Pdu::AssociateRq(a) = pdu else {
            panic!("not an RQ")
        };
        assert_eq!(a.calling_ae, b"MODALITY");
        assert_eq!(a.called_ae, b"PACS");
        assert_eq!(a.user.max_pdu_length, Some(16384));
        assert_eq!(a.user.implementation_version_name, Some(&b"TEST_1"[..]));
        assert_eq!(a.presentation_contexts.len(), 1);
        // Every truncation is either "need more" or a clear error, never a panic.
        for n in 0..b.len() {
            assert!(matches!(parse_pdu(&b[..n]), Ok(None)), "prefix {n}");
        }
    }

    #[test]
    fn streaming_byte_by_byte_matches_whole() {
        let b = rq_bytes();
        let mut whole = Facts::default();
        DicomParser::new(false).feed(None, Direction::ToServer, &b, &mut whole);
        let mut bytewise = Facts::default();
        let mut p = DicomParser::new(false);
        for x in b.chunks(1) {
            p.feed(None, Direction::ToServer, x, &mut bytewise);
        }
        assert!(!whole.facts.is_empty());
        assert_eq!(whole.facts, bytewise.facts);
    }

    #[test]
    fn hunting_finds_next_pdu() {
        let mut stream = vec![0x55u8; 37];
        stream.extend_from_slice(&rq_bytes());
        let mut f = Facts::default();
        let mut p = DicomParser::new(true);
        for x in stream.chunks(7) {
            p.feed(None, Direction::ToServer, x, &mut f);
        }
        assert!(f
            .facts
            .iter()
            .any(|x| x.key == "dicom.calling_ae" && x.value == "MODALITY"));
    }

    #[test]
    fn device_elements_only() {
        // Implicit VR LE: (0008,0060) "CT", (0008,0070) "GE", (0010,0010) patient, (0018,1020) "V1"
        let mut ds = Vec::new();
        let mut el = |g: u16, e: u16, v: &[u8]| {
            ds.extend_from_slice(&g.to_le_bytes());
            ds.extend_from_slice(&e.to_le_bytes());
            ds.extend_from_slice(&(v.len() as u32).to_le_bytes());
            ds.extend_from_slice(v);
        };
        el(0x0008, 0x0060, b"CT");
        el(0x0008, 0x0070, b"GE");
        el(0x0010, 0x0010, b"DOE^JOHN");
        el(0x0018, 0x1020, b"V1");
        el(0x0020, 0x000d, b"1.2");
        assert_eq!(sniff_encoding(&ds), DatasetEncoding::ImplicitLittle);
        let h = read_device_elements(&ds, DatasetEncoding::ImplicitLittle);
        assert_eq!(h.modality, Some(&b"CT"[..]));
        assert_eq!(h.manufacturer, Some(&b"GE"[..]));
        assert_eq!(h.software_versions, Some(&b"V1"[..]));
        assert_eq!(h.model_name, None);
    }

    #[test]
    fn explicit_vr_device_elements() {
        // Explicit VR LE: (0008,0060) CS "MR", (0008,0070) LO "SIEMENS",
        // (0009,0010) OB long form (skipped), (0010,0010) PN patient (skipped),
        // (0018,1000) LO "12345", (0018,1020) LO "syngo MR E11".
        let mut ds = Vec::new();
        let mut short = |g: u16, e: u16, vr: &[u8; 2], v: &[u8]| {
            ds.extend_from_slice(&g.to_le_bytes());
            ds.extend_from_slice(&e.to_le_bytes());
            ds.extend_from_slice(vr);
            ds.extend_from_slice(&(v.len() as u16).to_le_bytes());
            ds.extend_from_slice(v);
        };
        short(0x0008, 0x0060, b"CS", b"MR");
        short(0x0008, 0x0070, b"LO", b"SIEMENS ");
        ds.extend_from_slice(&0x0009u16.to_le_bytes());
        ds.extend_from_slice(&0x0010u16.to_le_bytes());
        ds.extend_from_slice(b"OB\0\0");
        ds.extend_from_slice(&4u32.to_le_bytes());
        ds.extend_from_slice(&[1, 2, 3, 4]);
        let mut short = |g: u16, e: u16, vr: &[u8; 2], v: &[u8]| {
            ds.extend_from_slice(&g.to_le_bytes());
            ds.extend_from_slice(&e.to_le_bytes());
            ds.extend_from_slice(vr);
            ds.extend_from_slice(&(v.len() as u16).to_le_bytes());
            ds.extend_from_slice(v);
        };
        short(0x0010, 0x0010, b"PN", b"DOE^JANE");
        short(0x0018, 0x1000, b"LO", b"12345 ");
        short(0x0018, 0x1020, b"LO", b"syngo MR E11");
        assert_eq!(sniff_encoding(&ds), DatasetEncoding::ExplicitLittle);
        let h = read_device_elements(&ds, DatasetEncoding::ExplicitLittle);
        assert_eq!(h.modality, Some(&b"MR"[..]));
        assert_eq!(h.manufacturer, Some(&b"SIEMENS"[..]));
        assert_eq!(h.device_serial_number, Some(&b"12345"[..]));
        assert_eq!(h.software_versions, Some(&b"syngo MR E11"[..]));
        // Every prefix: no panic, and never a value from the patient element.
        for n in 0..ds.len() {
            let h = read_device_elements(&ds[..n], DatasetEncoding::ExplicitLittle);
            assert!(!format!("{h:?}").contains("DOE"));
        }
    }
}
