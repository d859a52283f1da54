//! Load benchmark helper (issue 6 acceptance; a benchmark, not a test): seeds N devices
//! (default 1,000,000) into a SQLite store in DIR if it has none, then opens the store
//! afresh, measures the time until the server accepts connections ("time-to-ready": store
//! open with migrations + bind), issues a read-only API token for a bench admin (written
//! to DIR/bench-token, never printed) and serves `ward_server::app` on ADDR until killed.
//!
//! ```text
//! cargo run --release -p ward-server --example load_seed -- DIR [N] [ADDR]
//! wrk -t2 -c100 -d60s --latency -H "Authorization: Bearer $(cat DIR/bench-token)" \
//!     'http://127.0.0.1:8787/api/v1/devices?limit=50'
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use ward_server::{AppState, ServerConfig};
use ward_store::{Actor, DeviceQuery, DeviceRecord, NewUser, RoleGrant, Store};

fn record(i: u32) -> DeviceRecord {
    const CATEGORIES: [&str; 6] = [
        "infusion_pump",
        "patient_monitor",
        "workstation",
        "ct_scanner",
        "printer",
        "ventilator",
    ];
    const VENDORS: [&str; 5] = ["Baxter", "Philips", "Dell", "Siemens Healthineers", "GE"];
    let mut inferred = BTreeMap::new();
    inferred.insert("category".into(), CATEGORIES[i as usize % 6].to_string());
    inferred.insert("vendor".into(), VENDORS[i as usize % 5].to_string());
    inferred.insert("model".into(), format!("M{}", i % 97));
    inferred.insert("hostname".into(), format!("host-{i:07}"));
    let b = i.to_be_bytes();
    DeviceRecord {
        id: format!("dev-{i:012x}"),
        site: format!("site-{}", i % 10),
        name: format!("host-{i:07}"),
        inferred,
        macs: vec![format!(
            "02:00:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3]
        )],
        ips: vec![format!("10.{}.{}.{}", b[1], b[2], b[3])],
        is_router: false,
        first_seen: 1_700_000_000_000_000 + i64::from(i),
        last_seen: 1_700_000_000_000_000 + 86_400_000_000 + i64::from(i % 1000),
        detail: serde_json::json!({ "id": format!("dev-{i:012x}") }),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: load_seed DIR [N] [ADDR]")?);
    let n: u32 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8787".into());
    std::fs::create_dir_all(&dir)?;
    let actor = Actor::new("system", None);
    {
        let store = Store::open_data_dir(&dir).await?;
        let have = store
            .list_devices(&DeviceQuery {
                limit: 1,
                with_total: true,
                ..Default::default()
            })
            .await?
            .total
            .unwrap_or(0);
        if have < u64::from(n) {
            let t = Instant::now();
            let batch = 20_000u32;
            let mut i = u32::try_from(have)?;
            while i < n {
                let end = n.min(i + batch);
                let recs: Vec<DeviceRecord> = (i..end).map(record).collect();
                store.upsert_devices(&recs, &actor).await?;
                i = end;
            }
            let secs = t.elapsed().as_secs_f64();
            eprintln!(
                "seeded {} devices in {secs:.1} s ({:.0} devices/s)",
                u64::from(n) - have,
                (u64::from(n) - have) as f64 / secs
            );
        }
        store.close().await;
    }
    // Time-to-ready: open the existing store (migrations checked) and bind.
    let t = Instant::now();
    let store = Store::open_data_dir(&dir).await?;
    let state = AppState::new(
        store,
        ServerConfig {
            data_dir: dir.clone(),
            ..ServerConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let ready = t.elapsed();
    eprintln!("ready on http://{addr} in {} ms", ready.as_millis());
    let admin = match state.store.user_by_name("bench").await? {
        Some(u) => u.id,
        None => {
            let u = state
                .store
                .create_user(
                    &NewUser {
                        id: ward_server::auth::random_id(),
                        username: "bench".into(),
                        display_name: "Benchmark".into(),
                        roles: vec![RoleGrant {
                            role: "admin".into(),
                            site: None,
                        }],
                        ..NewUser::default()
                    },
                    &actor,
                )
                .await?;
            u.id
        }
    };
    let token = ward_server::auth::issue_token(
        &state,
        &admin,
        "load benchmark",
        &["read".to_string()],
        None,
        None,
        &actor,
    )
    .await
    .map_err(|e| e.message)?;
    std::fs::write(dir.join("bench-token"), token)?;
    eprintln!("token written to {}", dir.join("bench-token").display());
    axum::serve(
        listener,
        ward_server::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
