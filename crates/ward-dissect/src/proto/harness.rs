//! Drives one dissector without a capture engine: for unit tests, property tests and
//! fuzz targets. Not used on the packet path.

use crate::framework::{Dissector, Facts, FlowCtx, FrameDissector, Probe};
use crate::registry;
use std::net::{IpAddr, Ipv4Addr};
use ward_capture::{Direction, FlowMeta, L2Frame, L2Kind, PacketCtx};
use ward_model::{EndpointAddr, MacAddr, Timestamp, Transport};

/// A flow between 10.0.0.1 (client) and 10.0.0.2 (server) with the given ports.
pub fn meta(transport: Transport, client_port: u16, server_port: u16) -> FlowMeta {
    FlowMeta {
        id: 1,
        transport,
        vlan: None,
        client: EndpointAddr {
            mac: Some(MacAddr([0x02, 0, 0, 0, 0, 1])),
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        },
        server: EndpointAddr {
            mac: Some(MacAddr([0x02, 0, 0, 0, 0, 2])),
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))),
        },
        client_port,
        server_port,
        first_ts: Timestamp(1_600_000_000_000_000),
        midstream: false,
    }
}

/// One thing a parser is told about its flow.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// In-order bytes in one direction.
    Data(Direction, &'a [u8]),
    /// This many bytes of one direction were lost.
    Gap(Direction, u64),
}

/// Feeds chunks to a fresh parser of `d` (without probing) and returns every fact.
pub fn run_flow(d: &dyn Dissector, meta: &FlowMeta, chunks: &[(Direction, &[u8])]) -> Facts {
    let events: Vec<Event<'_>> = chunks.iter().map(|(dir, b)| Event::Data(*dir, b)).collect();
    run_events(d, meta, &events)
}

/// Feeds data and gaps to a fresh parser of `d` (without probing) and returns every fact.
pub fn run_events(d: &dyn Dissector, meta: &FlowMeta, events: &[Event<'_>]) -> Facts {
    let mut out = Facts::default();
    let mut p = d.new_parser(meta);
    for (i, ev) in events.iter().enumerate() {
        let pkt = PacketCtx {
            file: 0,
            packet: i as u64 + 1,
            ts: Timestamp(meta.first_ts.0 + i as u64),
        };
        let ctx = FlowCtx { meta, pkt: &pkt };
        if p.finished() {
            break;
        }
        match *ev {
            Event::Data(dir, data) => p.data(&ctx, dir, data, &mut out),
            Event::Gap(dir, missing) => p.gap(&ctx, dir, missing, &mut out),
        }
    }
    let pkt = PacketCtx {
        file: 0,
        packet: 0,
        ts: meta.first_ts,
    };
    p.end(&FlowCtx { meta, pkt: &pkt }, &mut out);
    out
}

/// [`run_flow`] over a UDP flow.
pub fn run_udp(d: &dyn Dissector, cport: u16, sport: u16, chunks: &[(Direction, &[u8])]) -> Facts {
    run_flow(d, &meta(Transport::Udp, cport, sport), chunks)
}

/// [`run_flow`] over a TCP flow.
pub fn run_tcp(d: &dyn Dissector, cport: u16, sport: u16, chunks: &[(Direction, &[u8])]) -> Facts {
    run_flow(d, &meta(Transport::Tcp, cport, sport), chunks)
}

/// Feeds arbitrary bytes to one registered dissector, for fuzzing: the probe on both
/// directions, then a parser on both transports with the bytes cut into chunks whose
/// sizes and directions come from the input itself. Returns the number of facts, so
/// that nothing is optimised away. Panics only if `name` is not registered.
pub fn fuzz_dissector(name: &str, data: &[u8]) -> usize {
    let all = registry::dissectors();
    let Some(d) = all.iter().find(|d| d.name() == name) else {
        panic!("no dissector named {name}");
    };
    let mut n = 0;
    for &(t, port) in d
        .ports()
        .iter()
        .take(2)
        .chain([(Transport::Tcp, 4242)].iter())
    {
        let m = meta(t, 40000, port);
        for dir in [Direction::ToServer, Direction::ToClient] {
            let _ = d.probe(&m, dir, data) == Probe::Match;
        }
        // Whole input in each direction.
        n += run_flow(d.as_ref(), &m, &[(Direction::ToServer, data)])
            .facts
            .len();
        n += run_flow(d.as_ref(), &m, &[(Direction::ToClient, data)])
            .facts
            .len();
        // Input cut into chunks; the first byte of each chunk picks size and direction.
        // A second run loses the chunks whose size bits are all ones (a capture gap of
        // that many bytes instead of the bytes), so that every gap handler is fuzzed too.
        let mut chunks: Vec<(Direction, &[u8])> = Vec::new();
        let mut events: Vec<Event<'_>> = Vec::new();
        let mut rest = data;
        while let Some((&ctl, tail)) = rest.split_first() {
            let len = ((ctl & 0x7f) as usize + 1).min(tail.len());
            let dir = if ctl & 0x80 == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            chunks.push((dir, &tail[..len]));
            events.push(if ctl & 0x7f == 0x7f {
                Event::Gap(dir, len as u64)
            } else {
                Event::Data(dir, &tail[..len])
            });
            rest = &tail[len..];
        }
        let f = run_flow(d.as_ref(), &m, &chunks);
        n += f.facts.len() + f.about.len() + f.security.len();
        let f = run_events(d.as_ref(), &m, &events);
        n += f.facts.len() + f.about.len() + f.security.len();
    }
    n
}

/// Feeds arbitrary bytes to every frame dissector as a frame of every kind it knows.
pub fn fuzz_frames(data: &[u8]) -> usize {
    let mut out = Facts::default();
    for kind in [
        L2Kind::EtherType(0x88cc),
        L2Kind::Snap {
            oui: [0, 0, 0x0c],
            pid: 0x2000,
        },
    ] {
        let frame = L2Frame {
            src: MacAddr([0x02, 0, 0, 0, 0, 1]),
            dst: MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]),
            vlan: None,
            kind,
            payload: data,
        };
        for d in registry::frame_dissectors() {
            if d.accepts(kind) {
                d.frame(&frame, &mut out);
            }
        }
    }
    out.facts.len()
}

/// Runs one frame dissector on a payload.
pub fn run_frame(d: &dyn FrameDissector, kind: L2Kind, payload: &[u8]) -> Facts {
    let mut out = Facts::default();
    let frame = L2Frame {
        src: MacAddr([0x02, 0, 0, 0, 0, 1]),
        dst: MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]),
        vlan: None,
        kind,
        payload,
    };
    if d.accepts(kind) {
        d.frame(&frame, &mut out);
    }
    out
}

/// The values of one fact key, in emission order (flow-side and explicit-subject facts).
pub fn values(f: &Facts, key: &str) -> Vec<String> {
    f.facts
        .iter()
        .filter(|x| x.key == key)
        .map(|x| x.value.clone())
        .chain(
            f.about
                .iter()
                .filter(|x| x.key == key)
                .map(|x| x.value.clone()),
        )
        .collect()
}
