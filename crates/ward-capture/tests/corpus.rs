//! Every capture of the shared corpus goes through the whole pipeline: no panic, no hang,
//! packet counts equal to the manifest's (counted by tshark), warnings for damage.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ward_capture::{
    analyze_files, ArpBinding, CaptureConfig, Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink,
    L2Frame, PacketCtx,
};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("pcaps/manifest.json").exists(),
        "the shared test corpus is required at {} (pcaps/manifest.json missing)",
        p.display()
    );
    p
}

#[derive(Default)]
struct Counting {
    flows_started: u64,
    flows_ended: u64,
    stream_bytes: u64,
    gap_bytes: u64,
    datagrams: u64,
    l2: u64,
    arp: u64,
    records: Vec<FlowRecord>,
    per_flow: HashMap<u64, [u64; 2]>,
}

impl FlowSink for Counting {
    fn flow_start(&mut self, _f: &FlowMeta, _p: &PacketCtx) {
        self.flows_started += 1;
    }
    fn stream_data(&mut self, f: &FlowMeta, d: Direction, data: &[u8], _p: &PacketCtx) {
        self.stream_bytes += data.len() as u64;
        let e = self.per_flow.entry(f.id).or_default();
        e[usize::from(d == Direction::ToClient)] += data.len() as u64;
    }
    fn stream_gap(&mut self, _f: &FlowMeta, _d: Direction, missing: u64, _p: &PacketCtx) {
        self.gap_bytes += missing;
    }
    fn datagram(&mut self, _f: &FlowMeta, _d: Direction, _data: &[u8], _p: &PacketCtx) {
        self.datagrams += 1;
    }
    fn flow_end(&mut self, r: &FlowRecord) {
        self.flows_ended += 1;
        self.records.push(r.clone());
    }
    fn l2_frame(&mut self, _f: &L2Frame<'_>, _p: &PacketCtx) {
        self.l2 += 1;
    }
    fn arp(&mut self, _a: &ArpBinding, _p: &PacketCtx) {
        self.arp += 1;
    }
}

fn run_one(path: &Path, workers: usize) -> (Vec<Counting>, ward_capture::CaptureStats) {
    let start = Instant::now();
    let out = analyze_files(
        &[path.to_path_buf()],
        &CaptureConfig::default(),
        workers,
        |_| Counting::default(),
        &|_| {},
    )
    .unwrap_or_else(|e| panic!("{}: analysis failed: {e}", path.display()));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{}: took {:?}, more than the 20 s bound",
        path.display(),
        start.elapsed()
    );
    out
}

#[test]
fn manifest_packet_counts_match() {
    let root = corpus();
    let text =
        std::fs::read_to_string(root.join("pcaps/manifest.json")).expect("manifest readable");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    let entries = manifest.as_array().expect("manifest is an array");
    assert!(
        entries.len() >= 50,
        "manifest lists {} captures, expected >= 50",
        entries.len()
    );
    let mut checked = 0;
    for e in entries {
        let file = e["file"].as_str().expect("file field");
        let expected = e["packets"].as_u64().expect("packets field");
        let path = root.join("pcaps").join(file);
        let (sinks, stats) = run_one(&path, 1);
        assert_eq!(
            stats.packets, expected,
            "{file}: packets processed, manifest says {expected}"
        );
        assert_eq!(
            stats.files[0].packets, expected,
            "{file}: file packet count"
        );
        let s = &sinks[0];
        assert_eq!(
            s.flows_started, s.flows_ended,
            "{file}: every started flow ends"
        );
        assert_eq!(s.flows_started, stats.flows, "{file}: flow count");
        checked += 1;
    }
    assert_eq!(checked, entries.len());
}

#[test]
fn every_dev_and_clinical_capture_processes() {
    let root = corpus();
    let mut files = Vec::new();
    for dir in ["pcaps/dev", "clinical-captures"] {
        let expanded = ward_capture::expand_inputs(&[root.join(dir)])
            .unwrap_or_else(|e| panic!("expanding {dir}: {e}"));
        files.extend(expanded);
    }
    assert!(files.len() >= 60, "found only {} captures", files.len());
    for f in &files {
        let (single, s1) = run_one(f, 1);
        let (multi, s2) = run_one(f, 2);
        assert_eq!(
            s1.packets,
            s2.packets,
            "{}: 1 vs 2 workers packet count",
            f.display()
        );
        assert_eq!(
            s1.flows,
            s2.flows,
            "{}: 1 vs 2 workers flow count",
            f.display()
        );
        let bytes1: u64 = single.iter().map(|s| s.stream_bytes).sum();
        let bytes2: u64 = multi.iter().map(|s| s.stream_bytes).sum();
        assert_eq!(
            bytes1,
            bytes2,
            "{}: 1 vs 2 workers stream bytes",
            f.display()
        );
        let mut ids: Vec<u64> = multi
            .iter()
            .flat_map(|s| s.records.iter().map(|r| r.meta.id))
            .collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            n,
            "{}: flow ids unique across workers",
            f.display()
        );
        for w in s1.warnings() {
            assert!(
                w.contains("byte offset"),
                "{}: warning without offset: {w}",
                f.display()
            );
        }
    }
}

/// The clinical captures' truth files list every TCP connection with its client, server,
/// packet count and payload bytes per direction (checked with tshark): the flow records
/// and the reassembled streams must agree exactly.
#[test]
fn clinical_flows_match_truth() {
    let root = corpus().join("clinical-captures");
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .expect("clinical-captures readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    names.sort();
    for truth_path in names {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&truth_path).expect("truth readable"))
                .expect("truth is JSON");
        let cap = PathBuf::from(truth_path.to_string_lossy().trim_end_matches(".truth.json"));
        let name = cap
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let (sinks, stats) = run_one(&cap, 1);
        assert_eq!(
            stats.packets,
            truth["packets"].as_u64().expect("packets"),
            "{name}: packets"
        );
        let s = &sinks[0];
        for key in ["hl7_connections", "dicom_associations", "tls_connections"] {
            let Some(conns) = truth[key].as_array() else {
                continue;
            };
            for c in conns {
                let cip: std::net::IpAddr =
                    c["client"]["ip"].as_str().expect("ip").parse().expect("ip");
                let sip: std::net::IpAddr =
                    c["server"]["ip"].as_str().expect("ip").parse().expect("ip");
                let cport = c["client"]["port"].as_u64().expect("port") as u16;
                let sport = c["server"]["port"].as_u64().expect("port") as u16;
                let rec = s
                    .records
                    .iter()
                    .find(|r| {
                        r.meta.client.ip == Some(cip)
                            && r.meta.server.ip == Some(sip)
                            && r.meta.client_port == cport
                            && r.meta.server_port == sport
                    })
                    .unwrap_or_else(|| {
                        panic!("{name}: no flow {cip}:{cport} -> {sip}:{sport} with that client/server")
                    });
                let c2s = c["payload_bytes_client_to_server"].as_u64().expect("bytes");
                let s2c = c["payload_bytes_server_to_client"].as_u64().expect("bytes");
                let what = format!("{name}: {cip}:{cport} -> {sip}:{sport}");
                assert_eq!(
                    rec.bytes_to_server, c2s,
                    "{what}: payload bytes to server, truth {c2s}"
                );
                assert_eq!(
                    rec.bytes_to_client, s2c,
                    "{what}: payload bytes to client, truth {s2c}"
                );
                if let Some(p) = c["packets"].as_u64() {
                    assert_eq!(
                        rec.packets_to_server + rec.packets_to_client,
                        p,
                        "{what}: packets, truth {p}"
                    );
                }
                assert!(!rec.meta.midstream, "{what}: handshake is in the capture");
                assert_eq!(rec.gap_bytes, 0, "{what}: no gaps expected");
                let streamed = s.per_flow.get(&rec.meta.id).copied().unwrap_or_default();
                assert_eq!(
                    streamed,
                    [c2s, s2c],
                    "{what}: reassembled bytes per direction"
                );
                if matches!(c["closed_by"].as_str(), Some("FIN") | Some("RST")) {
                    assert_eq!(
                        rec.end,
                        FlowEnd::Closed,
                        "{what}: closed by {}",
                        c["closed_by"]
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 9, "checked only {checked} truth connections");
}

#[test]
fn flows_have_expected_ends() {
    let root = corpus();
    let f = root.join("pcaps/dev/zeek__http-get.pcap");
    let (sinks, _) = run_one(&f, 1);
    let ends: HashMap<_, usize> = sinks[0].records.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(format!("{:?}", r.end)).or_default() += 1;
        m
    });
    assert!(!ends.is_empty(), "{}: no flow records", f.display());
}
