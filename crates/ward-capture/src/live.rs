//! Live capture from a network interface through libpcap (the sensor). Feature `live`.
//!
//! **Ward never transmits.** This is guaranteed by construction, not by discipline:
//! - the libpcap handle is converted, right after activation, from `Capture<Active>` to
//!   `Capture<dyn Activated>`; the `pcap` crate defines `sendpacket` only on
//!   `Capture<Active>`, so the handle this module keeps has no transmit method at all;
//! - the handle never leaves this module (it is a local of [`capture_live`]);
//! - a test (`tests/no_transmit.rs`) scans this crate's sources and fails if any of
//!   `sendpacket`, `inject` or a `send(` call on a capture handle appears.
//!
//! The device is opened promiscuous (to see a SPAN port's mirrored traffic) and in
//! immediate mode (packets delivered without buffering delay), with an optional BPF
//! filter. Promiscuous mode changes what the NIC accepts, never what it sends.

use std::sync::atomic::{AtomicBool, Ordering};

use pcap::{Activated, Capture};
use ward_model::Timestamp;

use crate::driver::{CaptureConfig, CaptureStats, FileStats};
use crate::error::CaptureError;
use crate::events::{ArpBinding, Direction, FlowMeta, FlowRecord, FlowSink, L2Frame, PacketCtx};
use crate::flow::Engine;

/// Forwards events to a borrowed sink, so the engine can own "a sink".
struct Borrowed<'a, S: FlowSink>(&'a mut S);

impl<S: FlowSink> FlowSink for Borrowed<'_, S> {
    fn flow_start(&mut self, f: &FlowMeta, p: &PacketCtx) {
        self.0.flow_start(f, p)
    }
    fn stream_data(&mut self, f: &FlowMeta, d: Direction, data: &[u8], p: &PacketCtx) {
        self.0.stream_data(f, d, data, p)
    }
    fn stream_gap(&mut self, f: &FlowMeta, d: Direction, missing: u64, p: &PacketCtx) {
        self.0.stream_gap(f, d, missing, p)
    }
    fn datagram(&mut self, f: &FlowMeta, d: Direction, data: &[u8], p: &PacketCtx) {
        self.0.datagram(f, d, data, p)
    }
    fn flow_end(&mut self, r: &FlowRecord) {
        self.0.flow_end(r)
    }
    fn l2_frame(&mut self, f: &L2Frame<'_>, p: &PacketCtx) {
        self.0.l2_frame(f, p)
    }
    fn arp(&mut self, a: &ArpBinding, p: &PacketCtx) {
        self.0.arp(a, p)
    }
}

/// Buffering timeout handed to libpcap (immediate mode makes it moot on most systems).
const READ_TIMEOUT_MS: i32 = 200;
/// Pause when no packet is waiting; bounds both idle CPU use and `stop` latency.
const IDLE_SLEEP: std::time::Duration = std::time::Duration::from_millis(2);

/// Capture from `iface` until `stop` is set, feeding `sink`. Events carry file index 0
/// and packet numbers counted from 1. All flows end with `EndOfInput` when stopped.
pub fn capture_live<S: FlowSink>(
    iface: &str,
    bpf: Option<&str>,
    cfg: &CaptureConfig,
    sink: &mut S,
    stop: &AtomicBool,
) -> Result<CaptureStats, CaptureError> {
    let err = |reason: String| CaptureError::Live {
        iface: iface.to_string(),
        reason,
    };
    let active = Capture::from_device(iface)
        .map_err(|e| err(format!("no such device: {e}")))?
        .promisc(true)
        .immediate_mode(true)
        .snaplen(65_535)
        .timeout(READ_TIMEOUT_MS)
        .open()
        .map_err(|e| err(format!("cannot open (needs CAP_NET_RAW or root): {e}")))?
        // Non-blocking: libpcap's read timeout does not reliably return on a quiet
        // Linux interface, and `stop` must be honoured promptly.
        .setnonblock()
        .map_err(|e| err(format!("cannot set non-blocking mode: {e}")))?;
    // From here on the handle has no send method (see the module documentation).
    let mut cap: Capture<dyn Activated> = active.into();
    if let Some(f) = bpf {
        cap.filter(f, true)
            .map_err(|e| err(format!("BPF filter {f:?}: {e}")))?;
    }
    let linktype = cap.get_datalink().0 as u32;
    let mut engine = Engine::new(cfg, 0, 1, Borrowed(sink));
    let mut number = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match cap.next_packet() {
            Ok(p) => {
                number += 1;
                let ts = Timestamp::from_secs_micros(
                    p.header.ts.tv_sec.max(0) as u64,
                    (p.header.ts.tv_usec.clamp(0, 999_999)) as u64,
                );
                engine.process(
                    linktype,
                    p.data,
                    PacketCtx {
                        file: 0,
                        packet: number,
                        ts,
                    },
                );
            }
            // Nothing waiting: back off briefly instead of spinning.
            Err(pcap::Error::TimeoutExpired) => std::thread::sleep(IDLE_SLEEP),
            Err(e) => return Err(err(format!("read failed: {e}"))),
        }
    }
    engine.finish();
    let mut stats = CaptureStats {
        files: vec![FileStats {
            path: format!("live:{iface}").into(),
            bytes: engine.stats.bytes,
            packets: engine.stats.packets,
            warnings: Vec::new(),
        }],
        ..CaptureStats::default()
    };
    stats.add_engine(&engine.stats);
    Ok(stats)
}
