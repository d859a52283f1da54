//! Ward's domain vocabulary, shared by every crate and free of I/O.
//!
//! The types here describe what Ward learns from the network: *where* a fact was seen
//! ([`Evidence`]), *who* it is about ([`EndpointAddr`]), *what* it says ([`Observation`],
//! [`SecurityObservation`]) and *who talked to whom* ([`ConnectionEdge`]). Nothing in this
//! crate ever holds packet payload; values are short metadata strings chosen by a dissector.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Microseconds since the Unix epoch (UTC), as captured.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub fn from_secs_micros(secs: u64, micros: u64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(micros))
    }
    pub fn secs(self) -> u64 {
        self.0 / 1_000_000
    }
}

/// An IEEE 802 MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    /// Group (multicast or broadcast) addresses never identify one host.
    pub fn is_group(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
    /// Locally administered addresses (randomised or virtual) carry no vendor OUI.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
    pub fn is_unicast_host(&self) -> bool {
        !self.is_group() && *self != MacAddr::ZERO
    }
    pub fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Error parsing a MAC address text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacParseError(pub String);

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a MAC address: {:?}", self.0)
    }
}
impl std::error::Error for MacParseError {}

impl FromStr for MacAddr {
    type Err = MacParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        let seps_ok = s
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
        if hex.len() != 12 || !seps_ok {
            return Err(MacParseError(s.to_string()));
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16)
                .map_err(|_| MacParseError(s.to_string()))?;
        }
        Ok(MacAddr(out))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// IANA transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Any other IP protocol number.
    Other(u8),
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Tcp => f.write_str("tcp"),
            Transport::Udp => f.write_str("udp"),
            Transport::Icmp => f.write_str("icmp"),
            Transport::Icmpv6 => f.write_str("icmpv6"),
            Transport::Other(n) => write!(f, "ip-proto-{n}"),
        }
    }
}

/// The addresses a packet showed for one side of a conversation. Which of them identifies
/// the host (the MAC, or the IP when the MAC is a router's) is decided in `ward-identify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EndpointAddr {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<MacAddr>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<IpAddr>,
}

impl fmt::Display for EndpointAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.mac, self.ip) {
            (Some(m), Some(i)) => write!(f, "{i} ({m})"),
            (Some(m), None) => write!(f, "{m}"),
            (None, Some(i)) => write!(f, "{i}"),
            (None, None) => f.write_str("?"),
        }
    }
}

/// Index of an input file within one analysis run (into [`AnalysisInputs::files`]).
pub type FileIndex = u32;

/// Where a fact was seen: the capture file, the packet number within it (1-based, as
/// Wireshark counts) and the flow, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    pub file: FileIndex,
    pub packet: u64,
    pub ts: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<u64>,
}

/// A fact about one endpoint, learnt from traffic.
///
/// `key` names the fact in a dotted namespace owned by the dissector that produced it
/// (`dhcp.hostname`, `http.user_agent`, `tls.sni`, `dicom.ae_title` ...). `value` is short
/// device metadata, never payload and never patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub subject: EndpointAddr,
    pub key: String,
    pub value: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    /// The first packet that showed the fact.
    pub evidence: Evidence,
}

/// The kinds of risky behaviour Ward reports from traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityKind {
    CleartextCredentials,
    Smb1InUse,
    WeakTlsVersion,
    SelfSignedCertificate,
    ExpiredCertificate,
    DefaultSnmpCommunity,
    SnmpCleartextCommunity,
    InternetBound,
    TelnetInUse,
    FtpInUse,
    CleartextPatientData,
    DicomWithoutTls,
    DicomAcceptsAnyCaller,
    DicomAssociationRejected,
    DicomNoUserIdentity,
    PolicyViolation,
    Other,
}

impl SecurityKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SecurityKind::CleartextCredentials => "cleartext_credentials",
            SecurityKind::Smb1InUse => "smb1_in_use",
            SecurityKind::WeakTlsVersion => "weak_tls_version",
            SecurityKind::SelfSignedCertificate => "self_signed_certificate",
            SecurityKind::ExpiredCertificate => "expired_certificate",
            SecurityKind::DefaultSnmpCommunity => "default_snmp_community",
            SecurityKind::SnmpCleartextCommunity => "snmp_cleartext_community",
            SecurityKind::InternetBound => "internet_bound",
            SecurityKind::TelnetInUse => "telnet_in_use",
            SecurityKind::FtpInUse => "ftp_in_use",
            SecurityKind::CleartextPatientData => "cleartext_patient_data",
            SecurityKind::DicomWithoutTls => "dicom_without_tls",
            SecurityKind::DicomAcceptsAnyCaller => "dicom_accepts_any_caller",
            SecurityKind::DicomAssociationRejected => "dicom_association_rejected",
            SecurityKind::DicomNoUserIdentity => "dicom_no_user_identity",
            SecurityKind::PolicyViolation => "policy_violation",
            SecurityKind::Other => "other",
        }
    }
}

impl fmt::Display for SecurityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity of a security observation, for sorting and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// A risky behaviour seen on the wire, with the endpoint responsible and its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityObservation {
    pub kind: SecurityKind,
    pub severity: Severity,
    /// The endpoint whose behaviour it is (the server offering Telnet, the client sending
    /// credentials ...).
    pub subject: EndpointAddr,
    /// The other side, when the behaviour belongs to a conversation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peer: Option<EndpointAddr>,
    /// Human explanation; metadata only (never a secret, never patient data).
    pub detail: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    pub evidence: Evidence,
}

/// Who talked to whom: flows aggregated by (client, server, transport, server port, VLAN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEdge {
    pub client: EndpointAddr,
    pub server: EndpointAddr,
    pub transport: Transport,
    pub server_port: u16,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vlan: Option<u16>,
    /// Application protocol recognised on the edge ("dicom", "hl7", "tls", ...), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub protocol: Option<String>,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub packets: u64,
    pub sessions: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub evidence: Evidence,
}

/// The input files of one analysis run, so that [`Evidence::file`] can be resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisInputs {
    pub files: Vec<String>,
}

/// Is this address one on the public internet (not private, loopback, link-local,
/// multicast, documentation, CGNAT or unspecified)?
pub fn is_internet_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xfe00) == 0xfc00
                || s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_roundtrip_and_flags() {
        let m: MacAddr = "00:1B:21:0a:0B:0c".parse().unwrap();
        assert_eq!(m.to_string(), "00:1b:21:0a:0b:0c");
        assert!(m.is_unicast_host());
        assert!(!m.is_local());
        assert!(MacAddr::BROADCAST.is_group());
        assert!("00:1b:21".parse::<MacAddr>().is_err());
        assert!("zz:1b:21:0a:0b:0c".parse::<MacAddr>().is_err());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"00:1b:21:0a:0b:0c\"");
        assert_eq!(serde_json::from_str::<MacAddr>(&json).unwrap(), m);
    }

    #[test]
    fn internet_addresses() {
        for s in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.251",
            "100.64.0.1",
            "fe80::1",
            "fd00::1",
            "::1",
        ] {
            assert!(
                !is_internet_address(&s.parse().unwrap()),
                "{s} is not internet"
            );
        }
        for s in ["8.8.8.8", "142.250.1.1", "2a00:1450::1"] {
            assert!(is_internet_address(&s.parse().unwrap()), "{s} is internet");
        }
    }
}
