//! Ward's identification room: turns observations into endpoints and devices.
//!
//! It never parses packets; it only reads [`ward_model::Observation`]s and
//! [`ward_model::ConnectionEdge`]s.
