//! Identity of hosts seen both on their own segment (by MAC) and through a router (by
//! IP), over the real pipeline on generated hospital captures (the generator's sites are
//! routed subnets; each half of a split capture is analysed on its own, as two
//! observation windows are).
//!
//! * A host must be one device: no IP-keyed device may hold an address that a MAC-keyed
//!   (host) device holds in the same analysis.
//! * A router MAC carrying many hosts' addresses must not absorb them: the router's device
//!   holds only addresses it owns, and every routed host is a device of its own.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use ward_bench::{generate_split, GenConfig};
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

fn check_one_device_per_host(inv: &Inventory, what: &str) {
    // Addresses held by host (non-router) MAC devices.
    let mut by_mac: BTreeMap<IpAddr, &str> = BTreeMap::new();
    for d in &inv.devices {
        if !d.macs.is_empty() && !d.is_router {
            for b in &d.ips {
                by_mac.insert(b.ip, d.id.as_str());
            }
        }
    }
    for d in &inv.devices {
        if d.macs.is_empty() {
            for b in &d.ips {
                assert!(
                    !by_mac.contains_key(&b.ip),
                    "{what}: {} is both device {} (by MAC) and IP-only device {} ({:?})",
                    b.ip,
                    by_mac[&b.ip],
                    d.id,
                    d.endpoints
                );
            }
        }
    }
    // No address belongs to two devices.
    let mut owner: BTreeMap<IpAddr, &str> = BTreeMap::new();
    for d in &inv.devices {
        for b in &d.ips {
            if let Some(prev) = owner.insert(b.ip, d.id.as_str()) {
                assert!(
                    prev == d.id,
                    "{what}: {} held by devices {prev} and {}",
                    b.ip,
                    d.id
                );
            }
        }
    }
    // Routers hold few addresses: they did not absorb the hosts behind them.
    let routers: Vec<_> = inv.devices.iter().filter(|d| d.is_router).collect();
    assert!(!routers.is_empty(), "{what}: the generated sites are routed");
    for r in routers {
        assert!(
            r.ips.len() <= 4,
            "{what}: router device {} holds {} addresses: {:?}",
            r.id,
            r.ips.len(),
            r.ips.iter().map(|b| b.ip).collect::<Vec<_>>()
        );
    }
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
        generate_split(&cfg, &a, &b).expect("generate split capture");
        for p in [&a, &b] {
            let inv = analyze(p, &rules);
            assert!(inv.devices.len() >= 20, "{}: devices found", p.display());
            check_one_device_per_host(&inv, &p.display().to_string());
        }
    }
}
