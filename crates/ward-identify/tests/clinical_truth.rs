//! Identification over the endpoints of the clinical captures' truth files.
//!
//! The dissectors are built in parallel, so this test feeds `identify` the observations
//! and edges those dissectors are specified to emit for each capture, transcribed from
//! the capture's `.truth.json` (MACs, IPs, AE titles, implementation UIDs and version
//! names, HL7 MSH-3/4, roles, associations and connections), together with the real IEEE
//! registry. The lead's end-to-end tests run the real pipeline.

use serde_json::Value;
use std::path::{Path, PathBuf};
use ward_identify::{device_id_for_mac, AttrKind, Category, Rules};
use ward_model::{
    ConnectionEdge, EndpointAddr, Evidence, MacAddr, Observation, Timestamp, Transport,
};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/clinical-captures");
    assert!(
        p.is_dir(),
        "the test corpus is required at {} (clinical-captures missing)",
        p.display()
    );
    p
}

fn rules() -> Rules {
    Rules::standard().unwrap_or_else(|e| {
        panic!("these tests need the IEEE registry: run `apt-get install -y ieee-data` ({e})")
    })
}

fn addr(v: &Value) -> EndpointAddr {
    EndpointAddr {
        mac: v["mac"].as_str().and_then(|m| m.parse().ok()),
        ip: v["ip"].as_str().and_then(|i| i.parse().ok()),
    }
}

fn ev(n: u64) -> Evidence {
    Evidence {
        file: 0,
        packet: n,
        ts: Timestamp(1_000_000 + n),
        flow: None,
    }
}

fn fact(subject: EndpointAddr, key: &str, value: &str, n: u64) -> Observation {
    Observation {
        subject,
        key: key.to_string(),
        value: value.to_string(),
        first_seen: Timestamp(1_000_000 + n),
        last_seen: Timestamp(1_000_000 + n),
        count: 1,
        evidence: ev(n),
    }
}

/// The observations and edges the dissectors are specified to produce for a capture.
fn transcribe(truth: &Value) -> (Vec<Observation>, Vec<ConnectionEdge>) {
    let mut obs = Vec::new();
    let mut n = 1;
    for ep in truth["endpoints"].as_array().into_iter().flatten() {
        let a = addr(ep);
        let roles: Vec<&str> = ep["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let scu = roles.iter().any(|r| r.starts_with("DICOM SCU"));
        for r in &roles {
            let (key, value) = if r.starts_with("DICOM SCU") {
                ("dicom.role", "SCU")
            } else if r.starts_with("DICOM SCP") {
                ("dicom.role", "SCP")
            } else if r.starts_with("HL7 sender") {
                ("hl7.role", "sender")
            } else if r.starts_with("HL7 receiver") {
                ("hl7.role", "receiver")
            } else {
                continue;
            };
            obs.push(fact(a, key, value, n));
            n += 1;
        }
        for ae in ep["dicom_ae_titles"].as_array().into_iter().flatten() {
            let key = if scu {
                "dicom.calling_ae"
            } else {
                "dicom.called_ae"
            };
            obs.push(fact(a, key, ae.as_str().unwrap_or(""), n));
            n += 1;
        }
        for imp in ep["dicom_implementation"].as_array().into_iter().flatten() {
            for (k, f) in [
                ("implementation_class_uid", "dicom.implementation_class_uid"),
                (
                    "implementation_version_name",
                    "dicom.implementation_version",
                ),
            ] {
                if let Some(v) = imp[k].as_str() {
                    obs.push(fact(a, f, v, n));
                    n += 1;
                }
            }
        }
        for app in ep["hl7_sending_application_facility"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for (k, f) in [
                ("application", "hl7.sending_application"),
                ("facility", "hl7.sending_facility"),
            ] {
                if let Some(v) = app[k].as_str() {
                    obs.push(fact(a, f, v, n));
                    n += 1;
                }
            }
        }
    }
    let mut edges = Vec::new();
    for (list, proto) in [("dicom_associations", "dicom"), ("hl7_connections", "hl7")] {
        for c in truth[list].as_array().into_iter().flatten() {
            n += 1;
            edges.push(ConnectionEdge {
                client: addr(&c["client"]),
                server: addr(&c["server"]),
                transport: Transport::Tcp,
                server_port: c["server"]["port"].as_u64().unwrap_or(0) as u16,
                vlan: None,
                protocol: Some(proto.to_string()),
                bytes_to_server: c["payload_bytes_client_to_server"].as_u64().unwrap_or(0),
                bytes_to_client: c["payload_bytes_server_to_client"].as_u64().unwrap_or(0),
                packets: c["packets"].as_u64().unwrap_or(0),
                sessions: 1,
                first_seen: Timestamp(1_000_000 + n),
                last_seen: Timestamp(1_000_000 + n),
                evidence: ev(n),
            });
        }
    }
    (obs, edges)
}

#[test]
fn truth_endpoints_become_devices_with_vendor_roles_and_software() {
    let rules = rules();
    let mut files = 0;
    let mut categories_checked = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("read clinical-captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let (obs, edges) = transcribe(&truth);
        let inv = ward_identify::identify(&obs, &[], &edges, &rules);
        let endpoints = truth["endpoints"].as_array().expect("endpoints");
        assert_eq!(
            inv.devices.len(),
            endpoints.len(),
            "{name}: one device per truth endpoint (no router misdetection)"
        );
        for ep in endpoints {
            let mac: MacAddr = ep["mac"].as_str().expect("mac").parse().expect("mac");
            let tid = ep["device_id"].as_str().unwrap_or("?");
            let d = inv
                .device(&device_id_for_mac(&mac))
                .unwrap_or_else(|| panic!("{name}: no device for {tid} ({mac})"));
            let org = ep["oui_organization"].as_str().expect("oui_organization");
            let expected_vendor = rules.canonical_vendor(org).unwrap_or(org);
            assert_eq!(d.vendor(), Some(expected_vendor), "{name}: vendor of {tid}");
            let ip = ep["ip"].as_str().expect("ip");
            assert!(
                d.ips.iter().any(|b| b.ip.to_string() == ip),
                "{name}: {tid} holds {ip}"
            );
            let roles = d.roles();
            for r in ep["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let short = ["DICOM SCU", "DICOM SCP", "HL7 sender", "HL7 receiver"]
                    .into_iter()
                    .find(|s| r.starts_with(s))
                    .unwrap_or(r);
                assert!(
                    roles.contains(&short),
                    "{name}: {tid} role {short} in {roles:?}"
                );
            }
            for ae in ep["dicom_ae_titles"].as_array().into_iter().flatten() {
                let ae = ae.as_str().unwrap_or("");
                assert!(
                    d.values(AttrKind::AeTitle).contains(&ae),
                    "{name}: {tid} AE {ae}"
                );
            }
            if ep["dicom_implementation"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                assert!(
                    d.values(AttrKind::Software).contains(&"pynetdicom"),
                    "{name}: {tid} runs pynetdicom (UID root 1.2.826.0.1.3680043.9.3811)"
                );
                assert!(
                    d.values(AttrKind::SoftwareVersion)
                        .contains(&"pynetdicom 304"),
                    "{name}: {tid} version name PYNETDICOM_304"
                );
            }
            let expected_category = match tid {
                "dev_pacs" if name.starts_with("dicom_cstore") => Some(Category::Pacs),
                // An HL7 receiver with at least two senders.
                "dev_hl7_engine" if !name.contains("7011") && !name.contains("two_tcp") => {
                    Some(Category::InterfaceEngine)
                }
                "dev_draeger" | "dev_philips_pic" => Some(Category::MonitoringGateway),
                _ => None,
            };
            if let Some(c) = expected_category {
                assert_eq!(
                    d.category,
                    Some(c),
                    "{name}: category of {tid}: {:?}",
                    d.explain()
                );
                categories_checked += 1;
            }
        }
        files += 1;
    }
    assert_eq!(files, 9, "nine truth files");
    assert!(
        categories_checked >= 5,
        "only {categories_checked} categories checked"
    );
}
