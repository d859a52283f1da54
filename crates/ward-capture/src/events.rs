//! The events the capture engine hands to its consumer.

use serde::{Deserialize, Serialize};
use ward_model::{EndpointAddr, FileIndex, MacAddr, Timestamp, Transport};

/// Where the current packet came from, for evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketCtx {
    pub file: FileIndex,
    /// 1-based packet number within its file.
    pub packet: u64,
    pub ts: Timestamp,
}

/// Direction of data within a flow, relative to the flow's client (initiator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the client (the side that opened the connection) to the server.
    ToServer,
    /// From the server back to the client.
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// What is known about a flow when its first packet is seen. Client and server are
/// decided from the TCP handshake when seen, otherwise by port heuristics (the side with
/// the well-known or lower port is the server); `midstream` says the handshake was missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowMeta {
    /// Unique within one analysis run (worker-independent).
    pub id: u64,
    pub transport: Transport,
    pub vlan: Option<u16>,
    pub client: EndpointAddr,
    pub server: EndpointAddr,
    pub client_port: u16,
    pub server_port: u16,
    pub first_ts: Timestamp,
    pub midstream: bool,
}

/// Why a flow record was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEnd {
    /// FIN/RST seen in both directions or an RST.
    Closed,
    /// No packet for the configured idle timeout.
    IdleTimeout,
    /// Evicted because the flow table was full.
    Evicted,
    /// The input ended.
    EndOfInput,
}

/// A finished flow, with per-direction counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    pub meta: FlowMeta,
    pub last_ts: Timestamp,
    pub packets_to_server: u64,
    pub packets_to_client: u64,
    /// Payload bytes (L4 payload) in each direction.
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    /// Bytes the reassembler could not deliver (gaps), both directions together.
    pub gap_bytes: u64,
    pub end: FlowEnd,
}

/// How a non-IP frame identifies its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Kind {
    /// Ethernet II EtherType (e.g. 0x88cc LLDP).
    EtherType(u16),
    /// IEEE 802.3 + LLC + SNAP (e.g. CDP: OUI 00:00:0c, PID 0x2000).
    Snap { oui: [u8; 3], pid: u16 },
    /// IEEE 802.3 + LLC without SNAP.
    Llc { dsap: u8, ssap: u8 },
}

/// A layer-2 frame that carries no IP (LLDP, CDP, STP ...).
#[derive(Debug, Clone, Copy)]
pub struct L2Frame<'a> {
    pub src: MacAddr,
    pub dst: MacAddr,
    pub vlan: Option<u16>,
    pub kind: L2Kind,
    pub payload: &'a [u8],
}

/// An ARP (or gratuitous ARP) binding seen on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpBinding {
    /// 1 request, 2 reply.
    pub operation: u16,
    pub sender_mac: MacAddr,
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: std::net::Ipv4Addr,
    pub vlan: Option<u16>,
}

/// The consumer of capture events. Every method has a default that ignores the event,
/// so a sink implements only what it needs.
pub trait FlowSink {
    /// A new flow was created in the table.
    fn flow_start(&mut self, _flow: &FlowMeta, _pkt: &PacketCtx) {}
    /// In-order TCP payload bytes for one direction.
    fn stream_data(&mut self, _flow: &FlowMeta, _dir: Direction, _data: &[u8], _pkt: &PacketCtx) {}
    /// `missing` bytes of one direction will never arrive (loss, capture drop, memory cap);
    /// the stream resumes after them.
    fn stream_gap(&mut self, _flow: &FlowMeta, _dir: Direction, _missing: u64, _pkt: &PacketCtx) {}
    /// One UDP payload (or another datagram transport's).
    fn datagram(&mut self, _flow: &FlowMeta, _dir: Direction, _data: &[u8], _pkt: &PacketCtx) {}
    /// A flow left the table.
    fn flow_end(&mut self, _record: &FlowRecord) {}
    /// A non-IP layer-2 frame.
    fn l2_frame(&mut self, _frame: &L2Frame<'_>, _pkt: &PacketCtx) {}
    /// An ARP packet.
    fn arp(&mut self, _arp: &ArpBinding, _pkt: &PacketCtx) {}
}
