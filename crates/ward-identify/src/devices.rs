//! Devices: endpoints' observations merged into one record per device, with every
//! attribute as a list of candidates (see [`crate::attributes`]).
//!
//! # Device ids
//!
//! A device id is derived from its strongest identifier, so the same device gets the same
//! id in every analysis: `dev-` followed by the first 12 hex digits of
//! SHA-256(`"ward-device-v1|mac|<mac>"`) for a device known by its MAC, or of
//! SHA-256(`"ward-device-v1|ip|<site>|<ip>"`) for a device known only by its IP behind a
//! router (the site name keeps equal private addresses of different sites apart). A
//! device whose DHCP lease changes keeps its MAC and therefore its id. IP-only endpoints
//! that share a host name or a specific DICOM AE title and were never active at the same
//! time are one device that changed address; its id is derived from that name
//! (SHA-256 of `"ward-device-v1|name|<site>|host:<name>"` or `...|ae:<AE title>`).
//!
//! # What feeds the attributes
//!
//! * facts whose value is the attribute ([`crate::facts::FACT_MAP`]);
//! * fingerprint rules ([`crate::rules`]) on every fact, and on the pseudo-fact
//!   `oui.organization` (the registry name of each MAC prefix);
//! * the IEEE registry for the vendor (confidence 0.4: the NIC maker is often not the
//!   device maker);
//! * DICOM modality codes through the taxonomy;
//! * behaviour in the connection map: DICOM/HL7 client and server roles, PACS (a DICOM
//!   server with several DICOM clients), interface engine (an HL7 receiver that also sends,
//!   or receives from several senders);
//! * manual overrides, which win.

use crate::attributes::{AttrKind, Attribute, Candidate, Source};
use crate::endpoints::{EndpointKey, EndpointMap, IpBinding, Resolved};
use crate::facts;
use crate::rules::Rules;
use crate::taxonomy::{category_for_modality, Category, Criticality};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use ward_model::{
    ConnectionEdge, EndpointAddr, Evidence, MacAddr, Observation, SecurityKind,
    SecurityObservation, Severity, Timestamp,
};

/// A person's decision about a device attribute. It wins over every inference and is shown
/// as a manual override. The server persists these; identification only applies them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualOverride {
    pub device_id: String,
    pub attribute: AttrKind,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_at: Option<Timestamp>,
}

/// What a device's id was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdBasis {
    Mac,
    Ip,
    /// IP-only endpoints merged by a shared name (host name or AE title).
    Name,
}

/// A fact seen about the device, kept as evidence whether or not it fed an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceFact {
    pub key: String,
    pub value: String,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub evidence: Evidence,
    /// The endpoint the fact was seen on.
    pub endpoint: String,
}

/// A security observation about the device (it is the responsible endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSecurity {
    pub kind: SecurityKind,
    pub severity: Severity,
    pub detail: String,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub evidence: Evidence,
}

/// One device, with every attribute and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    /// `dev-` + 12 hex digits, stable across analyses (see the module docs).
    pub id: String,
    pub id_basis: IdBasis,
    /// The endpoints merged into this device.
    pub endpoints: Vec<String>,
    pub macs: Vec<MacAddr>,
    /// IP addresses over time.
    pub ips: Vec<IpBinding>,
    /// The chosen category, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Every attribute with candidates, by name.
    pub attributes: BTreeMap<AttrKind, Attribute>,
    /// Every fact seen about the device, by key then value.
    pub facts: Vec<DeviceFact>,
    pub security: Vec<DeviceSecurity>,
    pub is_router: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// The stable device id for a MAC.
pub fn device_id_for_mac(mac: &MacAddr) -> String {
    hashed_id(&format!("ward-device-v1|mac|{mac}"))
}

/// The stable device id for an IP-only device of a site.
pub fn device_id_for_ip(site: &str, ip: &IpAddr) -> String {
    hashed_id(&format!("ward-device-v1|ip|{site}|{ip}"))
}

/// The stable device id for IP-only endpoints merged by a shared identity name
/// (`host:<name>` or `ae:<AE title>`).
pub fn device_id_for_name(site: &str, name: &str) -> String {
    hashed_id(&format!("ward-device-v1|name|{site}|{name}"))
}

fn hashed_id(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let hex = hex::encode(digest);
    format!("dev-{}", hex.get(..12).unwrap_or(&hex))
}

impl Device {
    /// An attribute, if it has any candidate.
    pub fn attribute(&self, kind: AttrKind) -> Option<&Attribute> {
        self.attributes.get(&kind)
    }

    /// The chosen value of an attribute.
    pub fn value(&self, kind: AttrKind) -> Option<&str> {
        self.attribute(kind).and_then(|a| a.value.as_deref())
    }

    /// Every distinct value of an attribute, best first.
    pub fn values(&self, kind: AttrKind) -> Vec<&str> {
        self.attribute(kind).map(|a| a.values()).unwrap_or_default()
    }

    pub fn vendor(&self) -> Option<&str> {
        self.value(AttrKind::Vendor)
    }

    pub fn model(&self) -> Option<&str> {
        self.value(AttrKind::Model)
    }

    pub fn os(&self) -> Option<&str> {
        self.value(AttrKind::Os)
    }

    pub fn hostname(&self) -> Option<&str> {
        self.value(AttrKind::Hostname)
    }

    pub fn roles(&self) -> Vec<&str> {
        self.values(AttrKind::Role)
    }

    /// Firmware and software versions and software products, labelled.
    pub fn versions(&self) -> Vec<(AttrKind, &str)> {
        [
            AttrKind::FirmwareVersion,
            AttrKind::SoftwareVersion,
            AttrKind::Software,
        ]
        .iter()
        .flat_map(|k| self.values(*k).into_iter().map(move |v| (*k, v)))
        .collect()
    }

    /// A name for people: a host name the device gives itself (confidence >= 0.7), else its
    /// AE title, else its HL7 application, else any host name (DNS, DICOM station name),
    /// else an address.
    pub fn display_name(&self) -> String {
        if let Some(h) = self
            .attribute(AttrKind::Hostname)
            .filter(|a| a.confidence >= 0.7)
            .and_then(|a| a.value.as_deref())
        {
            return h.to_string();
        }
        for k in [
            AttrKind::AeTitle,
            AttrKind::Hl7Application,
            AttrKind::Hostname,
        ] {
            if let Some(v) = self.value(k) {
                return v.to_string();
            }
        }
        if let Some(b) = self.ips.iter().max_by_key(|b| b.last_seen) {
            return b.ip.to_string();
        }
        self.macs
            .first()
            .map(|m| m.to_string())
            .unwrap_or_else(|| self.id.clone())
    }

    /// One line per chosen attribute with its confidence and the evidence behind it, e.g.
    /// `vendor: GE Healthcare (high 0.94) <- fact dicom.manufacturer [file 0 packet 12];
    /// IEEE MA-L 44:4b:5d`. Conflicting values are listed after "also:".
    pub fn explain(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, attr) in &self.attributes {
            let Some(value) = attr.value.as_deref() else {
                continue;
            };
            let support: Vec<String> = attr.support().map(describe_candidate).collect();
            let mut line = format!(
                "{kind}: {value} ({}{} {:.2}) <- {}",
                if attr.overridden { "manual, " } else { "" },
                attr.level(),
                attr.confidence,
                support.join("; ")
            );
            let chosen = value.trim().to_lowercase();
            let others: Vec<String> = attr
                .candidates
                .iter()
                .filter(|c| c.value.trim().to_lowercase() != chosen)
                .map(|c| format!("{} [{:.2}, {}]", c.value, c.confidence, c.source))
                .collect();
            if !others.is_empty() {
                line.push_str(if attr.conflict {
                    "; CONFLICT, also: "
                } else {
                    "; also: "
                });
                line.push_str(&others.join(", "));
            }
            out.push(line);
        }
        out
    }
}

fn describe_candidate(c: &Candidate) -> String {
    match c.evidence {
        Some(e) => format!("{} [file {} packet {}]", c.source, e.file, e.packet),
        None => c.source.to_string(),
    }
}

/// Settings of device building.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceOptions {
    /// Site name used in ids of IP-only devices.
    pub site: String,
    pub overrides: Vec<ManualOverride>,
}

struct Draft {
    key: EndpointKey,
    attributes: BTreeMap<AttrKind, Attribute>,
    facts: Vec<DeviceFact>,
    security: Vec<DeviceSecurity>,
}

impl Draft {
    fn add(&mut self, kind: AttrKind, c: Candidate) {
        self.attributes.entry(kind).or_default().push(c);
    }
}

fn candidate(value: String, confidence: f64, source: Source, o: Option<&Observation>) -> Candidate {
    Candidate {
        value,
        raw: None,
        confidence,
        source,
        evidence: o.map(|o| o.evidence),
        first_seen: o.map(|o| o.first_seen),
        last_seen: o.map(|o| o.last_seen),
    }
}

/// Normalises vendor candidates through the alias table, keeping the raw spelling.
fn canonicalise(rules: &Rules, kind: AttrKind, mut c: Candidate) -> Candidate {
    if kind == AttrKind::Vendor {
        if let Some(name) = rules.canonical_vendor(&c.value) {
            if name != c.value {
                c.raw = Some(std::mem::replace(&mut c.value, name.to_string()));
            }
        }
    }
    c
}

/// Builds the devices of an analysis.
pub fn build_devices(
    observations: &[Observation],
    security: &[SecurityObservation],
    edges: &[ConnectionEdge],
    map: &EndpointMap,
    rules: &Rules,
    options: &DeviceOptions,
) -> Vec<Device> {
    let mut drafts: BTreeMap<EndpointKey, Draft> = map
        .endpoints()
        .iter()
        .map(|e| {
            (
                e.key,
                Draft {
                    key: e.key,
                    attributes: BTreeMap::new(),
                    facts: Vec::new(),
                    security: Vec::new(),
                },
            )
        })
        .collect();

    // The rules of each observation key, found once per key.
    let mut rules_of_key: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for o in observations {
        // A DNS answer may also be written "name=ip" about the resolver's client; then it
        // names the host at `ip`, not the subject.
        let mut named_elsewhere = false;
        if o.key == "dns.answer" {
            if let Some((name, ip)) = o.value.split_once('=') {
                if let Ok(ip) = ip.trim().parse::<IpAddr>() {
                    named_elsewhere = true;
                    let a = EndpointAddr {
                        mac: None,
                        ip: Some(ip),
                    };
                    if let Resolved::Endpoint(k) = map.resolve(&a, o.first_seen) {
                        if let (Some(d), Some(v)) = (
                            drafts.get_mut(&k),
                            facts::apply(facts::Transform::Hostname, name),
                        ) {
                            let src = Source::Fact { key: o.key.clone() };
                            d.add(AttrKind::Hostname, candidate(v, 0.5, src, Some(o)));
                        }
                    }
                }
            }
        }
        let Resolved::Endpoint(k) = map.resolve(&o.subject, o.first_seen) else {
            continue;
        };
        let Some(d) = drafts.get_mut(&k) else {
            continue;
        };
        d.facts.push(DeviceFact {
            key: o.key.clone(),
            value: o.value.clone(),
            count: o.count,
            first_seen: o.first_seen,
            last_seen: o.last_seen,
            evidence: o.evidence,
            endpoint: map.id_of(&k),
        });
        if let Some(fm) = facts::mapping(&o.key).filter(|_| !named_elsewhere) {
            if let Some(v) = facts::apply(fm.transform, &o.value) {
                let c = candidate(
                    v,
                    fm.confidence,
                    Source::Fact { key: o.key.clone() },
                    Some(o),
                );
                d.add(fm.attr, canonicalise(rules, fm.attr, c));
            }
        }
        let candidates = rules_of_key
            .entry(o.key.as_str())
            .or_insert_with(|| rules.rules_for_key(&o.key));
        for hit in rules.classify_with(candidates, &o.value) {
            for (kind, value) in hit.outputs {
                let src = Source::Rule {
                    id: hit.rule.spec.id.clone(),
                    key: o.key.clone(),
                };
                let c = candidate(value, hit.rule.spec.confidence, src, Some(o));
                d.add(kind, canonicalise(rules, kind, c));
            }
        }
    }

    for s in security {
        let Resolved::Endpoint(k) = map.resolve(&s.subject, s.first_seen) else {
            continue;
        };
        if let Some(d) = drafts.get_mut(&k) {
            d.security.push(DeviceSecurity {
                kind: s.kind,
                severity: s.severity,
                detail: s.detail.clone(),
                count: s.count,
                first_seen: s.first_seen,
                last_seen: s.last_seen,
                evidence: s.evidence,
            });
        }
    }

    // The IEEE registry, and rules on the registry's organization name.
    for d in drafts.values_mut() {
        let EndpointKey::Mac(mac) = d.key else {
            continue;
        };
        let Some(entry) = rules.oui_lookup(&mac) else {
            continue;
        };
        let org = entry.organization.to_string();
        if org.eq_ignore_ascii_case("private") {
            continue;
        }
        let src = Source::Oui {
            registry: entry.registry.to_string(),
            prefix: entry.prefix_text(),
        };
        let c = candidate(org.clone(), 0.4, src, None);
        d.add(AttrKind::Vendor, canonicalise(rules, AttrKind::Vendor, c));
        for hit in rules.classify("oui.organization", &org) {
            for (kind, value) in hit.outputs {
                let src = Source::Rule {
                    id: hit.rule.spec.id.clone(),
                    key: "oui.organization".into(),
                };
                let c = candidate(value, hit.rule.spec.confidence, src, None);
                d.add(kind, canonicalise(rules, kind, c));
            }
        }
    }

    add_modality_categories(&mut drafts);
    add_behaviour(&mut drafts, edges, map);

    // Ids, overrides, resolution.
    let groups = name_groups(&drafts, map);
    let mut devices: Vec<Device> = Vec::with_capacity(groups.len());
    for (members, merge_name) in groups {
        let mut parts: Vec<(Draft, &crate::endpoints::Endpoint)> = members
            .iter()
            .filter_map(|k| Some((drafts.remove(k)?, map.get(k)?)))
            .collect();
        if parts.is_empty() {
            continue;
        }
        parts.sort_by_key(|(_, ep)| (ep.first_seen, ep.key));
        let mut iter = parts.into_iter();
        let Some((mut d, first_ep)) = iter.next() else {
            continue;
        };
        let mut endpoints = vec![first_ep.id.clone()];
        let mut ips = first_ep.ips.clone();
        let (mut first_seen, mut last_seen) = (first_ep.first_seen, first_ep.last_seen);
        for (other, ep) in iter {
            for (kind, attr) in other.attributes {
                for c in attr.candidates {
                    d.add(kind, c);
                }
            }
            d.facts.extend(other.facts);
            d.security.extend(other.security);
            endpoints.push(ep.id.clone());
            ips.extend(ep.ips.iter().cloned());
            first_seen = first_seen.min(ep.first_seen);
            last_seen = last_seen.max(ep.last_seen);
        }
        ips.sort_by_key(|b| (b.first_seen, b.ip));
        let ep = first_ep;
        let (id, id_basis) = match (&merge_name, d.key) {
            (Some(name), _) => (device_id_for_name(&options.site, name), IdBasis::Name),
            (None, EndpointKey::Mac(m)) => (device_id_for_mac(&m), IdBasis::Mac),
            (None, EndpointKey::Ip(ip)) => (device_id_for_ip(&options.site, &ip), IdBasis::Ip),
        };
        if ep.is_router {
            let src = Source::Behaviour {
                id: "network.router".into(),
            };
            let mk = |value: &str| Candidate {
                value: value.to_string(),
                raw: None,
                confidence: 0.6,
                source: src.clone(),
                evidence: None,
                first_seen: Some(ep.first_seen),
                last_seen: Some(ep.last_seen),
            };
            d.add(AttrKind::Role, mk("router/gateway"));
            d.add(AttrKind::Category, mk("network_device"));
        }
        for o in options.overrides.iter().filter(|o| o.device_id == id) {
            let c = Candidate {
                value: o.value.clone(),
                raw: None,
                confidence: 1.0,
                source: Source::Manual {
                    author: o.author.clone(),
                    note: o.note.clone(),
                },
                evidence: None,
                first_seen: o.set_at,
                last_seen: o.set_at,
            };
            d.add(o.attribute, c);
        }
        for (kind, attr) in d.attributes.iter_mut() {
            attr.resolve(*kind);
        }
        let category = d
            .attributes
            .get(&AttrKind::Category)
            .and_then(|a| a.value.as_deref())
            .and_then(|v| v.parse::<Category>().ok());
        d.facts.sort_by(|a, b| {
            (&a.key, &a.value, a.first_seen, &a.endpoint).cmp(&(
                &b.key,
                &b.value,
                b.first_seen,
                &b.endpoint,
            ))
        });
        d.security.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (a.kind, &a.detail, a.first_seen).cmp(&(b.kind, &b.detail, b.first_seen))
            })
        });
        devices.push(Device {
            id,
            id_basis,
            endpoints,
            macs: ep.mac.into_iter().collect(),
            ips,
            category,
            criticality: category.map(|c| c.criticality()),
            attributes: d.attributes,
            facts: d.facts,
            security: d.security,
            is_router: ep.is_router,
            first_seen,
            last_seen,
        });
    }
    devices.sort_by(|a, b| a.id.cmp(&b.id));
    devices
}

/// DICOM AE titles that tools use by default, so unrelated devices share them; never used
/// to merge endpoints. Defaults of DCMTK's storescu/echoscu/findscu/movescu/getscu
/// (`-aet`, default e.g. "STORESCU"; `-aec`, default "ANY-SCP"), DCMTK storescp
/// ("ANY-SCP"), pynetdicom's ApplicationEntity ("PYNETDICOM"), Orthanc ("ORTHANC") and
/// dcm4chee ("DCM4CHEE").
const GENERIC_AE_TITLES: &[&str] = &[
    "ANY-SCP",
    "ANY",
    "STORESCU",
    "STORESCP",
    "ECHOSCU",
    "FINDSCU",
    "MOVESCU",
    "GETSCU",
    "PYNETDICOM",
    "ORTHANC",
    "DCM4CHEE",
    "SCU",
    "SCP",
];

/// Names that identify a device across IP changes: host names it gives itself or that DNS
/// gives it, and specific calling/called AE titles.
fn identity_names(d: &Draft) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in &d.facts {
        match f.key.as_str() {
            "dhcp.hostname" | "dhcp.client_fqdn" | "netbios.name" | "mdns.hostname" => {
                if let Some(h) = facts::apply(facts::Transform::Hostname, &f.value) {
                    out.insert(format!("host:{}", h.to_lowercase()));
                }
            }
            "dicom.calling_ae" | "dicom.called_ae" => {
                let ae = f.value.trim().to_ascii_uppercase();
                if !ae.is_empty() && !GENERIC_AE_TITLES.contains(&ae.as_str()) {
                    out.insert(format!("ae:{ae}"));
                }
            }
            _ => {}
        }
    }
    if let Some(attr) = d.attributes.get(&AttrKind::Hostname) {
        for c in &attr.candidates {
            if c.source
                == (Source::Fact {
                    key: "dns.answer".into(),
                })
            {
                out.insert(format!("host:{}", c.value.to_lowercase()));
            }
        }
    }
    out
}

/// Groups endpoints into devices. MAC-keyed endpoints are devices of their own. IP-keyed
/// endpoints (hosts behind routers, whose IP may change out of Ward's sight) that share an
/// identity name and were never active at the same time are one device that moved; the
/// name is returned for the id.
fn name_groups(
    drafts: &BTreeMap<EndpointKey, Draft>,
    map: &EndpointMap,
) -> Vec<(Vec<EndpointKey>, Option<String>)> {
    let span = |k: &EndpointKey| map.get(k).map(|e| (e.first_seen, e.last_seen));
    let mut by_name: BTreeMap<String, Vec<EndpointKey>> = BTreeMap::new();
    for (k, d) in drafts {
        if matches!(k, EndpointKey::Ip(_)) {
            for n in identity_names(d) {
                by_name.entry(n).or_default().push(*k);
            }
        }
    }
    // Union-find over draft keys, with the time-disjointness check per group.
    let keys: Vec<EndpointKey> = drafts.keys().copied().collect();
    let pos: BTreeMap<EndpointKey, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut members: Vec<Vec<EndpointKey>> = keys.iter().map(|k| vec![*k]).collect();
    let mut group: Vec<usize> = (0..keys.len()).collect();
    let mut name_of: Vec<Option<String>> = vec![None; keys.len()];
    for (name, ks) in &by_name {
        for pair in ks.windows(2) {
            let (Some(&a), Some(&b)) = (pos.get(&pair[0]), pos.get(&pair[1])) else {
                continue;
            };
            let (ga, gb) = (group[a], group[b]);
            if ga == gb {
                continue;
            }
            let overlaps = members[ga].iter().any(|x| {
                members[gb].iter().any(|y| match (span(x), span(y)) {
                    (Some((f1, l1)), Some((f2, l2))) => f1 <= l2 && f2 <= l1,
                    _ => true,
                })
            });
            if overlaps {
                continue;
            }
            let moved = std::mem::take(&mut members[gb]);
            for m in &moved {
                if let Some(&i) = pos.get(m) {
                    group[i] = ga;
                }
            }
            members[ga].extend(moved);
            let chosen = match (name_of[ga].take(), name_of[gb].take()) {
                (Some(x), Some(y)) => x.min(y).min(name.clone()),
                (Some(x), None) | (None, Some(x)) => x.min(name.clone()),
                (None, None) => name.clone(),
            };
            name_of[ga] = Some(chosen);
        }
    }
    members
        .into_iter()
        .zip(name_of)
        .filter(|(m, _)| !m.is_empty())
        .collect()
}

/// DICOM modality codes imply an imaging category, unless the device produced so many
/// different acquisition modalities that it is more likely an archive forwarding them.
fn add_modality_categories(drafts: &mut BTreeMap<EndpointKey, Draft>) {
    const MAX_ACQUISITION_MODALITIES: usize = 2;
    for d in drafts.values_mut() {
        let Some(attr) = d.attributes.get(&AttrKind::Modality) else {
            continue;
        };
        let mut per_category: BTreeMap<Category, Candidate> = BTreeMap::new();
        let mut codes = BTreeSet::new();
        for c in &attr.candidates {
            if let Some(cat) = category_for_modality(&c.value) {
                codes.insert(c.value.trim().to_ascii_uppercase());
                per_category.entry(cat).or_insert_with(|| c.clone());
            }
        }
        if per_category.is_empty() || codes.len() > MAX_ACQUISITION_MODALITIES {
            continue;
        }
        for (cat, c) in per_category {
            let src = Source::Rule {
                id: "taxonomy.dicom-modality".into(),
                key: "dicom.modality".into(),
            };
            let mk = |value: String, confidence: f64| Candidate {
                value,
                raw: None,
                confidence,
                source: src.clone(),
                evidence: c.evidence,
                first_seen: c.first_seen,
                last_seen: c.last_seen,
            };
            d.add(AttrKind::Category, mk(cat.as_str().to_string(), 0.8));
            d.add(AttrKind::Role, mk("modality".to_string(), 0.8));
        }
    }
}

fn is_protocol(p: Option<&str>, name: &str) -> bool {
    p.is_some_and(|p| p.to_ascii_lowercase().starts_with(name))
}

/// Roles inferred from who talks DICOM and HL7 to whom.
fn add_behaviour(
    drafts: &mut BTreeMap<EndpointKey, Draft>,
    edges: &[ConnectionEdge],
    map: &EndpointMap,
) {
    const PACS_MIN_CLIENTS: usize = 2;
    const ENGINE_MIN_SENDERS: usize = 2;
    // (server, protocol) -> distinct clients; and who acts as client per protocol.
    let mut clients_of: BTreeMap<(EndpointKey, &str), BTreeSet<EndpointKey>> = BTreeMap::new();
    let mut first_ev: BTreeMap<(EndpointKey, &str, bool), Evidence> = BTreeMap::new();
    for e in edges {
        let proto = if is_protocol(e.protocol.as_deref(), "dicom") {
            "dicom"
        } else if is_protocol(e.protocol.as_deref(), "hl7") {
            "hl7"
        } else {
            continue;
        };
        let c = map.resolve(&e.client, e.first_seen);
        let s = map.resolve(&e.server, e.first_seen);
        if let Resolved::Endpoint(sk) = s {
            let set = clients_of.entry((sk, proto)).or_default();
            if let Resolved::Endpoint(ck) = c {
                set.insert(ck);
            }
            first_ev.entry((sk, proto, true)).or_insert(e.evidence);
        }
        if let Resolved::Endpoint(ck) = c {
            first_ev.entry((ck, proto, false)).or_insert(e.evidence);
        }
    }
    let behaviour = |id: &str, value: &str, confidence: f64, ev: Evidence| Candidate {
        value: value.to_string(),
        raw: None,
        confidence,
        source: Source::Behaviour { id: id.to_string() },
        evidence: Some(ev),
        first_seen: Some(ev.ts),
        last_seen: None,
    };
    for ((key, proto, is_server), ev) in &first_ev {
        let Some(d) = drafts.get_mut(key) else {
            continue;
        };
        let role = match (*proto, *is_server) {
            ("dicom", true) => "DICOM SCP",
            ("dicom", false) => "DICOM SCU",
            ("hl7", true) => "HL7 receiver",
            _ => "HL7 sender",
        };
        let id = format!("{proto}.{}", if *is_server { "server" } else { "client" });
        d.add(AttrKind::Role, behaviour(&id, role, 0.7, *ev));
    }
    for ((key, proto), clients) in &clients_of {
        let Some(d) = drafts.get_mut(key) else {
            continue;
        };
        let Some(ev) = first_ev.get(&(*key, proto, true)).copied() else {
            continue;
        };
        match *proto {
            "dicom" if clients.len() >= PACS_MIN_CLIENTS => {
                d.add(AttrKind::Role, behaviour("dicom.archive", "PACS", 0.5, ev));
                d.add(
                    AttrKind::Category,
                    behaviour("dicom.archive", "pacs", 0.45, ev),
                );
            }
            "hl7" => {
                let also_sends = first_ev.contains_key(&(*key, "hl7", false));
                if clients.len() >= ENGINE_MIN_SENDERS || also_sends {
                    let conf = if also_sends { 0.55 } else { 0.45 };
                    d.add(
                        AttrKind::Role,
                        behaviour("hl7.hub", "interface engine", conf, ev),
                    );
                    d.add(
                        AttrKind::Category,
                        behaviour("hl7.hub", "interface_engine", conf, ev),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::tests::{addr, edge, obs};
    use crate::endpoints::EndpointConfig;
    use crate::oui::OuiRegistry;
    use crate::{identify, identify_with, IdentifyOptions};

    const CT: &str = "44:4b:5d:91:e6:a4";
    const PACS: &str = "00:1d:4a:17:5d:be";

    fn rules_with_oui() -> Rules {
        let reg = OuiRegistry::parse(
            "oui.txt",
            "MA-L",
            "44-4B-5D   (hex)\t\tGE Healthcare\n444B5D     (base 16)\t\tGE Healthcare\n\
             00-1D-4A   (hex)\t\tCarestream Health, Inc.\n001D4A     (base 16)\t\tCarestream Health, Inc.\n\
             00-09-FB   (hex)\t\tPhilips Patient Monitoring\n0009FB     (base 16)\t\tPhilips Patient Monitoring\n",
        )
        .unwrap();
        Rules::builtin().unwrap().with_oui(reg)
    }

    fn ct_scenario() -> (Vec<Observation>, Vec<ConnectionEdge>) {
        let ct = addr(Some(CT), Some("10.60.10.21"));
        let pacs = addr(Some(PACS), Some("10.60.10.5"));
        let o = vec![
            obs(ct, "dicom.calling_ae", "CT_GE_OPTIMA", 10, 20),
            obs(ct, "dicom.role", "SCU", 10, 20),
            obs(
                ct,
                "dicom.implementation_class_uid",
                "1.2.826.0.1.3680043.9.3811.3.0.4",
                10,
                20,
            ),
            obs(ct, "dicom.implementation_version", "PYNETDICOM_304", 10, 20),
            obs(ct, "dicom.manufacturer", "GE MEDICAL SYSTEMS", 12, 12),
            obs(ct, "dicom.model", "Optima CT660", 12, 12),
            obs(ct, "dicom.modality", "CT", 12, 12),
            obs(ct, "dicom.modality", "SR", 13, 13),
            obs(ct, "some.future_key", "whatever", 14, 14),
            obs(ct, "dicom.station_name", "000000000", 12, 12),
            obs(pacs, "dicom.called_ae", "PACS_ARCHIVE", 10, 20),
            obs(pacs, "dicom.role", "SCP", 10, 20),
        ];
        let e = vec![edge(ct, pacs, 104, Some("dicom"), 10)];
        (o, e)
    }

    #[test]
    fn modality_device_gets_vendor_model_category_and_evidence() {
        let (o, e) = ct_scenario();
        let inv = identify(&o, &[], &e, &rules_with_oui());
        assert_eq!(inv.devices.len(), 2);
        let ct = inv
            .device(&device_id_for_mac(&CT.parse().unwrap()))
            .unwrap();
        assert_eq!(
            ct.vendor(),
            Some("GE Healthcare"),
            "DICOM + OUI agree after aliasing"
        );
        let vendor = ct.attribute(AttrKind::Vendor).unwrap();
        assert!(!vendor.conflict);
        assert!(vendor.confidence > 0.9, "{}", vendor.confidence);
        let dicom = vendor
            .candidates
            .iter()
            .find(|c| {
                c.source
                    == Source::Fact {
                        key: "dicom.manufacturer".into(),
                    }
            })
            .unwrap();
        assert_eq!(dicom.raw.as_deref(), Some("GE MEDICAL SYSTEMS"));
        assert_eq!(dicom.evidence.unwrap().packet, 12);
        assert!(vendor
            .candidates
            .iter()
            .any(|c| matches!(c.source, Source::Oui { .. })));
        assert_eq!(ct.model(), Some("Optima CT660"));
        assert_eq!(ct.category, Some(Category::CtScanner));
        assert_eq!(ct.criticality, Some(Criticality::High));
        let roles = ct.roles();
        assert!(
            roles.contains(&"DICOM SCU") && roles.contains(&"modality"),
            "{roles:?}"
        );
        assert_eq!(ct.values(AttrKind::AeTitle), vec!["CT_GE_OPTIMA"]);
        assert!(ct.values(AttrKind::Software).contains(&"pynetdicom"));
        assert!(ct
            .versions()
            .contains(&(AttrKind::SoftwareVersion, "pynetdicom 304")));
        assert!(
            ct.facts.iter().any(|f| f.key == "some.future_key"),
            "unknown keys kept"
        );
        assert_eq!(ct.display_name(), "CT_GE_OPTIMA");
        let text = ct.explain().join("\n");
        assert!(text.contains("vendor: GE Healthcare"), "{text}");
        assert!(
            text.contains("fact dicom.manufacturer [file 0 packet 12]"),
            "{text}"
        );
        let pacs = inv
            .device(&device_id_for_mac(&PACS.parse().unwrap()))
            .unwrap();
        assert_eq!(pacs.vendor(), Some("Carestream"));
        assert!(pacs.roles().contains(&"DICOM SCP"));
        // Connections carry device ids.
        assert_eq!(inv.connections.len(), 1);
        assert_eq!(
            inv.connections[0].client.device.as_deref(),
            Some(ct.id.as_str())
        );
    }

    #[test]
    fn conflicting_vendors_are_kept_and_flagged() {
        let m = addr(Some(CT), Some("10.0.0.7"));
        let o = vec![
            obs(m, "dicom.manufacturer", "Philips Medical Systems", 1, 1),
            obs(m, "sdc.manufacturer", "Drägerwerk AG & Co. KGaA", 2, 2),
        ];
        let inv = identify(&o, &[], &[], &rules_with_oui());
        let d = &inv.devices[0];
        let v = d.attribute(AttrKind::Vendor).unwrap();
        assert!(v.conflict, "three different vendors");
        let values = v.values();
        for expected in ["Dräger", "Philips", "GE Healthcare"] {
            assert!(
                values.contains(&expected),
                "{expected} missing from {values:?}"
            );
        }
        // The SDC self-description (0.9) plus the SDC rule (0.9) beat the rest.
        assert_eq!(d.vendor(), Some("Dräger"));
        assert!(d.explain().iter().any(|l| l.contains("CONFLICT")));
    }

    #[test]
    fn manual_override_wins_and_is_marked() {
        let (o, e) = ct_scenario();
        let id = device_id_for_mac(&CT.parse().unwrap());
        let options = IdentifyOptions {
            endpoints: EndpointConfig::default(),
            devices: DeviceOptions {
                site: "main".into(),
                overrides: vec![
                    ManualOverride {
                        device_id: id.clone(),
                        attribute: AttrKind::Category,
                        value: "mr_scanner".into(),
                        author: Some("biomed".into()),
                        note: Some("asset tag 4711".into()),
                        set_at: None,
                    },
                    ManualOverride {
                        device_id: "dev-000000000000".into(),
                        attribute: AttrKind::Vendor,
                        value: "Nobody".into(),
                        author: None,
                        note: None,
                        set_at: None,
                    },
                ],
            },
            ..IdentifyOptions::default()
        };
        let inv = identify_with(&o, &[], &e, &rules_with_oui(), &options);
        let ct = inv.device(&id).unwrap();
        assert_eq!(ct.category, Some(Category::MrScanner));
        let cat = ct.attribute(AttrKind::Category).unwrap();
        assert!(cat.overridden);
        assert_eq!(cat.confidence, 1.0);
        assert!(cat.conflict, "inferred ct_scanner stays visible");
        assert!(cat.candidates.iter().any(|c| c.value == "ct_scanner"));
        assert!(ct
            .explain()
            .iter()
            .any(|l| l.contains("manual override by biomed")));
        assert!(inv.devices.iter().all(|d| d.vendor() != Some("Nobody")));
    }

    #[test]
    fn dhcp_rebinding_keeps_the_device_and_its_id() {
        let m = "00:09:fb:4d:3b:a9";
        let eng = addr(Some("4c:ae:a3:bb:96:91"), Some("10.60.20.10"));
        let o = vec![
            obs(
                addr(Some(m), None),
                "dhcp.lease_ip",
                "10.60.20.41",
                100,
                100,
            ),
            obs(
                addr(Some(m), Some("0.0.0.0")),
                "dhcp.hostname",
                "picix-1",
                99,
                99,
            ),
            obs(
                addr(Some(m), None),
                "dhcp.lease_ip",
                "10.60.20.77",
                5000,
                5000,
            ),
            obs(
                addr(Some(m), Some("10.60.20.77")),
                "hl7.sending_application",
                "PHILIPS_PIC_IX",
                5100,
                5100,
            ),
        ];
        let e = vec![
            edge(
                addr(Some(m), Some("10.60.20.41")),
                eng,
                2575,
                Some("hl7"),
                200,
            ),
            edge(
                addr(Some(m), Some("10.60.20.77")),
                eng,
                2575,
                Some("hl7"),
                5100,
            ),
        ];
        let inv = identify(&o, &[], &e, &rules_with_oui());
        let id = device_id_for_mac(&m.parse().unwrap());
        let d = inv.device(&id).unwrap();
        assert_eq!(d.id_basis, IdBasis::Mac);
        let ips: Vec<String> = d.ips.iter().map(|b| b.ip.to_string()).collect();
        assert_eq!(ips, vec!["10.60.20.41", "10.60.20.77"]);
        assert_eq!(d.hostname(), Some("picix-1"));
        assert_eq!(
            d.category,
            Some(Category::MonitoringGateway),
            "{:?}",
            d.explain()
        );
        assert_eq!(inv.devices.len(), 2, "one device per MAC, not per lease");
        // The id depends only on the MAC.
        let inv2 = identify(&o[2..], &[], &e[1..], &rules_with_oui());
        assert!(inv2.device(&id).is_some());
        assert!(id.starts_with("dev-") && id.len() == 16, "{id}");
    }

    #[test]
    fn behaviour_finds_pacs_and_interface_engine() {
        let pacs = addr(Some(PACS), Some("10.0.0.5"));
        let eng = addr(Some("4c:ae:a3:bb:96:91"), Some("10.0.0.10"));
        let lis = addr(Some("00:1b:21:00:00:09"), Some("10.0.0.11"));
        let e = vec![
            edge(
                addr(Some("00:1b:21:00:00:01"), Some("10.0.0.21")),
                pacs,
                104,
                Some("dicom"),
                1,
            ),
            edge(
                addr(Some("00:1b:21:00:00:02"), Some("10.0.0.22")),
                pacs,
                104,
                Some("dicom"),
                2,
            ),
            edge(
                addr(Some("00:1b:21:00:00:03"), Some("10.0.0.23")),
                eng,
                2575,
                Some("hl7"),
                3,
            ),
            edge(eng, lis, 2575, Some("hl7"), 4),
        ];
        let inv = identify(&[], &[], &e, &Rules::builtin().unwrap());
        let p = inv
            .device(&device_id_for_mac(&PACS.parse().unwrap()))
            .unwrap();
        assert!(p.roles().contains(&"PACS"), "{:?}", p.roles());
        assert_eq!(p.category, Some(Category::Pacs));
        let en = inv
            .device(&device_id_for_mac(&"4c:ae:a3:bb:96:91".parse().unwrap()))
            .unwrap();
        assert!(en.roles().contains(&"interface engine"), "{:?}", en.roles());
        assert!(en.roles().contains(&"HL7 receiver") && en.roles().contains(&"HL7 sender"));
        assert_eq!(en.category, Some(Category::InterfaceEngine));
    }

    #[test]
    fn ip_only_devices_use_site_ids_and_dns_names() {
        let gw = "00:00:5e:00:01:01";
        let e = vec![
            edge(
                addr(Some(gw), Some("10.9.0.7")),
                addr(Some(PACS), Some("10.0.0.5")),
                104,
                Some("dicom"),
                1,
            ),
            edge(
                addr(Some(PACS), Some("10.0.0.5")),
                addr(Some(gw), Some("8.8.8.8")),
                53,
                None,
                2,
            ),
            edge(
                addr(Some(PACS), Some("10.0.0.5")),
                addr(Some(gw), Some("9.9.9.9")),
                53,
                None,
                3,
            ),
        ];
        let o = vec![obs(
            addr(Some(gw), Some("8.8.8.8")),
            "dns.answer",
            "us-remote-1.hosp.example=10.9.0.7",
            2,
            2,
        )];
        let options = IdentifyOptions {
            devices: DeviceOptions {
                site: "north".into(),
                overrides: vec![],
            },
            ..IdentifyOptions::default()
        };
        let inv = identify_with(&o, &[], &e, &Rules::builtin().unwrap(), &options);
        let id = device_id_for_ip("north", &"10.9.0.7".parse().unwrap());
        assert_ne!(id, device_id_for_ip("south", &"10.9.0.7".parse().unwrap()));
        let d = inv.device(&id).unwrap();
        assert_eq!(d.id_basis, IdBasis::Ip);
        assert_eq!(d.hostname(), Some("us-remote-1.hosp.example"));
        assert!(d.roles().contains(&"DICOM SCU"));
        // The external DNS server is not a device.
        assert_eq!(inv.devices.len(), 3, "remote host, PACS, gateway");
        let gw = inv
            .device(&device_id_for_mac(&gw.parse().unwrap()))
            .unwrap();
        assert!(gw.is_router);
        assert_eq!(gw.category, Some(Category::NetworkDevice));
        assert!(gw.roles().contains(&"router/gateway"));
    }

    #[test]
    fn ip_only_endpoints_sharing_a_name_over_time_are_one_device() {
        let gw = "00:00:5e:00:01:01";
        let pacs = addr(Some(PACS), Some("10.0.0.5"));
        let remote = |ip: &str| addr(Some(gw), Some(ip));
        // Enough remote traffic to make the gateway a router.
        let mut e: Vec<ConnectionEdge> = (1..=5)
            .map(|i| {
                edge(
                    remote(&format!("10.8.0.{i}")),
                    pacs,
                    104,
                    Some("dicom"),
                    5000 + i,
                )
            })
            .collect();
        e.push(edge(remote("10.9.0.7"), pacs, 104, Some("dicom"), 100));
        e.push(edge(remote("10.9.0.8"), pacs, 104, Some("dicom"), 3000));
        let mut o = vec![
            obs(
                remote("10.9.0.7"),
                "dicom.calling_ae",
                "US_LOGIQ_E10",
                100,
                110,
            ),
            obs(
                remote("10.9.0.8"),
                "dicom.calling_ae",
                "US_LOGIQ_E10",
                3000,
                3010,
            ),
        ];
        // Two concurrent endpoints with a generic AE title stay apart.
        for i in 1..=2 {
            o.push(obs(
                remote(&format!("10.8.0.{i}")),
                "dicom.calling_ae",
                "STORESCU",
                5000 + i,
                5020,
            ));
        }
        let options = IdentifyOptions {
            devices: DeviceOptions {
                site: "north".into(),
                overrides: vec![],
            },
            ..IdentifyOptions::default()
        };
        let inv = identify_with(&o, &[], &e, &Rules::builtin().unwrap(), &options);
        let id = device_id_for_name("north", "ae:US_LOGIQ_E10");
        let us = inv.device(&id).unwrap();
        assert_eq!(us.id_basis, IdBasis::Name);
        assert_eq!(us.endpoints, vec!["ip:10.9.0.7", "ip:10.9.0.8"]);
        assert_eq!(us.ips.len(), 2);
        assert_eq!(
            inv.device_of_endpoint("ip:10.9.0.8").map(|d| d.id.as_str()),
            Some(id.as_str())
        );
        let storescu: Vec<_> = inv
            .devices
            .iter()
            .filter(|d| d.values(AttrKind::AeTitle).contains(&"STORESCU"))
            .collect();
        assert_eq!(storescu.len(), 2, "generic AE titles never merge devices");
        // Same specific name but active at the same time: two devices.
        let mut o2 = o.clone();
        o2[1] = obs(
            remote("10.9.0.8"),
            "dicom.calling_ae",
            "US_LOGIQ_E10",
            105,
            3010,
        );
        let mut e2 = e.clone();
        e2.push(edge(remote("10.9.0.8"), pacs, 104, Some("dicom"), 105));
        let inv2 = identify_with(&o2, &[], &e2, &Rules::builtin().unwrap(), &options);
        assert!(inv2.device(&id).is_none());
        assert_eq!(
            inv2.devices
                .iter()
                .filter(|d| d.values(AttrKind::AeTitle).contains(&"US_LOGIQ_E10"))
                .count(),
            2
        );
    }

    #[test]
    fn dissector_shaped_facts_map_without_double_prefixes() {
        let pacs = addr(Some(PACS), Some("10.0.0.5"));
        let o = vec![
            // dns.answer recorded about the answered address, value = the name.
            obs(
                addr(None, Some("10.0.0.5")),
                "dns.answer",
                "pacs.hosp.example",
                1,
                1,
            ),
            obs(pacs, "hl7.role", "HL7 receiver", 2, 2),
            obs(pacs, "fhir.role", "FHIR server", 3, 3),
            obs(pacs, "dicom.ae_title", "PACS_ARCHIVE", 4, 4),
            obs(pacs, "dicom.model_name", "Vue PACS", 5, 5),
        ];
        let inv = identify(&o, &[], &[], &Rules::builtin().unwrap());
        assert_eq!(inv.devices.len(), 1);
        let d = &inv.devices[0];
        assert_eq!(d.hostname(), Some("pacs.hosp.example"));
        let roles = d.roles();
        assert!(
            roles.contains(&"HL7 receiver") && roles.contains(&"FHIR server"),
            "{roles:?}"
        );
        assert!(!roles.iter().any(|r| r.starts_with("HL7 HL7")));
        assert_eq!(d.values(AttrKind::AeTitle), vec!["PACS_ARCHIVE"]);
        assert_eq!(d.model(), Some("Vue PACS"));
    }

    #[test]
    fn security_observations_attach_to_the_responsible_device() {
        let (o, e) = ct_scenario();
        let s = vec![SecurityObservation {
            kind: SecurityKind::DicomWithoutTls,
            severity: Severity::Medium,
            subject: addr(Some(CT), Some("10.60.10.21")),
            peer: Some(addr(Some(PACS), Some("10.60.10.5"))),
            detail: "DICOM association without TLS".into(),
            first_seen: Timestamp(10),
            last_seen: Timestamp(20),
            count: 2,
            evidence: crate::endpoints::tests::ev(10),
        }];
        let inv = identify(&o, &s, &e, &rules_with_oui());
        let ct = inv
            .device(&device_id_for_mac(&CT.parse().unwrap()))
            .unwrap();
        assert_eq!(ct.security.len(), 1);
        assert_eq!(ct.security[0].kind, SecurityKind::DicomWithoutTls);
        let json = serde_json::to_string(&inv).unwrap();
        assert_eq!(
            json,
            serde_json::to_string(&identify(&o, &s, &e, &rules_with_oui())).unwrap()
        );
        assert!(
            json.contains("\"ae_title\""),
            "attribute names are snake_case"
        );
    }
}
