//! Ward's protocol dissectors.
//!
//! Each protocol lives in one file under [`proto`] and is registered with one line in
//! [`registry`]. A protocol module keeps three things apart, as Suricata's Rust parsers do:
//! a pure parser (bytes in, typed message out, no state), a per-flow state machine
//! ([`FlowParser`]) and the facts it emits ([`Facts`]).
//!
//! The [`Engine`] is the capture engine's [`ward_capture::FlowSink`]: it picks dissectors
//! for each flow by port *and* by content (hospitals run DICOM and HL7 on any port), feeds
//! them the reassembled streams, and aggregates what they say into observations, security
//! observations and connection edges ([`DissectOutput`]).
//!
//! Invariant: nothing after this crate sees a byte of payload. Dissectors emit short
//! metadata values only; patient data (HL7 PID/OBX values, DICOM datasets, HTTP bodies)
//! is never put into a fact.

mod engine;
mod framework;
mod pipeline;
pub mod proto;
pub mod registry;

pub use engine::{DissectOutput, Engine, EngineConfig};
pub use framework::*;
pub use pipeline::analyze_files;
