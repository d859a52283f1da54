//! Every built-in rule file loads, every rule cites its public source, and rule ids are
//! unique across files (a repeated id would silently replace an earlier rule).

use std::collections::BTreeMap;
use ward_identify::rules::{parse_rule_file_checked, BUILTIN_RULE_FILES};
use ward_identify::Rules;

#[test]
fn each_builtin_file_loads_on_its_own() {
    for (name, text) in BUILTIN_RULE_FILES {
        let n = parse_rule_file_checked(name, text)
            .unwrap_or_else(|e| panic!("built-in rule file {name} does not load: {e}"));
        assert!(n > 0, "{name} defines nothing");
    }
    let all = Rules::builtin().expect("built-in rules");
    assert!(all.rules().len() >= 60, "{} rules", all.rules().len());
}

#[test]
fn every_rule_is_preceded_by_a_source_comment() {
    for (name, text) in BUILTIN_RULE_FILES {
        let lines: Vec<&str> = text.lines().collect();
        let mut rules = 0;
        for (i, line) in lines.iter().enumerate() {
            let header = line.trim();
            if header != "[[rule]]" && header != "[[vendor]]" {
                continue;
            }
            rules += 1;
            // The comment block directly above the header must contain "# Source:".
            let mut j = i;
            let mut found = false;
            while j > 0 {
                j -= 1;
                let l = lines[j].trim();
                if !l.starts_with('#') {
                    break;
                }
                if l.starts_with("# Source:") && l.len() > "# Source:".len() + 10 {
                    found = true;
                }
            }
            assert!(
                found,
                "{name}:{}: {header} has no '# Source: ...' comment directly above it",
                i + 1
            );
        }
        assert!(rules > 0, "{name} has no rules");
    }
}

#[test]
fn rule_ids_are_unique_across_builtin_files() {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (name, text) in BUILTIN_RULE_FILES {
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("id = ") {
                let id = rest.trim_matches('"').to_string();
                if let Some(prev) = seen.insert(id.clone(), name) {
                    panic!("rule id {id} is defined in both {prev} and {name}");
                }
            }
        }
    }
    assert!(seen.len() >= 60);
}

#[test]
fn required_knowledge_is_covered() {
    let r = Rules::builtin().expect("built-in rules");
    let expect = [
        (
            "dicom.implementation_class_uid",
            "1.2.276.0.7230010.3.0.3.6.7",
            "DCMTK",
        ),
        (
            "dicom.implementation_class_uid",
            "1.2.826.0.1.3680043.9.3811.3.0.4",
            "pynetdicom",
        ),
        (
            "dicom.implementation_class_uid",
            "1.2.40.0.13.1.3",
            "dcm4che",
        ),
        (
            "dicom.implementation_class_uid",
            "1.2.826.0.1.3680043.2.1143.107.104.103.115.2.8.4",
            "GDCM",
        ),
        ("dhcp.vendor_class", "MSFT 5.0", "Windows"),
        ("dhcp.vendor_class", "android-dhcp-9", "Android"),
        (
            "dhcp.vendor_class",
            "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709",
            "Linux",
        ),
        (
            "dhcp.vendor_class",
            "udhcp 1.36.1",
            "Linux (embedded, BusyBox)",
        ),
        (
            "smb.native_os",
            "Windows 7 Ultimate 7601 Service Pack 1",
            "Windows 7",
        ),
        ("smb.native_os", "Windows 5.1", "Windows XP"),
        ("http.server", "GoAhead-Webs", "GoAhead"),
        ("http.server", "Boa/0.94.14rc21", "Boa 0.94.14rc21"),
        (
            "http.server",
            "Allegro-Software-RomPager/4.07",
            "Allegro RomPager",
        ),
        ("http.server", "lighttpd/1.4.55", "lighttpd"),
        ("hl7.sending_application", "EPIC", "ehr"),
        (
            "hl7.sending_application",
            "MIRTH_CONNECT",
            "interface_engine",
        ),
        ("hl7.sending_application", "Rhapsody", "interface_engine"),
        ("hl7.sending_application", "CLOVERLEAF", "interface_engine"),
        (
            "hl7.sending_application",
            "PHILIPS_IntelliVue_PIC",
            "monitoring_gateway",
        ),
        (
            "hl7.sending_application",
            "CARESCAPE_GW",
            "monitoring_gateway",
        ),
        ("sdc.manufacturer", "Drägerwerk AG & Co. KGaA", "Dräger"),
        ("poct1.model_id", "i-STAT 1", "point_of_care_analyzer"),
        ("sdc.medical_device", "yes", "SDC device"),
        ("hl7.message", "ORU^R01^ORU_R01", "HL7 results sender (ORU)"),
        ("astm.sender_name", "cobas", "lab_analyzer"),
        (
            "dhcp.param_req_list",
            "1,121,3,6,15,119,252,95,44,46",
            "macOS",
        ),
        (
            "smb.ntlm_os_version",
            "6.1.7601",
            "Windows 7/Server 2008 R2",
        ),
        ("smb.ntlm_os_version", "10.0.19041", "Windows build 19041"),
        (
            "tls.cert_subject",
            "C=AU, ST=Some-State, O=Internet Widgits Pty Ltd",
            "OpenSSL default certificate",
        ),
        (
            "lldp.system_description",
            "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE",
            "Cisco IOS",
        ),
        ("cdp.platform", "cisco WS-C3560-24TS", "WS-C3560-24TS"),
    ];
    for (key, value, wanted) in expect {
        let hits = r.classify(key, value);
        let outputs: Vec<&str> = hits
            .iter()
            .flat_map(|h| h.outputs.iter().map(|(_, v)| v.as_str()))
            .collect();
        assert!(
            outputs.contains(&wanted),
            "{key} = {value:?} should give {wanted:?}, got {outputs:?}"
        );
    }
    assert_eq!(
        r.canonical_vendor("GE MEDICAL SYSTEMS"),
        Some("GE Healthcare")
    );
    assert_eq!(r.canonical_vendor("Draeger Medical"), Some("Dräger"));
    assert_eq!(
        r.canonical_vendor("Hewlett Packard Enterprise"),
        Some("Hewlett Packard Enterprise")
    );
    assert_eq!(r.canonical_vendor("Hewlett Packard"), Some("HP"));
    assert_eq!(r.canonical_vendor("Acme Widgets"), None);
}
