//! From files to the store: capture files are dissected into a sensor batch and ingested
//! for a site; intel files are validated with `ward-intel` and stored with their exact
//! bytes; then a site is re-identified from its stored facts and re-assessed against all
//! stored intel (findings with their explanations, risk tiers and mitigation plans).
//!
//! The UI's upload page, `ward demo` and the tests use this; only metadata reaches the
//! store (the dissectors never emit patient data).

use anyhow::{Context, Result};
use ids::short_id;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use ward_store::{Actor, Batch, IntelDocument, NewFinding, PlanAction, Store};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub observations: u64,
    pub devices: usize,
    pub connections: usize,
    pub findings: usize,
    pub actions: usize,
    pub intel_documents: usize,
}

mod ids {
    /// A short stable id (FNV-1a 64 over the parts), for plan actions.
    pub fn short_id(parts: &[&str]) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0xff)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("A-{h:016x}")
    }
}

/// Dissects capture files and ingests them for `site` (created if missing), then
/// re-assesses the site.
pub async fn import_captures(
    store: &Store,
    site: &str,
    files: &[PathBuf],
    actor: &Actor,
) -> Result<ImportSummary> {
    anyhow::ensure!(!files.is_empty(), "no capture files given");
    let owned: Vec<PathBuf> = files.to_vec();
    let (digests, (out, _stats)) = tokio::task::spawn_blocking(move || -> Result<_> {
        let digests = owned
            .iter()
            .map(|p| {
                std::fs::read(p)
                    .map(|b| crate::auth::sha256_bytes_hex(&b))
                    .with_context(|| format!("reading {}", p.display()))
            })
            .collect::<Result<Vec<String>>>()?;
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        ward_dissect::analyze_files(
            &owned,
            &ward_capture::CaptureConfig::default(),
            &ward_dissect::EngineConfig::default(),
            workers,
            &|_| {},
        )
        .context("reading the capture files")
        .map(|analysed| (digests, analysed))
    })
    .await
    .context("capture analysis task")??;
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let batch = Batch {
        files: names,
        observations: out.observations,
        security: out.security,
        edges: out.edges,
    };
    let observations = batch.observations.len() as u64;
    let batch_id = crate::api::captures::upload_batch_id(site, digests);
    store.upsert_site(site, site).await?;
    store.ingest_batch(&batch_id, site, &batch, actor).await?;
    let mut s = reassess_site(store, site, actor).await?;
    s.observations = observations;
    Ok(s)
}

/// Validates and stores intel files (their exact bytes, so they can be re-read for every
/// assessment); returns how many were new. Invalid files are an error naming the file.
pub async fn import_intel_files(store: &Store, files: &[PathBuf], actor: &Actor) -> Result<usize> {
    let mut docs = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        docs.push(intel_document(&bytes, &name)?);
    }
    let r = store.import_intel(&docs, actor).await?;
    Ok(r.imported.len())
}

/// Validates one intel file's bytes and makes the store record: the one conversion every
/// import uses (API, UI, `ward demo`). The record keeps the normalised products and
/// vulnerabilities (for the store's queries), the file's exact bytes (re-read into
/// `ward-intel` by every assessment, so a newer Ward re-reads with its newer readers) and
/// the parsed document (what `GET /api/v1/intel/{id}` answers).
pub fn intel_document(bytes: &[u8], name: &str) -> Result<IntelDocument> {
    let (_format, doc, _warnings) =
        ward_intel::read_document(bytes, name).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut record =
        crate::api::intel::to_store_document(&doc, &crate::auth::sha256_bytes_hex(bytes))
            .with_context(|| format!("{name}: normalising"))?;
    let parsed = std::mem::take(&mut record.document);
    record.document = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::json!({ "file": name, "raw": text, "parsed": parsed }),
        Err(_) => {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            serde_json::json!({ "file": name, "raw_base64": b64, "parsed": parsed })
        }
    };
    Ok(record)
}

/// The exact bytes of a stored intel record made by [`intel_document`].
fn stored_bytes(json: &serde_json::Value) -> Option<Vec<u8>> {
    if let Some(raw) = json.get("raw").and_then(|r| r.as_str()) {
        return Some(raw.as_bytes().to_vec());
    }
    let b64 = json.get("raw_base64").and_then(|r| r.as_str())?;
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// All stored intel, re-read into `ward-intel`'s in-memory database.
pub async fn load_intel(store: &Store) -> Result<ward_intel::IntelDb> {
    let mut db = ward_intel::IntelDb::new();
    let docs = store.list_intel_documents(100_000).await?;
    for d in docs.iter().rev() {
        let Some(json) = store.intel_document_json(d.id).await? else {
            continue;
        };
        let Some(raw) = stored_bytes(&json) else {
            tracing::warn!("stored intel document {} has no file bytes", d.id);
            continue;
        };
        let name = json
            .get("file")
            .and_then(|f| f.as_str())
            .unwrap_or("stored");
        if let Err(e) = db.import_bytes(&raw, name) {
            tracing::warn!("stored intel document {} no longer imports: {e}", d.id);
        }
    }
    Ok(db)
}

/// Today as YYYY-MM-DD (UTC).
pub fn today() -> String {
    let days = ward_store::now_micros() / ward_store::MICROS_PER_DAY;
    ward_assess::plan::add_days("1970-01-01", u32::try_from(days).unwrap_or(0))
}

/// The fingerprint rules with the IEEE registry (when installed), loaded once per process
/// and shared by every capture upload (API and UI) and re-assessment: the registry parse is
/// about 100 M instructions, and both upload paths must identify devices the same way.
pub fn identify_rules() -> Result<&'static ward_identify::Rules> {
    static RULES: OnceLock<ward_identify::Rules> = OnceLock::new();
    if let Some(r) = RULES.get() {
        return Ok(r);
    }
    let (rules, _warning) = ward_identify::Rules::standard_lenient(
        Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR),
        None,
    )
    .context("loading fingerprint rules")?;
    Ok(RULES.get_or_init(|| rules))
}

/// Re-identifies `site` from its stored facts and re-assesses it against all stored
/// intel: writes the inventory, the findings (keeping people's statuses) and the plan
/// actions (keeping people's statuses, owners and due dates).
pub async fn reassess_site(store: &Store, site: &str, actor: &Actor) -> Result<ImportSummary> {
    let facts = store.site_facts(site).await?;
    let intel = load_intel(store).await?;
    let overrides = store.overrides(None).await?;
    let (inv, assessment) = tokio::task::spawn_blocking(move || -> Result<_> {
        let rules = identify_rules()?;
        let inv =
            ward_identify::identify(&facts.observations, &facts.security, &facts.edges, rules);
        let mut assets: Vec<ward_assess::Asset> = inv
            .devices
            .iter()
            .map(ward_assess::Asset::from_device)
            .collect();
        apply_overrides(&mut assets, &overrides);
        let flows = ward_assess::segment::flows_from_connections(&inv.connections);
        let today = today();
        let assessment = ward_assess::report::assess(ward_assess::report::AssessInput {
            assets,
            flows: &flows,
            intel: &intel,
            sboms: Vec::new(),
            local: &[],
            local_vex: &[],
            baseline: None,
            today: &today,
        });
        Ok((inv, assessment))
    })
    .await
    .context("assessment task")??;
    store.replace_inventory(site, &inv, actor).await?;
    let findings: Vec<NewFinding> = assessment
        .findings
        .iter()
        .map(|s| NewFinding {
            id: s.finding.id.clone(),
            device_id: s.finding.asset_id.clone(),
            vulnerability: s.finding.vulnerability.clone(),
            document: None,
            confidence: match s.finding.confidence {
                ward_assess::Confidence::Confirmed => 0.95,
                ward_assess::Confidence::Probable => 0.7,
                ward_assess::Confidence::Possible => 0.4,
            },
            explanation: serde_json::json!({
                "lines": s.finding.explain(),
                "tier": s.risk.tier.as_str(),
                "score": s.risk.score,
                "due_days": s.risk.due_days,
                "kev": s.exploitation.kev,
                "epss": s.exploitation.epss,
                "title": s.finding.title,
                "source": s.finding.source,
                "product": s.finding.product_name,
            }),
        })
        .collect();
    store.upsert_findings(&findings, actor).await?;
    let mut actions = Vec::new();
    for p in &assessment.plans {
        for a in &p.actions {
            let kind = serde_json::to_value(a.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let status = serde_json::to_value(a.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "proposed".into());
            actions.push(PlanAction {
                id: short_id(&[&p.asset_id, &kind, &a.title]),
                device_id: p.asset_id.clone(),
                kind,
                title: a.title.clone(),
                details: a.details.clone(),
                url: a.url.clone().unwrap_or_default(),
                status,
                owner: a.owner.clone(),
                due: a.due.clone(),
                findings: a.findings.clone(),
                created_at: 0,
                updated_at: 0,
            });
        }
    }
    // Only actions of devices the store has (SBOM-only assets are not devices).
    let known: std::collections::HashSet<&str> =
        inv.devices.iter().map(|d| d.id.as_str()).collect();
    actions.retain(|a| known.contains(a.device_id.as_str()));
    store.upsert_plan_actions(&actions, actor).await?;
    Ok(ImportSummary {
        observations: 0,
        devices: inv.devices.len(),
        connections: inv.connections.len(),
        findings: findings.len(),
        actions: actions.len(),
        intel_documents: 0,
    })
}

/// People's corrections win over inference in matching too: an asset's vendor, model,
/// versions, serial and category take the manual value, with the author as evidence.
pub fn apply_overrides(
    assets: &mut [ward_assess::Asset],
    overrides: &[ward_identify::ManualOverride],
) {
    use ward_identify::AttrKind;
    let by_id: std::collections::HashMap<String, usize> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    for o in overrides {
        let Some(&i) = by_id.get(o.device_id.as_str()) else {
            continue;
        };
        let a = &mut assets[i];
        let attr = || {
            ward_assess::AssetAttr::new(
                o.value.clone(),
                format!(
                    "{} set manually by {}",
                    o.attribute.as_str(),
                    o.author.as_deref().unwrap_or("an operator")
                ),
            )
        };
        match o.attribute {
            AttrKind::Vendor => a.vendor = Some(attr()),
            AttrKind::Model => a.model = Some(attr()),
            AttrKind::Serial => a.serial = Some(attr()),
            AttrKind::Category => {
                if let Ok(c) = o.value.parse() {
                    a.category = Some(c);
                }
            }
            AttrKind::FirmwareVersion | AttrKind::SoftwareVersion => {
                let name = o.attribute.as_str().to_string();
                a.versions.retain(|(n, _)| *n != name);
                a.versions.push((name, attr()));
            }
            _ => {}
        }
    }
}

/// Re-assesses every site (after an intel import).
pub async fn reassess_all(store: &Store, actor: &Actor) -> Result<ImportSummary> {
    let mut total = ImportSummary::default();
    for s in store.sites().await? {
        let r = reassess_site(store, &s.id, actor).await?;
        total.devices += r.devices;
        total.connections += r.connections;
        total.findings += r.findings;
        total.actions += r.actions;
    }
    Ok(total)
}
