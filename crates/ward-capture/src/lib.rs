//! Ward's capture engine: packet sources, L2-L4 decoding, a bounded bidirectional flow
//! table and per-direction TCP stream reassembly.
//!
//! `ward-capture` knows no application protocol. It turns packets into *events* on a
//! [`FlowSink`]: in-order TCP byte streams (with explicit gap events), UDP datagrams,
//! non-IP layer-2 frames (LLDP, CDP ...), ARP bindings and finished [`FlowRecord`]s.
//! `ward-dissect` implements the sink.
//!
//! Entry points: [`expand_inputs`] turns command-line paths into capture files, and
//! [`analyze_files`] replays them (in timestamp order across files) through one or
//! several [`Engine`]s. Damage inside a capture is a warning in [`FileStats`], not an
//! error; an unreadable or non-capture file is a [`CaptureError`] naming it.
//!
//! Threading: with one worker everything runs on the caller's thread. With N and one
//! memory-mapped classic pcap file, every worker walks part of the file and processes its
//! own flows from all of it (`chunked`: 2 MiB chunks, each walked and hashed by one
//! worker, chunk starts guessed and verified against the record chain, so the packets,
//! their numbers and any damage warning are exactly the sequential reader's). Otherwise
//! (several files, pcapng, gzip) the caller's thread reads and merges the files and hashes each packet by (VLAN, address
//! pair) from its headers only ([`decode::flow_hash`], checked against the full decoder),
//! symmetrically, so both directions and every fragment of a flow reach the same worker;
//! packets of memory-mapped files travel as offsets into the shared mapping (no copy),
//! streamed (gzip) input as copies, in batches of up to 2048 packets, recycled through a
//! return channel; each worker owns an [`Engine`] (flow table, defragmenter, sink).
//!
//! Output does not depend on the number of workers: flow ids are derived from the packet
//! that opened the flow (file, packet number), idle expiry is decided per flow from its
//! own packet times (not by when a worker's periodic sweep ran), and the dissection
//! engine keeps the earliest evidence by a total order. This holds as long as no
//! per-worker limit is hit (evictions, memory-pressure gaps: the caps are divided between
//! workers, so those may differ; `CaptureStats` counts them).
//!
//! Memory is bounded whatever the input size: plain files are memory-mapped, their page
//! tables filled ahead of the reader in 8 MiB steps (`MADV_POPULATE_READ`) and released
//! 32 MiB behind it; gzip input is streamed through a 256 KiB buffer; the flow table, the
//! out-of-order TCP buffers and the IP fragment store are capped by [`CaptureConfig`]
//! (the caps are divided between workers).
//!
//! It never transmits: files are read through `pcap-parser`; live capture (feature
//! `live`) opens libpcap handles in receive-only mode and the crate contains no send call.

mod chunked;
pub mod decode;
mod driver;
mod error;
mod events;
pub mod flow;
pub mod frag;
#[cfg(feature = "live")]
pub mod live;
pub mod reassembly;
pub mod source;
mod walk;

pub use driver::{
    analyze_files, analyze_one_mapped_pcap, analyze_pcap_bytes_chunked, expand_inputs,
    CaptureConfig, CaptureStats, FileStats,
};
pub use error::CaptureError;
pub use events::*;
pub use flow::{Engine, EngineStats};
#[cfg(feature = "live")]
pub use live::capture_live;
pub use source::{CaptureReader, MergedSource, RawPacket};
pub use walk::walk_files;
