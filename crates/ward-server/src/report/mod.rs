//! The posture report: per site or for the whole organisation, organised by the NHS
//! six steps for medical device security (identify, mitigation plan, reduce likelihood,
//! user management, connections, periodic review), with figures, and a page per device
//! model scored against the IMDRF principles from what Ward observed on the network.
//!
//! The report is gathered once into [`Posture`] (a list of [`Block`]s) and rendered twice:
//! as a self-contained printable HTML page ([`html`]: inline CSS with print rules and
//! inline SVG, no external resources) and as PDF ([`pdf`], written with `pdf-writer`).
//!
//! Sources: the six steps follow NHS England's "Medical device and equipment security"
//! guidance (six-step approach); the principles are from IMDRF/CYBER WG/N60FINAL:2020
//! "Principles and Practices for Medical Device Cybersecurity", section 5.2 (design
//! principles: secure communications, data protection, device integrity, user
//! authentication, software maintenance, physical access, reliability and availability).

mod pdf;

pub use pdf::pdf;

use crate::state::{AppState, ServerConfig};
use crate::ui::pages::{kev_of, overview, tier_of, OPEN_STATUSES};
use crate::ui::svg;
use anyhow::Result;
use maud::{html, PreEscaped, DOCTYPE};
use std::collections::{BTreeMap, BTreeSet};
use ward_store::{DeviceQuery, DeviceSort, FindingRowQuery, Store};

/// One piece of report content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A step or part title (starts a new page in print).
    Section(String),
    Sub(String),
    Para(String),
    /// (value, label) figures.
    Kpis(Vec<(String, String)>),
    /// A bar chart: (label, value, colour key).
    Bars {
        title: String,
        items: Vec<(String, u64, String)>,
    },
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// How a model fares against one principle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    NoIssueObserved,
    Partial,
    Concern,
    NotObservable,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::NoIssueObserved => "no issue observed",
            Rating::Partial => "partial",
            Rating::Concern => "concern",
            Rating::NotObservable => "not observable",
        }
    }
    fn points(self) -> Option<u32> {
        match self {
            Rating::NoIssueObserved => Some(2),
            Rating::Partial => Some(1),
            Rating::Concern => Some(0),
            Rating::NotObservable => None,
        }
    }
}

/// IMDRF N60 design principles scored against observations: (principle, rating, why).
pub fn imdrf_scores(
    kinds: &BTreeSet<String>,
    open_findings: usize,
    kev: bool,
) -> Vec<(String, Rating, String)> {
    let any = |ks: &[&str]| -> Vec<String> {
        ks.iter()
            .filter(|k| kinds.contains(**k))
            .map(|k| k.to_string())
            .collect()
    };
    let rate = |bad: Vec<String>, partial: Vec<String>, ok_text: &str| -> (Rating, String) {
        if !bad.is_empty() {
            (Rating::Concern, format!("observed: {}", bad.join(", ")))
        } else if !partial.is_empty() {
            (Rating::Partial, format!("observed: {}", partial.join(", ")))
        } else {
            (Rating::NoIssueObserved, ok_text.to_string())
        }
    };
    let mut out = Vec::new();
    let (r, t) = rate(
        any(&[
            "telnet_in_use",
            "ftp_in_use",
            "cleartext_credentials",
            "smb1_in_use",
            "snmp_cleartext_community",
        ]),
        any(&[
            "dicom_without_tls",
            "weak_tls_version",
            "self_signed_certificate",
            "expired_certificate",
        ]),
        "no cleartext or weak protocol seen",
    );
    out.push(("Secure communications".to_string(), r, t));
    let (r, t) = rate(
        any(&["cleartext_patient_data"]),
        any(&["dicom_without_tls"]),
        "no patient data seen in cleartext",
    );
    out.push(("Data protection".to_string(), r, t));
    let (r, t) = rate(
        any(&[
            "cleartext_credentials",
            "default_snmp_community",
            "telnet_in_use",
            "dicom_accepts_any_caller",
        ]),
        any(&["dicom_no_user_identity"]),
        "no default, cleartext or missing authentication seen",
    );
    out.push(("User authentication".to_string(), r, t));
    let (r, t) = if kev {
        (
            Rating::Concern,
            format!("{open_findings} open finding(s), including known exploited (CISA KEV)"),
        )
    } else if open_findings > 0 {
        (
            Rating::Partial,
            format!("{open_findings} open finding(s) from imported advisories"),
        )
    } else {
        (
            Rating::NoIssueObserved,
            "no open vulnerability matched".to_string(),
        )
    };
    out.push(("Software maintenance".to_string(), r, t));
    let (r, t) = rate(
        any(&["internet_bound", "policy_violation"]),
        Vec::new(),
        "no internet traffic or policy violation seen",
    );
    out.push(("Reliability and availability (exposure)".to_string(), r, t));
    out.push((
        "Device integrity".to_string(),
        Rating::NotObservable,
        "not observable from the network".to_string(),
    ));
    out.push((
        "Physical access".to_string(),
        Rating::NotObservable,
        "not observable from the network".to_string(),
    ));
    out
}

/// The score of a model: observable points over the maximum, in percent.
pub fn imdrf_percent(scores: &[(String, Rating, String)]) -> u32 {
    let pts: Vec<u32> = scores.iter().filter_map(|s| s.1.points()).collect();
    if pts.is_empty() {
        return 0;
    }
    pts.iter().sum::<u32>() * 100 / (2 * pts.len() as u32)
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Posture {
    pub title: String,
    pub scope: String,
    pub generated: String,
    pub blocks: Vec<Block>,
}

/// Devices inspected for the per-model pages (the detail of each is read).
pub const MODEL_DEVICE_LIMIT: usize = 5000;

impl Posture {
    /// Reads the store and builds the report for `site` (or all sites).
    pub async fn gather(store: &Store, site: Option<&str>, time_zone: &str) -> Result<Posture> {
        let state = AppState::new(
            store.clone(),
            ServerConfig {
                time_zone: time_zone.to_string(),
                ..ServerConfig::default()
            },
        );
        let o = overview(&state, site).await?;
        let scope = match site {
            Some(s) => format!("site {s}"),
            None => "the whole organisation".to_string(),
        };
        let mut b = Vec::new();
        // Summary.
        b.push(Block::Section("Summary".into()));
        b.push(Block::Para(format!(
            "Security posture of the medical devices of {scope}, from passive network observation by Ward, organised by the NHS six steps."
        )));
        b.push(Block::Kpis(vec![
            (o.devices.to_string(), "devices".into()),
            (o.open_findings.to_string(), "open findings".into()),
            (
                o.kev_devices.to_string(),
                "devices with KEV vulnerabilities".into(),
            ),
            (o.overdue_actions.to_string(), "overdue plan actions".into()),
            (o.reviews_due.to_string(), "reviews due".into()),
            (o.new_this_week.to_string(), "new devices this week".into()),
        ]));

        // Step 1: identify.
        b.push(Block::Section("Step 1: Identify".into()));
        b.push(Block::Para("Every device seen on the network, by clinical category and criticality (life-sustaining devices are critical).".into()));
        b.push(Block::Bars {
            title: "Devices by clinical category".into(),
            items: o.by_category.clone(),
        });
        b.push(Block::Bars {
            title: "Devices by criticality".into(),
            items: o.by_criticality.clone(),
        });
        let mut devices = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list_devices(&DeviceQuery {
                    site: site.map(str::to_owned),
                    sort: DeviceSort::Name,
                    limit: 1000,
                    after: cursor.clone(),
                    with_total: false,
                    ..Default::default()
                })
                .await?;
            devices.extend(page.devices);
            cursor = page.next_cursor;
            if cursor.is_none() || devices.len() >= MODEL_DEVICE_LIMIT {
                break;
            }
        }
        let identified = devices
            .iter()
            .filter(|d| d.vendor.is_some() && d.model.is_some())
            .count();
        let stale = devices.iter().filter(|d| d.stale).count();
        b.push(Block::Para(format!(
            "{identified} of {} devices inspected have a known vendor and model; {stale} are stale (not seen recently).",
            devices.len()
        )));

        // Findings for steps 2 and 3 and the model pages.
        let findings = store
            .finding_rows(&FindingRowQuery {
                site: site.map(str::to_owned),
                limit: 100_000,
                ..Default::default()
            })
            .await?;
        let open: Vec<_> = findings
            .iter()
            .filter(|f| OPEN_STATUSES.contains(&f.finding.status.as_str()))
            .collect();

        // Step 2: mitigation plan.
        b.push(Block::Section("Step 2: Develop a mitigation plan".into()));
        let actions = store.plan_board(None, site, 100_000).await?;
        let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
        for a in &actions {
            *by_status.entry(a.action.status.as_str()).or_default() += 1;
        }
        b.push(Block::Bars {
            title: "Plan actions by status".into(),
            items: ward_store::ACTION_STATUSES
                .iter()
                .map(|s| {
                    (
                        s.replace('_', " "),
                        by_status.get(s).copied().unwrap_or(0),
                        match *s {
                            "done" => "closed".to_string(),
                            "proposed" => "P2".to_string(),
                            _ => String::new(),
                        },
                    )
                })
                .collect(),
        });
        let mut pending: Vec<_> = actions
            .iter()
            .filter(|a| matches!(a.action.status.as_str(), "proposed" | "in_progress"))
            .collect();
        pending.sort_by(|x, y| {
            (x.action.due.is_empty(), &x.action.due).cmp(&(y.action.due.is_empty(), &y.action.due))
        });
        if pending.is_empty() {
            b.push(Block::Para("No open plan actions.".into()));
        } else {
            b.push(Block::Table {
                head: vec![
                    "Due".into(),
                    "Device".into(),
                    "Action".into(),
                    "Owner".into(),
                    "Status".into(),
                ],
                rows: pending
                    .iter()
                    .take(25)
                    .map(|a| {
                        vec![
                            a.action.due.clone(),
                            a.device_name.clone(),
                            a.action.title.clone(),
                            a.action.owner.clone(),
                            a.action.status.clone(),
                        ]
                    })
                    .collect(),
            });
        }

        // Step 3: reduce likelihood.
        b.push(Block::Section(
            "Step 3: Reduce the likelihood of an attack".into(),
        ));
        b.push(Block::Bars {
            title: "Open findings by priority tier".into(),
            items: o.by_tier.clone(),
        });
        let mut top: Vec<_> = open.clone();
        top.sort_by(|x, y| {
            let s = |f: &ward_store::FindingRow| {
                f.finding
                    .explanation
                    .get("score")
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0)
            };
            s(y).total_cmp(&s(x))
        });
        if top.is_empty() {
            b.push(Block::Para(
                "No open findings: no imported advisory matches a device, or all are triaged."
                    .into(),
            ));
        } else {
            b.push(Block::Table {
                head: vec![
                    "Vulnerability".into(),
                    "Device".into(),
                    "Tier".into(),
                    "KEV".into(),
                    "Status".into(),
                ],
                rows: top
                    .iter()
                    .take(25)
                    .map(|f| {
                        vec![
                            f.finding.vulnerability.clone(),
                            f.device_name.clone(),
                            tier_of(f),
                            if kev_of(f) {
                                "yes".into()
                            } else {
                                String::new()
                            },
                            f.finding.status.as_str().to_string(),
                        ]
                    })
                    .collect(),
            });
        }
        let triaged = findings.len() - open.len();
        b.push(Block::Para(format!("{} findings in total; {triaged} triaged (mitigated, fixed, false positive or risk accepted with an expiry).", findings.len())));

        // Step 4: user management.
        b.push(Block::Section("Step 4: Apply user management".into()));
        let users = store.users_overview().await?;
        let mut roles: BTreeMap<String, u64> = BTreeMap::new();
        for u in users.iter().filter(|u| !u.disabled) {
            for r in &u.roles {
                *roles.entry(r.clone()).or_default() += 1;
            }
        }
        b.push(Block::Para(format!(
            "{} active Ward user(s); roles separate administration, security analysis, clinical engineering and audit.",
            users.iter().filter(|u| !u.disabled).count()
        )));
        b.push(Block::Table {
            head: vec!["Role".into(), "Users".into()],
            rows: roles
                .iter()
                .map(|(r, n)| vec![r.clone(), n.to_string()])
                .collect(),
        });
        let audit = store.verify_audit_chain().await?;
        b.push(Block::Para(if audit.ok() {
            format!("Audit log: {} entries, hash chain verified.", audit.entries)
        } else {
            format!("Audit log: hash chain BROKEN ({:?}).", audit.problem)
        }));

        // Device details (security kinds) for steps 4-5 and the model pages.
        let mut kinds_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in devices.iter().take(MODEL_DEVICE_LIMIT) {
            if let Some(detail) = store.device(&d.id).await? {
                let ks = detail
                    .detail
                    .get("security")
                    .and_then(|s| s.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|o| {
                                o.get("kind").and_then(|k| k.as_str()).map(str::to_owned)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                kinds_of.insert(d.id.clone(), ks);
            }
        }
        let auth_kinds = [
            "cleartext_credentials",
            "default_snmp_community",
            "telnet_in_use",
            "dicom_accepts_any_caller",
            "dicom_no_user_identity",
        ];
        let mut auth_rows = Vec::new();
        for d in &devices {
            if let Some(ks) = kinds_of.get(&d.id) {
                let hits: Vec<&str> = auth_kinds
                    .iter()
                    .copied()
                    .filter(|k| ks.contains(*k))
                    .collect();
                if !hits.is_empty() {
                    auth_rows.push(vec![
                        d.name.clone(),
                        d.category.clone().unwrap_or_default(),
                        hits.join(", "),
                    ]);
                }
            }
        }
        b.push(Block::Sub("Device logins observed on the network".into()));
        if auth_rows.is_empty() {
            b.push(Block::Para(
                "No cleartext, default or missing device authentication was observed.".into(),
            ));
        } else {
            b.push(Block::Table {
                head: vec!["Device".into(), "Category".into(), "Observed".into()],
                rows: auth_rows.into_iter().take(30).collect(),
            });
        }

        // Step 5: connections.
        b.push(Block::Section(
            "Step 5: Understand and manage connections".into(),
        ));
        let conns = store.connection_rows(site, None, 50_000).await?;
        let mut protos: BTreeMap<String, u64> = BTreeMap::new();
        for c in &conns {
            let p = if c.protocol.is_empty() {
                format!("{}/{}", c.transport, c.server_port)
            } else {
                c.protocol.clone()
            };
            *protos.entry(p).or_default() += 1;
        }
        let mut proto_items: Vec<(String, u64, String)> = protos
            .into_iter()
            .map(|(p, n)| {
                let l = p.to_ascii_lowercase();
                let key = if l.contains("telnet") || l.contains("ftp") {
                    "P1"
                } else {
                    ""
                };
                (p, n, key.to_string())
            })
            .collect();
        proto_items.sort_by_key(|x| std::cmp::Reverse(x.1));
        proto_items.truncate(15);
        b.push(Block::Para(format!(
            "{} connections observed between devices and peers.",
            conns.len()
        )));
        b.push(Block::Bars {
            title: "Connections by protocol".into(),
            items: proto_items,
        });
        let exposed: Vec<Vec<String>> = devices
            .iter()
            .filter_map(|d| {
                let ks = kinds_of.get(&d.id)?;
                let hits: Vec<&str> = [
                    "internet_bound",
                    "policy_violation",
                    "telnet_in_use",
                    "ftp_in_use",
                    "smb1_in_use",
                    "cleartext_patient_data",
                ]
                .into_iter()
                .filter(|k| ks.contains(*k))
                .collect();
                (!hits.is_empty()).then(|| {
                    vec![
                        d.name.clone(),
                        d.criticality.clone().unwrap_or_default(),
                        hits.join(", "),
                    ]
                })
            })
            .take(30)
            .collect();
        if !exposed.is_empty() {
            b.push(Block::Sub("Risky connections".into()));
            b.push(Block::Table {
                head: vec!["Device".into(), "Criticality".into(), "Observed".into()],
                rows: exposed,
            });
        }

        // Step 6: periodic review.
        b.push(Block::Section("Step 6: Periodically review".into()));
        let reviewed = o.devices.saturating_sub(o.reviews_due);
        b.push(Block::Kpis(vec![
            (reviewed.to_string(), "devices with a current review".into()),
            (
                o.reviews_due.to_string(),
                "devices due or never reviewed".into(),
            ),
        ]));
        let intervals = store.review_intervals().await?;
        b.push(Block::Table {
            head: vec!["Category".into(), "Review every (days)".into()],
            rows: intervals
                .iter()
                .map(|(c, d)| {
                    vec![
                        if c.is_empty() {
                            "default".into()
                        } else {
                            c.clone()
                        },
                        d.to_string(),
                    ]
                })
                .collect(),
        });
        let recent = store.recent_reviews(15).await?;
        if !recent.is_empty() {
            b.push(Block::Table {
                head: vec!["Reviewed".into(), "By".into(), "Device".into()],
                rows: recent
                    .iter()
                    .map(|r| {
                        vec![
                            crate::ui::fmt_time(&state, r.reviewed_at),
                            r.reviewer.clone(),
                            r.device_id.chars().take(16).collect(),
                        ]
                    })
                    .collect(),
            });
        }

        // Per device model: IMDRF principles.
        let mut models: BTreeMap<(String, String), Vec<&ward_store::DeviceSummary>> =
            BTreeMap::new();
        for d in &devices {
            if let (Some(v), Some(m)) = (&d.vendor, &d.model) {
                models.entry((v.clone(), m.clone())).or_default().push(d);
            }
        }
        b.push(Block::Section(
            "Device models against the IMDRF principles".into(),
        ));
        b.push(Block::Para(format!(
            "{} device model(s) with a known vendor and model. Each is rated per IMDRF N60 design principle from what Ward observed on its devices: no issue observed, partial, concern, or not observable from the network.",
            models.len()
        )));
        let mut summary_rows = Vec::new();
        let mut model_blocks = Vec::new();
        for ((vendor, model), ds) in models.iter().take(40) {
            let mut kinds = BTreeSet::new();
            for d in ds {
                if let Some(k) = kinds_of.get(&d.id) {
                    kinds.extend(k.iter().cloned());
                }
            }
            let ids: BTreeSet<&str> = ds.iter().map(|d| d.id.as_str()).collect();
            let mine: Vec<_> = open
                .iter()
                .filter(|f| ids.contains(f.finding.device_id.as_str()))
                .collect();
            let kev = mine.iter().any(|f| kev_of(f));
            let scores = imdrf_scores(&kinds, mine.len(), kev);
            let pct = imdrf_percent(&scores);
            summary_rows.push(vec![
                format!("{vendor} {model}"),
                ds.len().to_string(),
                format!("{pct}%"),
            ]);
            model_blocks.push(Block::Section(format!("Model: {vendor} {model}")));
            model_blocks.push(Block::Para(format!(
                "{} device(s), category {}; IMDRF score {pct}% over the observable principles.",
                ds.len(),
                ds.first()
                    .and_then(|d| d.category.clone())
                    .unwrap_or_else(|| "unknown".into())
            )));
            model_blocks.push(Block::Table {
                head: vec!["Principle".into(), "Rating".into(), "Why".into()],
                rows: scores
                    .iter()
                    .map(|(p, r, w)| vec![p.clone(), r.as_str().to_string(), w.clone()])
                    .collect(),
            });
        }
        if summary_rows.is_empty() {
            b.push(Block::Para("No device model identified yet.".into()));
        } else {
            b.push(Block::Table {
                head: vec!["Model".into(), "Devices".into(), "IMDRF score".into()],
                rows: summary_rows,
            });
        }
        b.extend(model_blocks);

        Ok(Posture {
            title: format!("Medical device security posture: {scope}"),
            scope,
            generated: crate::ui::fmt_time(&state, ward_store::now_micros()),
            blocks: b,
        })
    }
}

const REPORT_CSS: &str = r#"
body { font: 11pt/1.4 "DejaVu Sans", system-ui, sans-serif; color: #1b1f24; max-width: 190mm; margin: 0 auto; padding: 12px; }
h1 { font-size: 20pt; margin: 0 0 4pt; } h2 { font-size: 15pt; border-bottom: 2px solid #102a43; padding-bottom: 2pt; margin-top: 18pt; }
h3 { font-size: 12pt; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 6pt 0; }
th, td { border: 1px solid #d0d7de; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.kpis { display: flex; flex-wrap: wrap; gap: 8pt; } .kpi { border: 1px solid #d0d7de; border-radius: 4pt; padding: 4pt 8pt; min-width: 30mm; }
.kpi b { font-size: 16pt; display: block; } .muted { color: #57606a; }
figure { margin: 6pt 0; } svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 15mm; }
@media print { body { max-width: none; padding: 0; } h2 { break-before: page; } h2.first { break-before: avoid; }
  tr, figure, .kpis { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"#;

/// The self-contained printable HTML report.
pub fn html(p: &Posture) -> String {
    let mut first = true;
    let m = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (p.title) }
                style { (PreEscaped(REPORT_CSS)) }
            }
            body {
                h1 { (p.title) }
                p.muted { "Generated by Ward on " (p.generated) ". Scope: " (p.scope) "." }
                @for b in &p.blocks {
                    @match b {
                        Block::Section(t) => {
                            h2 class=(if std::mem::take(&mut first) { "first" } else { "" }) { (t) }
                        }
                        Block::Sub(t) => h3 { (t) },
                        Block::Para(t) => p { (t) },
                        Block::Kpis(k) => div.kpis { @for (v, l) in k { div.kpi { b { (v) } (l) } } },
                        Block::Bars { title, items } => figure { (PreEscaped(svg::bars(title, items, 620))) figcaption.muted { (title) } },
                        Block::Table { head, rows } => {
                            @if rows.is_empty() { p.muted { "None." } } @else {
                                table { thead { tr { @for h in head { th { (h) } } } } tbody { @for r in rows { tr { @for c in r { td { (c) } } } } } }
                            }
                        }
                    }
                }
            }
        }
    };
    m.into_string()
}
