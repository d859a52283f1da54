//! One module per protocol. Each exposes a `Dissector` (or `FrameDissector`) type, a pure
//! parser function and tests. `util` holds the shared byte helpers and `harness` drives a
//! dissector without a capture engine (tests, fuzzing).
//!
//! Generic dissectors (fact-key prefix, where): `dhcp` (UDP 67/68), `dns`/`mdns` (UDP 53,
//! 5353, TCP 53), `netbios` (UDP 137), `smb` (TCP 445/139), `ssdp` (UDP 1900 and SSDP-like
//! text anywhere), `http` (TCP 80/8080/... and by content anywhere), `tls` (TCP 443/... and
//! by content anywhere), `snmp` (UDP 161/162), `ftp` (TCP 21), `telnet` (TCP 23),
//! `modbus` (TCP 502), `bacnet` (UDP 47808), and the frame dissectors `lldp` (EtherType
//! 0x88cc) and `cdp` (SNAP 00:00:0c/0x2000). Each module's documentation lists its keys.

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

// clinical protocols
pub mod astm;
pub mod dicom;
pub mod fhir;
pub mod hl7;
pub mod poct1;
pub mod sdc;
pub mod xml;
