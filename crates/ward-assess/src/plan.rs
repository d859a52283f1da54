//! Mitigation plans (NHS step 2, "develop a mitigation plan"): per device, actions from
//! the advisories' remediations, from observed exposure and from segmentation
//! violations; each with status, owner, due date (from the risk tier; KEV-listed within
//! 14 days) and the findings it addresses. Plans also roll up per device group (same
//! vendor and model).

use crate::asset::Asset;
use crate::finding::Finding;
use crate::risk::RiskScore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Apply the manufacturer's fix (update to the recommended version).
    VendorFix,
    /// Apply the advisory's workaround.
    Workaround,
    /// Apply the advisory's mitigation.
    Mitigation,
    /// No fix exists: compensating controls and monitoring.
    CompensatingControls,
    BlockInternetEgress,
    /// Disable a cleartext or obsolete service (Telnet, FTP, SMBv1).
    DisableService,
    /// Move the device into a clinical segment.
    MoveToClinicalSegment,
    /// Enforce the segmentation policy's conduits for this device.
    EnforcePolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Proposed,
    InProgress,
    Done,
    Cancelled,
}

/// One recommended action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub title: String,
    pub details: String,
    pub url: Option<String>,
    pub status: ActionStatus,
    /// Default owner by kind: clinical engineering for device changes, the network
    /// team for firewall and segmentation work.
    pub owner: String,
    /// YYYY-MM-DD.
    pub due: String,
    pub findings: Vec<String>,
}

/// A device's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub asset_id: String,
    pub asset_name: String,
    pub actions: Vec<Action>,
}

/// What the network showed about a device, for exposure actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedFacts {
    pub internet_bound: bool,
    /// Security observation kinds seen (`telnet_in_use`, `ftp_in_use`, `smb1_in_use`...).
    pub security_kinds: Vec<String>,
    /// The device is in a non-clinical or mixed segment.
    pub in_user_segment: bool,
    /// Number of segmentation violations involving the device.
    pub violations: usize,
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `today` (YYYY-MM-DD) plus `days`; `today` unchanged if unreadable.
pub fn add_days(today: &str, days: u32) -> String {
    let parts: Vec<i64> = today
        .get(..10)
        .unwrap_or("")
        .split('-')
        .filter_map(|p| p.parse().ok())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return today.to_string();
    };
    if !(1..=12).contains(m) || !(1..=31).contains(d) {
        return today.to_string();
    }
    let (y, m, d) = civil_from_days(days_from_civil(*y, *m, *d) + i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

fn owner_of(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::VendorFix
        | ActionKind::Workaround
        | ActionKind::Mitigation
        | ActionKind::CompensatingControls
        | ActionKind::DisableService => "clinical engineering",
        ActionKind::BlockInternetEgress
        | ActionKind::MoveToClinicalSegment
        | ActionKind::EnforcePolicy => "network team",
    }
}

/// Builds a device's plan from its scored findings and observed facts.
pub fn plan_for(
    asset: &Asset,
    scored: &[(&Finding, &RiskScore)],
    facts: &ObservedFacts,
    today: &str,
) -> Plan {
    // Actions keyed by (kind, details) so a remediation shared by several findings is
    // one action addressing all of them.
    let mut actions: BTreeMap<(ActionKind, String), Action> = BTreeMap::new();
    let mut add = |kind: ActionKind,
                   title: String,
                   details: String,
                   url: Option<String>,
                   due_days: u32,
                   finding: Option<&str>| {
        let due = add_days(today, due_days);
        let a = actions
            .entry((kind, details.clone()))
            .or_insert_with(|| Action {
                kind,
                title,
                details,
                url,
                status: ActionStatus::Proposed,
                owner: owner_of(kind).to_string(),
                due: due.clone(),
                findings: Vec::new(),
            });
        if due < a.due {
            a.due = due;
        }
        if let Some(f) = finding {
            if !a.findings.iter().any(|x| x == f) {
                a.findings.push(f.to_string());
            }
        }
    };
    let mut min_due: Option<u32> = None;
    for (f, r) in scored
        .iter()
        .filter(|(f, r)| f.asset_id == asset.id && !f.is_suppressed() && r.due_days > 0)
    {
        min_due = Some(min_due.map_or(r.due_days, |m| m.min(r.due_days)));
        let mut any = false;
        for rem in f.remediations.iter() {
            let kind = match rem.category.as_str() {
                "vendor_fix" => ActionKind::VendorFix,
                "workaround" => ActionKind::Workaround,
                "mitigation" => ActionKind::Mitigation,
                _ => ActionKind::CompensatingControls,
            };
            let title = match kind {
                ActionKind::VendorFix => format!("Apply the vendor fix for {}", f.product_name),
                ActionKind::Workaround => {
                    format!("Apply the {} workaround for {}", f.source, f.product_name)
                }
                ActionKind::Mitigation => {
                    format!("Apply the {} mitigation for {}", f.source, f.product_name)
                }
                _ => format!(
                    "No fix available for {}: compensating controls",
                    f.vulnerability
                ),
            };
            add(
                kind,
                title,
                rem.details.trim().to_string(),
                rem.url.clone(),
                r.due_days,
                Some(&f.id),
            );
            any = true;
        }
        if let Some(v) = f.vex.as_ref().and_then(|v| v.fixed_version.clone()) {
            add(
                ActionKind::VendorFix,
                format!(
                    "Update {} to {v}",
                    f.component
                        .clone()
                        .unwrap_or_else(|| f.product_name.clone())
                ),
                format!(
                    "The manufacturer's VEX says {} is fixed in {v}.",
                    f.vulnerability
                ),
                None,
                r.due_days,
                Some(&f.id),
            );
            any = true;
        }
        if !any {
            add(
                ActionKind::CompensatingControls,
                format!("Contact the manufacturer about {}", f.vulnerability),
                "The advisory gives no remediation: ask the manufacturer for a fix date; restrict the device's network access meanwhile.".into(),
                None,
                r.due_days,
                Some(&f.id),
            );
        }
    }
    let exposure_due = min_due.unwrap_or(90);
    let finding_ids: Vec<String> = scored
        .iter()
        .filter(|(f, _)| f.asset_id == asset.id && !f.is_suppressed())
        .map(|(f, _)| f.id.clone())
        .collect();
    let clinical = asset
        .effective_criticality()
        .is_some_and(|c| c >= ward_identify::Criticality::Medium);
    if facts.internet_bound {
        add(
            ActionKind::BlockInternetEgress,
            "Block internet egress".into(),
            "Connections to internet addresses were observed: block them at the firewall except the manufacturer's documented remote-service endpoints, through a monitored gateway.".into(),
            None,
            exposure_due,
            None,
        );
    }
    for (kind, svc) in [
        ("telnet_in_use", "Telnet"),
        ("ftp_in_use", "FTP"),
        ("smb1_in_use", "SMBv1"),
    ] {
        if facts.security_kinds.iter().any(|k| k == kind) {
            add(
                ActionKind::DisableService,
                format!("Disable {svc}"),
                format!("{svc} was observed on this device: disable it, or block it at the segment boundary if the manufacturer requires it."),
                None,
                exposure_due,
                None,
            );
        }
    }
    if clinical && facts.in_user_segment {
        add(
            ActionKind::MoveToClinicalSegment,
            "Move to a clinical segment".into(),
            "The device shares a segment with user devices: move it to the clinical zone proposed by the segmentation policy.".into(),
            None,
            exposure_due,
            None,
        );
    }
    if facts.violations > 0 {
        add(
            ActionKind::EnforcePolicy,
            "Enforce the segmentation policy".into(),
            format!("{} flow(s) outside the policy involve this device: review them, then enforce the conduits.", facts.violations),
            None,
            exposure_due,
            None,
        );
    }
    let mut actions: Vec<Action> = actions.into_values().collect();
    for a in actions.iter_mut() {
        if a.findings.is_empty() {
            // Exposure actions reduce the risk of every open finding on the device.
            a.findings = finding_ids.clone();
        }
    }
    actions.sort_by(|a, b| a.due.cmp(&b.due).then(a.kind.cmp(&b.kind)));
    Plan {
        asset_id: asset.id.clone(),
        asset_name: asset.name.clone(),
        actions,
    }
}

/// Plans rolled up per device group (vendor + model): the same action for many devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupAction {
    pub group: String,
    pub kind: ActionKind,
    pub title: String,
    pub devices: Vec<String>,
    pub due: String,
}

/// Groups plans by (vendor model, action title).
pub fn group_plans(plans: &[Plan], assets: &[Asset]) -> Vec<GroupAction> {
    let by_id: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut groups: BTreeMap<(String, ActionKind, String), GroupAction> = BTreeMap::new();
    for p in plans {
        let a = by_id.get(p.asset_id.as_str());
        let group = format!(
            "{} {}",
            a.and_then(|a| a.vendor.as_ref())
                .map(|v| v.value.as_str())
                .unwrap_or("?"),
            a.and_then(|a| a.model.as_ref())
                .map(|v| v.value.as_str())
                .unwrap_or("?")
        );
        for act in &p.actions {
            let g = groups
                .entry((group.clone(), act.kind, act.title.clone()))
                .or_insert_with(|| GroupAction {
                    group: group.clone(),
                    kind: act.kind,
                    title: act.title.clone(),
                    devices: Vec::new(),
                    due: act.due.clone(),
                });
            g.devices.push(p.asset_id.clone());
            if act.due < g.due {
                g.due = act.due.clone();
            }
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(add_days("2026-11-29", 14), "2026-12-13");
        assert_eq!(add_days("2026-12-20", 14), "2027-01-03");
        assert_eq!(add_days("2028-02-20", 10), "2028-03-01");
        assert_eq!(add_days("garbage", 10), "garbage");
    }
}
