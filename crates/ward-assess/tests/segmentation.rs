//! Acceptance: on a generated hospital capture, the policy derived from the first half
//! reports no violations on the first half and reports the injected new flow (a
//! workstation opening SSH to a patient monitor) in the second half. Also checks the
//! exports and the blast radius on the same network.

use std::path::Path;
use ward_assess::blast::blast_radius;
use ward_assess::segment::{derive_policy, flows_from_connections, Flow};
use ward_assess::Asset;
use ward_bench::{generate_split, GenConfig};
use ward_capture::CaptureConfig;
use ward_dissect::EngineConfig;
use ward_model::SecurityKind;

fn analyze(path: &Path) -> (Vec<Asset>, Vec<Flow>) {
    let (out, _stats) = ward_dissect::analyze_files(
        &[path.to_path_buf()],
        &CaptureConfig::default(),
        &EngineConfig::default(),
        1,
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("analyzing {}: {e}", path.display()));
    let (rules, _) = ward_identify::Rules::standard_lenient(
        Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR),
        None,
    )
    .expect("rules");
    let inv = ward_identify::identify(&out.observations, &out.security, &out.edges, &rules);
    let assets = inv.devices.iter().map(Asset::from_device).collect();
    (assets, flows_from_connections(&inv.connections))
}

#[test]
fn policy_from_first_half_flags_injected_flow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        dir.path().join("first.pcap"),
        dir.path().join("second.pcap"),
    );
    let cfg = GenConfig {
        seed: 13,
        target_bytes: 3 << 20,
        devices: 40,
        impairment_rate: 0.0,
        ..GenConfig::default()
    };
    let (_s1, _s2, injected) = generate_split(&cfg, &a, &b).expect("generate split capture");
    let (assets1, flows1) = analyze(&a);
    let (_assets2, flows2) = analyze(&b);
    assert!(flows1.len() > 10, "first half has flows: {}", flows1.len());
    let policy = derive_policy(&assets1, &flows1);
    assert!(!policy.zones.is_empty() && !policy.conduits.is_empty());

    let v1 = policy.violations(&flows1);
    assert!(
        v1.is_empty(),
        "no violations on the baseline itself: {v1:#?}"
    );

    let v2 = policy.violations(&flows2);
    let hit = v2.iter().any(|f| {
        f.src_ip == Some(injected.client_ip)
            && f.dst_ip == Some(injected.server_ip)
            && f.port == injected.port
    });
    assert!(
        hit,
        "injected flow {} -> {}:{} not reported; violations: {v2:#?}",
        injected.client_ip, injected.server_ip, injected.port
    );
    assert_eq!(
        v2.len(),
        1,
        "only the injected flow is new in the second half: {v2:#?}"
    );
    let obs = policy.violation_observations(&flows2);
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0].kind, SecurityKind::PolicyViolation);
    assert!(obs[0].detail.contains("outside the segmentation policy"));

    // Exports mention every conduit with addresses.
    let nft = policy.to_nftables();
    assert!(nft.contains("policy drop;"));
    let with_ips = policy
        .conduits
        .iter()
        .filter(|c| c.src_ip.is_some() && c.dst_ip.is_some())
        .count();
    assert_eq!(nft.matches(" accept comment ").count(), with_ips);
    let acl = policy.to_cisco_acl("WARD-CLINICAL");
    assert!(acl.ends_with("deny ip any any log\n"));
    let json = policy.to_json();
    assert_eq!(json["default"], "deny");

    // Blast radius of the injected client over first-half traffic and policy.
    let client = flows2
        .iter()
        .find(|f| f.src_ip == Some(injected.client_ip))
        .map(|f| f.src.clone())
        .expect("injected client");
    let br = blast_radius(&client, &assets1, &flows1, Some(&policy), 3);
    assert!(br.reached.iter().all(|r| r.hops >= 1 && r.hops <= 3));
    assert!(br.reached.iter().all(|r| r.path.len() as u32 == r.hops));
}
