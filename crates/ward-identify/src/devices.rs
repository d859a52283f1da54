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
//! device whose DHCP lease changes keeps its MAC and therefore its id.
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

    /// A name for people: host name, else AE title, else HL7 application, else address.
    pub fn display_name(&self) -> String {
        for k in [AttrKind::Hostname, AttrKind::AeTitle, AttrKind::Hl7Application] {
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
                line.push_str(if attr.conflict { "; CONFLICT, also: " } else { "; also: " });
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

    for o in observations {
        // DNS answers name another host: "name=ip".
        if o.key == "dns.answer" {
            if let Some((name, ip)) = o.value.split_once('=') {
                if let Ok(ip) = ip.trim().parse::<IpAddr>() {
                    let a = EndpointAddr { mac: None, ip: Some(ip) };
                    if let Resolved::Endpoint(k) = map.resolve(&a, o.first_seen) {
                        if let (Some(d), Some(v)) =
                            (drafts.get_mut(&k), facts::apply(facts::Transform::Hostname, name))
                        {
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
            endpoint: k.id(),
        });
        if let Some(fm) = facts::mapping(&o.key) {
            if let Some(v) = facts::apply(fm.transform, &o.value) {
                let c = candidate(v, fm.confidence, Source::Fact { key: o.key.clone() }, Some(o));
                d.add(fm.attr, canonicalise(rules, fm.attr, c));
            }
        }
        for hit in rules.classify(&o.key, &o.value) {
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
    let mut devices: Vec<Device> = Vec::with_capacity(drafts.len());
    for (key, mut d) in drafts {
        let Some(ep) = map.get(&key) else {
            continue;
        };
        let (id, id_basis) = match key {
            EndpointKey::Mac(m) => (device_id_for_mac(&m), IdBasis::Mac),
            EndpointKey::Ip(ip) => (device_id_for_ip(&options.site, &ip), IdBasis::Ip),
        };
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
        d.facts
            .sort_by(|a, b| (&a.key, &a.value, a.first_seen).cmp(&(&b.key, &b.value, b.first_seen)));
        d.security.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| (a.kind, &a.detail, a.first_seen).cmp(&(b.kind, &b.detail, b.first_seen)))
        });
        devices.push(Device {
            id,
            id_basis,
            endpoints: vec![ep.id.clone()],
            macs: ep.mac.into_iter().collect(),
            ips: ep.ips.clone(),
            category,
            criticality: category.map(|c| c.criticality()),
            attributes: d.attributes,
            facts: d.facts,
            security: d.security,
            is_router: ep.is_router,
            first_seen: ep.first_seen,
            last_seen: ep.last_seen,
        });
    }
    devices.sort_by(|a, b| a.id.cmp(&b.id));
    devices
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
                d.add(AttrKind::Category, behaviour("dicom.archive", "pacs", 0.45, ev));
            }
            "hl7" => {
                let also_sends = first_ev.contains_key(&(*key, "hl7", false));
                if clients.len() >= ENGINE_MIN_SENDERS || also_sends {
                    let conf = if also_sends { 0.55 } else { 0.45 };
                    d.add(AttrKind::Role, behaviour("hl7.hub", "interface engine", conf, ev));
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
