//! Segmentation policy (NHS "reduce the likelihood of compromise"; IEC 62443-3-2 zones
//! and conduits): zones proposed from device category, site and observed VLAN/subnet;
//! conduits (allowed flows) learned from the connections observed over a baseline; the
//! policy exported as vendor-neutral JSON, nftables rules and a Cisco-style ACL; and
//! violations (observed flows outside the policy) reported as security observations.

use crate::asset::Asset;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use ward_identify::{Connection, Scope};
use ward_model::{EndpointAddr, Evidence, SecurityKind, SecurityObservation, Severity, Timestamp};

/// One observed flow, reduced to what the policy needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Device id when the peer is a known device, else its address.
    pub src: String,
    pub src_ip: Option<IpAddr>,
    pub dst: String,
    pub dst_ip: Option<IpAddr>,
    /// "tcp" / "udp" / ...
    pub transport: String,
    pub port: u16,
    pub protocol: Option<String>,
    pub vlan: Option<u16>,
    pub dst_external: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub evidence: Evidence,
}

fn peer_key(p: &ward_identify::Peer) -> String {
    p.device.clone().unwrap_or_else(|| p.address.clone())
}

/// The flows of an inventory's connection map.
pub fn flows_from_connections(conns: &[Connection]) -> Vec<Flow> {
    conns
        .iter()
        .filter(|c| c.client.scope != Scope::Multicast && c.server.scope != Scope::Multicast)
        .map(|c| Flow {
            src: peer_key(&c.client),
            src_ip: c.client.address.parse().ok(),
            dst: peer_key(&c.server),
            dst_ip: c.server.address.parse().ok(),
            transport: format!("{:?}", c.transport).to_ascii_lowercase(),
            port: c.server_port,
            protocol: c.protocol.clone(),
            vlan: c.vlans.first().copied(),
            dst_external: c.server.scope == Scope::External,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            evidence: c.evidence,
        })
        .collect()
}

/// A proposed zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// `<category group>/<site>/<vlan or subnet>`, e.g. "life_sustaining/main/vlan20".
    pub id: String,
    pub category_group: String,
    pub site: String,
    pub segment: String,
    pub members: Vec<String>,
    /// Security level target (IEC 62443 SL-T) proposed from the highest criticality.
    pub security_level_target: u8,
}

/// An allowed flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Conduit {
    pub src_zone: String,
    pub src: String,
    pub src_ip: Option<IpAddr>,
    pub dst_zone: String,
    pub dst: String,
    pub dst_ip: Option<IpAddr>,
    pub transport: String,
    pub port: u16,
    pub protocol: Option<String>,
    /// Always "src->dst" (the initiator is the source).
    pub direction: String,
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Policy {
    pub zones: Vec<Zone>,
    pub conduits: Vec<Conduit>,
    /// Assignment of members (device ids / addresses) to zones.
    pub zone_of: BTreeMap<String, String>,
}

fn segment_of(ip: Option<IpAddr>, vlan: Option<u16>) -> String {
    if let Some(v) = vlan {
        return format!("vlan{v}");
    }
    match ip {
        Some(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0-24", o[0], o[1], o[2])
        }
        Some(IpAddr::V6(_)) => "ipv6".into(),
        None => "unknown".into(),
    }
}

/// Proposes zones and learns conduits from baseline flows.
pub fn derive_policy(assets: &[Asset], baseline: &[Flow]) -> Policy {
    let by_id: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut zone_of: BTreeMap<String, String> = BTreeMap::new();
    let mut zones: BTreeMap<String, Zone> = BTreeMap::new();
    let mut vlan_of: BTreeMap<String, u16> = BTreeMap::new();
    let mut ip_of: BTreeMap<String, IpAddr> = BTreeMap::new();
    for f in baseline {
        if let Some(v) = f.vlan {
            vlan_of.entry(f.src.clone()).or_insert(v);
            vlan_of.entry(f.dst.clone()).or_insert(v);
        }
        if let Some(ip) = f.src_ip {
            ip_of.entry(f.src.clone()).or_insert(ip);
        }
        if let Some(ip) = f.dst_ip {
            ip_of.entry(f.dst.clone()).or_insert(ip);
        }
    }
    let mut assign = |member: &str, external: bool| -> String {
        if let Some(z) = zone_of.get(member) {
            return z.clone();
        }
        let asset = by_id.get(member);
        let (group, crit) = match asset.and_then(|a| a.category) {
            Some(c) => (c.group().as_str().to_string(), c.criticality()),
            None if external => ("external".to_string(), ward_identify::Criticality::Low),
            None => ("unclassified".to_string(), ward_identify::Criticality::Low),
        };
        let site = asset
            .and_then(|a| a.site.clone())
            .unwrap_or_else(|| "main".into());
        let segment = if external {
            "internet".to_string()
        } else {
            segment_of(ip_of.get(member).copied(), vlan_of.get(member).copied())
        };
        let id = format!("{group}/{site}/{segment}");
        let sl = match crit {
            ward_identify::Criticality::Critical => 3,
            ward_identify::Criticality::High => 2,
            ward_identify::Criticality::Medium => 2,
            ward_identify::Criticality::Low => 1,
        };
        let z = zones.entry(id.clone()).or_insert_with(|| Zone {
            id: id.clone(),
            category_group: group,
            site,
            segment,
            members: Vec::new(),
            security_level_target: sl,
        });
        z.members.push(member.to_string());
        z.security_level_target = z.security_level_target.max(sl);
        zone_of.insert(member.to_string(), id.clone());
        id
    };
    let mut conduits = BTreeSet::new();
    for f in baseline {
        let sz = assign(&f.src, false);
        let dz = assign(&f.dst, f.dst_external);
        conduits.insert(Conduit {
            src_zone: sz,
            src: f.src.clone(),
            src_ip: f.src_ip,
            dst_zone: dz,
            dst: f.dst.clone(),
            dst_ip: f.dst_ip,
            transport: f.transport.clone(),
            port: f.port,
            protocol: f.protocol.clone(),
            direction: "src->dst".into(),
        });
    }
    for a in assets {
        assign(&a.id, false);
    }
    Policy {
        zones: zones.into_values().collect(),
        conduits: conduits.into_iter().collect(),
        zone_of,
    }
}

impl Policy {
    /// Is this flow allowed by a conduit (same source, destination, transport, port)?
    pub fn allows(&self, f: &Flow) -> bool {
        self.conduits.iter().any(|c| {
            c.src == f.src && c.dst == f.dst && c.transport == f.transport && c.port == f.port
        })
    }

    /// Observed flows outside the policy.
    pub fn violations<'a>(&self, flows: &'a [Flow]) -> Vec<&'a Flow> {
        let allowed: BTreeSet<(&str, &str, &str, u16)> = self
            .conduits
            .iter()
            .map(|c| (c.src.as_str(), c.dst.as_str(), c.transport.as_str(), c.port))
            .collect();
        // Enforcement points (firewalls, NAC) see addresses, not Ward's device ids, and a
        // routed peer's device id can differ between two observation windows (with or
        // without its ARP/DHCP bindings in view): a flow whose addresses match a conduit's
        // is inside the policy too.
        let allowed_ips: BTreeSet<(IpAddr, IpAddr, &str, u16)> = self
            .conduits
            .iter()
            .filter_map(|c| Some((c.src_ip?, c.dst_ip?, c.transport.as_str(), c.port)))
            .collect();
        flows
            .iter()
            .filter(|f| {
                let by_id = allowed.contains(&(
                    f.src.as_str(),
                    f.dst.as_str(),
                    f.transport.as_str(),
                    f.port,
                ));
                let by_ip = match (f.src_ip, f.dst_ip) {
                    (Some(s), Some(d)) => {
                        allowed_ips.contains(&(s, d, f.transport.as_str(), f.port))
                    }
                    _ => false,
                };
                !(by_id || by_ip)
            })
            .collect()
    }

    /// Violations as security observations (kind `policy_violation`).
    pub fn violation_observations(&self, flows: &[Flow]) -> Vec<SecurityObservation> {
        self.violations(flows)
            .into_iter()
            .map(|f| {
                let zone = |m: &str| {
                    self.zone_of
                        .get(m)
                        .cloned()
                        .unwrap_or_else(|| "unzoned".into())
                };
                SecurityObservation {
                    kind: SecurityKind::PolicyViolation,
                    severity: Severity::Medium,
                    subject: EndpointAddr {
                        mac: None,
                        ip: f.src_ip,
                    },
                    peer: Some(EndpointAddr {
                        mac: None,
                        ip: f.dst_ip,
                    }),
                    detail: format!(
                        "flow {} ({}) -> {} ({}) {}/{} is outside the segmentation policy",
                        f.src,
                        zone(&f.src),
                        f.dst,
                        zone(&f.dst),
                        f.transport,
                        f.port
                    ),
                    first_seen: f.first_seen,
                    last_seen: f.last_seen,
                    count: 1,
                    evidence: f.evidence,
                }
            })
            .collect()
    }

    /// The vendor-neutral JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "format": "ward-segmentation-policy",
            "version": 1,
            "zones": self.zones,
            "conduits": self.conduits,
            "default": "deny",
        })
    }

    /// nftables rules (an `inet ward` table, forward chain, default drop).
    pub fn to_nftables(&self) -> String {
        let mut out = String::from(
            "# Generated by ward from observed traffic; review before applying.\n\
             table inet ward {\n  chain forward {\n    type filter hook forward priority 0; policy drop;\n    ct state established,related accept\n",
        );
        for c in &self.conduits {
            let (Some(s), Some(d)) = (c.src_ip, c.dst_ip) else {
                out.push_str(&format!(
                    "    # skipped {} -> {}: no IP address\n",
                    c.src, c.dst
                ));
                continue;
            };
            let fam = if s.is_ipv4() { "ip" } else { "ip6" };
            let proto = match c.transport.as_str() {
                "tcp" | "udp" => c.transport.clone(),
                _ => {
                    out.push_str(&format!(
                        "    {fam} saddr {s} {fam} daddr {d} accept comment \"{} -> {}\"\n",
                        c.src_zone, c.dst_zone
                    ));
                    continue;
                }
            };
            out.push_str(&format!(
                "    {fam} saddr {s} {fam} daddr {d} {proto} dport {} accept comment \"{} -> {}\"\n",
                c.port, c.src_zone, c.dst_zone
            ));
        }
        out.push_str("  }\n}\n");
        out
    }

    /// A Cisco IOS-style extended ACL.
    pub fn to_cisco_acl(&self, name: &str) -> String {
        let mut out = format!("! Generated by ward from observed traffic; review before applying.\nip access-list extended {name}\n");
        let mut seq = 10;
        for c in &self.conduits {
            let (Some(IpAddr::V4(s)), Some(IpAddr::V4(d))) = (c.src_ip, c.dst_ip) else {
                continue;
            };
            let proto = match c.transport.as_str() {
                "tcp" | "udp" => c.transport.as_str(),
                _ => "ip",
            };
            let port = if proto == "ip" {
                String::new()
            } else {
                format!(" eq {}", c.port)
            };
            out.push_str(&format!(" {seq} permit {proto} host {s} host {d}{port}\n"));
            seq += 10;
        }
        out.push_str(&format!(" {seq} deny ip any any log\n"));
        out
    }
}
