//! `ward assess`: captures + intel (+ inventory CSV, SBOMs) in, prioritised findings with
//! explanations and mitigation plans out. Offline and in memory; all logic is in
//! `ward-assess`, this file only reads files and prints.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ward_assess::report::{assess, AssessInput, Assessment};
use ward_assess::segment::flows_from_connections;
use ward_assess::Asset;
use ward_capture::CaptureConfig;
use ward_dissect::EngineConfig;
use ward_intel::IntelDb;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AssessFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug, Clone)]
pub struct AssessArgs {
    /// Capture files (pcap, pcapng) or folders of them.
    #[arg(long = "capture", value_name = "FILE|DIR")]
    pub capture: Vec<PathBuf>,
    /// Intel files or folders (CSAF, CycloneDX/SPDX, OpenVEX, KEV, EPSS, OSV, CVE 5).
    #[arg(long = "intel", value_name = "PATH")]
    pub intel: Vec<PathBuf>,
    /// CMMS-style inventory CSV (vendor,model,version,serial,category,mac,ip,site).
    #[arg(long, value_name = "CSV")]
    pub inventory: Option<PathBuf>,
    /// SBOMs of devices: each is attached to the asset whose vendor and model match its
    /// subject, or becomes an asset of its own.
    #[arg(long = "sbom", value_name = "FILE")]
    pub sbom: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AssessFormat::Table)]
    pub format: AssessFormat,
    /// Show the full chain for one finding id (F-...), from evidence to score.
    #[arg(long, value_name = "FINDING")]
    pub explain: Option<String>,
    /// Only print this many findings in the table.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Captures of the baseline period: the segmentation policy is learned from them and
    /// the `--capture` traffic is checked against it (violations). Without it the policy
    /// is learned from the `--capture` traffic itself.
    #[arg(long = "baseline", value_name = "FILE|DIR")]
    pub baseline: Vec<PathBuf>,
    /// The hospital's own VEX statements (CycloneDX VEX, OpenVEX or CSAF VEX), e.g.
    /// `protected_by_mitigating_control` for a segmented device: applied to the findings
    /// they name, before manufacturer VEX.
    #[arg(long = "local-vex", value_name = "FILE")]
    pub local_vex: Vec<PathBuf>,
    /// Write an export: KIND=FILE ("-" for standard output), KIND one of cyclonedx-vex,
    /// openvex, csaf-vex (the hospital statements applied), policy-json, policy-nft,
    /// policy-acl (the segmentation policy), violations (flows outside the policy, as
    /// security observations, JSON). Repeatable.
    #[arg(long = "export", value_name = "KIND=FILE", value_parser = parse_export)]
    pub export: Vec<(ExportKind, String)>,
    /// Publisher of VEX exports: "NAME,NAMESPACE-URL".
    #[arg(
        long,
        value_name = "NAME,URL",
        default_value = "Ward local assessment,https://localhost/ward"
    )]
    pub publisher: String,
    /// Print the blast radius of this device (id, IP or name) instead of the findings:
    /// what it reaches over observed connections and the policy within `--hops`.
    #[arg(long, value_name = "DEVICE")]
    pub blast: Option<String>,
    /// Hops for `--blast`.
    #[arg(long, default_value_t = 2)]
    pub hops: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    CycloneDxVex,
    OpenVex,
    CsafVex,
    PolicyJson,
    PolicyNft,
    PolicyAcl,
    Violations,
}

fn parse_export(s: &str) -> Result<(ExportKind, String), String> {
    let (k, f) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=FILE, got {s:?}"))?;
    let kind = match k.trim().to_ascii_lowercase().as_str() {
        "cyclonedx-vex" | "cdx-vex" | "cyclonedx" => ExportKind::CycloneDxVex,
        "openvex" => ExportKind::OpenVex,
        "csaf-vex" | "csaf" => ExportKind::CsafVex,
        "policy-json" | "policy" => ExportKind::PolicyJson,
        "policy-nft" | "nftables" => ExportKind::PolicyNft,
        "policy-acl" | "acl" | "cisco-acl" => ExportKind::PolicyAcl,
        "violations" => ExportKind::Violations,
        other => {
            return Err(format!(
                "unknown export kind {other:?} (cyclonedx-vex, openvex, csaf-vex, policy-json, policy-nft, policy-acl, violations)"
            ))
        }
    };
    if f.is_empty() {
        return Err(format!("no file given for {k}"));
    }
    Ok((kind, f.to_string()))
}

fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    ward_assess::plan::add_days("1970-01-01", (secs / 86_400) as u32)
}

fn read_captures(paths: &[PathBuf]) -> Result<(Vec<Asset>, Vec<ward_assess::segment::Flow>)> {
    if paths.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let files = ward_capture::expand_inputs(paths)?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let (out, stats) = ward_dissect::analyze_files(
        &files,
        &CaptureConfig::default(),
        &EngineConfig::default(),
        workers,
        &|_| {},
    )?;
    for f in &stats.files {
        for w in &f.warnings {
            eprintln!("ward: warning: {}: {w}", f.path.display());
        }
    }
    let (rules, oui_warning) = ward_identify::Rules::standard_lenient(
        Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR),
        None,
    )
    .context("loading fingerprint rules")?;
    if let Some(w) = oui_warning {
        tracing::warn!("MAC vendors unavailable: {w}");
    }
    let inv = ward_identify::identify(&out.observations, &out.security, &out.edges, &rules);
    let assets = inv.devices.iter().map(Asset::from_device).collect();
    Ok((assets, flows_from_connections(&inv.connections)))
}

pub fn run(args: AssessArgs) -> Result<ExitCode> {
    if args.capture.is_empty() && args.inventory.is_none() && args.sbom.is_empty() {
        anyhow::bail!("nothing to assess: give --capture, --inventory or --sbom");
    }
    let (mut assets, flows) = read_captures(&args.capture)?;
    let baseline = if args.baseline.is_empty() {
        None
    } else {
        let (base_assets, base_flows) = read_captures(&args.baseline)?;
        // Devices seen only in the baseline still belong in the policy's zones.
        for a in base_assets {
            if !assets.iter().any(|x| x.id == a.id) {
                assets.push(a);
            }
        }
        Some(base_flows)
    };
    if let Some(inv) = &args.inventory {
        let text =
            std::fs::read_to_string(inv).with_context(|| format!("reading {}", inv.display()))?;
        let rows = ward_assess::parse_inventory_csv(&text)
            .with_context(|| format!("{}", inv.display()))?;
        ward_assess::asset::merge_inventory(&mut assets, &rows, &inv.display().to_string());
    }
    let mut db = IntelDb::new();
    let report = ward_intel::import_paths(&mut db, &args.intel, &|_| {});
    if !report.is_ok() {
        eprint!("{report}");
    }
    let mut sbom_db = IntelDb::new();
    for s in &args.sbom {
        sbom_db
            .import_file(s)
            .with_context(|| format!("importing SBOM {}", s.display()))?;
    }
    let mut vex_db = IntelDb::new();
    for f in &args.local_vex {
        vex_db
            .import_file(f)
            .with_context(|| format!("reading local VEX {}", f.display()))?;
    }
    let local_vex = ward_assess::vex::statements_of(&vex_db);
    if !args.local_vex.is_empty() && local_vex.is_empty() {
        anyhow::bail!("no VEX statements in the --local-vex files");
    }
    let aliases = ward_assess::alias::VendorAliases::standard();
    let mut links = Vec::new();
    for sbom in sbom_db.sboms() {
        let subject = sbom.subject.as_ref();
        let name = subject.map(|c| c.name.clone()).unwrap_or_default();
        let vendor = subject.and_then(|c| c.supplier.clone().or_else(|| c.publisher.clone()));
        let hit = assets.iter().find(|a| {
            let v_ok = match (&vendor, &a.vendor) {
                (Some(v), Some(av)) => aliases.key(v) == aliases.key(&av.value),
                _ => false,
            };
            v_ok && a
                .model
                .as_ref()
                .is_some_and(|m| m.value.eq_ignore_ascii_case(&name))
        });
        let id = match hit {
            Some(a) => a.id.clone(),
            None => {
                let id = format!(
                    "sbom:{}",
                    sbom.serial_number
                        .clone()
                        .unwrap_or_else(|| sbom.provenance.file_name.clone())
                );
                assets.push(Asset {
                    id: id.clone(),
                    name: if name.is_empty() {
                        id.clone()
                    } else {
                        name.clone()
                    },
                    ..Asset::default()
                });
                id
            }
        };
        links.push((id, sbom));
    }
    let today = today();
    let result = assess(AssessInput {
        assets,
        flows: &flows,
        intel: &db,
        sboms: links,
        local: &[],
        local_vex: &local_vex,
        baseline: baseline.as_deref(),
        today: &today,
    });
    for u in &result.local_vex_unmatched {
        eprintln!("ward: warning: local VEX statement names no finding: {u}");
    }
    for (kind, path) in &args.export {
        let text = export_text(&result, *kind, &args.publisher, &today)?;
        if path == "-" {
            std::io::stdout().lock().write_all(text.as_bytes())?;
        } else {
            std::fs::write(path, text).with_context(|| format!("writing {path}"))?;
        }
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if let Some(id) = &args.explain {
        match result.explain(id) {
            Some(lines) => {
                for l in lines {
                    writeln!(w, "{l}")?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            None => {
                eprintln!("ward: no finding {id} in this assessment");
                return Ok(ExitCode::from(1));
            }
        }
    }
    if let Some(dev) = &args.blast {
        let Some(start) = find_device(&result, dev) else {
            eprintln!("ward: no device {dev} in this assessment (give an id, IP or name)");
            return Ok(ExitCode::from(1));
        };
        let flows_all: Vec<ward_assess::segment::Flow> = baseline
            .iter()
            .flatten()
            .chain(flows.iter())
            .cloned()
            .collect();
        let br = ward_assess::blast::blast_radius(
            &start,
            &result.assets,
            &flows_all,
            Some(&result.policy),
            args.hops,
        );
        match args.format {
            AssessFormat::Json => {
                serde_json::to_writer_pretty(&mut w, &br)?;
                writeln!(w)?;
            }
            _ => write_blast(&br, &mut w)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    match args.format {
        AssessFormat::Json => {
            serde_json::to_writer_pretty(&mut w, &result)?;
            writeln!(w)?;
        }
        AssessFormat::Csv => write_csv(&result, &mut w)?,
        AssessFormat::Table => write_table(&result, args.limit, &mut w)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A device by id, IP address or (case-insensitive) name.
fn find_device(r: &Assessment, key: &str) -> Option<String> {
    r.assets
        .iter()
        .find(|a| a.id == key)
        .or_else(|| r.assets.iter().find(|a| a.ips.iter().any(|i| i == key)))
        .or_else(|| r.assets.iter().find(|a| a.name.eq_ignore_ascii_case(key)))
        .map(|a| a.id.clone())
        .or_else(|| {
            // A peer known only by its address in the flows.
            r.policy.zone_of.contains_key(key).then(|| key.to_string())
        })
}

fn export_text(r: &Assessment, kind: ExportKind, publisher: &str, today: &str) -> Result<String> {
    let (name, ns) = publisher
        .split_once(',')
        .context("--publisher must be NAME,NAMESPACE-URL")?;
    let publisher = ward_assess::vex::Publisher {
        name: name.trim().to_string(),
        namespace: ns.trim().to_string(),
    };
    let ts = format!("{today}T00:00:00Z");
    let findings: Vec<ward_assess::Finding> =
        r.findings.iter().map(|s| s.finding.clone()).collect();
    let json =
        |v: serde_json::Value| -> Result<String> { Ok(serde_json::to_string_pretty(&v)? + "\n") };
    match kind {
        ExportKind::CycloneDxVex => json(ward_assess::vex::export_cyclonedx(
            &findings, &r.local, &publisher, &ts,
        )),
        ExportKind::OpenVex => json(ward_assess::vex::export_openvex(
            &findings, &r.local, &publisher, &ts,
        )),
        ExportKind::CsafVex => {
            let tracking = format!("WARD-VEX-{}", today.replace('-', ""));
            json(ward_assess::vex::export_csaf_vex(
                &findings, &r.local, &publisher, &ts, &tracking,
            ))
        }
        ExportKind::PolicyJson => json(r.policy.to_json()),
        ExportKind::PolicyNft => Ok(r.policy.to_nftables()),
        ExportKind::PolicyAcl => Ok(r.policy.to_cisco_acl("WARD-SEGMENTATION")),
        ExportKind::Violations => json(serde_json::to_value(
            r.policy.violation_observations(&r.violations),
        )?),
    }
}

fn write_blast(br: &ward_assess::blast::BlastRadius, w: &mut dyn Write) -> Result<()> {
    writeln!(
        w,
        "blast radius of {} within {} hop(s): {} device(s), {} zone(s)",
        br.start,
        br.max_hops,
        br.reached.len(),
        br.zones.len()
    )?;
    writeln!(
        w,
        "life-critical reachable: {}",
        br.life_critical.join(", ")
    )?;
    writeln!(w, "clinical IT reachable: {}", br.clinical_it.join(", "))?;
    writeln!(w)?;
    writeln!(
        w,
        "{:<4} {:<28} {:<20} {:<22} PATH",
        "HOPS", "DEVICE", "ZONE", "CATEGORY"
    )?;
    for r in &br.reached {
        let mark = if r.life_critical {
            " [life-critical]"
        } else if r.clinical_it {
            " [clinical IT]"
        } else {
            ""
        };
        writeln!(
            w,
            "{:<4} {:<28} {:<20} {:<22} {}{mark}",
            r.hops,
            r.node,
            r.zone.as_deref().unwrap_or("-"),
            r.category.as_deref().unwrap_or("-"),
            r.path.join(" -> ")
        )?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(r: &Assessment, w: &mut dyn Write) -> Result<()> {
    writeln!(w, "finding,score,tier,due_days,device,device_name,vulnerability,confidence,source,product,installed,affected,kev,vex")?;
    for s in &r.findings {
        let f = &s.finding;
        let row = [
            f.id.clone(),
            format!("{:.1}", s.risk.score),
            s.risk.tier.as_str().to_string(),
            s.risk.due_days.to_string(),
            f.asset_id.clone(),
            f.asset_name.clone(),
            f.vulnerability.clone(),
            f.confidence.as_str().to_string(),
            f.source.clone(),
            f.product_name.clone(),
            f.version.installed.clone().unwrap_or_default(),
            f.version.affected.clone(),
            s.exploitation.kev.to_string(),
            f.vex.as_ref().map(|v| v.status.clone()).unwrap_or_default(),
        ];
        let line: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    Ok(())
}

fn write_table(r: &Assessment, limit: usize, w: &mut dyn Write) -> Result<()> {
    let open = r
        .findings
        .iter()
        .filter(|s| !s.finding.is_suppressed())
        .count();
    writeln!(
        w,
        "{} devices, {} findings ({} open, {} closed by VEX)",
        r.assets.len(),
        r.findings.len(),
        open,
        r.findings.len() - open
    )?;
    writeln!(w)?;
    writeln!(
        w,
        "{:<16} {:>5} {:<6} {:<16} {:<10} {:<4} {:<28} DEVICE",
        "FINDING", "SCORE", "TIER", "VULNERABILITY", "CONF", "KEV", "SOURCE"
    )?;
    for s in r.findings.iter().take(limit) {
        let f = &s.finding;
        writeln!(
            w,
            "{:<16} {:>5.1} {:<6} {:<16} {:<10} {:<4} {:<28} {}",
            f.id,
            s.risk.score,
            s.risk.tier.as_str(),
            f.vulnerability,
            f.confidence.as_str(),
            if s.exploitation.kev { "yes" } else { "" },
            f.source,
            f.asset_name
        )?;
    }
    if r.findings.len() > limit {
        writeln!(
            w,
            "... {} more (use --format json or csv)",
            r.findings.len() - limit
        )?;
    }
    if !r.plans.is_empty() {
        writeln!(w)?;
        writeln!(w, "MITIGATION PLANS")?;
        for p in &r.plans {
            writeln!(w, "{} ({})", p.asset_name, p.asset_id)?;
            for a in &p.actions {
                writeln!(
                    w,
                    "  due {} [{}] {} ({} finding(s))",
                    a.due,
                    a.owner,
                    a.title,
                    a.findings.len()
                )?;
            }
        }
    }
    if !r.violations.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "POLICY VIOLATIONS (flows outside the segmentation policy)"
        )?;
        for o in r.policy.violation_observations(&r.violations) {
            writeln!(w, "  {}", o.detail)?;
        }
    }
    writeln!(w)?;
    writeln!(w, "Explain one: ward assess ... --explain FINDING")?;
    Ok(())
}
