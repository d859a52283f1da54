//! Helpers shared by the crafted-input tests: capture writers and a recording sink.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use etherparse::PacketBuilder;
use ward_capture::{
    ArpBinding, Direction, FlowMeta, FlowRecord, FlowSink, L2Frame, L2Kind, PacketCtx,
};

pub const MAC_A: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
pub const MAC_B: [u8; 6] = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

/// A classic little-endian microsecond pcap file.
pub fn pcap_file(linktype: u32, pkts: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
    for (ts, data) in pkts {
        out.extend_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() & 3 != 0 {
        v.push(0);
    }
}

/// A little-endian pcapng file: interfaces are (linktype, if_tsresol); packets are
/// (interface, timestamp in that interface's units, frame).
pub fn pcapng_file(ifaces: &[(u16, u8)], pkts: &[(u32, u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    // Section header block.
    out.extend_from_slice(&0x0a0d0d0au32.to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(-1i64).to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    for &(lt, res) in ifaces {
        let mut body = Vec::new();
        body.extend_from_slice(&lt.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&65535u32.to_le_bytes());
        // if_tsresol option (code 9, length 1), padded, then end of options.
        body.extend_from_slice(&9u16.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.push(res);
        pad4(&mut body);
        body.extend_from_slice(&[0, 0, 0, 0]);
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    for (iface, ts, data) in pkts {
        let mut body = Vec::new();
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(*ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        pad4(&mut body);
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&6u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

/// An Ethernet/IPv4/UDP frame.
pub fn eth_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut v = Vec::new();
    b.write(&mut v, payload).expect("build frame");
    v
}

/// An IPv4/UDP packet without link layer.
pub fn ip_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64).udp(sport, dport);
    let mut v = Vec::new();
    b.write(&mut v, payload).expect("build packet");
    v
}

/// TCP flags for [`eth_tcp`].
pub const SYN: u8 = 1;
pub const ACK: u8 = 2;
pub const FIN: u8 = 4;
pub const RST: u8 = 8;

#[allow(clippy::too_many_arguments)]
pub fn eth_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 65535);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & ACK != 0 {
        b = b.ack(1);
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & RST != 0 {
        b = b.rst();
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).expect("build frame");
    v
}

/// Every event, in order, with the packet context.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Start(FlowMeta, PacketCtx),
    Data(u64, Direction, Vec<u8>),
    Gap(u64, Direction, u64),
    Datagram(FlowMeta, Direction, Vec<u8>, PacketCtx),
    End(FlowRecord),
    L2(Option<u16>, L2Kind, Vec<u8>),
    Arp(ArpBinding),
}

#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Ev>,
}

impl Recorder {
    pub fn datagrams(&self) -> Vec<(&FlowMeta, &[u8], &PacketCtx)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Datagram(m, _, d, c) => Some((m, d.as_slice(), c)),
                _ => None,
            })
            .collect()
    }
    pub fn records(&self) -> Vec<&FlowRecord> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::End(r) => Some(r),
                _ => None,
            })
            .collect()
    }
    pub fn stream(&self, flow: u64, dir: Direction) -> (Vec<u8>, u64) {
        let mut data = Vec::new();
        let mut gaps = 0;
        for e in &self.events {
            match e {
                Ev::Data(f, d, b) if *f == flow && *d == dir => data.extend_from_slice(b),
                Ev::Gap(f, d, n) if *f == flow && *d == dir => gaps += n,
                _ => {}
            }
        }
        (data, gaps)
    }
}

impl FlowSink for Recorder {
    fn flow_start(&mut self, f: &FlowMeta, p: &PacketCtx) {
        self.events.push(Ev::Start(f.clone(), *p));
    }
    fn stream_data(&mut self, f: &FlowMeta, d: Direction, data: &[u8], _p: &PacketCtx) {
        self.events.push(Ev::Data(f.id, d, data.to_vec()));
    }
    fn stream_gap(&mut self, f: &FlowMeta, d: Direction, missing: u64, _p: &PacketCtx) {
        self.events.push(Ev::Gap(f.id, d, missing));
    }
    fn datagram(&mut self, f: &FlowMeta, d: Direction, data: &[u8], p: &PacketCtx) {
        self.events
            .push(Ev::Datagram(f.clone(), d, data.to_vec(), *p));
    }
    fn flow_end(&mut self, r: &FlowRecord) {
        self.events.push(Ev::End(r.clone()));
    }
    fn l2_frame(&mut self, f: &L2Frame<'_>, _p: &PacketCtx) {
        self.events.push(Ev::L2(f.vlan, f.kind, f.payload.to_vec()));
    }
    fn arp(&mut self, a: &ArpBinding, _p: &PacketCtx) {
        self.events.push(Ev::Arp(*a));
    }
}
