//! The clinical device taxonomy: what kind of device something is, and how much harm its
//! compromise could do to patients.
//!
//! Categories are grouped into [`CategoryGroup`]s, and each group carries a
//! [`Criticality`] that later drives risk scoring in `ward-assess`. The serde names
//! (snake_case) are part of Ward's stable output and of the rule file format: a rule's
//! `category = "infusion_pump"` must name a [`Category`] here, and the loader rejects
//! unknown names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much a compromise of a device in a group could hurt patients, highest first.
///
/// * `critical`: the device sustains life or delivers therapy; tampering can injure or kill.
/// * `high`: the device produces diagnoses or watches patients, or is clinical IT that
///   many such devices depend on (PACS, interface engines, EHR).
/// * `medium`: laboratory devices; wrong results harm patients but with human checks between.
/// * `low`: IT and non-clinical IoT (workstations, printers, building automation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    pub fn as_str(&self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seven families of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryGroup {
    /// Life-sustaining and therapy devices.
    LifeSustaining,
    DiagnosticImaging,
    PatientMonitoring,
    Laboratory,
    ClinicalIt,
    NonClinicalIot,
    It,
}

impl CategoryGroup {
    pub fn criticality(&self) -> Criticality {
        match self {
            CategoryGroup::LifeSustaining => Criticality::Critical,
            CategoryGroup::DiagnosticImaging
            | CategoryGroup::PatientMonitoring
            | CategoryGroup::ClinicalIt => Criticality::High,
            CategoryGroup::Laboratory => Criticality::Medium,
            CategoryGroup::NonClinicalIot | CategoryGroup::It => Criticality::Low,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            CategoryGroup::LifeSustaining => "life_sustaining",
            CategoryGroup::DiagnosticImaging => "diagnostic_imaging",
            CategoryGroup::PatientMonitoring => "patient_monitoring",
            CategoryGroup::Laboratory => "laboratory",
            CategoryGroup::ClinicalIt => "clinical_it",
            CategoryGroup::NonClinicalIot => "non_clinical_iot",
            CategoryGroup::It => "it",
        }
    }
}

impl fmt::Display for CategoryGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! categories {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $group:ident, $label:literal; )*) => {
        /// A device category. Serialised as its snake_case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Category {
            $( $(#[$doc])* $variant, )*
        }

        impl Category {
            /// Every category, in declaration order.
            pub const ALL: &'static [Category] = &[$(Category::$variant),*];

            /// The stable snake_case name used in rule files and JSON.
            pub fn as_str(&self) -> &'static str {
                match self { $(Category::$variant => $name,)* }
            }

            /// The family the category belongs to.
            pub fn group(&self) -> CategoryGroup {
                match self { $(Category::$variant => CategoryGroup::$group,)* }
            }

            /// A short human label.
            pub fn label(&self) -> &'static str {
                match self { $(Category::$variant => $label,)* }
            }
        }

        impl FromStr for Category {
            type Err = UnknownCategory;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Category::$variant),)*
                    _ => Err(UnknownCategory(s.to_string())),
                }
            }
        }
    };
}

categories! {
    InfusionPump => "infusion_pump", LifeSustaining, "infusion pump";
    Ventilator => "ventilator", LifeSustaining, "ventilator";
    AnesthesiaMachine => "anesthesia_machine", LifeSustaining, "anesthesia machine";
    DialysisMachine => "dialysis_machine", LifeSustaining, "dialysis machine";
    /// Other therapy delivery (defibrillators, radiotherapy, ...).
    TherapyDevice => "therapy_device", LifeSustaining, "therapy device";
    CtScanner => "ct_scanner", DiagnosticImaging, "CT scanner";
    MrScanner => "mr_scanner", DiagnosticImaging, "MR scanner";
    /// Radiography, fluoroscopy, mammography, angiography.
    XRay => "x_ray", DiagnosticImaging, "X-ray system";
    Ultrasound => "ultrasound", DiagnosticImaging, "ultrasound system";
    /// Nuclear medicine and PET.
    NuclearMedicine => "nuclear_medicine", DiagnosticImaging, "nuclear medicine system";
    /// An imaging or diagnostic modality whose kind is not known more precisely
    /// (endoscopy, ophthalmology, ECG carts sending DICOM waveforms ...).
    ImagingModality => "imaging_modality", DiagnosticImaging, "imaging modality";
    PatientMonitor => "patient_monitor", PatientMonitoring, "patient monitor";
    /// Central stations and monitoring gateways that forward vital signs.
    MonitoringGateway => "monitoring_gateway", PatientMonitoring, "monitoring central/gateway";
    LabAnalyzer => "lab_analyzer", Laboratory, "laboratory analyzer";
    PointOfCareAnalyzer => "point_of_care_analyzer", Laboratory, "point-of-care analyzer";
    Pacs => "pacs", ClinicalIt, "PACS / image archive";
    InterfaceEngine => "interface_engine", ClinicalIt, "HL7 interface engine";
    Ehr => "ehr", ClinicalIt, "EHR / HIS";
    /// Device integration and lab middleware, worklist brokers, RIS.
    ClinicalMiddleware => "clinical_middleware", ClinicalIt, "clinical middleware";
    /// Diagnostic viewing and reporting workstations.
    ClinicalWorkstation => "clinical_workstation", ClinicalIt, "clinical workstation";
    BuildingAutomation => "building_automation", NonClinicalIot, "building automation";
    Printer => "printer", NonClinicalIot, "printer";
    Camera => "camera", NonClinicalIot, "IP camera";
    VoipPhone => "voip_phone", NonClinicalIot, "VoIP phone";
    IotDevice => "iot_device", NonClinicalIot, "IoT device";
    Workstation => "workstation", It, "workstation";
    Server => "server", It, "server";
    NetworkDevice => "network_device", It, "network device";
    MobileDevice => "mobile_device", It, "mobile device";
}

impl Category {
    pub fn criticality(&self) -> Criticality {
        self.group().criticality()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name that is not in the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device category {0:?} (see ward_identify::taxonomy::Category for the list)")]
pub struct UnknownCategory(pub String);

/// The category implied by a DICOM Modality (0008,0060) code, for acquisition modalities.
///
/// Codes from DICOM PS3.3 C.7.3.1.1.1 (Modality defined terms). Derived objects that any
/// system can create (SR, KO, PR, SEG, REG, OT, DOC ...) imply nothing and return `None`;
/// so does an unknown code.
pub fn category_for_modality(code: &str) -> Option<Category> {
    let c = code.trim().to_ascii_uppercase();
    Some(match c.as_str() {
        "CT" => Category::CtScanner,
        "MR" => Category::MrScanner,
        "CR" | "DX" | "MG" | "RF" | "XA" | "RG" | "PX" | "IO" | "DF" | "DS" | "CF" | "BDUS" => {
            Category::XRay
        }
        "US" | "IVUS" => Category::Ultrasound,
        "NM" | "PT" => Category::NuclearMedicine,
        "ES" | "XC" | "OP" | "OPT" | "OCT" | "ECG" | "HD" | "EPS" | "IVOCT" | "SM" | "GM"
        | "OAM" | "OPM" | "OPV" | "LEN" | "KER" | "BI" | "TG" | "DOCD" => Category::ImagingModality,
        "RTIMAGE" | "RTDOSE" | "RTPLAN" | "RTRECORD" | "RTSTRUCT" | "RTION" => {
            Category::TherapyDevice
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_snake_case() {
        for c in Category::ALL {
            let name = c.as_str();
            assert_eq!(name.parse::<Category>().unwrap(), *c);
            assert!(
                name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{name} must be snake_case"
            );
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{name}\""), "serde name of {c:?}");
        }
        assert!("toaster".parse::<Category>().is_err());
    }

    #[test]
    fn criticality_follows_the_clinical_groups() {
        assert_eq!(Category::InfusionPump.criticality(), Criticality::Critical);
        assert_eq!(Category::Ventilator.criticality(), Criticality::Critical);
        assert_eq!(
            Category::DialysisMachine.criticality(),
            Criticality::Critical
        );
        assert_eq!(Category::CtScanner.criticality(), Criticality::High);
        assert_eq!(Category::PatientMonitor.criticality(), Criticality::High);
        assert_eq!(Category::Pacs.criticality(), Criticality::High);
        assert_eq!(Category::LabAnalyzer.criticality(), Criticality::Medium);
        assert_eq!(Category::Printer.criticality(), Criticality::Low);
        assert_eq!(Category::Workstation.criticality(), Criticality::Low);
        assert!(Criticality::Critical > Criticality::High);
        assert!(Criticality::Medium > Criticality::Low);
        assert_eq!(
            serde_json::to_string(&CategoryGroup::LifeSustaining).unwrap(),
            "\"life_sustaining\""
        );
    }

    #[test]
    fn dicom_modalities_map_to_imaging() {
        for (code, cat) in [
            ("CT", Category::CtScanner),
            ("mr", Category::MrScanner),
            ("US", Category::Ultrasound),
            ("CR", Category::XRay),
            ("DX", Category::XRay),
            ("MG", Category::XRay),
            ("XA", Category::XRay),
            ("RF", Category::XRay),
            ("NM", Category::NuclearMedicine),
            ("PT", Category::NuclearMedicine),
            ("ECG", Category::ImagingModality),
        ] {
            assert_eq!(category_for_modality(code), Some(cat), "modality {code}");
            assert_eq!(
                cat.group(),
                CategoryGroup::DiagnosticImaging,
                "modality {code} is imaging"
            );
        }
        for code in ["SR", "KO", "PR", "OT", "SEG", "", "??"] {
            assert_eq!(category_for_modality(code), None, "modality {code}");
        }
    }
}
