//! No patient data at rest: the real pipeline's output over the clinical captures (which
//! carry the planted patient `CANARY^PHI^TEST`, id `CANARY-123456`) goes into a SQLite
//! store, and the database files must not contain the canary in any byte.

use std::path::{Path, PathBuf};
use ward_store::{Actor, Batch, DeviceQuery, IngestOutcome, Store};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/clinical-captures");
    assert!(
        dir.is_dir(),
        "the corpus at {} is required for this test",
        dir.display()
    );
    dir
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinical_captures_leave_no_canary_in_the_database() {
    let dir = corpus();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap") | Some("pcapng")
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "expected the 9 clinical captures in {}",
        dir.display()
    );
    // The test means something only if the input does carry the canary.
    let planted = files
        .iter()
        .filter(|f| contains(&std::fs::read(f).expect("read capture"), b"CANARY"))
        .count();
    assert!(
        planted > 0,
        "no capture in {} carries the canary",
        dir.display()
    );

    let (out, _stats) = ward_dissect::analyze_files(
        &files,
        &ward_capture::CaptureConfig::default(),
        &ward_dissect::EngineConfig::default(),
        1,
        &|_| {},
    )
    .expect("pipeline over the clinical captures");
    assert!(
        !out.observations.is_empty(),
        "the pipeline produced no observations"
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(tmp.path()).await.expect("open");
    let batch = Batch {
        files: files
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect(),
        observations: out.observations.clone(),
        security: out.security.clone(),
        edges: out.edges.clone(),
    };
    let sensor = Actor::new("sensor:test", Some("127.0.0.1".into()));
    let outcome = store
        .ingest_batch("clinical-1", "lab", &batch, &sensor)
        .await
        .expect("ingest");
    assert!(matches!(outcome, IngestOutcome::Applied { observations, .. } if observations > 0));
    let rules = ward_identify::Rules::builtin().expect("builtin rules");
    let facts = store.site_facts("lab").await.expect("facts");
    let inventory =
        ward_identify::identify(&facts.observations, &facts.security, &facts.edges, &rules);
    assert!(
        !inventory.devices.is_empty(),
        "identification found no devices"
    );
    store
        .replace_inventory("lab", &inventory, &sensor)
        .await
        .expect("inventory");
    let page = store
        .list_devices(&DeviceQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, Some(inventory.devices.len() as u64));
    assert!(store.verify_audit_chain().await.expect("verify").ok());
    store.close().await;

    let mut checked = 0;
    for entry in std::fs::read_dir(tmp.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read db file");
        checked += bytes.len();
        for needle in [&b"CANARY"[..], b"PHI^TEST", b"canary^phi"] {
            assert!(
                !contains(&bytes, needle),
                "{} contains planted patient data ({:?})",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(checked > 0, "no database file written");
}
