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
            let mac = MacAddr([
                0x00,
                0x1b,
                0x21,
                (host >> 16) as u8,
                (host >> 8) as u8,
                host as u8,
            ]);
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

/// CPU seconds (user + system, all threads) this process used so far, from
/// `/proc/self/stat` (Linux); 0 elsewhere. On a shared machine the wall time depends on
/// the other load, so the bench reports both.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th field,
    // stime the 15th, in clock ticks (100 per second on Linux).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
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
        let cpu0 = cpu_seconds();
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
        let cpu = cpu_seconds() - cpu0;
        println!(
            "{} {} observations in batches of {}: {:.2} s wall, {:.0} observations/s; \
             {:.2} s CPU, {:.0} observations per CPU second",
            if round == 0 { "insert" } else { "upsert" },
            total,
            batch_size,
            secs,
            total as f64 / secs,
            cpu,
            total as f64 / cpu.max(0.001)
        );
    }
    store.close().await;
    Ok(())
}
