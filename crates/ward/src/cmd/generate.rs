//! `ward generate`: write a synthetic hospital capture.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Output pcap file.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Target size, e.g. 5M, 400M, 2G.
    #[arg(long, default_value = "5M")]
    pub size: String,
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let target = parse_size(&args.size)?;
    let cfg = ward_bench::GenConfig {
        seed: args.seed,
        target_bytes: target,
        ..Default::default()
    };
    let summary = ward_bench::generate_file(&cfg, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {}: {} packets, {} bytes, {} devices",
        args.out.display(),
        summary.packets,
        summary.bytes,
        summary.devices.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Parses sizes like `400M`, `2G`, `512k` or a plain byte count.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => anyhow::bail!("unknown size unit in {s:?} (use K, M or G)"),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .with_context(|| format!("not a size: {s:?}"))?;
    Ok(n.saturating_mul(mult))
}

#[cfg(test)]
mod tests {
    use super::parse_size;
    #[test]
    fn sizes() {
        assert_eq!(parse_size("400M").unwrap(), 400 << 20);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert_eq!(parse_size("1234").unwrap(), 1234);
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }
}
