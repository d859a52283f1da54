//! The dissection engine: a `FlowSink` that attaches dissectors to flows and aggregates
//! their facts.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, FrameDissector, Probe, Side};
use crate::registry;
use ahash::AHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use ward_capture::{ArpBinding, Direction, FlowMeta, FlowRecord, FlowSink, L2Frame, PacketCtx};
use ward_model::{
    is_internet_address, ConnectionEdge, EndpointAddr, Evidence, Observation, SecurityKind,
    SecurityObservation, Severity, Transport,
};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How many data chunks per flow are probed before the flow is left unclassified.
    pub max_probe_chunks: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_probe_chunks: 24,
        }
    }
}

/// Everything the engine learnt, in deterministic order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DissectOutput {
    pub observations: Vec<Observation>,
    pub security: Vec<SecurityObservation>,
    pub edges: Vec<ConnectionEdge>,
    pub flows: u64,
    pub unclassified_flows: u64,
}

struct FlowState {
    parsers: Vec<(usize, Box<dyn FlowParser>)>,
    protocols: Vec<&'static str>,
    probes_left: u32,
    /// Dissectors that said NoMatch on this flow.
    rejected: u64,
    /// The packet that opened the flow.
    first: Evidence,
    /// Per direction, stream bytes held while a probe said NeedMore (TCP only; allocated
    /// only when that happens).
    probe_buf: Option<Box<[Vec<u8>; 2]>>,
}

/// Most stream bytes held back per direction for probing.
const MAX_PROBE_HOLD: usize = 4096;

type ObsKey = (EndpointAddr, &'static str, String);
type SecKey = (SecurityKind, EndpointAddr, Option<EndpointAddr>, String);
type EdgeKey = (EndpointAddr, EndpointAddr, Transport, u16, Option<u16>);

/// The dissection engine. One per capture worker; outputs of several engines are merged
/// with [`DissectOutput::merge`].
pub struct Engine {
    config: EngineConfig,
    dissectors: Arc<Vec<Box<dyn Dissector>>>,
    frame_dissectors: Arc<Vec<Box<dyn FrameDissector>>>,
    flows: AHashMap<u64, FlowState>,
    facts: Facts,
    observations: AHashMap<ObsKey, Observation>,
    security: AHashMap<SecKey, SecurityObservation>,
    /// Each edge with the first evidence of the flow its protocol was taken from.
    edges: AHashMap<EdgeKey, (ConnectionEdge, Option<Evidence>)>,
    flow_count: u64,
    unclassified: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    /// An engine with every registered dissector.
    pub fn new(config: EngineConfig) -> Self {
        Engine::with_dissectors(
            config,
            Arc::new(registry::dissectors()),
            Arc::new(registry::frame_dissectors()),
        )
    }

    /// An engine with a chosen set of dissectors (shared between workers).
    pub fn with_dissectors(
        config: EngineConfig,
        dissectors: Arc<Vec<Box<dyn Dissector>>>,
        frame_dissectors: Arc<Vec<Box<dyn FrameDissector>>>,
    ) -> Self {
        Engine {
            config,
            dissectors,
            frame_dissectors,
            flows: AHashMap::new(),
            facts: Facts::default(),
            observations: AHashMap::new(),
            security: AHashMap::new(),
            edges: AHashMap::new(),
            flow_count: 0,
            unclassified: 0,
        }
    }

    /// Consumes the engine and returns what it learnt, sorted for stable output.
    pub fn finish(self) -> DissectOutput {
        let mut out = DissectOutput {
            observations: self.observations.into_values().collect(),
            security: self.security.into_values().collect(),
            edges: self.edges.into_values().map(|(e, _)| e).collect(),
            flows: self.flow_count,
            unclassified_flows: self.unclassified,
        };
        out.sort();
        out
    }

    fn probe_and_feed(
        &mut self,
        meta: &FlowMeta,
        dir: Direction,
        data: &[u8],
        pkt: &PacketCtx,
        stream: bool,
    ) {
        let Some(state) = self.flows.get_mut(&meta.id) else {
            return;
        };
        let di = usize::from(dir == Direction::ToClient);
        // Stream bytes held back while a dissector said NeedMore, joined with this chunk.
        let mut joined: Option<Vec<u8>> = None;
        let mut held_other: Vec<u8> = Vec::new();
        if state.probes_left > 0 && !data.is_empty() {
            state.probes_left -= 1;
            if stream {
                if let Some(b) = state.probe_buf.as_mut() {
                    if !b[di].is_empty() {
                        let mut j = std::mem::take(&mut b[di]);
                        j.extend_from_slice(data);
                        joined = Some(j);
                    }
                }
            }
            let mut need_more = false;
            {
                let view: &[u8] = joined.as_deref().unwrap_or(data);
                for (i, d) in self.dissectors.iter().enumerate() {
                    let bit = 1u64 << (i % 64);
                    if state.rejected & bit != 0 || state.parsers.iter().any(|(j, _)| *j == i) {
                        continue;
                    }
                    let on_port = d.ports().iter().any(|(t, p)| {
                        *t == meta.transport && (*p == meta.server_port || *p == meta.client_port)
                    });
                    if !on_port && !d.probe_any_port() {
                        continue;
                    }
                    match d.probe(meta, dir, view) {
                        Probe::Match => {
                            state.parsers.push((i, d.new_parser(meta)));
                            if !state.protocols.contains(&d.name()) {
                                state.protocols.push(d.name());
                            }
                        }
                        Probe::NoMatch => state.rejected |= bit,
                        Probe::NeedMore => need_more = true,
                    }
                }
            }
            if !state.parsers.is_empty() {
                state.probes_left = 0;
                if let Some(mut b) = state.probe_buf.take() {
                    held_other = std::mem::take(&mut b[1 - di]);
                }
            } else if stream && need_more {
                // Keep the prefix (bounded) so the next chunk is probed with it.
                let held = joined.take().unwrap_or_else(|| data.to_vec());
                if held.len() <= MAX_PROBE_HOLD {
                    state.probe_buf.get_or_insert_with(Default::default)[di] = held;
                }
                return;
            } else if let Some(b) = state.probe_buf.as_mut() {
                b[di] = Vec::new();
            }
        }
        if state.parsers.is_empty() {
            return;
        }
        let ctx = FlowCtx { meta, pkt };
        if !held_other.is_empty() {
            for (_, p) in state.parsers.iter_mut() {
                if !p.finished() {
                    p.data(&ctx, dir.reverse(), &held_other, &mut self.facts);
                }
            }
        }
        let view: &[u8] = joined.as_deref().unwrap_or(data);
        for (_, p) in state.parsers.iter_mut() {
            if !p.finished() {
                p.data(&ctx, dir, view, &mut self.facts);
            }
        }
        self.drain(meta, pkt);
    }

    /// Turns the pending facts into aggregated observations with addresses and evidence.
    fn drain(&mut self, meta: &FlowMeta, pkt: &PacketCtx) {
        if self.facts.is_empty() {
            return;
        }
        let addr = |side: Side| match side {
            Side::Client => meta.client,
            Side::Server => meta.server,
        };
        let ev = Evidence {
            file: pkt.file,
            packet: pkt.packet,
            ts: pkt.ts,
            flow: Some(meta.id),
        };
        for f in self.facts.facts.drain(..) {
            let at = f.last_seen.map_or(ev, |ts| Evidence {
                ts: ts.min(ev.ts),
                ..ev
            });
            record_observation(
                &mut self.observations,
                addr(f.side),
                f.key,
                f.value,
                f.count,
                at,
            );
        }
        for f in self.facts.about.drain(..) {
            record_observation(&mut self.observations, f.subject, f.key, f.value, 1, ev);
        }
        for s in self.facts.security.drain(..) {
            let (subject, peer) = match s.side {
                Side::Client => (meta.client, meta.server),
                Side::Server => (meta.server, meta.client),
            };
            record_security(
                &mut self.security,
                s.kind,
                s.severity,
                subject,
                Some(peer),
                s.detail,
                ev,
            );
        }
        if let Some(state) = self.flows.get_mut(&meta.id) {
            for p in self.facts.protocols.drain(..) {
                if !state.protocols.contains(&p) {
                    state.protocols.push(p);
                }
            }
        }
        self.facts.clear();
    }
}

/// Whether evidence `a` comes before `b` (time, then file, packet and flow). Aggregates
/// keep the earliest evidence by this total order, so the result does not depend on the
/// order in which workers saw or merged things.
fn earlier(a: &Evidence, b: &Evidence) -> bool {
    (a.ts, a.file, a.packet, a.flow) < (b.ts, b.file, b.packet, b.flow)
}

fn obs_order(a: &Observation, b: &Observation) -> std::cmp::Ordering {
    (a.subject, &a.key, &a.value).cmp(&(b.subject, &b.key, &b.value))
}

fn sec_order(a: &SecurityObservation, b: &SecurityObservation) -> std::cmp::Ordering {
    (a.kind, a.subject, a.peer, &a.detail).cmp(&(b.kind, b.subject, b.peer, &b.detail))
}

fn edge_order(a: &ConnectionEdge, b: &ConnectionEdge) -> std::cmp::Ordering {
    (a.client, a.server, a.transport, a.server_port, a.vlan).cmp(&(
        b.client,
        b.server,
        b.transport,
        b.server_port,
        b.vlan,
    ))
}

/// `o` (same key) folded into `e`.
fn combine_obs(e: &mut Observation, o: Observation) {
    e.count += o.count;
    e.first_seen = e.first_seen.min(o.first_seen);
    if earlier(&o.evidence, &e.evidence) {
        e.evidence = o.evidence;
    }
    e.last_seen = e.last_seen.max(o.last_seen);
}

fn combine_sec(e: &mut SecurityObservation, s: SecurityObservation) {
    e.count += s.count;
    e.first_seen = e.first_seen.min(s.first_seen);
    if earlier(&s.evidence, &e.evidence) {
        e.evidence = s.evidence;
    }
    e.last_seen = e.last_seen.max(s.last_seen);
}

fn combine_edge(x: &mut ConnectionEdge, e: ConnectionEdge) {
    x.bytes_to_server += e.bytes_to_server;
    x.bytes_to_client += e.bytes_to_client;
    x.packets += e.packets;
    x.sessions += e.sessions;
    x.first_seen = x.first_seen.min(e.first_seen);
    x.last_seen = x.last_seen.max(e.last_seen);
    // (An edge's flows share its address pair, so they all ran in one worker; this
    // merge only meets edges of different engines.)
    if e.protocol.is_some() && (x.protocol.is_none() || earlier(&e.evidence, &x.evidence)) {
        x.protocol = e.protocol;
    }
    if earlier(&e.evidence, &x.evidence) {
        x.evidence = e.evidence;
    }
}

/// Two lists, each strictly increasing in `order`, as one: entries of equal key are
/// folded with `combine(a's, b's)`, exactly as the hash-map merge folds them.
fn merge_sorted<T>(
    a: Vec<T>,
    b: Vec<T>,
    order: fn(&T, &T) -> std::cmp::Ordering,
    combine: fn(&mut T, T),
) -> Vec<T> {
    use std::cmp::Ordering;
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let ord = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => order(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match ord {
            Ordering::Less => out.extend(a.next()),
            Ordering::Greater => out.extend(b.next()),
            Ordering::Equal => {
                if let (Some(mut x), Some(y)) = (a.next(), b.next()) {
                    combine(&mut x, y);
                    out.push(x);
                }
            }
        }
    }
    out
}

fn record_observation(
    map: &mut AHashMap<ObsKey, Observation>,
    subject: EndpointAddr,
    key: &'static str,
    value: String,
    count: u64,
    ev: Evidence,
) {
    let k = (subject, key, value);
    if let Some(o) = map.get_mut(&k) {
        o.count += count;
        o.first_seen = o.first_seen.min(ev.ts);
        o.last_seen = o.last_seen.max(ev.ts);
        if earlier(&ev, &o.evidence) {
            o.evidence = ev;
        }
    } else {
        let value = k.2.clone();
        map.insert(
            k,
            Observation {
                subject,
                key: key.to_string(),
                value,
                first_seen: ev.ts,
                last_seen: ev.ts,
                count,
                evidence: ev,
            },
        );
    }
}

fn record_security(
    map: &mut AHashMap<SecKey, SecurityObservation>,
    kind: SecurityKind,
    severity: Severity,
    subject: EndpointAddr,
    peer: Option<EndpointAddr>,
    detail: String,
    ev: Evidence,
) {
    let k = (kind, subject, peer, detail);
    if let Some(o) = map.get_mut(&k) {
        o.count += 1;
        o.first_seen = o.first_seen.min(ev.ts);
        o.last_seen = o.last_seen.max(ev.ts);
        if earlier(&ev, &o.evidence) {
            o.evidence = ev;
        }
    } else {
        let detail = k.3.clone();
        map.insert(
            k,
            SecurityObservation {
                kind,
                severity,
                subject,
                peer,
                detail,
                first_seen: ev.ts,
                last_seen: ev.ts,
                count: 1,
                evidence: ev,
            },
        );
    }
}

impl FlowSink for Engine {
    fn flow_start(&mut self, flow: &FlowMeta, pkt: &PacketCtx) {
        self.flow_count += 1;
        self.flows.insert(
            flow.id,
            FlowState {
                parsers: Vec::new(),
                protocols: Vec::new(),
                probes_left: self.config.max_probe_chunks,
                rejected: 0,
                probe_buf: None,
                first: Evidence {
                    file: pkt.file,
                    packet: pkt.packet,
                    ts: pkt.ts,
                    flow: Some(flow.id),
                },
            },
        );
        if let (Some(c), Some(s)) = (flow.client.ip, flow.server.ip) {
            // A broadcast or multicast "client" is a reply sent to a group (DHCP offers),
            // not a host reaching out.
            let group = match c {
                std::net::IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
                std::net::IpAddr::V6(v6) => v6.is_multicast(),
            };
            if !group && !c.is_unspecified() && !is_internet_address(&c) && is_internet_address(&s)
            {
                let ev = Evidence {
                    file: pkt.file,
                    packet: pkt.packet,
                    ts: pkt.ts,
                    flow: Some(flow.id),
                };
                record_security(
                    &mut self.security,
                    SecurityKind::InternetBound,
                    Severity::Medium,
                    flow.client,
                    Some(EndpointAddr {
                        mac: None,
                        ip: Some(s),
                    }),
                    format!(
                        "{} connection to internet address {s} port {}",
                        flow.transport, flow.server_port
                    ),
                    ev,
                );
            }
        }
    }

    fn stream_data(&mut self, flow: &FlowMeta, dir: Direction, data: &[u8], pkt: &PacketCtx) {
        self.probe_and_feed(flow, dir, data, pkt, true);
    }

    fn datagram(&mut self, flow: &FlowMeta, dir: Direction, data: &[u8], pkt: &PacketCtx) {
        self.probe_and_feed(flow, dir, data, pkt, false);
    }

    fn stream_gap(&mut self, flow: &FlowMeta, dir: Direction, missing: u64, pkt: &PacketCtx) {
        if let Some(state) = self.flows.get_mut(&flow.id) {
            // A prefix held for probing is not continued by what follows a gap.
            if let Some(b) = state.probe_buf.as_mut() {
                b[usize::from(dir == Direction::ToClient)] = Vec::new();
            }
            let ctx = FlowCtx { meta: flow, pkt };
            for (_, p) in state.parsers.iter_mut() {
                p.gap(&ctx, dir, missing, &mut self.facts);
            }
        }
        self.drain(flow, pkt);
    }

    fn flow_end(&mut self, record: &FlowRecord) {
        let meta = &record.meta;
        let pkt = PacketCtx {
            file: 0,
            packet: 0,
            ts: record.last_ts,
        };
        let mut protocols = Vec::new();
        let mut first = Evidence {
            file: 0,
            packet: 0,
            ts: meta.first_ts,
            flow: Some(meta.id),
        };
        if let Some(mut state) = self.flows.remove(&meta.id) {
            let ctx = FlowCtx { meta, pkt: &pkt };
            for (_, p) in state.parsers.iter_mut() {
                p.end(&ctx, &mut self.facts);
            }
            // Facts from `end` carry the flow's last timestamp but no packet number.
            if !self.facts.is_empty() {
                self.flows.insert(meta.id, state);
                self.drain(meta, &pkt);
                state = match self.flows.remove(&meta.id) {
                    Some(s) => s,
                    None => return,
                };
            }
            protocols = state.protocols;
            first = state.first;
        }
        if protocols.is_empty() {
            self.unclassified += 1;
        }
        let key = (
            meta.client,
            meta.server,
            meta.transport,
            meta.server_port,
            meta.vlan,
        );
        let bytes_s = record.bytes_to_server;
        let bytes_c = record.bytes_to_client;
        let packets = record.packets_to_server + record.packets_to_client;
        let (edge, proto_ev) = self.edges.entry(key).or_insert_with(|| {
            let edge = ConnectionEdge {
                client: meta.client,
                server: meta.server,
                transport: meta.transport,
                server_port: meta.server_port,
                vlan: meta.vlan,
                protocol: None,
                bytes_to_server: 0,
                bytes_to_client: 0,
                packets: 0,
                sessions: 0,
                first_seen: meta.first_ts,
                last_seen: record.last_ts,
                evidence: first,
            };
            (edge, None)
        });
        edge.bytes_to_server += bytes_s;
        edge.bytes_to_client += bytes_c;
        edge.packets += packets;
        edge.sessions += 1;
        edge.first_seen = edge.first_seen.min(meta.first_ts);
        edge.last_seen = edge.last_seen.max(record.last_ts);
        if earlier(&first, &edge.evidence) {
            edge.evidence = first;
        }
        // The protocol of the earliest classified flow (whatever order flows ended in).
        if let Some(p) = protocols.first() {
            if proto_ev.is_none_or(|e| earlier(&first, &e)) {
                edge.protocol = Some((*p).to_string());
                *proto_ev = Some(first);
            }
        }
    }

    fn l2_frame(&mut self, frame: &L2Frame<'_>, pkt: &PacketCtx) {
        let fds = Arc::clone(&self.frame_dissectors);
        let subject = EndpointAddr {
            mac: Some(frame.src),
            ip: None,
        };
        let ev = Evidence {
            file: pkt.file,
            packet: pkt.packet,
            ts: pkt.ts,
            flow: None,
        };
        for d in fds.iter() {
            if d.accepts(frame.kind) {
                d.frame(frame, &mut self.facts);
            }
        }
        for f in self.facts.facts.drain(..) {
            record_observation(&mut self.observations, subject, f.key, f.value, f.count, ev);
        }
        for f in self.facts.about.drain(..) {
            record_observation(&mut self.observations, f.subject, f.key, f.value, 1, ev);
        }
        for s in self.facts.security.drain(..) {
            record_security(
                &mut self.security,
                s.kind,
                s.severity,
                subject,
                None,
                s.detail,
                ev,
            );
        }
        self.facts.clear();
    }

    fn arp(&mut self, arp: &ArpBinding, pkt: &PacketCtx) {
        if !arp.sender_mac.is_unicast_host() || arp.sender_ip.is_unspecified() {
            return;
        }
        let subject = EndpointAddr {
            mac: Some(arp.sender_mac),
            ip: None,
        };
        let ev = Evidence {
            file: pkt.file,
            packet: pkt.packet,
            ts: pkt.ts,
            flow: None,
        };
        record_observation(
            &mut self.observations,
            subject,
            "arp.ip",
            arp.sender_ip.to_string(),
            1,
            ev,
        );
    }
}

impl DissectOutput {
    /// Folds another worker's output into this one (same aggregation rules as the engine).
    pub fn merge(&mut self, other: DissectOutput) {
        self.flows += other.flows;
        self.unclassified_flows += other.unclassified_flows;
        // Engine outputs are sorted with one entry per key: merge them in one linear
        // pass. Anything else (hand-built lists) goes through the hash maps.
        if self.is_sorted_unique() && other.is_sorted_unique() {
            let obs = std::mem::take(&mut self.observations);
            self.observations = merge_sorted(obs, other.observations, obs_order, combine_obs);
            let sec = std::mem::take(&mut self.security);
            self.security = merge_sorted(sec, other.security, sec_order, combine_sec);
            let edges = std::mem::take(&mut self.edges);
            self.edges = merge_sorted(edges, other.edges, edge_order, combine_edge);
            return;
        }
        self.merge_hashed(other);
    }

    /// [`Self::merge`] for lists in any order (counters excepted, which `merge` adds).
    fn merge_hashed(&mut self, other: DissectOutput) {
        let mut obs: AHashMap<(EndpointAddr, String, String), Observation> = AHashMap::new();
        for o in self.observations.drain(..).chain(other.observations) {
            let k = (o.subject, o.key.clone(), o.value.clone());
            match obs.get_mut(&k) {
                Some(e) => combine_obs(e, o),
                None => {
                    obs.insert(k, o);
                }
            }
        }
        self.observations = obs.into_values().collect();
        let mut sec: AHashMap<SecKey, SecurityObservation> = AHashMap::new();
        for s in self.security.drain(..).chain(other.security) {
            let k = (s.kind, s.subject, s.peer, s.detail.clone());
            match sec.get_mut(&k) {
                Some(e) => combine_sec(e, s),
                None => {
                    sec.insert(k, s);
                }
            }
        }
        self.security = sec.into_values().collect();
        let mut edges: AHashMap<EdgeKey, ConnectionEdge> = AHashMap::new();
        for e in self.edges.drain(..).chain(other.edges) {
            let k = (e.client, e.server, e.transport, e.server_port, e.vlan);
            match edges.get_mut(&k) {
                Some(x) => combine_edge(x, e),
                None => {
                    edges.insert(k, e);
                }
            }
        }
        self.edges = edges.into_values().collect();
        self.sort();
    }

    /// Whether every list is strictly increasing in the order of [`Self::sort`] (sorted,
    /// one entry per key), as [`Engine::finish`] and [`Self::merge`] leave them.
    fn is_sorted_unique(&self) -> bool {
        let inc = |o: std::cmp::Ordering| o == std::cmp::Ordering::Less;
        self.observations
            .windows(2)
            .all(|w| inc(obs_order(&w[0], &w[1])))
            && self
                .security
                .windows(2)
                .all(|w| inc(sec_order(&w[0], &w[1])))
            && self.edges.windows(2).all(|w| inc(edge_order(&w[0], &w[1])))
    }

    /// Sorts every list into a stable order (subject, key, value / kind / endpoints).
    pub fn sort(&mut self) {
        self.observations.sort_by(obs_order);
        self.security.sort_by(sec_order);
        self.edges.sort_by(edge_order);
    }

    /// Observation values for a key, for tests and summaries.
    pub fn values(&self, key: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .observations
            .iter()
            .filter(|o| o.key == key)
            .map(|o| o.value.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
