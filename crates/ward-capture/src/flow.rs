//! The per-worker engine: decoded packets into a bounded bidirectional flow table, TCP
//! reassembly per direction, and events on a [`FlowSink`].
//!
//! Flows are keyed by (VLAN, IP protocol, the two address/port pairs in canonical order).
//! Timeouts use packet time, never wall time, and are checked once per second of packet
//! time. When the table is full the oldest idle flows are evicted in a batch (1/16 of the
//! table) so that a flood of new flows costs one scan per batch, not per packet.

use std::net::IpAddr;

use ahash::RandomState;
use std::collections::HashMap;
use ward_model::{EndpointAddr, Timestamp, Transport};

use crate::decode::{
    decode, decode_l4, ipv6_ext_chain, tcp_flags, Decoded, L2Info, L4, PROTO_ICMP, PROTO_ICMPV6,
    PROTO_TCP, PROTO_UDP,
};
use crate::events::{Direction, FlowEnd, FlowMeta, FlowRecord, FlowSink, PacketCtx};
use crate::frag::Defragmenter;
use crate::reassembly::{StreamEvent, StreamReassembler};
use crate::CaptureConfig;

/// How long a closed TCP flow's entry lingers to absorb trailing ACKs/RSTs, so they do
/// not open a new mid-stream flow.
const CLOSED_LINGER_US: u64 = 10_000_000;
const SWEEP_INTERVAL_US: u64 = 1_000_000;

/// Ports that identify the server side of a conversation when the handshake was missed.
const SERVER_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 53, 67, 69, 80, 88, 102, 104, 110, 111, 123, 135, 137, 138, 139, 143, 161,
    162, 389, 427, 443, 445, 502, 514, 515, 554, 631, 636, 993, 995, 1433, 1521, 1883, 1900, 2575,
    2761, 2762, 3260, 3306, 3389, 4840, 5060, 5353, 5355, 5432, 5671, 5672, 6379, 8080, 8443,
    11112, 20000, 44818, 47808,
];

/// Whether the destination side looks like the server, by port.
pub fn dst_is_server(sport: u16, dport: u16) -> bool {
    let sk = SERVER_PORTS.contains(&sport);
    let dk = SERVER_PORTS.contains(&dport);
    if dk != sk {
        return dk;
    }
    if (dport < 1024) != (sport < 1024) {
        return dport < 1024;
    }
    dport <= sport
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct FlowKey {
    lo_ip: IpAddr,
    hi_ip: IpAddr,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    vlan: Option<u16>,
}

impl FlowKey {
    /// The canonical key and whether the packet's source is the key's `lo` side.
    fn new(
        vlan: Option<u16>,
        proto: u8,
        src: IpAddr,
        sp: u16,
        dst: IpAddr,
        dp: u16,
    ) -> (Self, bool) {
        let src_lo = (src, sp) <= (dst, dp);
        let (lo_ip, lo_port, hi_ip, hi_port) = if src_lo {
            (src, sp, dst, dp)
        } else {
            (dst, dp, src, sp)
        };
        (
            FlowKey {
                lo_ip,
                hi_ip,
                lo_port,
                hi_port,
                proto,
                vlan,
            },
            src_lo,
        )
    }
}

struct Flow {
    meta: FlowMeta,
    /// Whether the client is the key's `lo` side.
    client_is_lo: bool,
    last_ts: Timestamp,
    /// Evidence for events emitted later on the flow's behalf (timeouts, flushes).
    last_ctx: PacketCtx,
    packets: [u64; 2],
    bytes: [u64; 2],
    /// Index 0: to server, 1: to client.
    streams: Option<Box<[StreamReassembler; 2]>>,
    fin: [bool; 2],
    /// FIN both ways or RST: streams are finished; the entry lingers to count trailing
    /// ACKs, and its record (`Closed`) is emitted when it leaves the table.
    closed: bool,
    /// Gap bytes of the streams, once they are finished and dropped.
    closed_gaps: u64,
}

impl Flow {
    fn buffered(&self) -> usize {
        self.streams
            .as_ref()
            .map_or(0, |s| s[0].buffered() + s[1].buffered())
    }

    fn gap_bytes(&self) -> u64 {
        self.closed_gaps
            + self
                .streams
                .as_ref()
                .map_or(0, |s| s[0].gap_bytes() + s[1].gap_bytes())
    }

    fn record(&self, end: FlowEnd) -> FlowRecord {
        FlowRecord {
            meta: self.meta.clone(),
            last_ts: self.last_ts,
            packets_to_server: self.packets[0],
            packets_to_client: self.packets[1],
            bytes_to_server: self.bytes[0],
            bytes_to_client: self.bytes[1],
            gap_bytes: self.gap_bytes(),
            end,
        }
    }
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

const DIRS: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

/// Counters of one engine.
#[derive(Debug, Clone, Default)]
pub struct EngineStats {
    pub packets: u64,
    pub bytes: u64,
    pub decode_errors: u64,
    pub flows: u64,
    pub gap_bytes: u64,
    pub evicted_flows: u64,
    pub timed_out_flows: u64,
    pub fragments_dropped: u64,
    /// Times the global reassembly memory cap forced gaps.
    pub memory_pressure_events: u64,
}

/// Finish both streams of a flow, sending remaining data and gaps to the sink.
fn finish_streams<S: FlowSink>(flow: &mut Flow, sink: &mut S) -> usize {
    let freed = flow.buffered();
    let ctx = flow.last_ctx;
    let Flow { meta, streams, .. } = flow;
    if let Some(streams) = streams.as_mut() {
        for (i, st) in streams.iter_mut().enumerate() {
            let dir = DIRS[i];
            st.finish(&mut |e| match e {
                StreamEvent::Data(d) => sink.stream_data(meta, dir, d, &ctx),
                StreamEvent::Gap(n) => sink.stream_gap(meta, dir, n, &ctx),
            });
        }
    }
    freed
}

/// Take a flow out of service: finish its streams (unless already closed) and emit its
/// record. Returns the reassembly bytes freed.
fn end_flow<S: FlowSink>(
    f: &mut Flow,
    end: FlowEnd,
    sink: &mut S,
    stats: &mut EngineStats,
) -> usize {
    let freed = if f.closed { 0 } else { finish_streams(f, sink) };
    let end = if f.closed { FlowEnd::Closed } else { end };
    let rec = f.record(end);
    stats.gap_bytes += rec.gap_bytes;
    match end {
        FlowEnd::Evicted => stats.evicted_flows += 1,
        FlowEnd::IdleTimeout => stats.timed_out_flows += 1,
        _ => {}
    }
    sink.flow_end(&rec);
    freed
}

/// Engine state a flow update needs besides the flow and the sink.
struct Ctx<'a> {
    cfg: &'a CaptureConfig,
    reasm_mem: &'a mut usize,
}

/// Account one packet to a live flow and deliver its payload. Returns whether the
/// global reassembly memory cap is exceeded.
fn update_flow<S: FlowSink>(
    flow: &mut Flow,
    src_lo: bool,
    l4: &L4<'_>,
    ctx: PacketCtx,
    sink: &mut S,
    c: Ctx<'_>,
) -> bool {
    let dir = if src_lo == flow.client_is_lo {
        Direction::ToServer
    } else {
        Direction::ToClient
    };
    let di = dir_index(dir);
    flow.last_ts = ctx.ts;
    flow.last_ctx = ctx;
    flow.packets[di] += 1;
    match *l4 {
        L4::Udp { payload, .. } => {
            flow.bytes[di] += payload.len() as u64;
            if !payload.is_empty() {
                sink.datagram(&flow.meta, dir, payload, &ctx);
            }
            false
        }
        L4::Tcp {
            seq,
            flags,
            payload,
            ..
        } => {
            flow.bytes[di] += payload.len() as u64;
            let syn = flags & tcp_flags::SYN != 0;
            let is_fin = flags & tcp_flags::FIN != 0;
            let rst = flags & tcp_flags::RST != 0;
            if payload.is_empty() && !syn && !is_fin && !rst && flow.streams.is_some() {
                // Pure ACK: nothing for the reassembler.
                return false;
            }
            let before = flow.buffered();
            let Flow {
                meta, streams, fin, ..
            } = flow;
            let streams = streams.get_or_insert_with(Default::default);
            streams[di].segment(
                seq,
                syn,
                is_fin,
                payload,
                c.cfg.max_stream_buffer,
                &mut |e| match e {
                    StreamEvent::Data(d) => sink.stream_data(meta, dir, d, &ctx),
                    StreamEvent::Gap(n) => sink.stream_gap(meta, dir, n, &ctx),
                },
            );
            if is_fin {
                fin[di] = true;
            }
            let after = flow.buffered();
            *c.reasm_mem = (*c.reasm_mem + after).saturating_sub(before);
            if rst || (flow.fin[0] && flow.fin[1]) {
                let freed = finish_streams(flow, sink);
                *c.reasm_mem = c.reasm_mem.saturating_sub(freed);
                flow.closed_gaps = flow.gap_bytes();
                flow.closed = true;
                flow.streams = None;
                false
            } else {
                *c.reasm_mem > c.cfg.max_reassembly_memory
            }
        }
        L4::Other => false,
    }
}

/// A flow's id: the capture file and packet number of the packet that opened it (a
/// packet opens at most one flow). Independent of the worker that holds the flow, so
/// output is the same for any number of workers; below 2^53 (exact in JSON numbers) for
/// up to 131,072 files of up to 2^36 packets each.
pub fn flow_id(ctx: &PacketCtx) -> u64 {
    (u64::from(ctx.file) << 36) | (ctx.packet & ((1 << 36) - 1))
}

/// One worker's flow table, defragmenter and sink.
pub struct Engine<S: FlowSink> {
    pub sink: S,
    cfg: CaptureConfig,
    flows: HashMap<FlowKey, Flow, RandomState>,
    defrag: Defragmenter,
    now: Timestamp,
    next_sweep: u64,
    reasm_mem: usize,
    pub stats: EngineStats,
}

impl<S: FlowSink> Engine<S> {
    /// An engine for worker `worker` of `workers`; limits in `cfg` are divided between
    /// workers so that their sum holds.
    /// (`worker` is the engine's index, kept for callers; flow ids do not depend on it.)
    pub fn new(cfg: &CaptureConfig, worker: usize, workers: usize, sink: S) -> Self {
        let _ = worker;
        let n = workers.max(1);
        let mut cfg = cfg.clone();
        cfg.max_flows = (cfg.max_flows / n).max(16);
        cfg.max_reassembly_memory = (cfg.max_reassembly_memory / n).max(1);
        cfg.max_fragment_memory = (cfg.max_fragment_memory / n).max(1);
        Engine {
            sink,
            cfg,
            // Fixed seeds: iteration order, and so the output, is reproducible.
            flows: HashMap::with_hasher(RandomState::with_seeds(1, 2, 3, 4)),
            defrag: Defragmenter::new(),
            now: Timestamp(0),
            next_sweep: 0,
            reasm_mem: 0,
            stats: EngineStats::default(),
        }
    }

    /// Bytes currently held by TCP reassembly.
    pub fn reassembly_memory(&self) -> usize {
        self.reasm_mem
    }

    /// Number of flows in the table (closed ones lingering included).
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// Process one captured frame.
    pub fn process(&mut self, linktype: u32, data: &[u8], ctx: PacketCtx) {
        self.stats.packets += 1;
        self.stats.bytes += data.len() as u64;
        self.tick(ctx.ts);
        match decode(linktype, data) {
            Err(_) => self.stats.decode_errors += 1,
            Ok(Decoded::Ignored) => {}
            Ok(Decoded::Arp(a)) => self.sink.arp(&a, &ctx),
            Ok(Decoded::L2(f)) => self.sink.l2_frame(&f, &ctx),
            Ok(Decoded::Ip(l2, ip)) => match ip.frag {
                None => self.handle_l4(&l2, ip.src, ip.dst, ip.proto, ip.payload, ctx),
                Some(fr) => {
                    let whole = self.defrag.add(
                        ip.src,
                        ip.dst,
                        ip.proto,
                        l2.vlan,
                        fr,
                        ip.payload,
                        ctx.ts,
                        self.cfg.max_fragment_memory,
                    );
                    if let Some(buf) = whole {
                        if ip.src.is_ipv6() {
                            match ipv6_ext_chain(ip.proto, &buf) {
                                Ok((proto, payload, None)) => {
                                    self.handle_l4(&l2, ip.src, ip.dst, proto, payload, ctx)
                                }
                                _ => self.stats.decode_errors += 1,
                            }
                        } else {
                            self.handle_l4(&l2, ip.src, ip.dst, ip.proto, &buf, ctx);
                        }
                    }
                }
            },
        }
    }

    fn tick(&mut self, ts: Timestamp) {
        if ts > self.now {
            self.now = ts;
        }
        if self.now.0 >= self.next_sweep {
            if self.next_sweep != 0 {
                self.sweep();
            }
            self.next_sweep = self.now.0 + SWEEP_INTERVAL_US;
        }
    }

    /// How long `flow` may stay idle before it ends (lingering closed flows: how long
    /// they absorb trailing packets).
    fn idle_limit(cfg: &CaptureConfig, flow: &Flow) -> u64 {
        if flow.closed {
            CLOSED_LINGER_US
        } else if flow.meta.transport == Transport::Tcp {
            cfg.tcp_timeout_secs.saturating_mul(1_000_000)
        } else {
            cfg.udp_timeout_secs.saturating_mul(1_000_000)
        }
    }

    /// Expire idle flows, lingering closed flows and stale fragments.
    fn sweep(&mut self) {
        let now = self.now.0;
        let cfg = &self.cfg;
        let sink = &mut self.sink;
        let stats = &mut self.stats;
        let mut freed = 0;
        self.flows.retain(|_, f| {
            let idle = now.saturating_sub(f.last_ts.0);
            if idle <= Self::idle_limit(cfg, f) {
                return true;
            }
            freed += end_flow(f, FlowEnd::IdleTimeout, sink, stats);
            false
        });
        self.reasm_mem = self.reasm_mem.saturating_sub(freed);
        self.defrag.expire(self.now);
        self.stats.fragments_dropped = self.defrag.dropped;
    }

    /// Make room in a full table: evict the oldest 1/16 of the flows (lingering closed
    /// flows first).
    fn evict(&mut self) {
        let n = (self.flows.len() / 16).max(1);
        let mut ages: Vec<(bool, Timestamp, u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (!f.closed, f.last_ts, f.meta.id, *k))
            .collect();
        if n < ages.len() {
            ages.select_nth_unstable(n);
            ages.truncate(n);
        }
        ages.sort();
        for (_, _, _, key) in ages {
            if let Some(mut f) = self.flows.remove(&key) {
                let freed = end_flow(&mut f, FlowEnd::Evicted, &mut self.sink, &mut self.stats);
                self.reasm_mem = self.reasm_mem.saturating_sub(freed);
            }
        }
    }

    /// Global reassembly memory exceeded: force gaps on the largest buffers until usage
    /// is back under three quarters of the cap.
    fn relieve_memory(&mut self) {
        self.stats.memory_pressure_events += 1;
        let mut big: Vec<(usize, FlowKey)> = self
            .flows
            .iter()
            .filter_map(|(k, f)| {
                let b = f.buffered();
                (b > 0).then_some((b, *k))
            })
            .collect();
        big.sort_by(|a, b| b.cmp(a));
        let target = self.cfg.max_reassembly_memory / 4 * 3;
        for (_, key) in big {
            if self.reasm_mem <= target {
                break;
            }
            let Some(f) = self.flows.get_mut(&key) else {
                continue;
            };
            let before = f.buffered();
            let ctx = f.last_ctx;
            let Flow { meta, streams, .. } = f;
            let sink = &mut self.sink;
            if let Some(streams) = streams.as_mut() {
                for (i, st) in streams.iter_mut().enumerate() {
                    let dir = DIRS[i];
                    st.flush(&mut |e| match e {
                        StreamEvent::Data(d) => sink.stream_data(meta, dir, d, &ctx),
                        StreamEvent::Gap(n) => sink.stream_gap(meta, dir, n, &ctx),
                    });
                }
            }
            self.reasm_mem = self.reasm_mem.saturating_sub(before);
        }
    }

    fn handle_l4(
        &mut self,
        l2: &L2Info,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        payload: &[u8],
        ctx: PacketCtx,
    ) {
        let l4 = match decode_l4(proto, payload) {
            Ok(l4) => l4,
            Err(_) => {
                self.stats.decode_errors += 1;
                return;
            }
        };
        let (sport, dport, flags) = match l4 {
            L4::Tcp {
                sport,
                dport,
                flags,
                ..
            } => (sport, dport, flags),
            L4::Udp { sport, dport, .. } => (sport, dport, 0),
            L4::Other => (0, 0, 0),
        };
        let (key, src_lo) = FlowKey::new(l2.vlan, proto, src, sport, dst, dport);
        let is_tcp = proto == PROTO_TCP;
        let pure_syn = is_tcp && flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;

        // Hot path: one lookup for a packet of an established flow.
        if let Some(flow) = self.flows.get_mut(&key) {
            // Idle expiry is decided here, per packet, with the same rule as the periodic
            // sweep: whether a flow is split never depends on when a sweep happened to run
            // (which depends on the packets a worker sees), so the output is the same for
            // any number of workers.
            if ctx.ts.0.saturating_sub(flow.last_ts.0) > Self::idle_limit(&self.cfg, flow) {
                if let Some(mut old) = self.flows.remove(&key) {
                    let freed = end_flow(
                        &mut old,
                        FlowEnd::IdleTimeout,
                        &mut self.sink,
                        &mut self.stats,
                    );
                    self.reasm_mem = self.reasm_mem.saturating_sub(freed);
                }
            } else if !flow.closed {
                let c = Ctx {
                    cfg: &self.cfg,
                    reasm_mem: &mut self.reasm_mem,
                };
                if update_flow(flow, src_lo, &l4, ctx, &mut self.sink, c) {
                    self.relieve_memory();
                }
                return;
            } else if pure_syn {
                // Port reuse: a new connection replaces the lingering entry.
                if let Some(mut old) = self.flows.remove(&key) {
                    end_flow(&mut old, FlowEnd::Closed, &mut self.sink, &mut self.stats);
                }
            } else {
                // A trailing ACK or RST: counted, nothing more to deliver.
                let di = usize::from(src_lo != flow.client_is_lo);
                flow.packets[di] += 1;
                if let L4::Tcp { payload, .. } = l4 {
                    flow.bytes[di] += payload.len() as u64;
                }
                flow.last_ts = ctx.ts;
                return;
            }
        }
        if self.flows.len() >= self.cfg.max_flows {
            self.evict();
        }
        let flow = self.new_flow(l2, src, dst, sport, dport, proto, flags, src_lo, ctx);
        self.sink.flow_start(&flow.meta, &ctx);
        self.stats.flows += 1;
        let flow = self.flows.entry(key).insert_entry(flow).into_mut();
        let c = Ctx {
            cfg: &self.cfg,
            reasm_mem: &mut self.reasm_mem,
        };
        if update_flow(flow, src_lo, &l4, ctx, &mut self.sink, c) {
            self.relieve_memory();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_flow(
        &mut self,
        l2: &L2Info,
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        proto: u8,
        flags: u8,
        src_lo: bool,
        ctx: PacketCtx,
    ) -> Flow {
        let syn = flags & tcp_flags::SYN != 0;
        let ack = flags & tcp_flags::ACK != 0;
        let (src_is_client, midstream) = if proto == PROTO_TCP && syn {
            // SYN: the sender opens; SYN-ACK: the receiver did.
            (!ack, false)
        } else {
            (dst_is_server(sport, dport), proto == PROTO_TCP)
        };
        let src_ep = EndpointAddr {
            mac: l2.src,
            ip: Some(src),
        };
        let dst_ep = EndpointAddr {
            mac: l2.dst,
            ip: Some(dst),
        };
        let (client, server, client_port, server_port) = if src_is_client {
            (src_ep, dst_ep, sport, dport)
        } else {
            (dst_ep, src_ep, dport, sport)
        };
        let transport = match proto {
            PROTO_TCP => Transport::Tcp,
            PROTO_UDP => Transport::Udp,
            PROTO_ICMP => Transport::Icmp,
            PROTO_ICMPV6 => Transport::Icmpv6,
            n => Transport::Other(n),
        };
        let id = flow_id(&ctx);
        Flow {
            meta: FlowMeta {
                id,
                transport,
                vlan: l2.vlan,
                client,
                server,
                client_port,
                server_port,
                first_ts: ctx.ts,
                midstream,
            },
            client_is_lo: src_is_client == src_lo,
            last_ts: ctx.ts,
            last_ctx: ctx,
            packets: [0; 2],
            bytes: [0; 2],
            streams: None,
            fin: [false; 2],
            closed: false,
            closed_gaps: 0,
        }
    }

    /// The input ended: finish every open flow (in flow-id order, for reproducible output).
    pub fn finish(&mut self) {
        let mut all: Vec<(u64, FlowKey)> =
            self.flows.iter().map(|(k, f)| (f.meta.id, *k)).collect();
        all.sort();
        for (_, key) in all {
            if let Some(mut f) = self.flows.remove(&key) {
                end_flow(&mut f, FlowEnd::EndOfInput, &mut self.sink, &mut self.stats);
            }
        }
        self.flows.clear();
        self.reasm_mem = 0;
        self.stats.fragments_dropped = self.defrag.dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default limits budget about 400 bytes per table entry (key, flow, map
    /// overhead, boxed reassemblers); keep the entry from silently growing.
    #[test]
    fn flow_entry_stays_small() {
        let entry = std::mem::size_of::<FlowKey>() + std::mem::size_of::<Flow>();
        assert!(entry <= 320, "flow table entry is {entry} bytes");
        assert!(std::mem::size_of::<[StreamReassembler; 2]>() <= 160);
    }

    #[test]
    fn port_heuristic() {
        assert!(dst_is_server(51000, 104), "DICOM port is the server");
        assert!(!dst_is_server(2575, 40000), "HL7 port is the server");
        assert!(
            dst_is_server(40000, 8000),
            "lower port when neither is known"
        );
        assert!(dst_is_server(1023, 1023), "ties: the sender is the client");
    }
}
