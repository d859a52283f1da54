//! `ward-gen`: writes a synthetic hospital capture for benchmarks and demos.
//!
//! `ward-gen --seed 7 --size 400M --out hospital.pcap`

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use ward_bench::{generate_file, GenConfig};

#[derive(Parser, Debug)]
#[command(
    name = "ward-gen",
    about = "Generate a synthetic hospital pcap (deterministic per seed)"
)]
struct Args {
    /// Seed of the generator; the same seed and options give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Target file size, e.g. 400M, 2G, 500K or a byte count.
    #[arg(long, default_value = "12M", value_parser = parse_size)]
    size: u64,
    /// Approximate number of devices in the hospital.
    #[arg(long, default_value_t = 60)]
    devices: usize,
    /// Per-segment probability of TCP impairments (retransmission, reordering, overlap).
    #[arg(long, default_value_t = 0.002)]
    impairments: f64,
    /// Output pcap file.
    #[arg(long)]
    out: PathBuf,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a size: {s:?} (e.g. 400M)"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("not a size: {s:?}"));
    }
    Ok((n * mult as f64) as u64)
}

fn main() -> ExitCode {
    let a = Args::parse();
    let cfg = GenConfig {
        seed: a.seed,
        target_bytes: a.size,
        devices: a.devices,
        impairment_rate: a.impairments,
        ..GenConfig::default()
    };
    let started = Instant::now();
    match generate_file(&cfg, &a.out) {
        Ok(s) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "wrote {}: {} packets, {} bytes, {} flows, {} devices in {:.2} s ({:.0} MB/s)",
                a.out.display(),
                s.packets,
                s.bytes,
                s.flows,
                s.devices.len(),
                secs,
                s.bytes as f64 / 1e6 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ward-gen: cannot write {}: {e}", a.out.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("400M"), Ok(400 << 20));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("abc").is_err());
    }
}
