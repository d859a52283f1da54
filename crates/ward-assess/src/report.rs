//! The whole chain in one pure call: match, apply VEX, score, plan, segment. This is what
//! `ward assess` runs after reading its files.

use crate::asset::Asset;
use crate::finding::Finding;
use crate::matcher::{sbom_declared_findings, MatchIndex};
use crate::plan::{plan_for, ObservedFacts, Plan};
use crate::risk::{device_risk, score_finding, DeviceRisk, Exploitation, Exposure, RiskScore};
use crate::segment::{derive_policy, Flow, Policy};
use crate::vex::{
    apply_local, apply_vex, local_from_statements, statements_naming_nothing, LocalStatement,
};
use serde::Serialize;
use std::collections::BTreeMap;
use ward_identify::CategoryGroup;
use ward_intel::{IntelDb, SbomDocument, VexStatement};

/// Ports of remote-access services (SSH, RDP, VNC, TeamViewer).
const REMOTE_ACCESS_PORTS: &[u16] = &[22, 3389, 5900, 5938];

/// Inputs of [`assess`].
pub struct AssessInput<'a> {
    pub assets: Vec<Asset>,
    pub flows: &'a [Flow],
    pub intel: &'a IntelDb,
    /// SBOMs linked to assets: (asset id, SBOM).
    pub sboms: Vec<(String, &'a SbomDocument)>,
    pub local: &'a [LocalStatement],
    /// The hospital's own VEX statements (OpenVEX, CSAF VEX, CycloneDX VEX given by the
    /// user, see [`crate::vex::statements_of`]): turned into local statements about the
    /// findings they name; they take precedence over manufacturer VEX.
    pub local_vex: &'a [VexStatement],
    /// Flows of the baseline period the segmentation policy is learned from; `None`:
    /// learn it from `flows` themselves (then nothing violates it).
    pub baseline: Option<&'a [Flow]>,
    /// YYYY-MM-DD, for due dates.
    pub today: &'a str,
}

/// A finding with its risk.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    pub finding: Finding,
    pub risk: RiskScore,
    pub exploitation: Exploitation,
    pub exposure: Exposure,
}

/// The result of [`assess`].
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub assets: Vec<Asset>,
    /// Most urgent first (score descending, then id).
    pub findings: Vec<Scored>,
    pub devices: Vec<DeviceRisk>,
    pub plans: Vec<Plan>,
    pub policy: Policy,
    /// Observed flows outside the policy.
    pub violations: Vec<Flow>,
    /// The hospital-side statements applied: `local` plus those read from `local_vex`.
    pub local: Vec<LocalStatement>,
    /// `local_vex` statements that name no finding ("CVE on PRODUCT").
    pub local_vex_unmatched: Vec<String>,
}

/// What the flows say about an asset's exposure.
pub fn exposure_of(
    asset: &Asset,
    flows: &[Flow],
    assets_by_id: &BTreeMap<&str, &Asset>,
) -> Exposure {
    let mine = |x: &str| x == asset.id;
    let internet_bound = flows.iter().any(|f| mine(&f.src) && f.dst_external)
        || asset.security.iter().any(|k| k == "internet_bound");
    let remote_access = flows
        .iter()
        .any(|f| (mine(&f.src) || mine(&f.dst)) && REMOTE_ACCESS_PORTS.contains(&f.port));
    let reachable_from_user_segment = flows.iter().any(|f| {
        mine(&f.dst)
            && assets_by_id
                .get(f.src.as_str())
                .and_then(|a| a.category)
                .is_some_and(|c| c.group() == CategoryGroup::It)
    });
    Exposure {
        internet_bound,
        remote_access,
        cleartext_patient_data: asset.security.iter().any(|k| k == "cleartext_patient_data"),
        reachable_from_user_segment,
        segmented: false,
        mitigating_control: false,
    }
}

/// Runs the chain.
pub fn assess(input: AssessInput<'_>) -> Assessment {
    let mut assets = input.assets;
    let osv: Vec<&ward_intel::OsvRecord> = input.intel.osv_records().collect();
    let mut index = MatchIndex::build(input.intel.advisories(), &osv);
    for c in input.intel.cve_records() {
        index.add_cve(c);
    }
    // Attach SBOM components to their assets before matching.
    for (id, sbom) in &input.sboms {
        if let Some(a) = assets.iter_mut().find(|a| &a.id == id) {
            a.components.extend(sbom.components.iter().cloned());
        }
    }
    let mut findings = index.match_all(&assets);
    for (id, sbom) in &input.sboms {
        if let Some(a) = assets.iter().find(|a| &a.id == id) {
            findings.extend(sbom_declared_findings(a, sbom));
        }
    }
    // Manufacturer VEX: OpenVEX, CycloneDX VEX (in SBOMs), CSAF VEX documents.
    let mut statements: Vec<VexStatement> = crate::vex::statements_of(input.intel);
    for (_, s) in &input.sboms {
        statements.extend(s.vex.iter().cloned());
    }
    let by_id: BTreeMap<&str, &Asset> = assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let refs = |f: &Finding| -> Vec<String> {
        by_id
            .get(f.asset_id.as_str())
            .map(|a| {
                let mut v = vec![a.id.clone()];
                v.extend(a.cpes.iter().cloned());
                v.extend(a.purls.iter().cloned());
                v
            })
            .unwrap_or_default()
    };
    apply_vex(&mut findings, &statements, &refs);
    let local_vex_unmatched = statements_naming_nothing(&findings, input.local_vex, &refs);
    let mut local = local_from_statements(&findings, input.local_vex, &refs);
    local.extend(input.local.iter().cloned());
    apply_local(&mut findings, &local);
    let mut scored: Vec<Scored> = findings
        .into_iter()
        .map(|f| {
            let a = by_id.get(f.asset_id.as_str());
            let exploitation = Exploitation::from_kev(
                input.intel.kev(&f.vulnerability),
                input.intel.epss_latest(&f.vulnerability).map(|e| e.score),
            );
            let mut exposure = a
                .map(|a| exposure_of(a, input.flows, &by_id))
                .unwrap_or_default();
            exposure.mitigating_control = f.vex.as_ref().is_some_and(|v| {
                v.source == crate::vex::LOCAL_SOURCE
                    && v.status == "affected"
                    && v.action_statement.is_some()
            });
            let risk = score_finding(
                &f,
                a.and_then(|a| a.effective_criticality()),
                &exploitation,
                &exposure,
            );
            Scored {
                finding: f,
                risk,
                exploitation,
                exposure,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then(a.finding.id.cmp(&b.finding.id))
    });
    let policy = derive_policy(&assets, input.baseline.unwrap_or(input.flows));
    let violations = policy.violations(input.flows);
    let pairs: Vec<(&Finding, &RiskScore)> = scored.iter().map(|s| (&s.finding, &s.risk)).collect();
    let mut devices = Vec::new();
    let mut plans = Vec::new();
    for a in &assets {
        let d = device_risk(&a.id, &pairs);
        let exposure = exposure_of(a, input.flows, &by_id);
        let facts = ObservedFacts {
            internet_bound: exposure.internet_bound,
            security_kinds: a.security.clone(),
            in_user_segment: exposure.reachable_from_user_segment,
            violations: violations
                .iter()
                .filter(|f| f.src == a.id || f.dst == a.id)
                .count(),
        };
        let p = plan_for(a, &pairs, &facts, input.today);
        if !p.actions.is_empty() {
            plans.push(p);
        }
        devices.push(d);
    }
    devices.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.asset_id.cmp(&b.asset_id))
    });
    Assessment {
        assets,
        findings: scored,
        devices,
        plans,
        violations: violations.into_iter().cloned().collect(),
        policy,
        local,
        local_vex_unmatched,
    }
}

impl Assessment {
    /// The full chain for one finding: device evidence, advisory clause, VEX, score parts,
    /// plan actions.
    pub fn explain(&self, finding_id: &str) -> Option<Vec<String>> {
        let s = self.findings.iter().find(|s| s.finding.id == finding_id)?;
        let mut out = s.finding.explain();
        if let Some(a) = self.assets.iter().find(|a| a.id == s.finding.asset_id) {
            out.push(format!(
                "  device: {} category {} criticality {}",
                a.name,
                a.category.map(|c| c.as_str()).unwrap_or("unknown"),
                a.effective_criticality()
                    .map(|c| c.as_str())
                    .unwrap_or("unknown")
            ));
        }
        out.push(format!(
            "  risk: {} tier {} (due in {} days){}",
            s.risk.score,
            s.risk.tier.as_str(),
            s.risk.due_days,
            s.risk
                .cvss_used
                .as_ref()
                .map(|v| format!(", CVSS {v}"))
                .unwrap_or_default()
        ));
        for p in &s.risk.parts {
            out.push(format!(
                "    {:<12} {:>6.1}  {}",
                p.name, p.points, p.reason
            ));
        }
        out.push(format!("    confidence x{}", s.risk.confidence_factor));
        for p in self
            .plans
            .iter()
            .filter(|p| p.asset_id == s.finding.asset_id)
        {
            for a in p
                .actions
                .iter()
                .filter(|a| a.findings.iter().any(|f| f == finding_id))
            {
                out.push(format!(
                    "  action [{:?}] {} (owner {}, due {})",
                    a.kind, a.title, a.owner, a.due
                ));
            }
        }
        Some(out)
    }
}
