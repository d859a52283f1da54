//! Measures device listings over a large synthetic inventory in SQLite:
//! `cargo run -p ward-store --example list_bench [devices] [dir]` (default 1,000,000).
//! Loads the devices (skipped when the store in `dir` already has them), then times the
//! first page of common listings, with and without the total count.

use std::collections::BTreeMap;
use std::time::Instant;
use ward_store::{Actor, DeviceQuery, DeviceRecord, DeviceSort, Store};

fn record(i: u32) -> DeviceRecord {
    let categories = [
        "infusion_pump",
        "patient_monitor",
        "workstation",
        "ct_scanner",
        "printer",
    ];
    let vendors = [
        "Baxter",
        "Philips",
        "Dell",
        "Siemens Healthineers",
        "HP",
        "GE Healthcare",
    ];
    let mut inferred = BTreeMap::new();
    inferred.insert(
        "category".to_string(),
        categories[(i % 5) as usize].to_string(),
    );
    inferred.insert("vendor".to_string(), vendors[(i % 6) as usize].to_string());
    inferred.insert("model".to_string(), format!("Model {}", i % 50));
    inferred.insert("hostname".to_string(), format!("host-{i:07}"));
    DeviceRecord {
        id: format!("dev-{i:012x}"),
        site: format!("site-{:03}", i % 100),
        name: format!("host-{i:07}"),
        inferred,
        macs: vec![format!(
            "00:1b:21:{:02x}:{:02x}:{:02x}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        )],
        ips: vec![format!(
            "10.{}.{}.{}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        )],
        is_router: false,
        first_seen: 1_700_000_000_000_000 + i64::from(i),
        last_seen: 1_700_000_000_000_000 + i64::from(i % 10_007) * 1_000_000,
        detail: serde_json::json!({ "id": format!("dev-{i:012x}") }),
    }
}

async fn time(
    store: &Store,
    label: &str,
    q: DeviceQuery,
) -> Result<(), Box<dyn std::error::Error>> {
    // Warm once, then take the best of 5 (the first touches cold pages).
    store.list_devices(&q).await?;
    let mut best = f64::MAX;
    let mut n = 0;
    let mut total = None;
    for _ in 0..5 {
        let t = Instant::now();
        let page = store.list_devices(&q).await?;
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        n = page.devices.len();
        total = page.total;
    }
    println!("{label:<48} {best:8.2} ms  ({n} rows, total {total:?})");
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let store = Store::open_data_dir(&dir).await?;
    let have = store
        .list_devices(&DeviceQuery {
            limit: 1,
            ..Default::default()
        })
        .await?
        .total
        .unwrap_or(0);
    if have < u64::from(n) {
        let t = Instant::now();
        let actor = Actor::system();
        let mut i = 0;
        while i < n {
            let end = (i + 20_000).min(n);
            let recs: Vec<DeviceRecord> = (i..end).map(record).collect();
            store.upsert_devices(&recs, &actor).await?;
            i = end;
        }
        println!("loaded {n} devices in {:.1} s", t.elapsed().as_secs_f64());
    }
    let page = |sort, with_total| DeviceQuery {
        sort,
        limit: 50,
        with_total,
        ..Default::default()
    };
    time(
        &store,
        "first page by name, no total",
        page(DeviceSort::Name, false),
    )
    .await?;
    time(
        &store,
        "first page by name, with total",
        page(DeviceSort::Name, true),
    )
    .await?;
    time(
        &store,
        "first page by last seen desc, no total",
        DeviceQuery {
            descending: true,
            ..page(DeviceSort::LastSeen, false)
        },
    )
    .await?;
    time(
        &store,
        "first page by criticality desc, no total",
        DeviceQuery {
            descending: true,
            ..page(DeviceSort::Criticality, false)
        },
    )
    .await?;
    time(
        &store,
        "category=infusion_pump by name, with total",
        DeviceQuery {
            category: Some("infusion_pump".into()),
            ..page(DeviceSort::Name, true)
        },
    )
    .await?;
    time(
        &store,
        "site=site-042 by name, with total",
        DeviceQuery {
            site: Some("site-042".into()),
            ..page(DeviceSort::Name, true)
        },
    )
    .await?;
    time(
        &store,
        "vendor=Philips by name, no total",
        DeviceQuery {
            vendor: Some("Philips".into()),
            ..page(DeviceSort::Name, false)
        },
    )
    .await?;
    time(
        &store,
        "text search 'host-0999' by name, no total",
        DeviceQuery {
            text: Some("host-0999".into()),
            ..page(DeviceSort::Name, false)
        },
    )
    .await?;
    let p1 = store.list_devices(&page(DeviceSort::Name, false)).await?;
    time(
        &store,
        "second page (keyset) by name, no total",
        DeviceQuery {
            after: p1.next_cursor,
            ..page(DeviceSort::Name, false)
        },
    )
    .await?;
    store.close().await;
    Ok(())
}
