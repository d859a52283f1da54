//! Ward's identification room: turns observations into endpoints, devices and a
//! connection map, every conclusion with its evidence.
//!
//! It never parses packets; it reads the [`Observation`]s, [`SecurityObservation`]s and
//! [`ConnectionEdge`]s that `ward-dissect` produces (`DissectOutput`), plus classification
//! knowledge kept as data:
//!
//! * **Fingerprint rules and vendor aliases**: TOML files in `crates/ward-identify/rules/`,
//!   compiled in, and extendable at run time from a user directory without rebuilding
//!   ([`Rules::load_dir`]). Each rule cites its public source in a comment. See
//!   [`rules`] for the format.
//! * **The IEEE MAC registry** (MA-L, MA-M, MA-S, IAB), read at run time from the text
//!   files of Debian's `ieee-data` package in `/usr/share/ieee-data` (configurable; about
//!   9 MB, so not bundled). This was chosen over a crate shipping a registry snapshot
//!   because the distribution package is updated independently of Ward and is the IEEE's
//!   own text. Install it with `apt-get install -y ieee-data`. Without it, identification
//!   still works, only without MAC vendors. See [`oui`].
//! * **The clinical taxonomy** of device categories and their criticality ([`taxonomy`]).
//!
//! ```no_run
//! use ward_identify::{identify, Rules};
//! # let (observations, security, edges) = (vec![], vec![], vec![]);
//! let rules = Rules::standard().expect("rules");   // built-in rules + IEEE registry
//! let inventory = identify(&observations, &security, &edges, &rules);
//! for device in &inventory.devices {
//!     println!("{} {:?} {:?}", device.id, device.category, device.vendor());
//!     for line in device.explain() {
//!         println!("    {line}");
//!     }
//! }
//! ```
//!
//! Everything in [`Inventory`] is in a deterministic order, so the same input gives the
//! same JSON byte for byte.

pub mod attributes;
pub mod devices;
pub mod endpoints;
pub mod facts;
pub mod oui;
pub mod rules;
pub mod taxonomy;

pub use attributes::{AttrKind, Attribute, Candidate, ConfidenceLevel, Source};
pub use devices::{
    device_id_for_ip, device_id_for_mac, device_id_for_name, Device, DeviceFact, DeviceOptions,
    DeviceSecurity, IdBasis, ManualOverride,
};
pub use endpoints::{
    BindingSource, Connection, Endpoint, EndpointConfig, EndpointKey, EndpointMap, IpBinding,
    KnownBinding, Peer, Scope,
};
pub use oui::{OuiError, OuiRegistry, DEFAULT_IEEE_DATA_DIR};
pub use rules::{RuleError, Rules};
pub use taxonomy::{Category, CategoryGroup, Criticality};

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use ward_model::{ConnectionEdge, Observation, SecurityObservation};

/// Errors assembling the standard knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Oui(#[from] OuiError),
}

impl Rules {
    /// The built-in rules plus the IEEE registry from [`DEFAULT_IEEE_DATA_DIR`].
    pub fn standard() -> Result<Rules, KnowledgeError> {
        Self::standard_with(Path::new(DEFAULT_IEEE_DATA_DIR), None)
    }

    /// The built-in rules, optionally merged with a user rule directory, plus the IEEE
    /// registry from `ieee_dir`.
    pub fn standard_with(
        ieee_dir: &Path,
        user_rules: Option<&Path>,
    ) -> Result<Rules, KnowledgeError> {
        let mut rules = match user_rules {
            Some(dir) => Rules::load_dir(dir)?,
            None => Rules::builtin()?,
        };
        rules.set_oui(std::sync::Arc::new(OuiRegistry::load_dir(ieee_dir)?));
        Ok(rules)
    }
}

impl Rules {
    /// The built-in rules (plus a user directory, if given) and the IEEE registry if it can
    /// be read. A missing or unreadable registry is returned as a warning instead of an
    /// error, so that identification still runs (without MAC vendors); broken rule files
    /// are still errors.
    pub fn standard_lenient(
        ieee_dir: &Path,
        user_rules: Option<&Path>,
    ) -> Result<(Rules, Option<OuiError>), RuleError> {
        let mut rules = match user_rules {
            Some(dir) => Rules::load_dir(dir)?,
            None => Rules::builtin()?,
        };
        match OuiRegistry::load_dir(ieee_dir) {
            Ok(reg) => {
                rules.set_oui(std::sync::Arc::new(reg));
                Ok((rules, None))
            }
            Err(e) => Ok((rules, Some(e))),
        }
    }
}

/// Settings of [`identify_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdentifyOptions {
    pub endpoints: EndpointConfig,
    pub devices: DeviceOptions,
    /// IP <-> MAC bindings from earlier analyses of the same site (see [`KnownBinding`]):
    /// with them, a host seen only through a router in this analysis keeps the MAC-keyed
    /// device (and id) it had where it was seen on its own segment.
    pub known_bindings: Vec<KnownBinding>,
}

/// The result of identification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// Endpoints by key (MAC-keyed, then IP-keyed).
    pub endpoints: Vec<Endpoint>,
    /// Devices by id.
    pub devices: Vec<Device>,
    /// Aggregated connections by (client, server, transport, port).
    pub connections: Vec<Connection>,
}

impl Inventory {
    /// A device by id (devices are sorted by id).
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices
            .binary_search_by(|d| d.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.devices.get(i))
    }

    /// The IP <-> MAC bindings this analysis established, to carry into the next analysis
    /// of the same site ([`IdentifyOptions::known_bindings`]): every address of a host's
    /// MAC-keyed endpoint, and the addresses a router's MAC claimed itself (ARP, DHCP).
    /// Sorted; one entry per (IP, MAC).
    pub fn known_bindings(&self) -> Vec<KnownBinding> {
        let mut out: Vec<KnownBinding> = self
            .endpoints
            .iter()
            .filter_map(|e| Some((e, e.mac?)))
            .flat_map(|(e, mac)| {
                e.ips
                    .iter()
                    .filter(move |b| !e.is_router || b.sources.iter().any(|s| s.is_claim()))
                    .map(move |b| KnownBinding {
                        ip: b.ip,
                        mac,
                        sources: b.sources.clone(),
                        first_seen: b.first_seen,
                        last_seen: b.last_seen,
                    })
            })
            .collect();
        out.sort();
        out
    }

    /// The device an endpoint belongs to.
    pub fn device_of_endpoint(&self, endpoint_id: &str) -> Option<&Device> {
        self.devices
            .iter()
            .find(|d| d.endpoints.iter().any(|e| e == endpoint_id))
    }
}

/// Identifies endpoints, devices and connections with default options.
pub fn identify(
    observations: &[Observation],
    security: &[SecurityObservation],
    edges: &[ConnectionEdge],
    rules: &Rules,
) -> Inventory {
    identify_with(
        observations,
        security,
        edges,
        rules,
        &IdentifyOptions::default(),
    )
}

/// Identifies endpoints, devices and connections.
pub fn identify_with(
    observations: &[Observation],
    security: &[SecurityObservation],
    edges: &[ConnectionEdge],
    rules: &Rules,
    options: &IdentifyOptions,
) -> Inventory {
    let map = EndpointMap::build_with_known(
        observations,
        security,
        edges,
        &options.endpoints,
        &options.known_bindings,
    );
    let devices =
        devices::build_devices(observations, security, edges, &map, rules, &options.devices);
    let device_by_endpoint: BTreeMap<&str, &str> = devices
        .iter()
        .flat_map(|d| d.endpoints.iter().map(|e| (e.as_str(), d.id.as_str())))
        .collect();
    let connections = endpoints::connection_map(edges, &map, &|k: &EndpointKey| {
        let found = match map.get(k) {
            Some(e) => device_by_endpoint.get(e.id.as_str()),
            None => device_by_endpoint.get(k.id().as_str()),
        };
        found.map(|d| d.to_string())
    });
    Inventory {
        endpoints: map.into_endpoints(),
        devices,
        connections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::tests::{addr, edge, obs};

    #[test]
    fn lenient_loading_reports_a_missing_registry() {
        let dir = tempfile::tempdir().unwrap();
        let (rules, warning) = Rules::standard_lenient(dir.path(), None).unwrap();
        assert!(!rules.has_oui_registry());
        let msg = warning.unwrap().to_string();
        assert!(msg.contains("apt-get install -y ieee-data"), "{msg}");
        assert!(matches!(
            Rules::standard_with(dir.path(), None),
            Err(KnowledgeError::Oui(OuiError::Missing { .. }))
        ));
    }

    #[test]
    fn thousands_of_devices_in_stable_order() {
        let rules = Rules::builtin().unwrap();
        let server = addr(Some("00:1d:4a:17:5d:be"), Some("10.0.0.5"));
        let mut o = Vec::new();
        let mut e = Vec::new();
        for i in 0..3000u32 {
            let mac = format!(
                "00:1b:21:{:02x}:{:02x}:{:02x}",
                (i >> 16) & 0xff,
                (i >> 8) & 0xff,
                i & 0xff
            );
            let ip = format!("10.1.{}.{}", i / 250, i % 250 + 1);
            let a = addr(Some(&mac), Some(&ip));
            let t = u64::from(i);
            o.push(obs(a, "dhcp.hostname", &format!("host-{i}"), t, t + 5));
            o.push(obs(a, "dhcp.vendor_class", "MSFT 5.0", t, t + 5));
            o.push(obs(
                a,
                "http.user_agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                t,
                t,
            ));
            o.push(obs(a, "tls.sni", "example.org", t, t));
            e.push(edge(a, server, 2575, Some("hl7"), t));
        }
        let inv = identify(&o, &[], &e, &rules);
        assert_eq!(inv.devices.len(), 3001);
        assert_eq!(inv.connections.len(), 3000);
        assert!(inv.devices.windows(2).all(|w| w[0].id < w[1].id));
        let d = inv.device_of_endpoint("mac:00:1b:21:00:00:07").unwrap();
        assert_eq!(d.hostname(), Some("host-7"));
        assert_eq!(
            d.os(),
            Some("Windows 10/11"),
            "DHCP's Windows refined by the UA"
        );
        assert!(!d.attribute(AttrKind::Os).unwrap().conflict);
        assert!(inv.device(&d.id).is_some());
        let server = inv
            .device(&device_id_for_mac(&"00:1d:4a:17:5d:be".parse().unwrap()))
            .unwrap();
        assert_eq!(server.category, Some(Category::InterfaceEngine));
    }
}
