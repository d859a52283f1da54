//! Clinical protocols: the DICOM upper layer (PS3.8) with DIMSE C-STORE (PS3.7) and an
//! Explicit VR Little Endian image dataset (PS3.5); HL7 v2.5 messages framed in MLLP; and
//! ASTM E1381 low-level frames carrying E1394 records.
//!
//! Patient identity in everything built here is the fictional canary ("CANARY^PHI^TEST",
//! MRN "CANARY-123456") so privacy tests can prove Ward never outputs it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Canary patient name planted in DICOM (0010,0010), HL7 PID-5 and ASTM P records.
pub const CANARY_PATIENT_NAME: &str = "CANARY^PHI^TEST";
/// Canary medical record number planted in DICOM (0010,0020), HL7 PID-3 and ASTM P records.
pub const CANARY_PATIENT_ID: &str = "CANARY-123456";

// ---------------------------------------------------------------------------------------
// DICOM upper layer (PS3.8 section 9.3)
// ---------------------------------------------------------------------------------------

/// DICOM Application Context Name (PS3.7 Annex A.2.1).
pub(crate) const APP_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
pub(crate) const TS_IMPLICIT_LE: &str = "1.2.840.10008.1.2";
pub(crate) const TS_EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
pub(crate) const SOP_VERIFICATION: &str = "1.2.840.10008.1.1";

/// The DICOM toolkit a device is built on, as it shows in A-ASSOCIATE user information.
#[derive(Debug, Clone)]
pub(crate) struct DicomStack {
    pub class_uid: String,
    pub version_name: String,
    /// Maximum PDU length this implementation announces it can receive.
    pub max_pdu: u32,
}

/// One proposed presentation context: id, abstract syntax, transfer syntaxes.
pub(crate) struct ProposedContext<'a> {
    pub id: u8,
    pub abstract_syntax: &'a str,
    pub transfer_syntaxes: &'a [&'a str],
}

fn ae16(ae: &str) -> [u8; 16] {
    let mut out = [b' '; 16];
    for (o, b) in out.iter_mut().zip(ae.bytes()) {
        *o = b;
    }
    out
}

fn item(buf: &mut Vec<u8>, kind: u8, body: &[u8]) {
    buf.push(kind);
    buf.push(0);
    buf.extend_from_slice(&(body.len() as u16).to_be_bytes());
    buf.extend_from_slice(body);
}

fn pdu(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 + body.len());
    out.push(kind);
    out.push(0);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn user_info(stack: &DicomStack) -> Vec<u8> {
    let mut ui = Vec::new();
    item(&mut ui, 0x51, &stack.max_pdu.to_be_bytes());
    item(&mut ui, 0x52, stack.class_uid.as_bytes());
    item(&mut ui, 0x55, stack.version_name.as_bytes());
    let mut out = Vec::new();
    item(&mut out, 0x50, &ui);
    out
}

fn assoc_fixed(body: &mut Vec<u8>, called: &str, calling: &str) {
    body.extend_from_slice(&1u16.to_be_bytes()); // protocol version
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&ae16(called));
    body.extend_from_slice(&ae16(calling));
    body.extend_from_slice(&[0u8; 32]);
    item(body, 0x10, APP_CONTEXT.as_bytes());
}

/// A-ASSOCIATE-RQ (PDU type 0x01).
pub(crate) fn associate_rq(
    called: &str,
    calling: &str,
    contexts: &[ProposedContext<'_>],
    stack: &DicomStack,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    assoc_fixed(&mut body, called, calling);
    for pc in contexts {
        let mut p = vec![pc.id, 0, 0, 0];
        item(&mut p, 0x30, pc.abstract_syntax.as_bytes());
        for ts in pc.transfer_syntaxes {
            item(&mut p, 0x40, ts.as_bytes());
        }
        item(&mut body, 0x20, &p);
    }
    body.extend_from_slice(&user_info(stack));
    pdu(0x01, &body)
}

/// A-ASSOCIATE-AC (PDU type 0x02) accepting each context with the given transfer syntax.
pub(crate) fn associate_ac(
    called: &str,
    calling: &str,
    accepted: &[(u8, &str)],
    stack: &DicomStack,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    assoc_fixed(&mut body, called, calling);
    for (id, ts) in accepted {
        let mut p = vec![*id, 0, 0, 0]; // result 0 = acceptance
        item(&mut p, 0x40, ts.as_bytes());
        item(&mut body, 0x21, &p);
    }
    body.extend_from_slice(&user_info(stack));
    pdu(0x02, &body)
}

/// A-ASSOCIATE-RJ (0x03): rejected-permanent by the service user because the calling AE
/// title is not recognized (PS3.8 9.3.4: result 1, source 1, reason 3).
pub(crate) fn associate_rj_unknown_calling_ae() -> Vec<u8> {
    pdu(0x03, &[0, 1, 1, 3])
}

/// A-RELEASE-RQ (0x05) or A-RELEASE-RP (0x06).
pub(crate) fn release(rp: bool) -> Vec<u8> {
    pdu(if rp { 0x06 } else { 0x05 }, &[0, 0, 0, 0])
}

/// Appends P-DATA-TF PDUs carrying `data` as PDV fragments of at most `max_pdu` bytes of PDU
/// body (the receiver's announced maximum), marking the command bit and the last fragment.
pub(crate) fn p_data(out: &mut Vec<u8>, pc: u8, command: bool, data: &[u8], max_pdu: u32) {
    // PDU body = 4 (PDV length) + 1 (context id) + 1 (control header) + fragment.
    let frag_max = (max_pdu as usize).saturating_sub(6).max(64);
    let mut chunks = data.chunks(frag_max).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let pdv_len = (chunk.len() + 2) as u32;
        out.push(0x04);
        out.push(0);
        out.extend_from_slice(&(pdv_len + 4).to_be_bytes());
        out.extend_from_slice(&pdv_len.to_be_bytes());
        out.push(pc);
        out.push(u8::from(command) | (u8::from(last) << 1));
        out.extend_from_slice(chunk);
    }
}

// ---------------------------------------------------------------------------------------
// DIMSE command sets (PS3.7 section 9.3), always Implicit VR Little Endian
// ---------------------------------------------------------------------------------------

fn padded(v: &str, pad: u8) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    if b.len() % 2 == 1 {
        b.push(pad);
    }
    b
}

fn el_implicit(buf: &mut Vec<u8>, group: u16, elem: u16, value: &[u8]) {
    buf.extend_from_slice(&group.to_le_bytes());
    buf.extend_from_slice(&elem.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
    buf.extend_from_slice(value);
}

fn command_set(elements: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::with_capacity(160);
    for (elem, v) in elements {
        el_implicit(&mut body, 0x0000, *elem, v);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    el_implicit(&mut out, 0x0000, 0x0000, &(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// C-STORE-RQ command (command field 0x0001).
pub(crate) fn c_store_rq(msg_id: u16, sop_class: &str, sop_instance: &str) -> Vec<u8> {
    command_set(&[
        (0x0002, padded(sop_class, 0)),
        (0x0100, 0x0001u16.to_le_bytes().to_vec()),
        (0x0110, msg_id.to_le_bytes().to_vec()),
        (0x0700, 0x0000u16.to_le_bytes().to_vec()), // priority MEDIUM
        (0x0800, 0x0000u16.to_le_bytes().to_vec()), // a data set follows
        (0x1000, padded(sop_instance, 0)),
    ])
}

/// C-STORE-RSP command (0x8001) with status Success.
pub(crate) fn c_store_rsp(msg_id: u16, sop_class: &str, sop_instance: &str) -> Vec<u8> {
    command_set(&[
        (0x0002, padded(sop_class, 0)),
        (0x0100, 0x8001u16.to_le_bytes().to_vec()),
        (0x0120, msg_id.to_le_bytes().to_vec()),
        (0x0800, 0x0101u16.to_le_bytes().to_vec()), // no data set
        (0x0900, 0x0000u16.to_le_bytes().to_vec()), // Success
        (0x1000, padded(sop_instance, 0)),
    ])
}

/// C-ECHO-RQ (0x0030) and C-ECHO-RSP (0x8030).
pub(crate) fn c_echo(msg_id: u16, response: bool) -> Vec<u8> {
    if response {
        command_set(&[
            (0x0002, padded(SOP_VERIFICATION, 0)),
            (0x0100, 0x8030u16.to_le_bytes().to_vec()),
            (0x0120, msg_id.to_le_bytes().to_vec()),
            (0x0800, 0x0101u16.to_le_bytes().to_vec()),
            (0x0900, 0x0000u16.to_le_bytes().to_vec()),
        ])
    } else {
        command_set(&[
            (0x0002, padded(SOP_VERIFICATION, 0)),
            (0x0100, 0x0030u16.to_le_bytes().to_vec()),
            (0x0110, msg_id.to_le_bytes().to_vec()),
            (0x0800, 0x0101u16.to_le_bytes().to_vec()),
        ])
    }
}

// ---------------------------------------------------------------------------------------
// Image data set, Explicit VR Little Endian (PS3.5 section 7.1.2)
// ---------------------------------------------------------------------------------------

fn el_explicit(buf: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    buf.extend_from_slice(&group.to_le_bytes());
    buf.extend_from_slice(&elem.to_le_bytes());
    buf.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN") {
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    buf.extend_from_slice(value);
}

fn text(buf: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], v: &str) {
    let pad = if vr == b"UI" { 0 } else { b' ' };
    el_explicit(buf, group, elem, vr, &padded(v, pad));
}

/// What a modality writes about itself and the image into a stored object's header.
pub(crate) struct ImageHeader<'a> {
    pub sop_class: &'a str,
    pub sop_instance: &'a str,
    pub study_uid: &'a str,
    pub series_uid: &'a str,
    pub date_time: &'a str,
    pub modality: &'a str,
    pub manufacturer: &'a str,
    pub station_name: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    pub software_versions: &'a str,
    pub rows: u16,
    pub columns: u16,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
}

/// The data set of one image: device and (canary) patient elements in ascending tag order,
/// then Pixel Data of rows x columns x samples x bits/8 bytes of fake noise.
pub(crate) fn image_dataset(h: &ImageHeader<'_>, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let pixel_len = usize::from(h.rows)
        * usize::from(h.columns)
        * usize::from(h.samples_per_pixel)
        * usize::from(h.bits_allocated / 8);
    let mut b = Vec::with_capacity(pixel_len + 1024);
    let (date, time) = h.date_time.split_at(8.min(h.date_time.len()));
    text(&mut b, 0x0008, 0x0005, b"CS", "ISO_IR 100");
    text(&mut b, 0x0008, 0x0016, b"UI", h.sop_class);
    text(&mut b, 0x0008, 0x0018, b"UI", h.sop_instance);
    text(&mut b, 0x0008, 0x0020, b"DA", date);
    text(&mut b, 0x0008, 0x0030, b"TM", time);
    text(&mut b, 0x0008, 0x0060, b"CS", h.modality);
    text(&mut b, 0x0008, 0x0070, b"LO", h.manufacturer);
    text(&mut b, 0x0008, 0x0080, b"LO", "Riverside General Hospital");
    text(&mut b, 0x0008, 0x1010, b"SH", h.station_name);
    text(&mut b, 0x0008, 0x1090, b"LO", h.model);
    text(&mut b, 0x0010, 0x0010, b"PN", CANARY_PATIENT_NAME);
    text(&mut b, 0x0010, 0x0020, b"LO", CANARY_PATIENT_ID);
    text(&mut b, 0x0010, 0x0030, b"DA", "19700101");
    text(&mut b, 0x0010, 0x0040, b"CS", "O");
    text(&mut b, 0x0018, 0x1000, b"LO", h.serial);
    text(&mut b, 0x0018, 0x1020, b"LO", h.software_versions);
    text(&mut b, 0x0020, 0x000d, b"UI", h.study_uid);
    text(&mut b, 0x0020, 0x000e, b"UI", h.series_uid);
    let us = |b: &mut Vec<u8>, e: u16, v: u16| el_explicit(b, 0x0028, e, b"US", &v.to_le_bytes());
    us(&mut b, 0x0002, h.samples_per_pixel);
    let photometric = if h.samples_per_pixel == 3 {
        "RGB"
    } else {
        "MONOCHROME2"
    };
    text(&mut b, 0x0028, 0x0004, b"CS", photometric);
    if h.samples_per_pixel == 3 {
        us(&mut b, 0x0006, 0);
    }
    us(&mut b, 0x0010, h.rows);
    us(&mut b, 0x0011, h.columns);
    us(&mut b, 0x0100, h.bits_allocated);
    let stored = if h.bits_allocated == 16 { 12 } else { 8 };
    us(&mut b, 0x0101, stored);
    us(&mut b, 0x0102, stored - 1);
    us(&mut b, 0x0103, 0);
    // Pixel Data header (OW for 16-bit, OB for 8-bit), then the noise in place.
    let vr: &[u8; 2] = if h.bits_allocated == 16 { b"OW" } else { b"OB" };
    el_explicit(&mut b, 0x7fe0, 0x0010, vr, &[]);
    let len_at = b.len() - 4;
    b[len_at..].copy_from_slice(&(pixel_len as u32).to_le_bytes());
    fill_noise(&mut b, pixel_len, rng);
    b
}

/// Appends `len` bytes of 12-bit-in-16 noise quickly (xorshift64*, seeded from `rng`).
pub(crate) fn fill_noise(buf: &mut Vec<u8>, len: usize, rng: &mut ChaCha8Rng) {
    let mut x: u64 = rng.gen::<u64>() | 1;
    let start = buf.len();
    buf.resize(start + len, 0);
    for chunk in buf[start..].chunks_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d) & 0x0fff_0fff_0fff_0fff;
        let bytes = v.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

// ---------------------------------------------------------------------------------------
// HL7 v2.5 and MLLP
// ---------------------------------------------------------------------------------------

/// MLLP start block, end block and carriage return (HL7 v2 Implementation Guide, MLLP R2).
pub(crate) const MLLP_SB: u8 = 0x0b;
pub(crate) const MLLP_EB: u8 = 0x1c;

/// MSH-3..6 of a message.
pub(crate) struct Hl7Route<'a> {
    pub sending_app: &'a str,
    pub sending_facility: &'a str,
    pub receiving_app: &'a str,
    pub receiving_facility: &'a str,
}

fn msh(r: &Hl7Route<'_>, ts: &str, msg_type: &str, control_id: &str) -> String {
    format!(
        "MSH|^~\\&|{}|{}|{}|{}|{ts}||{msg_type}|{control_id}|P|2.5|||AL|NE\r",
        r.sending_app, r.sending_facility, r.receiving_app, r.receiving_facility
    )
}

fn pid() -> String {
    format!(
        "PID|1||{CANARY_PATIENT_ID}^^^RGH^MR||{CANARY_PATIENT_NAME}||19700101|O|||1 Test Street^^Nowhere^^00000\r"
    )
}

/// ORU^R01 with vital signs or lab results as OBX segments (code, name, value, unit).
pub(crate) fn oru_r01(
    r: &Hl7Route<'_>,
    ts: &str,
    control_id: &str,
    location: &str,
    service: (&str, &str),
    obs: &[(&str, &str, String, &str)],
) -> String {
    let mut m = msh(r, ts, "ORU^R01^ORU_R01", control_id);
    m.push_str(&pid());
    m.push_str(&format!("PV1|1|I|{location}\r"));
    m.push_str(&format!(
        "OBR|1|{control_id}||{}^{}^LN|||{ts}\r",
        service.0, service.1
    ));
    for (i, (code, name, value, unit)) in obs.iter().enumerate() {
        m.push_str(&format!(
            "OBX|{}|NM|{code}^{name}^LN||{value}|{unit}|||||F|||{ts}\r",
            i + 1
        ));
    }
    m
}

/// ADT^A01 (admit) from the EMR.
pub(crate) fn adt_a01(r: &Hl7Route<'_>, ts: &str, control_id: &str, location: &str) -> String {
    let mut m = msh(r, ts, "ADT^A01^ADT_A01", control_id);
    m.push_str(&format!("EVN|A01|{ts}\r"));
    m.push_str(&pid());
    m.push_str(&format!("PV1|1|I|{location}|||||||MED\r"));
    m
}

/// Application ACK (MSA|AA) for a message, routed back to its sender.
pub(crate) fn ack(r: &Hl7Route<'_>, ts: &str, control_id: &str, trigger: &str) -> String {
    let back = Hl7Route {
        sending_app: r.receiving_app,
        sending_facility: r.receiving_facility,
        receiving_app: r.sending_app,
        receiving_facility: r.sending_facility,
    };
    let mut m = msh(
        &back,
        ts,
        &format!("ACK^{trigger}^ACK"),
        &format!("ACK{control_id}"),
    );
    m.push_str(&format!("MSA|AA|{control_id}\r"));
    m
}

/// Wraps a message in an MLLP block.
pub(crate) fn mllp(msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 3);
    out.push(MLLP_SB);
    out.extend_from_slice(msg.as_bytes());
    out.extend_from_slice(&[MLLP_EB, b'\r']);
    out
}

// ---------------------------------------------------------------------------------------
// ASTM E1381 (CLSI LIS1-A) low-level frames
// ---------------------------------------------------------------------------------------

pub(crate) const ENQ: u8 = 0x05;
pub(crate) const ACK_CHAR: u8 = 0x06;
pub(crate) const EOT: u8 = 0x04;
const STX: u8 = 0x02;
const ETX: u8 = 0x03;

/// One complete (ETX-terminated) frame: STX FN text CR ETX C1 C2 CR LF, where the checksum
/// is the modulo-256 sum of the bytes from FN through ETX, as two uppercase hex digits.
pub(crate) fn astm_frame(frame_number: u8, record: &str) -> Vec<u8> {
    let fn_digit = b'0' + (frame_number % 8);
    let mut out = Vec::with_capacity(record.len() + 8);
    out.push(STX);
    out.push(fn_digit);
    out.extend_from_slice(record.as_bytes());
    out.push(b'\r');
    out.push(ETX);
    let sum = out[1..].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    out.extend_from_slice(format!("{sum:02X}\r\n").as_bytes());
    out
}

/// The E1394 records of one result message from an analyzer.
pub(crate) fn astm_records(
    sender: &str,
    model: &str,
    version: &str,
    ts: &str,
    results: &[(&str, String, &str)],
) -> Vec<String> {
    let mut r = vec![
        format!("H|\\^&|||{sender}^{model}^{version}|||||LIS||P|E1394-97|{ts}"),
        format!("P|1||{CANARY_PATIENT_ID}||{CANARY_PATIENT_NAME}||19700101|O"),
        format!("O|1|SID{}||^^^CBC|R|{ts}|||||N||||Blood", &ts[8..]),
    ];
    for (i, (test, value, unit)) in results.iter().enumerate() {
        r.push(format!(
            "R|{}|^^^{test}|{value}|{unit}||N||F||||{ts}",
            i + 1
        ));
    }
    r.push("L|1|N".to_string());
    r
}

// ---------------------------------------------------------------------------------------
// IEEE 11073 SDC discovery and metadata (WS-Discovery 1.1, DPWS 1.1, IEEE 11073-20702)
// ---------------------------------------------------------------------------------------

const NS: &str = "xmlns:s12=\"http://www.w3.org/2003/05/soap-envelope\" \
xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" \
xmlns:wsd=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\" \
xmlns:dpws=\"http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01\" \
xmlns:mdpws=\"http://standards.ieee.org/downloads/11073/11073-20702-2016\"";

/// Escapes text for an XML attribute value or element content.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// What an SDC provider announces and describes.
pub(crate) struct SdcDevice<'a> {
    pub epr_uuid: &'a str,
    pub xaddr: &'a str,
    pub manufacturer: &'a str,
    pub model: &'a str,
    pub firmware: &'a str,
    pub serial: &'a str,
    pub friendly_name: &'a str,
    pub location: &'a str,
}

/// A WS-Discovery Hello of an SDC medical device (multicast to 239.255.255.250:3702).
pub(crate) fn wsd_hello(d: &SdcDevice<'_>, message_id: &str, instance: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s12:Envelope {NS}><s12:Header>\
<wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action>\
<wsa:MessageID>urn:uuid:{message_id}</wsa:MessageID>\
<wsa:To>urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01</wsa:To>\
<wsd:AppSequence InstanceId=\"{instance}\" MessageNumber=\"1\"/></s12:Header><s12:Body><wsd:Hello>\
<wsa:EndpointReference><wsa:Address>urn:uuid:{}</wsa:Address></wsa:EndpointReference>\
<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>\
<wsd:Scopes>sdc.mds.pkp:1.2.840.10004.20701.1.1 sdc.ctxt.loc:/sdc.ctxt.loc.detail/{}</wsd:Scopes>\
<wsd:XAddrs>{}</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion>\
</wsd:Hello></s12:Body></s12:Envelope>",
        d.epr_uuid,
        xml_escape(d.location),
        xml_escape(d.xaddr)
    )
}

/// A WS-Transfer Get (DPWS metadata request) to the device's XAddr.
pub(crate) fn sdc_get_metadata(d: &SdcDevice<'_>, message_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s12:Envelope {NS}><s12:Header>\
<wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>\
<wsa:MessageID>urn:uuid:{message_id}</wsa:MessageID><wsa:To>urn:uuid:{}</wsa:To>\
</s12:Header><s12:Body/></s12:Envelope>",
        d.epr_uuid
    )
}

/// The DPWS metadata response: ThisModel (manufacturer, model) and ThisDevice (name,
/// firmware, serial).
pub(crate) fn sdc_metadata_response(
    d: &SdcDevice<'_>,
    message_id: &str,
    relates_to: &str,
) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s12:Envelope {NS} \
xmlns:wsx=\"http://schemas.xmlsoap.org/ws/2004/09/mex\"><s12:Header>\
<wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</wsa:Action>\
<wsa:MessageID>urn:uuid:{message_id}</wsa:MessageID><wsa:RelatesTo>urn:uuid:{relates_to}</wsa:RelatesTo>\
</s12:Header><s12:Body><wsx:Metadata>\
<wsx:MetadataSection Dialect=\"http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/ThisModel\"><dpws:ThisModel>\
<dpws:Manufacturer>{}</dpws:Manufacturer><dpws:ModelName>{}</dpws:ModelName>\
<dpws:ModelNumber>1</dpws:ModelNumber></dpws:ThisModel></wsx:MetadataSection>\
<wsx:MetadataSection Dialect=\"http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/ThisDevice\"><dpws:ThisDevice>\
<dpws:FriendlyName>{}</dpws:FriendlyName><dpws:FirmwareVersion>{}</dpws:FirmwareVersion>\
<dpws:SerialNumber>{}</dpws:SerialNumber></dpws:ThisDevice></wsx:MetadataSection>\
</wsx:Metadata></s12:Body></s12:Envelope>",
        xml_escape(d.manufacturer),
        xml_escape(d.model),
        xml_escape(d.friendly_name),
        xml_escape(d.firmware),
        xml_escape(d.serial)
    )
}

// ---------------------------------------------------------------------------------------
// POCT1-A (CLSI POCT1-A2) device messaging: XML messages, one per TCP exchange
// ---------------------------------------------------------------------------------------

/// Identity a point-of-care device reports in its HEL.R01 (hello) message.
pub(crate) struct PocDevice<'a> {
    pub device_id: &'a str,
    pub vendor: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    pub sw_version: &'a str,
    pub name: &'a str,
}

fn poct_hdr(kind: &str, control_id: u32, when: &str) -> String {
    format!(
        "<HDR><HDR.message_type V=\"{kind}\"/><HDR.control_id V=\"{control_id}\"/>\
<HDR.version_id V=\"POCT1\"/><HDR.creation_dttm V=\"{when}\"/></HDR>"
    )
}

/// HEL.R01: the device introduces itself (vendor, model, serial, software version).
pub(crate) fn poct_hello(d: &PocDevice<'_>, control_id: u32, when: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><HEL.R01>{}<HEL>\
<DEV><DEV.device_id V=\"{}\"/><DEV.vendor_id V=\"{}\"/><DEV.model_id V=\"{}\"/>\
<DEV.serial_id V=\"{}\"/><DEV.manufacturer_name V=\"{}\"/><DEV.sw_version V=\"{}\"/>\
<DEV.device_name V=\"{}\"/><DCP><DCP.application_timeout V=\"30\"/></DCP>\
<DSC><DSC.connection_profile_cd V=\"CS\"/><DSC.topics_supported_cd V=\"OBS\"/>\
<DSC.max_message_sz V=\"10000\"/></DSC></DEV></HEL></HEL.R01>",
        poct_hdr("HEL.R01", control_id, when),
        xml_escape(d.device_id),
        xml_escape(d.vendor),
        xml_escape(d.model),
        xml_escape(d.serial),
        xml_escape(d.vendor),
        xml_escape(d.sw_version),
        xml_escape(d.name)
    )
}

/// ACK.R01 from the data manager (AA = accepted).
pub(crate) fn poct_ack(control_id: u32, acked: u32, when: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ACK.R01>{}<ACK><ACK.type_cd V=\"AA\"/>\
<ACK.ack_control_id V=\"{acked}\"/></ACK></ACK.R01>",
        poct_hdr("ACK.R01", control_id, when)
    )
}

/// OBS.R01: one glucose result for the canary patient.
pub(crate) fn poct_observation(control_id: u32, when: &str, glucose: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OBS.R01>{}<SVC><SVC.role_cd V=\"OBS\"/>\
<SVC.observation_dttm V=\"{when}\"/><PT><PT.patient_id V=\"{CANARY_PATIENT_ID}\"/>\
<PT.name V=\"{CANARY_PATIENT_NAME}\"/><OBS><OBS.observation_id V=\"Glucose\" SN=\"LN\" SV=\"2345-7\"/>\
<OBS.value V=\"{glucose}\" U=\"mg/dL\"/></OBS></PT></SVC></OBS.R01>",
        poct_hdr("OBS.R01", control_id, when)
    )
}

/// EOT.R01: the device has nothing more to send.
pub(crate) fn poct_eot(control_id: u32, when: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><EOT.R01>{}<EOT><EOT.topic_cd V=\"OBS\"/>\
</EOT></EOT.R01>",
        poct_hdr("EOT.R01", control_id, when)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn astm_checksum_matches_hand_computation() {
        let f = astm_frame(1, "L|1|N");
        // '1' 'L' '|' '1' '|' 'N' CR ETX = 0x31+0x4c+0x7c+0x31+0x7c+0x4e+0x0d+0x03
        let sum: u32 = [0x31u32, 0x4c, 0x7c, 0x31, 0x7c, 0x4e, 0x0d, 0x03]
            .iter()
            .sum();
        let expect = format!("{:02X}", sum % 256);
        assert_eq!(&f[f.len() - 4..f.len() - 2], expect.as_bytes());
        assert_eq!(f[0], 0x02);
        assert_eq!(&f[f.len() - 2..], b"\r\n");
    }

    #[test]
    fn p_data_fragments_respect_max_pdu_and_mark_last() {
        let data = vec![7u8; 40_000];
        let mut out = Vec::new();
        p_data(&mut out, 1, false, &data, 16384);
        let mut pos = 0;
        let mut total = 0;
        let mut lasts = 0;
        while pos < out.len() {
            assert_eq!(out[pos], 0x04);
            let len = u32::from_be_bytes([out[pos + 2], out[pos + 3], out[pos + 4], out[pos + 5]]);
            assert!(
                len <= 16384,
                "PDU body {len} exceeds the receiver's maximum"
            );
            let pdv = u32::from_be_bytes([out[pos + 6], out[pos + 7], out[pos + 8], out[pos + 9]]);
            assert_eq!(pdv + 4, len);
            if out[pos + 11] & 2 != 0 {
                lasts += 1;
            }
            total += pdv as usize - 2;
            pos += 6 + len as usize;
        }
        assert_eq!(total, 40_000);
        assert_eq!(lasts, 1);
    }

    #[test]
    fn dataset_contains_device_elements_and_canary() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let h = ImageHeader {
            sop_class: "1.2.840.10008.5.1.4.1.1.2",
            sop_instance: "1.2.3.4",
            study_uid: "1.2.3",
            series_uid: "1.2.3.5",
            date_time: "20261129080000",
            modality: "CT",
            manufacturer: "GE MEDICAL SYSTEMS",
            station_name: "CT01_ROOM3",
            model: "Revolution CT",
            serial: "SN1",
            software_versions: "revo_ct_22.1",
            rows: 16,
            columns: 16,
            samples_per_pixel: 1,
            bits_allocated: 16,
        };
        let d = image_dataset(&h, &mut rng);
        let s = String::from_utf8_lossy(&d);
        assert!(s.contains("GE MEDICAL SYSTEMS"));
        assert!(s.contains(CANARY_PATIENT_NAME));
        // Pixel data length field equals 16*16*2 and is the last element.
        let tail = d.len() - 512;
        assert_eq!(&d[tail - 12..tail - 8], &[0xe0, 0x7f, 0x10, 0x00]);
        assert_eq!(&d[tail - 4..tail], &512u32.to_le_bytes());
    }

    #[test]
    fn sdc_hello_escapes_xml_text() {
        let d = SdcDevice {
            epr_uuid: "0e5d2c1a-0000-4d0c-9a11-000000000000",
            xaddr: "http://10.30.0.5:6464/x",
            manufacturer: "A & B",
            model: "M<1>",
            firmware: "1",
            serial: "S",
            friendly_name: "F",
            location: "RGH?fac=RGH&bed=1",
        };
        let h = wsd_hello(&d, "m", 1);
        assert!(h.contains("fac=RGH&amp;bed=1"));
        assert!(!h.contains("&bed"));
        let r = sdc_metadata_response(&d, "a", "b");
        assert!(r.contains("<dpws:Manufacturer>A &amp; B</dpws:Manufacturer>"));
        assert!(r.contains("<dpws:ModelName>M&lt;1&gt;</dpws:ModelName>"));
    }
}
