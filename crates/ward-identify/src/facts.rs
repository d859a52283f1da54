//! The table from dissector fact keys to device attributes.
//!
//! A fact whose value *is* an attribute value (a DHCP hostname, a DICOM Manufacturer, an
//! SDC serial number) is mapped here, one line per key. Facts that need interpretation (an
//! implementation class UID, a vendor class string) go through the fingerprint rules
//! instead. Every fact, mapped or not, is kept on the device as evidence.

use crate::attributes::AttrKind;

/// How a fact's value becomes the attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// The value as is (trimmed).
    AsIs,
    /// A host name: trailing dot and `.local` removed.
    Hostname,
    /// A role: the value prefixed with a protocol name ("SCU" -> "DICOM SCU").
    RolePrefix(&'static str),
}

/// One line of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FactMapping {
    pub key: &'static str,
    pub attr: AttrKind,
    pub confidence: f64,
    pub transform: Transform,
}

const fn m(
    key: &'static str,
    attr: AttrKind,
    confidence: f64,
    transform: Transform,
) -> FactMapping {
    FactMapping {
        key,
        attr,
        confidence,
        transform,
    }
}

use AttrKind as A;
use Transform::{AsIs, Hostname, RolePrefix};

/// Fact key -> attribute. Confidence bands are explained in [`crate::attributes`].
pub const FACT_MAP: &[FactMapping] = &[
    // Names the host gives itself, or DNS gives it.
    m("dhcp.hostname", A::Hostname, 0.8, Hostname),
    m("dhcp.client_fqdn", A::Hostname, 0.8, Hostname),
    m("mdns.hostname", A::Hostname, 0.75, Hostname),
    m("netbios.name", A::Hostname, 0.7, Hostname),
    m("smb.ntlm_host", A::Hostname, 0.7, Hostname),
    m("smb.ntlm_dns_host", A::Hostname, 0.7, Hostname),
    m("lldp.system_name", A::Hostname, 0.8, Hostname),
    m("cdp.device_id", A::Hostname, 0.75, Hostname),
    m("dicom.station_name", A::Hostname, 0.6, AsIs),
    // `dns.answer` is recorded about the answered address; its value is the name.
    m("dns.answer", A::Hostname, 0.5, Hostname),
    // Inventory stated by network gear and controllers.
    m("cdp.platform", A::Model, 0.75, AsIs),
    m("lldp.med_manufacturer", A::Vendor, 0.85, AsIs),
    m("lldp.med_model", A::Model, 0.85, AsIs),
    m("lldp.med_serial", A::Serial, 0.85, AsIs),
    m("lldp.med_firmware", A::FirmwareVersion, 0.8, AsIs),
    m("lldp.med_software", A::SoftwareVersion, 0.75, AsIs),
    m("modbus.vendor", A::Vendor, 0.8, AsIs),
    m("modbus.product_name", A::Model, 0.7, AsIs),
    m("modbus.model", A::Model, 0.7, AsIs),
    m("modbus.revision", A::FirmwareVersion, 0.7, AsIs),
    // DICOM identity (A-ASSOCIATE and the device elements of stored objects).
    m("dicom.calling_ae", A::AeTitle, 0.9, AsIs),
    m("dicom.called_ae", A::AeTitle, 0.85, AsIs),
    m("dicom.ae_title", A::AeTitle, 0.9, AsIs),
    m("dicom.role", A::Role, 0.9, RolePrefix("DICOM")),
    m("dicom.manufacturer", A::Vendor, 0.9, AsIs),
    m("dicom.model", A::Model, 0.9, AsIs),
    m("dicom.model_name", A::Model, 0.9, AsIs),
    m("dicom.software_versions", A::SoftwareVersion, 0.85, AsIs),
    m("dicom.serial", A::Serial, 0.9, AsIs),
    m("dicom.device_serial_number", A::Serial, 0.9, AsIs),
    m("dicom.modality", A::Modality, 0.9, AsIs),
    // HL7 v2 MSH.
    m("hl7.sending_application", A::Hl7Application, 0.9, AsIs),
    m("hl7.receiving_application", A::Hl7Application, 0.7, AsIs),
    m("hl7.sending_facility", A::Hl7Facility, 0.8, AsIs),
    m("hl7.role", A::Role, 0.9, RolePrefix("HL7")),
    // FHIR, POCT1-A, ASTM, SDC self-descriptions.
    m("fhir.server", A::Software, 0.7, AsIs),
    m("fhir.server_software", A::Software, 0.7, AsIs),
    m("fhir.role", A::Role, 0.85, RolePrefix("FHIR")),
    m("poct1.vendor", A::Vendor, 0.9, AsIs),
    m("poct1.manufacturer", A::Vendor, 0.9, AsIs),
    m("poct1.model", A::Model, 0.9, AsIs),
    m("poct1.model_id", A::Model, 0.85, AsIs),
    m("poct1.device_name", A::Model, 0.5, AsIs),
    m("poct1.serial", A::Serial, 0.9, AsIs),
    m("poct1.serial_id", A::Serial, 0.9, AsIs),
    m("poct1.sw_version", A::SoftwareVersion, 0.85, AsIs),
    m("astm.sender", A::Software, 0.5, AsIs),
    m("astm.sender_name", A::Software, 0.5, AsIs),
    m("sdc.manufacturer", A::Vendor, 0.9, AsIs),
    m("sdc.model", A::Model, 0.9, AsIs),
    m("sdc.model_name", A::Model, 0.9, AsIs),
    m("sdc.serial", A::Serial, 0.9, AsIs),
    m("sdc.serial_number", A::Serial, 0.9, AsIs),
    m("sdc.firmware", A::FirmwareVersion, 0.9, AsIs),
];

/// The mapping for a key, if any.
pub fn mapping(key: &str) -> Option<&'static FactMapping> {
    FACT_MAP.iter().find(|f| f.key == key)
}

/// Applies a transform; `None` when nothing useful is left.
pub fn apply(transform: Transform, value: &str) -> Option<String> {
    let v = value.trim();
    let out = match transform {
        AsIs => v.to_string(),
        Hostname => {
            let v = v.trim_end_matches('.');
            let lower = v.to_ascii_lowercase();
            if lower.ends_with(".local") {
                v.get(..v.len() - ".local".len()).unwrap_or(v).to_string()
            } else {
                v.to_string()
            }
        }
        RolePrefix(p) => {
            // Dissectors may already say "HL7 sender"; don't make it "HL7 HL7 sender".
            let already = v
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p));
            if v.is_empty() || already {
                v.to_string()
            } else {
                format!("{p} {v}")
            }
        }
    };
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_unique_keys_and_sane_confidence() {
        for (i, f) in FACT_MAP.iter().enumerate() {
            assert!(
                FACT_MAP[..i].iter().all(|g| g.key != f.key),
                "duplicate key {}",
                f.key
            );
            assert!((0.0..=1.0).contains(&f.confidence), "{}", f.key);
        }
        assert_eq!(mapping("dhcp.hostname").unwrap().attr, AttrKind::Hostname);
        assert!(mapping("tls.ja4").is_none());
    }

    #[test]
    fn transforms() {
        assert_eq!(
            apply(Hostname, "printer-3.local.").as_deref(),
            Some("printer-3")
        );
        assert_eq!(
            apply(Hostname, "ws01.hosp.example").as_deref(),
            Some("ws01.hosp.example")
        );
        assert_eq!(
            apply(RolePrefix("DICOM"), "SCU").as_deref(),
            Some("DICOM SCU")
        );
        assert_eq!(
            apply(RolePrefix("HL7"), "sender").as_deref(),
            Some("HL7 sender")
        );
        assert_eq!(apply(AsIs, "   "), None);
    }
}
