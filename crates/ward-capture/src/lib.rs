//! Ward's capture engine: packet sources, L2-L4 decoding, a bounded bidirectional flow
//! table and per-direction TCP stream reassembly.
//!
//! `ward-capture` knows no application protocol. It turns packets into *events* on a
//! [`FlowSink`]: in-order TCP byte streams (with explicit gap events), UDP datagrams,
//! non-IP layer-2 frames (LLDP, CDP ...), ARP bindings and finished [`FlowRecord`]s.
//! `ward-dissect` implements the sink.
//!
//! It never transmits: files are read through `pcap-parser`; live capture (feature
//! `live`) opens libpcap handles in receive-only mode and the crate contains no send call.

mod events;
pub use events::*;
