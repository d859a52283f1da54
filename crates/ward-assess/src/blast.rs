//! Blast radius: "if this device is compromised, what can it reach next?" A breadth-first
//! walk over observed connections (a device that initiated a flow to a server can reach
//! that server; the server can answer but is not assumed to reach the client) and,
//! optionally, over the segmentation policy's conduits, up to N hops.

use crate::asset::Asset;
use crate::segment::{Flow, Policy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use ward_identify::{CategoryGroup, Criticality};

/// One reachable device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reached {
    pub node: String,
    pub hops: u32,
    /// The path from the start, start excluded.
    pub path: Vec<String>,
    pub zone: Option<String>,
    pub category: Option<String>,
    /// Life-sustaining / therapy device.
    pub life_critical: bool,
    /// PACS, interface engine, EHR, middleware.
    pub clinical_it: bool,
}

/// The blast radius of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlastRadius {
    pub start: String,
    pub max_hops: u32,
    pub reached: Vec<Reached>,
    pub zones: Vec<String>,
    pub life_critical: Vec<String>,
    pub clinical_it: Vec<String>,
}

/// Computes the blast radius of `start` over `flows` (and the policy's conduits when
/// given), up to `max_hops`.
pub fn blast_radius(
    start: &str,
    assets: &[Asset],
    flows: &[Flow],
    policy: Option<&Policy>,
    max_hops: u32,
) -> BlastRadius {
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in flows {
        adj.entry(f.src.as_str())
            .or_default()
            .insert(f.dst.as_str());
    }
    if let Some(p) = policy {
        for c in &p.conduits {
            adj.entry(c.src.as_str())
                .or_default()
                .insert(c.dst.as_str());
        }
    }
    let by_id: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut seen: BTreeMap<&str, (u32, Vec<String>)> = BTreeMap::new();
    let mut q: VecDeque<&str> = VecDeque::new();
    seen.insert(start, (0, Vec::new()));
    q.push_back(start);
    while let Some(n) = q.pop_front() {
        let (hops, path) = seen.get(n).cloned().unwrap_or((0, Vec::new()));
        if hops >= max_hops {
            continue;
        }
        for &m in adj.get(n).into_iter().flatten() {
            if seen.contains_key(m) {
                continue;
            }
            let mut p = path.clone();
            p.push(m.to_string());
            seen.insert(m, (hops + 1, p));
            q.push_back(m);
        }
    }
    let mut reached: Vec<Reached> = seen
        .into_iter()
        .filter(|(n, _)| *n != start)
        .map(|(n, (hops, path))| {
            let a = by_id.get(n);
            let cat = a.and_then(|a| a.category);
            Reached {
                node: n.to_string(),
                hops,
                path,
                zone: policy.and_then(|p| p.zone_of.get(n).cloned()),
                category: cat.map(|c| c.as_str().to_string()),
                life_critical: a.and_then(|a| a.effective_criticality())
                    == Some(Criticality::Critical),
                clinical_it: cat.is_some_and(|c| c.group() == CategoryGroup::ClinicalIt),
            }
        })
        .collect();
    reached.sort_by(|a, b| a.hops.cmp(&b.hops).then(a.node.cmp(&b.node)));
    let zones: BTreeSet<String> = reached.iter().filter_map(|r| r.zone.clone()).collect();
    BlastRadius {
        start: start.to_string(),
        max_hops,
        life_critical: reached
            .iter()
            .filter(|r| r.life_critical)
            .map(|r| r.node.clone())
            .collect(),
        clinical_it: reached
            .iter()
            .filter(|r| r.clinical_it)
            .map(|r| r.node.clone())
            .collect(),
        zones: zones.into_iter().collect(),
        reached,
    }
}
