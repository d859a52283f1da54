//! The simulated hospital: VLANs and subnets, one router, and devices of every clinical
//! category with realistic but fictional identities.
//!
//! Vendor and model names are real product lines so identification rules have something
//! true to match; MAC addresses use the vendors' real IEEE OUIs (IEEE MA-L registry, as
//! shipped in Debian's `ieee-data` package); serial numbers, hostnames, AE titles, versions
//! of vendor DICOM stacks and everything about patients are invented.

use crate::proto::clinical::DicomStack;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

/// DNS domain of the simulated hospital (Riverside General Hospital, fictional).
pub(crate) const DOMAIN: &str = "rgh.local";
/// Public address of the infusion-pump vendor's cloud service (an AWS-style 52/8 address,
/// deliberately not a documentation range so "internet-bound" logic treats it as public).
pub(crate) const CLOUD_IP: Ipv4Addr = Ipv4Addr::new(52, 202, 41, 17);
pub(crate) const CLOUD_NAME: &str = "telemetry.alaris-cloud.example";

/// The main campus, where the capture point sits.
pub const SITE_MAIN: &str = "Riverside General Hospital - Main Campus";
/// An outpatient site reached over the WAN: its devices are only seen by IP, behind the
/// router's MAC, when they talk to main-campus servers.
pub const SITE_OUTPATIENT: &str = "Riverside Outpatient Imaging Center";

/// One VLAN and its /16 subnet `10.<id>.0.0`, gateway `.0.1` on the router.
#[derive(Debug, Clone)]
pub struct Vlan {
    pub id: u16,
    pub name: &'static str,
    pub site: &'static str,
}

impl Vlan {
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.id as u8, 0, 1)
    }
    pub fn subnet(&self) -> (Ipv4Addr, u8) {
        (Ipv4Addr::new(10, self.id as u8, 0, 0), 16)
    }
}

pub(crate) const VLAN_IT: u16 = 10;
pub(crate) const VLAN_IMAGING: u16 = 20;
pub(crate) const VLAN_MONITORING: u16 = 30;
pub(crate) const VLAN_INFUSION: u16 = 40;
pub(crate) const VLAN_SERVERS: u16 = 50;
pub(crate) const VLAN_LAB: u16 = 60;
pub(crate) const VLAN_BUILDING: u16 = 70;
pub(crate) const VLAN_NETMGMT: u16 = 99;
pub(crate) const VLAN_REMOTE_IT: u16 = 110;
pub(crate) const VLAN_REMOTE_IMAGING: u16 = 120;
pub(crate) const VLAN_REMOTE_MONITORING: u16 = 130;

const VLANS: &[(u16, &str)] = &[
    (VLAN_IT, "it-workstations"),
    (VLAN_IMAGING, "imaging"),
    (VLAN_MONITORING, "clinical-monitoring"),
    (VLAN_INFUSION, "infusion-wireless"),
    (VLAN_SERVERS, "servers"),
    (VLAN_LAB, "laboratory"),
    (VLAN_BUILDING, "building-iot"),
    (VLAN_NETMGMT, "network-management"),
    (VLAN_REMOTE_IT, "outpatient-it"),
    (VLAN_REMOTE_IMAGING, "outpatient-imaging"),
    (VLAN_REMOTE_MONITORING, "outpatient-monitoring"),
];

/// Whether a VLAN belongs to the outpatient site.
pub(crate) fn is_remote_vlan(vlan: u16) -> bool {
    vlan >= 100
}

/// What a device does on the network; drives which sessions it takes part in.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    Router,
    Switch {
        cdp: bool,
        platform: &'static str,
    },
    DnsDhcp,
    Pacs,
    InterfaceEngine,
    Lis,
    FileServer,
    Ehr,
    InfusionServer,
    Nms,
    Modality(ModalitySpec),
    Monitor,
    /// An IEEE 11073 SDC provider (ventilator) announcing itself with WS-Discovery.
    Ventilator,
    Pump {
        web_server: bool,
        cloud: bool,
    },
    LabAnalyzer {
        astm: bool,
    },
    LegacyAnalyzer,
    /// A POCT1-A point-of-care analyzer (glucose meter dock) reporting to the LIS.
    PointOfCare,
    Workstation {
        biomed: bool,
        edge: bool,
    },
    Printer {
        mdns_service: &'static str,
        ssdp_server: String,
    },
    Camera {
        ssdp_server: String,
    },
    Building,
}

/// How a modality stores images.
#[derive(Debug, Clone)]
pub(crate) struct ModalitySpec {
    pub modality: &'static str,
    pub sop_class: &'static str,
    pub rows: u16,
    pub columns: u16,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub images_per_association: u8,
    pub stack: DicomStack,
    pub uid_root: &'static str,
}

/// One simulated device.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub name: String,
    pub category: &'static str,
    pub vendor: String,
    pub model: String,
    pub software_version: String,
    pub serial: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub vlan: u16,
    /// On the outpatient site (seen only behind the router).
    pub remote: bool,
    /// IP TTL the device's stack starts with (64 for Linux/embedded, 128 for Windows).
    pub ttl: u8,
    pub ae_title: Option<String>,
    pub hl7_app: Option<String>,
    /// DHCP vendor class (option 60) and parameter request list (option 55), if the device
    /// uses DHCP.
    pub dhcp: Option<(String, Vec<u8>)>,
    pub role: Role,
}

/// The simulated hospital.
#[derive(Debug, Clone)]
pub struct Hospital {
    pub(crate) vlans: Vec<Vlan>,
    pub(crate) devices: Vec<Device>,
    pub(crate) router_mac: [u8; 6],
}

// OUIs (IEEE MA-L registry, /usr/share/ieee-data/oui.txt).
const OUI_GE_HEALTHCARE: [u8; 3] = [0x44, 0x4b, 0x5d];
const OUI_INTEL: [u8; 3] = [0x00, 0x1b, 0x21];
const OUI_CARESTREAM: [u8; 3] = [0x00, 0x1d, 0x4a];
const OUI_PHILIPS_MONITORING: [u8; 3] = [0x00, 0x09, 0x5c];
const OUI_DRAEGER: [u8; 3] = [0x00, 0x10, 0x5d];
const OUI_MINDRAY: [u8; 3] = [0x00, 0xa0, 0x37];
const OUI_BD: [u8; 3] = [0x9c, 0xc8, 0xae];
const OUI_BBRAUN: [u8; 3] = [0x00, 0x12, 0x21];
const OUI_BAXTER: [u8; 3] = [0x58, 0x46, 0xe1];
const OUI_ICU_MEDICAL: [u8; 3] = [0x00, 0x03, 0xb1];
const OUI_SMITHS: [u8; 3] = [0x00, 0x1a, 0x01];
const OUI_ROCHE: [u8; 3] = [0x00, 0x0e, 0x2f];
const OUI_SYSMEX: [u8; 3] = [0x00, 0x06, 0x6b];
const OUI_ABBOTT: [u8; 3] = [0x00, 0x13, 0xdd];
const OUI_BECKMAN: [u8; 3] = [0x00, 0xe0, 0x90];
const OUI_DELL: [u8; 3] = [0x98, 0xe7, 0x43];
const OUI_HP: [u8; 3] = [0x04, 0x0e, 0x3c];
const OUI_LEXMARK: [u8; 3] = [0x00, 0x21, 0xb7];
const OUI_ZEBRA: [u8; 3] = [0x00, 0x23, 0x68];
const OUI_AXIS: [u8; 3] = [0x00, 0x40, 0x8c];
const OUI_JCI: [u8; 3] = [0x00, 0x10, 0x8d];
const OUI_CISCO: [u8; 3] = [0xf4, 0xbd, 0x9e];
const OUI_CISCO_ROUTER: [u8; 3] = [0x08, 0x4f, 0xa9];
const OUI_ARUBA: [u8; 3] = [0x88, 0x3a, 0x30];
const OUI_VMWARE: [u8; 3] = [0x00, 0x50, 0x56];

// DICOM implementation identities.
//
// Organisation UID roots: GE 1.2.840.113619, Siemens 1.3.12.2.1107.5, Philips
// 1.3.46.670589, Toshiba/Canon 1.2.392.200036.9116. Source for the roots: David Clunie, "Medical Image Format FAQ", part 8 (UID roots
// of vendors), and the vendors' DICOM conformance statements. The suffixes after each root
// and the version names of the vendor stacks are invented for this simulation.
//
// Toolkits: DCMTK 3.6.4 uses implementation class UID "1.2.276.0.7230010.3.0.3.6.4" and
// version name "OFFIS_DCMTK_364" (dcmtk dcmdata/include/dcmtk/dcmdata/dcuid.h,
// OFFIS_IMPLEMENTATION_CLASS_UID = SITE_UID_ROOT ".0." version, SITE_UID_ROOT =
// "1.2.276.0.7230010.3"); pynetdicom 2.0.2 uses "1.2.826.0.1.3680043.9.3811.2.0.2" and
// "PYNETDICOM_202" (pynetdicom/__init__.py PYNETDICOM_IMPLEMENTATION_UID/_VERSION);
// dcm4che 5 uses "1.2.40.0.13.1.3" and "dcm4che-<version>"
// (dcm4che-net org/dcm4che3/net/Implementation.java).
pub(crate) const GE_ROOT: &str = "1.2.840.113619";
pub(crate) const SIEMENS_ROOT: &str = "1.3.12.2.1107.5";
pub(crate) const PHILIPS_ROOT: &str = "1.3.46.670589";
pub(crate) const CANON_ROOT: &str = "1.2.392.200036.9116";
pub(crate) const DCMTK_ROOT: &str = "1.2.276.0.7230010.3";
pub(crate) const PYNETDICOM_ROOT: &str = "1.2.826.0.1.3680043.9.3811";

fn stack(class_uid: &str, version_name: &str, max_pdu: u32) -> DicomStack {
    DicomStack {
        class_uid: class_uid.to_string(),
        version_name: version_name.to_string(),
        max_pdu,
    }
}

const SOP_CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const SOP_MR: &str = "1.2.840.10008.5.1.4.1.1.4";
const SOP_US: &str = "1.2.840.10008.5.1.4.1.1.6.1";
const SOP_DX: &str = "1.2.840.10008.5.1.4.1.1.1.1";

struct ModalityModel {
    category: &'static str,
    prefix: &'static str,
    vendor: &'static str,
    model: &'static str,
    software: &'static str,
    oui: [u8; 3],
    stack: fn() -> DicomStack,
    uid_root: &'static str,
}

fn modality_catalog() -> Vec<ModalityModel> {
    vec![
        ModalityModel {
            category: "imaging_ct",
            prefix: "CT",
            vendor: "GE MEDICAL SYSTEMS",
            model: "Revolution CT",
            software: "revo_ct_22.1.0",
            oui: OUI_GE_HEALTHCARE,
            stack: || stack("1.2.840.113619.6.408", "REVOCT_22_1", 65536),
            uid_root: GE_ROOT,
        },
        ModalityModel {
            category: "imaging_mr",
            prefix: "MR",
            vendor: "SIEMENS",
            model: "MAGNETOM Vida",
            software: "syngo MR XA50",
            oui: OUI_INTEL,
            stack: || stack("1.3.12.2.1107.5.2.50", "SIEMENS_MRXA50", 32768),
            uid_root: SIEMENS_ROOT,
        },
        ModalityModel {
            category: "imaging_us",
            prefix: "US",
            vendor: "GE Healthcare",
            model: "LOGIQ E10",
            software: "R3.1.2",
            oui: OUI_GE_HEALTHCARE,
            stack: || stack("1.2.840.113619.6.472", "LOGIQE10_R3", 16384),
            uid_root: GE_ROOT,
        },
        ModalityModel {
            category: "imaging_xray",
            prefix: "DX",
            vendor: "Carestream Health",
            model: "DRX-Evolution Plus",
            software: "5.7.400.7",
            oui: OUI_CARESTREAM,
            stack: || stack("1.2.276.0.7230010.3.0.3.6.4", "OFFIS_DCMTK_364", 16384),
            uid_root: DCMTK_ROOT,
        },
        ModalityModel {
            category: "imaging_ct",
            prefix: "CT",
            vendor: "SIEMENS",
            model: "SOMATOM go.Top",
            software: "syngo CT VA40A",
            oui: OUI_INTEL,
            stack: || stack("1.3.12.2.1107.5.1.4", "SIEMENS_CTVA40", 32768),
            uid_root: SIEMENS_ROOT,
        },
        ModalityModel {
            category: "imaging_mr",
            prefix: "MR",
            vendor: "Philips Medical Systems",
            model: "Ingenia",
            software: "5.7.1",
            oui: OUI_INTEL,
            stack: || stack("1.3.46.670589.11.0.0.51.4.57", "Philips MR 57", 16384),
            uid_root: PHILIPS_ROOT,
        },
        ModalityModel {
            category: "imaging_ct",
            prefix: "CT",
            vendor: "CANON_MEC",
            model: "Aquilion ONE",
            software: "V10.2SP0003",
            oui: OUI_INTEL,
            stack: || stack("1.2.392.200036.9116.2.6.1.48", "TM_CT_V10", 65536),
            uid_root: CANON_ROOT,
        },
        ModalityModel {
            category: "imaging_xray",
            prefix: "DX",
            vendor: "OpenDR Retrofit",
            model: "MobileDR 2",
            software: "1.4.0",
            oui: OUI_INTEL,
            stack: || stack("1.2.826.0.1.3680043.9.3811.2.0.2", "PYNETDICOM_202", 16382),
            uid_root: PYNETDICOM_ROOT,
        },
    ]
}

fn spec_for(category: &str, m: &ModalityModel) -> ModalitySpec {
    let (modality, sop_class, rows, columns, spp, bits, images) = match category {
        "imaging_ct" => ("CT", SOP_CT, 512, 512, 1, 16, 2),
        "imaging_mr" => ("MR", SOP_MR, 256, 256, 1, 16, 4),
        "imaging_us" => ("US", SOP_US, 360, 480, 3, 8, 1),
        _ => ("DX", SOP_DX, 1024, 1024, 1, 16, 1),
    };
    ModalitySpec {
        modality,
        sop_class,
        rows,
        columns,
        samples_per_pixel: spp,
        bits_allocated: bits,
        images_per_association: images,
        stack: (m.stack)(),
        uid_root: m.uid_root,
    }
}

/// (vendor, model, software, OUI, DHCP vendor class, HL7 MSH-3)
type MonitorModel = (
    &'static str,
    &'static str,
    &'static str,
    [u8; 3],
    &'static str,
    &'static str,
);
const MONITORS: &[MonitorModel] = &[
    (
        "Philips",
        "IntelliVue MX800",
        "M.00.03",
        OUI_PHILIPS_MONITORING,
        "PHILIPS-IntelliVue",
        "IntelliVue_MX800",
    ),
    (
        "GE Healthcare",
        "CARESCAPE B650",
        "3.2.1",
        OUI_GE_HEALTHCARE,
        "GEHC-CARESCAPE",
        "CARESCAPE_B650",
    ),
    (
        "Draeger",
        "Infinity Delta",
        "VF10.1",
        OUI_DRAEGER,
        "Draeger-Infinity",
        "INFINITY_DELTA",
    ),
    (
        "Mindray",
        "BeneVision N17",
        "02.10.00",
        OUI_MINDRAY,
        "Mindray-BeneVision",
        "BENEVISION_N17",
    ),
];

/// (vendor, model, software, OUI, DHCP vendor class, embedded web server)
type PumpModel = (
    &'static str,
    &'static str,
    &'static str,
    [u8; 3],
    &'static str,
    bool,
);
const PUMPS: &[PumpModel] = &[
    (
        "BD",
        "Alaris 8015 PC Unit",
        "12.1.2",
        OUI_BD,
        "BD-Alaris-8015",
        true,
    ),
    (
        "B. Braun",
        "Infusomat Space",
        "688L0102",
        OUI_BBRAUN,
        "BBraun-SpaceCom",
        false,
    ),
    (
        "Baxter",
        "Sigma Spectrum",
        "8.01.01",
        OUI_BAXTER,
        "Baxter-Spectrum-WBM",
        true,
    ),
    (
        "ICU Medical",
        "Plum 360",
        "15.11",
        OUI_ICU_MEDICAL,
        "ICUMedical-Plum360",
        false,
    ),
    (
        "Smiths Medical",
        "Medfusion 4000",
        "1.7.0",
        OUI_SMITHS,
        "Smiths-Medfusion",
        false,
    ),
];

/// (vendor, model, software, OUI, speaks ASTM rather than HL7, HL7 MSH-3 / ASTM sender)
type AnalyzerModel = (
    &'static str,
    &'static str,
    &'static str,
    [u8; 3],
    bool,
    &'static str,
);
const ANALYZERS: &[AnalyzerModel] = &[
    (
        "Roche",
        "cobas 6000",
        "05-02",
        OUI_ROCHE,
        false,
        "COBAS6000",
    ),
    ("Sysmex", "XN-1000", "00-21", OUI_SYSMEX, true, "XN-1000"),
    (
        "Abbott",
        "ARCHITECT ci4100",
        "9.45",
        OUI_ABBOTT,
        true,
        "ARCHITECT",
    ),
    (
        "Beckman Coulter",
        "AU680",
        "3.2",
        OUI_BECKMAN,
        false,
        "AU680",
    ),
];

/// Windows 10/11 DHCP parameter request list.
const PRL_WINDOWS: &[u8] = &[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];
/// Embedded Linux (udhcpc-like) parameter request list.
const PRL_EMBEDDED: &[u8] = &[1, 3, 6, 12, 15, 28, 42];
/// Embedded RTOS medical devices (VxWorks/ThreadX-like) parameter request list.
const PRL_RTOS: &[u8] = &[1, 3, 6, 15, 28, 51, 58, 59];

impl Hospital {
    /// Builds a hospital of roughly `devices` devices (at least one of each kind).
    pub fn build(seed: u64, devices: usize) -> Hospital {
        Builder::new(seed).build(devices)
    }

    /// The VLANs of the hospital.
    pub fn vlans(&self) -> &[Vlan] {
        &self.vlans
    }

    pub(crate) fn find(&self, pred: impl Fn(&Role) -> bool) -> Option<usize> {
        self.devices.iter().position(|d| pred(&d.role))
    }
}

struct Builder {
    rng: ChaCha8Rng,
    devices: Vec<Device>,
    next_host: [u32; 256],
    mac_counter: u32,
    mac_salt: u32,
}

impl Builder {
    fn new(seed: u64) -> Builder {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mac_salt = rng.gen::<u32>();
        Builder {
            rng,
            devices: Vec::new(),
            next_host: [10; 256],
            mac_counter: 0,
            mac_salt,
        }
    }

    fn mac(&mut self, oui: [u8; 3]) -> [u8; 6] {
        // Multiplying by an odd constant is a bijection mod 2^24, so MACs never repeat.
        self.mac_counter += 1;
        let low = (self.mac_counter.wrapping_mul(0x9e37_79b1) ^ self.mac_salt) & 0x00ff_ffff;
        [
            oui[0],
            oui[1],
            oui[2],
            (low >> 16) as u8,
            (low >> 8) as u8,
            low as u8,
        ]
    }

    fn ip(&mut self, vlan: u16) -> Ipv4Addr {
        let slot = usize::from(vlan).min(255);
        let h = self.next_host[slot];
        self.next_host[slot] += 1;
        Ipv4Addr::new(10, vlan as u8, (h / 250) as u8, (h % 250) as u8 + 1)
    }

    fn serial(&mut self, prefix: &str) -> String {
        format!("{prefix}{:07}", self.rng.gen_range(0..10_000_000u32))
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: String,
        category: &'static str,
        vendor: &str,
        model: &str,
        software: &str,
        oui: [u8; 3],
        vlan: u16,
        ttl: u8,
        role: Role,
    ) -> usize {
        let mac = self.mac(oui);
        let ip = self.ip(vlan);
        let serial = self.serial(&vendor.chars().take(2).collect::<String>().to_uppercase());
        self.devices.push(Device {
            name,
            category,
            vendor: vendor.to_string(),
            model: model.to_string(),
            software_version: software.to_string(),
            serial,
            mac,
            ip,
            vlan,
            remote: is_remote_vlan(vlan),
            ttl,
            ae_title: None,
            hl7_app: None,
            dhcp: None,
            role,
        });
        self.devices.len() - 1
    }

    fn build(mut self, total: usize) -> Hospital {
        let total = total.max(30);
        let router = self.add(
            "rgh-core-rtr01".into(),
            "network_router",
            "Cisco",
            "Catalyst 9500-24Y4C",
            "IOS-XE 17.9.4",
            OUI_CISCO_ROUTER,
            VLAN_NETMGMT,
            255,
            Role::Router,
        );
        // The router owns .0.1 in every VLAN; its management address is 10.99.0.1.
        self.devices[router].ip = Ipv4Addr::new(10, VLAN_NETMGMT as u8, 0, 1);
        let router_mac = self.devices[router].mac;

        let srv = |b: &mut Builder,
                   name: &str,
                   cat: &'static str,
                   vendor: &str,
                   model: &str,
                   sw: &str,
                   ttl: u8,
                   role: Role| {
            b.add(
                name.into(),
                cat,
                vendor,
                model,
                sw,
                OUI_VMWARE,
                VLAN_SERVERS,
                ttl,
                role,
            )
        };
        srv(
            &mut self,
            "dc01",
            "it_server",
            "Microsoft",
            "Windows Server 2019 DNS/DHCP",
            "10.0.17763",
            128,
            Role::DnsDhcp,
        );
        let pacs = srv(
            &mut self,
            "pacs01",
            "pacs",
            "dcm4che",
            "dcm4chee-arc-light",
            "5.31.0",
            64,
            Role::Pacs,
        );
        self.devices[pacs].ae_title = Some("RGH_PACS".into());
        let engine = srv(
            &mut self,
            "mirth01",
            "interface_engine",
            "NextGen Healthcare",
            "Mirth Connect",
            "4.4.1",
            64,
            Role::InterfaceEngine,
        );
        self.devices[engine].hl7_app = Some("MIRTH".into());
        let lis = srv(
            &mut self,
            "lis01",
            "laboratory_information_system",
            "LabFlow Systems",
            "LabFlow LIS",
            "7.3",
            128,
            Role::Lis,
        );
        self.devices[lis].hl7_app = Some("LABFLOW".into());
        srv(
            &mut self,
            "fs01",
            "it_server",
            "Microsoft",
            "Windows Server 2022 File Server",
            "10.0.20348",
            128,
            Role::FileServer,
        );
        let ehr = srv(
            &mut self,
            "emr01",
            "ehr_server",
            "CareChart",
            "CareChart EHR",
            "2024.2",
            128,
            Role::Ehr,
        );
        self.devices[ehr].hl7_app = Some("CARECHART".into());
        srv(
            &mut self,
            "pumpsrv01",
            "infusion_server",
            "BD",
            "Alaris Systems Manager",
            "4.33",
            128,
            Role::InfusionServer,
        );
        srv(
            &mut self,
            "nms01",
            "it_server",
            "Zabbix",
            "Zabbix Server",
            "6.0.25",
            64,
            Role::Nms,
        );

        let fixed = self.devices.len();
        let switches = (total / 25).max(2);
        let rest = total.saturating_sub(fixed + switches + (total / 12).max(3));
        let share = |f: f64, min: usize| ((rest as f64 * f).round() as usize).max(min);
        let n_modalities = share(0.10, 4);
        let n_monitors = share(0.15, 2);
        let n_pumps = share(0.18, 2);
        let n_vents = share(0.03, 1);
        let n_lab = share(0.05, 2);
        let n_poc = share(0.02, 1);
        let n_printers = share(0.08, 2);
        let n_iot = share(0.06, 2);
        let n_ws = rest
            .saturating_sub(
                n_modalities
                    + n_monitors
                    + n_vents
                    + n_pumps
                    + n_lab
                    + n_poc
                    + 1
                    + n_printers
                    + n_iot,
            )
            .max(3);

        for i in 0..switches {
            let cisco = i % 3 != 2;
            let (vendor, model, sw, oui, platform) = if cisco {
                (
                    "Cisco",
                    "Catalyst 9300-48P",
                    "17.9.4",
                    OUI_CISCO,
                    "cisco C9300-48P",
                )
            } else {
                (
                    "Aruba",
                    "2930F-48G-PoE+",
                    "WC.16.11.0012",
                    OUI_ARUBA,
                    "Aruba JL256A 2930F-48G-PoE+",
                )
            };
            self.add(
                format!("sw-acc-{:02}", i + 1),
                "network_switch",
                vendor,
                model,
                sw,
                oui,
                VLAN_NETMGMT,
                255,
                Role::Switch {
                    cdp: cisco,
                    platform,
                },
            );
        }

        let catalog = modality_catalog();
        let mut per_prefix = std::collections::BTreeMap::<&str, u32>::new();
        for i in 0..n_modalities {
            let m = &catalog[i % catalog.len()];
            let k = per_prefix.entry(m.prefix).or_insert(0);
            *k += 1;
            let room = self.rng.gen_range(1..12);
            let station = format!("{}{:02}_ROOM{room}", m.prefix, k);
            let spec = spec_for(m.category, m);
            let idx = self.add(
                station.replace('_', "-"),
                m.category,
                m.vendor,
                m.model,
                m.software,
                m.oui,
                VLAN_IMAGING,
                if m.uid_root == SIEMENS_ROOT || m.uid_root == CANON_ROOT {
                    128
                } else {
                    64
                },
                Role::Modality(spec),
            );
            self.devices[idx].ae_title = Some(station);
        }

        for i in 0..n_monitors {
            let (vendor, model, sw, oui, vc, app) = MONITORS[i % MONITORS.len()];
            let idx = self.add(
                format!("ICU-MON-{:03}", i + 1),
                "patient_monitor",
                vendor,
                model,
                sw,
                oui,
                VLAN_MONITORING,
                64,
                Role::Monitor,
            );
            self.devices[idx].hl7_app = Some(app.to_string());
            self.devices[idx].dhcp = Some((vc.to_string(), PRL_RTOS.to_vec()));
        }

        for i in 0..n_vents {
            let idx = self.add(
                format!("ICU-VENT-{:02}", i + 1),
                "ventilator",
                "Draeger",
                "Evita V800",
                "3.10.1",
                OUI_DRAEGER,
                VLAN_MONITORING,
                64,
                Role::Ventilator,
            );
            self.devices[idx].dhcp = Some(("Draeger-EvitaV800".into(), PRL_RTOS.to_vec()));
        }

        for i in 0..n_pumps {
            let (vendor, model, sw, oui, vc, web) = PUMPS[i % PUMPS.len()];
            let idx = self.add(
                format!("PUMP-{:04}", i + 1),
                "infusion_pump",
                vendor,
                model,
                sw,
                oui,
                VLAN_INFUSION,
                64,
                Role::Pump {
                    web_server: web,
                    cloud: i == 0,
                },
            );
            self.devices[idx].dhcp = Some((vc.to_string(), PRL_RTOS.to_vec()));
        }

        for i in 0..n_lab {
            let (vendor, model, sw, oui, astm, app) = ANALYZERS[i % ANALYZERS.len()];
            let idx = self.add(
                format!("LAB-{}-{:02}", app.replace(' ', ""), i + 1),
                "laboratory_analyzer",
                vendor,
                model,
                sw,
                oui,
                VLAN_LAB,
                64,
                Role::LabAnalyzer { astm },
            );
            self.devices[idx].hl7_app = Some(app.to_string());
        }
        for i in 0..n_poc {
            let idx = self.add(
                format!("POC-GLU-{:02}", i + 1),
                "point_of_care_analyzer",
                "Roche",
                "Accu-Chek Inform II",
                "04.03.02",
                OUI_ROCHE,
                VLAN_LAB,
                64,
                Role::PointOfCare,
            );
            self.devices[idx].dhcp = Some(("Roche-AccuChek-Base".into(), PRL_EMBEDDED.to_vec()));
        }
        // An old blood-gas analyzer PC still running Telnet and FTP services.
        self.add(
            "LAB-BLOODGAS-OLD".into(),
            "laboratory_analyzer",
            "Radiometer",
            "ABL800 FLEX",
            "6.13 (Windows XP Embedded)",
            OUI_INTEL,
            VLAN_LAB,
            128,
            Role::LegacyAnalyzer,
        );

        for i in 0..n_ws {
            let dell = i % 3 != 1;
            let (vendor, model, sw, oui) = if dell {
                (
                    "Dell",
                    "OptiPlex 7090",
                    "Windows 10 Enterprise 22H2 (10.0.19045)",
                    OUI_DELL,
                )
            } else {
                (
                    "HP",
                    "EliteDesk 800 G6",
                    "Windows 11 Enterprise 23H2 (10.0.22631)",
                    OUI_HP,
                )
            };
            let biomed = i == 0;
            let name = if biomed {
                "RGH-BIOMED-01".to_string()
            } else {
                format!("RGH-WS-{:04}", i + 1)
            };
            let idx = self.add(
                name,
                "workstation",
                vendor,
                model,
                sw,
                oui,
                VLAN_IT,
                128,
                Role::Workstation {
                    biomed,
                    edge: !dell,
                },
            );
            self.devices[idx].dhcp = Some(("MSFT 5.0".into(), PRL_WINDOWS.to_vec()));
            if biomed {
                // Clinical engineering tests DICOM connectivity with DCMTK's echoscu; the
                // PACS does not know this AE title and rejects the association.
                self.devices[idx].ae_title = Some("BIOMED_ECHOSCU".into());
            }
        }

        for i in 0..n_printers {
            let (vendor, model, sw, oui, vc, svc) = match i % 3 {
                0 => (
                    "HP",
                    "LaserJet Enterprise M507",
                    "2409081_052618",
                    OUI_HP,
                    "Hewlett-Packard JetDirect",
                    "_ipp._tcp",
                ),
                1 => (
                    "Lexmark",
                    "MS622de",
                    "MSNGM.230.037",
                    OUI_LEXMARK,
                    "Lexmark MS622de",
                    "_ipp._tcp",
                ),
                _ => (
                    "Zebra",
                    "ZD620 label printer",
                    "V84.20.23Z",
                    OUI_ZEBRA,
                    "Zebra Technologies",
                    "_pdl-datastream._tcp",
                ),
            };
            let server = format!("{vendor} {model} UPnP/1.0 {sw}");
            let idx = self.add(
                format!("PRN-{:03}", i + 1),
                "printer",
                vendor,
                model,
                sw,
                oui,
                VLAN_BUILDING,
                64,
                Role::Printer {
                    mdns_service: svc,
                    ssdp_server: server,
                },
            );
            self.devices[idx].dhcp = Some((vc.to_string(), PRL_EMBEDDED.to_vec()));
        }

        for i in 0..n_iot {
            if i % 2 == 0 {
                let idx = self.add(
                    format!("CAM-{:03}", i / 2 + 1),
                    "ip_camera",
                    "Axis",
                    "P3245-LV",
                    "10.12.199",
                    OUI_AXIS,
                    VLAN_BUILDING,
                    64,
                    Role::Camera {
                        ssdp_server:
                            "Linux/4.14.173-axis8, UPnP/1.0, Portable SDK for UPnP devices/1.8.4"
                                .into(),
                    },
                );
                self.devices[idx].dhcp = Some((
                    "AXIS,Network Camera,P3245-LV,10.12.199".into(),
                    PRL_EMBEDDED.to_vec(),
                ));
            } else {
                self.add(
                    format!("BAS-NAE-{:02}", i / 2 + 1),
                    "building_automation",
                    "Johnson Controls",
                    "Metasys NAE55",
                    "11.0.0.1432",
                    OUI_JCI,
                    VLAN_BUILDING,
                    64,
                    Role::Building,
                );
            }
        }

        // The outpatient site: an ultrasound, monitors and workstations (no DHCP, mDNS or
        // SSDP visible from the main campus).
        let remote = (total / 12).max(3);
        for i in 0..remote {
            match i % 3 {
                0 => {
                    let m = &catalog[2];
                    let station = format!("US{:02}_OPC", i / 3 + 1);
                    let spec = spec_for(m.category, m);
                    let idx = self.add(
                        station.replace('_', "-"),
                        m.category,
                        m.vendor,
                        m.model,
                        m.software,
                        m.oui,
                        VLAN_REMOTE_IMAGING,
                        64,
                        Role::Modality(spec),
                    );
                    self.devices[idx].ae_title = Some(station);
                }
                1 => {
                    let (vendor, model, sw, oui, _, app) = MONITORS[(i / 3) % MONITORS.len()];
                    let idx = self.add(
                        format!("OPC-MON-{:03}", i / 3 + 1),
                        "patient_monitor",
                        vendor,
                        model,
                        sw,
                        oui,
                        VLAN_REMOTE_MONITORING,
                        64,
                        Role::Monitor,
                    );
                    self.devices[idx].hl7_app = Some(app.to_string());
                }
                _ => {
                    self.add(
                        format!("OPC-WS-{:03}", i / 3 + 1),
                        "workstation",
                        "Dell",
                        "OptiPlex 7090",
                        "Windows 10 Enterprise 22H2 (10.0.19045)",
                        OUI_DELL,
                        VLAN_REMOTE_IT,
                        128,
                        Role::Workstation {
                            biomed: false,
                            edge: false,
                        },
                    );
                }
            }
        }

        Hospital {
            vlans: VLANS
                .iter()
                .map(|(id, name)| Vlan {
                    id: *id,
                    name,
                    site: if is_remote_vlan(*id) {
                        SITE_OUTPATIENT
                    } else {
                        SITE_MAIN
                    },
                })
                .collect(),
            devices: self.devices,
            router_mac,
        }
    }
}
