//! Throughput check of the capture engine (not a test).
//!
//! ```text
//! capture_bench gen OUT.pcap MB        # synthetic TCP-heavy capture with reordering
//! capture_bench gen-small OUT.pcap MB  # 150-byte UDP packets over 50 000 flows
//! capture_bench walk FILE...           # record walk only (the floor)
//! capture_bench analyze WORKERS FILE...# full pipeline, a sink that reads every byte
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use etherparse::PacketBuilder;
use ward_capture::{analyze_files, CaptureConfig, Direction, FlowMeta, FlowSink, PacketCtx};

#[derive(Default)]
struct Touch {
    sum: u64,
    bytes: u64,
}

impl FlowSink for Touch {
    fn stream_data(&mut self, _f: &FlowMeta, _d: Direction, data: &[u8], _p: &PacketCtx) {
        self.bytes += data.len() as u64;
        self.sum = self
            .sum
            .wrapping_add(data.first().copied().unwrap_or(0) as u64);
    }
    fn datagram(&mut self, _f: &FlowMeta, _d: Direction, data: &[u8], _p: &PacketCtx) {
        self.bytes += data.len() as u64;
    }
}

fn gen(out: &str, mb: u64) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let hdr: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    w.write_all(&hdr)?;
    let target = mb << 20;
    let mut written = 24u64;
    let mut ts = 1_700_000_000_000_000u64;
    let payload: Vec<u8> = (0..1448u32).map(|i| (i % 251) as u8).collect();
    let mut frame = Vec::with_capacity(1600);
    let emit = |w: &mut std::io::BufWriter<std::fs::File>, frame: &[u8], ts: u64| {
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        w.write_all(&rec)?;
        w.write_all(frame)?;
        Ok::<u64, std::io::Error>(16 + frame.len() as u64)
    };
    let ports = [104u16, 2575, 443, 80, 445, 11112];
    let mut flow = 0u32;
    // 256 flows in parallel, round robin, 200 segments each, every 40th pair swapped.
    while written < target {
        let batch: Vec<u32> = (flow..flow + 256).collect();
        flow += 256;
        let seg = |f: u32, k: u32, fr: &mut Vec<u8>, flags: u8| {
            fr.clear();
            let c = [10, 1, (f >> 8) as u8, f as u8];
            let s = [10, 2, 0, (f % 20) as u8 + 1];
            let cp = 30000 + (f % 30000) as u16;
            let sp = ports[(f % 6) as usize];
            let mac_c = [0x00, 0x1b, 0x21, 0, (f >> 8) as u8, f as u8];
            let mac_s = [0x00, 0x1d, 0x4a, 0, 0, (f % 20) as u8];
            let b = if flags == 1 {
                PacketBuilder::ethernet2(mac_s, mac_c)
                    .ipv4(s, c, 64)
                    .tcp(sp, cp, 5000, 65535)
                    .ack(1 + k * 1448)
            } else {
                let t = PacketBuilder::ethernet2(mac_c, mac_s).ipv4(c, s, 64).tcp(
                    cp,
                    sp,
                    1 + k * 1448,
                    65535,
                );
                match flags {
                    2 => t.syn(),
                    3 => t.fin().ack(5001),
                    _ => t.ack(5001),
                }
            };
            let data: &[u8] = if flags == 0 { &payload } else { &[] };
            b.write(fr, data).expect("frame");
        };
        for &f in &batch {
            seg(f, 0, &mut frame, 2);
            let pkt = frame.clone();
            written += emit(&mut w, &pkt, ts)?;
            ts += 5;
        }
        for k in 0..200u32 {
            for &f in &batch {
                let kk = if k % 40 == 10 {
                    k + 1
                } else if k % 40 == 11 {
                    k - 1
                } else {
                    k
                };
                seg(f, kk, &mut frame, 0);
                let pkt = frame.clone();
                written += emit(&mut w, &pkt, ts)?;
                ts += 5;
                if k % 4 == 3 {
                    seg(f, k + 1, &mut frame, 1);
                    let pkt = frame.clone();
                    written += emit(&mut w, &pkt, ts)?;
                    ts += 5;
                }
            }
        }
        for &f in &batch {
            seg(f, 200, &mut frame, 3);
            let pkt = frame.clone();
            written += emit(&mut w, &pkt, ts)?;
            ts += 5;
        }
    }
    w.flush()?;
    eprintln!("wrote {} MiB to {out}", written >> 20);
    Ok(())
}

/// Small packets over many flows: 90-byte-payload UDP across 50 000 address pairs.
fn gen_small(out: &str, mb: u64) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let hdr: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    w.write_all(&hdr)?;
    let mut written = 24u64;
    let mut ts = 1_700_000_000_000_000u64;
    let payload = [0x5au8; 90];
    let mut frame = Vec::with_capacity(200);
    let mut i = 0u32;
    while written < mb << 20 {
        let f = i % 50_000;
        frame.clear();
        PacketBuilder::ethernet2([0, 0x1b, 0x21, 0, 0, 1], [0, 0x1d, 0x4a, 0, 0, 2])
            .ipv4(
                [10, 3, (f >> 8) as u8, f as u8],
                [10, 4, 0, (f % 50) as u8],
                64,
            )
            .udp(20000 + (f % 1000) as u16, 5000 + (i % 2) as u16)
            .write(&mut frame, &payload)
            .expect("frame");
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        w.write_all(&rec)?;
        w.write_all(&frame)?;
        written += 16 + frame.len() as u64;
        ts += 1;
        i += 1;
    }
    w.flush()
}

fn report(what: &str, secs: f64, packets: u64, bytes: u64) {
    println!(
        "{what}: {secs:.3} s, {packets} packets, {:.2} Mpkt/s, {:.2} GB/s, {:.2} Gbit/s",
        packets as f64 / secs / 1e6,
        bytes as f64 / secs / 1e9,
        bytes as f64 * 8.0 / secs / 1e9
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen") if args.len() == 3 => {
            let mb = args[2].parse().expect("MB");
            gen(&args[1], mb).expect("write capture");
        }
        Some("gen-small") if args.len() == 3 => {
            let mb = args[2].parse().expect("MB");
            gen_small(&args[1], mb).expect("write capture");
        }
        Some("walk") => {
            let t = Instant::now();
            let files: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
            let (packets, bytes) = ward_capture::walk_files(&files).expect("walk");
            report("record walk", t.elapsed().as_secs_f64(), packets, bytes);
        }
        Some("analyze") if args.len() >= 3 => {
            let workers: usize = args[1].parse().expect("workers");
            let files: Vec<PathBuf> = args[2..].iter().map(PathBuf::from).collect();
            let t = Instant::now();
            let (sinks, stats) = analyze_files(
                &files,
                &CaptureConfig::default(),
                workers,
                |_| Touch::default(),
                &|_| {},
            )
            .expect("analyze");
            let secs = t.elapsed().as_secs_f64();
            let file_bytes: u64 = stats.files.iter().map(|f| f.bytes).sum();
            report(
                &format!("analyze ({workers} workers)"),
                secs,
                stats.packets,
                file_bytes,
            );
            let delivered: u64 = sinks.iter().map(|s| s.bytes).sum();
            eprintln!(
                "flows {} delivered {} MiB gaps {} decode errors {}",
                stats.flows,
                delivered >> 20,
                stats.gap_bytes,
                stats.decode_errors
            );
        }
        _ => eprintln!("usage: capture_bench gen OUT MB | walk FILE... | analyze WORKERS FILE..."),
    }
}
