//! One module per protocol. Each exposes a `Dissector` (or `FrameDissector`) type, a pure
//! parser function and tests. `util` holds the shared byte helpers and `harness` drives a
//! dissector without a capture engine (tests, fuzzing).

pub mod harness;
pub mod util;

// generic dissectors
pub mod bacnet;
pub mod cdp;
pub mod dhcp;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod lldp;
pub mod modbus;
pub mod netbios;
pub mod smb;
pub mod snmp;
pub mod ssdp;
pub mod telnet;
pub mod tls;
