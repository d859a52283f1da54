//! Identity of hosts seen both on their own segment (by MAC) and through a router (by
//! IP), over the real pipeline on generated hospital captures (the generator's sites are
//! routed subnets; each half of a split capture is analysed on its own, as two
//! observation windows are).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use ward_bench::{generate_split, GenConfig, GeneratedDevice, SITE_MAIN};
use ward_capture::CaptureConfig;
use ward_dissect::EngineConfig;
use ward_identify::{Inventory, Rules};

fn rules() -> Rules {
    Rules::standard().unwrap_or_else(|e| {
        panic!("these tests need the IEEE registry: run `apt-get install -y ieee-data` ({e})")
    })
}

fn analyze(path: &Path, rules: &Rules) -> Inventory {
    let (out, _stats) = ward_dissect::analyze_files(
        &[path.to_path_buf()],
        &CaptureConfig::default(),
        &EngineConfig::default(),
        1,
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("analyzing {}: {e}", path.display()));
    ward_identify::identify(&out.observations, &out.security, &out.edges, rules)
}

fn check(inv: &Inventory, truth: &[GeneratedDevice], what: &str) {
    let mut owners: BTreeMap<IpAddr, Vec<(&str, Vec<String>)>> = BTreeMap::new();
    for d in &inv.devices {
        for b in &d.ips {
            owners
                .entry(b.ip)
                .or_default()
                .push((d.id.as_str(), d.endpoints.clone()));
        }
    }
    for g in truth {
        let o = owners.get(&g.ip);
        eprintln!("{what}: {} {} {} {:?}", g.name, g.site, g.ip, o);
    }
    for (ip, o) in &owners {
        if o.len() > 1 {
            eprintln!("DUP {what}: {ip} {o:?}");
        }
    }
    let _ = SITE_MAIN;
}

#[test]
fn hosts_seen_by_mac_and_through_a_router_are_one_device_in_every_window() {
    let rules = rules();
    let dir = tempfile::tempdir().expect("tempdir");
    for seed in [13u64, 42] {
        let (a, b) = (
            dir.path().join(format!("first-{seed}.pcap")),
            dir.path().join(format!("second-{seed}.pcap")),
        );
        let cfg = GenConfig {
            seed,
            target_bytes: 3 << 20,
            devices: 40,
            impairment_rate: 0.0,
            ..GenConfig::default()
        };
        let (s1, _, _) = generate_split(&cfg, &a, &b).expect("generate split capture");
        for p in [&a, &b] {
            let inv = analyze(p, &rules);
            check(&inv, &s1.devices, &p.display().to_string());
        }
    }
    panic!("diag");
}
