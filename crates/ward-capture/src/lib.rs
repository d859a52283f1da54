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
//! It never transmits: files are read through `pcap-parser`; live capture (feature
//! `live`) opens libpcap handles in receive-only mode and the crate contains no send call.

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

pub use driver::{analyze_files, expand_inputs, CaptureConfig, CaptureStats, FileStats};
pub use error::CaptureError;
pub use events::*;
pub use flow::{Engine, EngineStats};
#[cfg(feature = "live")]
pub use live::capture_live;
pub use source::{CaptureReader, MergedSource, RawPacket};
