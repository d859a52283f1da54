//! Measures bulk ingest into SQLite: `cargo run -p ward-store --example ingest_bench
//! [observations] [batch size] [dir]`. Prints observations per second (fresh rows, then
//! the same keys again, which exercises the aggregating upsert path).

use std::time::Instant;
use ward_model::{EndpointAddr, Evidence, MacAddr, Observation, Timestamp};
use ward_store::{Actor, Batch, Store};

fn observations(n: usize, round: u64) -> Vec<Observation> {
    (0..n)
        .map(|k| {
            let host = (k / 20) as u32;
            let mac = MacAddr([0x00, 0x1b, 0x21, (host >> 16) as u8, (host >> 8) as u8, host as u8]);
            let ip = std::net::Ipv4Addr::new(10, (host >> 16) as u8, (host >> 8) as u8, host as u8);
            let t = 1_700_000_000_000_000 + round * 1_000_000 + k as u64;
            Observation {
                subject: EndpointAddr {
                    mac: Some(mac),
                    ip: Some(ip.into()),
                },
                key: format!("bench.key{}", k % 20),
                value: format!("value-{}", k % 7),
                first_seen: Timestamp(t),
                last_seen: Timestamp(t + 10),
                count: 1,
                evidence: Evidence {
                    file: 0,
                    packet: k as u64,
                    ts: Timestamp(t),
                    flow: None,
                },
            }
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let batch_size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .get(3)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let store = Store::open_data_dir(&dir).await?;
    let sensor = Actor::new("sensor:bench", None);
    let all = observations(total, 0);
    for round in 0..2u64 {
        let start = Instant::now();
        for (b, chunk) in all.chunks(batch_size.max(1)).enumerate() {
            let batch = Batch {
                files: vec!["bench".into()],
                observations: chunk.to_vec(),
                ..Default::default()
            };
            store
                .ingest_batch(&format!("bench-{round}-{b}"), "bench", &batch, &sensor)
                .await?;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{} {} observations in batches of {}: {:.2} s, {:.0} observations/s",
            if round == 0 { "insert" } else { "upsert" },
            total,
            batch_size,
            secs,
            total as f64 / secs
        );
    }
    store.close().await;
    Ok(())
}
