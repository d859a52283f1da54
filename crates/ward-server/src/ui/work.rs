//! Findings triage, advisories and uploads, plans board, reviews, administration and the
//! report pages.

use super::pages::{checklist_summary, kev_of, tier_of, FlashQuery};
use super::{
    actor_of, csrf_field, error_page, fmt_date, fmt_time, html_response, layout, redirect,
    tier_tag, urlencode, Flash, MaybeUser,
};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use ward_store::{FindingRowQuery, FindingStatus, ReviewInput, ACTION_STATUSES};

/// VEX justifications (OpenVEX / CISA minimum requirements) for "not affected".
pub const VEX_JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// Decodes an `application/x-www-form-urlencoded` body into pairs (repeated keys kept).
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    fn dec(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' => match (
                    b.get(i + 1).and_then(|c| hex(*c)),
                    b.get(i + 2).and_then(|c| hex(*c)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(kv), String::new()),
        })
        .collect()
}

#[derive(Debug, Deserialize, Default)]
pub struct FindingsQuery {
    pub status: Option<String>,
    pub device: Option<String>,
    pub site: Option<String>,
    pub ok: Option<String>,
    pub err: Option<String>,
}

pub async fn findings(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<FindingsQuery>,
) -> Response {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let mut flash = Flash::from_query(&q.ok, &q.err);
    let status = match status {
        Some(s) if FindingStatus::parse(&s).is_none() => {
            flash = Some(Flash::err(format!(
                "Unknown status {s:?}: showing all findings."
            )));
            None
        }
        other => other,
    };
    let rows = match state
        .store
        .finding_rows(&FindingRowQuery {
            status: status.clone(),
            device_id: q.device.clone().filter(|s| !s.is_empty()),
            site: q.site.clone().filter(|s| !s.is_empty()),
            limit: 2000,
            ..Default::default()
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut rows = rows;
    rows.sort_by(|a, b| {
        let sa = a
            .finding
            .explanation
            .get("score")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let sb = b
            .finding
            .explanation
            .get("score")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        sb.total_cmp(&sa).then(a.finding.id.cmp(&b.finding.id))
    });
    let body = html! {
        h1 { "Findings triage" }
        form.filters method="get" action="/findings" {
            label { "Status" select name="status" {
                option value="" { "all" }
                @for s in FindingStatus::ALL { option value=(s.as_str()) selected[status.as_deref() == Some(s.as_str())] { (s.as_str()) } }
            } }
            @if let Some(d) = &q.device { input type="hidden" name="device" value=(d); }
            button type="submit" { "Show" }
            a href="/api/v1/export/findings.csv" { "Export CSV" } " · " a href="/findings/vex" { "Export VEX (OpenVEX)" }
        }
        @if rows.is_empty() {
            div.empty { "No findings here. Findings appear when imported advisories match devices in the inventory." }
        } @else {
            form method="post" action="/findings/bulk" {
                (csrf_field(&headers))
                fieldset {
                    legend { "Change the status of the selected findings" }
                    div.filters {
                        label { "New status" select name="to" required {
                            @for s in FindingStatus::ALL { option value=(s.as_str()) { (s.as_str()) } }
                        } }
                        label { "Reason (required)" input name="reason" size="40" maxlength="1000"; }
                        label { "VEX justification (for false positive)" select name="justification" {
                            option value="" { "none" }
                            @for j in VEX_JUSTIFICATIONS { option value=(j) { (j) } }
                        } }
                        label { "Risk accepted until (YYYY-MM-DD)" input type="date" name="until"; }
                        button type="submit" { "Review the change…" }
                    }
                }
                p.small.muted { (rows.len()) " findings, most urgent first." }
                table {
                    thead { tr { th { span.skip { "Select" } } th { "Vulnerability" } th { "Device" } th { "Tier" } th { "Score" } th { "Status" } th { "Explanation" } } }
                    tbody { @for f in &rows { tr {
                        td { input type="checkbox" name="id" value=(f.finding.id) aria-label={"select " (f.finding.vulnerability) " on " (f.device_name)}; }
                        td { (f.finding.vulnerability) @if kev_of(f) { " " span.tag.kev { "KEV" } } br; span.small.muted { (f.finding.explanation.get("title").and_then(|t| t.as_str()).unwrap_or("")) } }
                        td { a href={"/devices/" (urlencode(&f.finding.device_id))} { (f.device_name) } br; span.small.muted { (f.category) } }
                        td { (tier_tag(&tier_of(f))) }
                        td { (format!("{:.1}", f.finding.explanation.get("score").and_then(|v| v.as_f64()).unwrap_or(0.0))) }
                        td { (f.finding.status.as_str()) @if let Some(t) = f.finding.accepted_until { br; span.small { "until " (fmt_date(&state, t)) } } @if !f.finding.reason.is_empty() { br; span.small.muted { (f.finding.reason) } } }
                        td.small { details { summary { "why" } ul { @for l in f.finding.explanation.get("lines").and_then(|l| l.as_array()).cloned().unwrap_or_default() { li { (l.as_str().unwrap_or("")) } } } } }
                    } } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&user, "Findings", "/findings", flash.as_ref(), body),
    )
}

/// Micros at the end of a YYYY-MM-DD day in UTC.
fn date_end_micros(d: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok()?;
    let t = date.and_hms_opt(23, 59, 59)?.and_utc();
    Some(t.timestamp_micros())
}

pub async fn findings_bulk(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .collect();
    let to = get("to");
    let reason = get("reason");
    let justification = get("justification");
    let until = get("until");
    let Some(status) = FindingStatus::parse(&to) else {
        return redirect("/findings", false, "Choose a new status.");
    };
    if ids.is_empty() {
        return redirect("/findings", false, "Select at least one finding.");
    }
    if reason.is_empty() {
        return redirect(
            "/findings",
            false,
            "A reason is required for every status change.",
        );
    }
    if !justification.is_empty() && !VEX_JUSTIFICATIONS.contains(&justification.as_str()) {
        return redirect("/findings", false, "Unknown VEX justification.");
    }
    if status == FindingStatus::FalsePositive && justification.is_empty() {
        return redirect(
            "/findings",
            false,
            "A false positive needs a VEX justification (why the device is not affected).",
        );
    }
    let accepted_until = if status == FindingStatus::RiskAccepted {
        match date_end_micros(&until) {
            Some(t) if t > ward_store::now_micros() => Some(t),
            Some(_) => {
                return redirect(
                    "/findings",
                    false,
                    "The risk acceptance expiry must be in the future.",
                )
            }
            None => {
                return redirect(
                    "/findings",
                    false,
                    "Risk acceptance needs an expiry date (YYYY-MM-DD).",
                )
            }
        }
    } else {
        None
    };
    if get("confirm") != "yes" {
        let body = html! {
            h1 { "Confirm the status change" }
            p { "Change " strong { (ids.len()) " finding(s)" } " to " strong { (status.as_str()) } "?" }
            ul { li { "Reason: " (reason) } @if !justification.is_empty() { li { "VEX justification: " (justification) } } @if let Some(t) = accepted_until { li { "Risk accepted until " (fmt_date(&state, t)) } } }
            form method="post" action="/findings/bulk" {
                (csrf_field(&headers))
                @for id in &ids { input type="hidden" name="id" value=(id); }
                input type="hidden" name="to" value=(to);
                input type="hidden" name="reason" value=(reason);
                input type="hidden" name="justification" value=(justification);
                input type="hidden" name="until" value=(until);
                input type="hidden" name="confirm" value="yes";
                button type="submit" { "Confirm change" } " "
                a href="/findings" { "Cancel" }
            }
        };
        return html_response(
            StatusCode::OK,
            layout(&user, "Confirm", "/findings", None, body),
        );
    }
    let full_reason = if justification.is_empty() {
        reason.clone()
    } else {
        format!("{reason} (VEX justification: {justification})")
    };
    let actor = actor_of(&user);
    let mut done = 0;
    let mut errors = Vec::new();
    for id in &ids {
        match state
            .store
            .set_finding_status(id, status, &full_reason, accepted_until, &actor)
            .await
        {
            Ok(()) => done += 1,
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        redirect(
            "/findings",
            true,
            &format!("{done} finding(s) set to {}.", status.as_str()),
        )
    } else {
        redirect(
            "/findings",
            false,
            &format!(
                "{done} changed; {} failed: {}",
                errors.len(),
                errors.join("; ")
            ),
        )
    }
}

pub async fn advisories(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    let docs = match state.store.list_intel_documents(500).await {
        Ok(d) => d,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let findings = state
        .store
        .finding_rows(&FindingRowQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let mut by_vuln: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    let mut by_source: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for f in &findings {
        by_vuln
            .entry(f.finding.vulnerability.clone())
            .or_default()
            .push((f.finding.device_id.clone(), f.device_name.clone()));
        if let Some(s) = f.finding.explanation.get("source").and_then(|s| s.as_str()) {
            by_source
                .entry(s.to_string())
                .or_default()
                .insert(f.finding.device_id.clone());
        }
    }
    let body = html! {
        h1 { "Advisories" }
        p { a.button href="/upload" { "Upload advisories, SBOMs, VEX, KEV, EPSS or captures" } }
        h2 { "Imported documents" }
        @if docs.is_empty() { div.empty { "No intel imported yet." } } @else {
            table { thead { tr { th { "Kind" } th { "Id" } th { "Publisher" } th { "Version" } th { "Devices affected" } th { "Imported" } } }
            tbody { @for d in &docs { tr {
                td { (d.kind) } td { (d.doc_id) } td { (d.publisher) } td { (d.version) }
                td { (by_source.get(&d.doc_id).map(|s| s.len()).unwrap_or(0)) }
                td.small { (fmt_time(&state, d.imported_at)) " by " (d.imported_by) }
            } } } }
        }
        h2 { "Vulnerabilities and the devices they affect" }
        @if by_vuln.is_empty() { div.empty { "No vulnerability matches any device yet." } } @else {
            table { thead { tr { th { "Vulnerability" } th { "Devices" } } }
            tbody { @for (v, devs) in &by_vuln { tr {
                td { (v) }
                td { @for (i, (id, name)) in devs.iter().enumerate().take(20) { @if i > 0 { ", " } a href={"/devices/" (urlencode(id))} { (name) } } @if devs.len() > 20 { " and " (devs.len() - 20) " more" } }
            } } } }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Advisories",
            "/advisories",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

pub async fn upload_page(
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<FlashQuery>,
) -> Response {
    let body = html! {
        h1 { "Upload" }
        p { "Captures are dissected on the server (metadata only; no packet payload is kept). Intel files (CSAF, CycloneDX, SPDX, OpenVEX, KEV, EPSS, OSV, CVE) are validated before import. After an upload the site is re-identified and re-assessed; the page returns when that is done." }
        form.form id="upload-form" method="post" action="/upload" enctype="multipart/form-data" {
            // First: without script the server reads the token from the leading part
            // (`ui::csrf_from_multipart`); the script sends it as a header.
            (csrf_field(&headers))
            p { label { "Kind" select name="kind" { option value="capture" { "Capture files (pcap, pcapng)" } option value="intel" { "Intel files" } } } }
            p { label { "Site (for captures)" input name="site" value="main" maxlength="64" pattern="[A-Za-z0-9_.-]+"; } }
            p { label { "Files" input type="file" name="file" multiple required; } }
            button type="submit" { "Upload and analyse" } " "
            progress id="upload-progress" value="0" max="1" aria-label="upload progress" {}
            span id="upload-status" role="status" {}
        }
        script src="/ui/upload.js" defer {}
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Upload",
            "/advisories",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

pub async fn upload(State(state): State<AppState>, user: MaybeUser, mut mp: Multipart) -> Response {
    let mut kind = String::from("capture");
    let mut site = String::from("main");
    let dir = match tempfile::Builder::new()
        .prefix("ward-upload")
        .tempdir_in(std::env::temp_dir())
    {
        Ok(d) => d,
        Err(e) => return redirect("/upload", false, &format!("Cannot store the upload: {e}")),
    };
    let mut files = Vec::new();
    let mut total: usize = 0;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return redirect(
                    "/upload",
                    false,
                    &format!("The upload was not readable: {e}"),
                )
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "kind" => kind = field.text().await.unwrap_or_default(),
            "site" => site = field.text().await.unwrap_or_default().trim().to_string(),
            "file" => {
                let fname = field
                    .file_name()
                    .unwrap_or("upload")
                    .replace(['/', '\\'], "_");
                let mut field = field;
                let mut data: Vec<u8> = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            total = total.saturating_add(c.len());
                            if total > state.config.max_upload_bytes {
                                return redirect(
                                    "/upload",
                                    false,
                                    &format!(
                                        "The upload is larger than the limit of {} MiB.",
                                        state.config.max_upload_bytes >> 20
                                    ),
                                );
                            }
                            data.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) => return redirect("/upload", false, &format!("{fname}: {e}")),
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let path = dir.path().join(format!("{}-{fname}", files.len()));
                if let Err(e) = std::fs::write(&path, &data) {
                    return redirect("/upload", false, &format!("Cannot store {fname}: {e}"));
                }
                files.push(path);
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return redirect("/upload", false, "Choose at least one file.");
    }
    if site.is_empty()
        || site.len() > 64
        || !site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return redirect(
            "/upload",
            false,
            "The site must be 1 to 64 letters, digits, '.', '_' or '-'.",
        );
    }
    if kind == "capture"
        && user
            .as_ref()
            .is_some_and(|u| !u.allows(crate::rbac::Permission::UploadCapture))
    {
        return redirect(
            "/upload",
            false,
            "You may import intel but not upload captures.",
        );
    }
    let actor = actor_of(&user);
    match kind.as_str() {
        "capture" => {
            match super::pipeline::import_captures(&state.store, &site, &files, &actor).await {
                Ok(s) => redirect(
                    "/inventory",
                    true,
                    &format!(
                    "Capture analysed: {} observations, {} devices, {} connections, {} findings.",
                    s.observations, s.devices, s.connections, s.findings
                ),
                ),
                Err(e) => redirect(
                    "/upload",
                    false,
                    &format!("The capture could not be analysed: {e:#}"),
                ),
            }
        }
        "intel" => match super::pipeline::import_intel_files(&state.store, &files, &actor).await {
            Ok(n) => match super::pipeline::reassess_all(&state.store, &actor).await {
                Ok(s) => redirect(
                    "/advisories",
                    true,
                    &format!(
                        "{n} new document(s) imported; {} findings across {} devices.",
                        s.findings, s.devices
                    ),
                ),
                Err(e) => redirect(
                    "/advisories",
                    false,
                    &format!("Imported {n}, but re-assessment failed: {e:#}"),
                ),
            },
            Err(e) => redirect("/upload", false, &format!("Not imported: {e:#}")),
        },
        _ => redirect("/upload", false, "Choose capture or intel."),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct PlansQuery {
    pub site: Option<String>,
    pub ok: Option<String>,
    pub err: Option<String>,
}

pub async fn plans(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<PlansQuery>,
) -> Response {
    let site = q.site.clone().filter(|s| !s.is_empty());
    let all = match state.store.plan_board(None, site.as_deref(), 5000).await {
        Ok(a) => a,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let today = super::pipeline::today();
    let body = html! {
        h1 { "Mitigation plans" }
        p.small.muted { (all.len()) " actions. Overdue actions are marked." }
        @if all.is_empty() { div.empty { "No plan actions yet: plans are made when findings or risky observations exist." } } @else {
            div.board {
                @for st in ACTION_STATUSES {
                    section.col aria-label=(st) {
                        h2 { (st.replace('_', " ")) " (" (all.iter().filter(|a| a.action.status == *st).count()) ")" }
                        @for a in all.iter().filter(|a| a.action.status == *st).take(200) {
                            div.item {
                                strong { (a.action.title) } br;
                                a href={"/devices/" (urlencode(&a.action.device_id))} { (a.device_name) } " · " (a.action.owner)
                                @if !a.action.due.is_empty() { " · due " (a.action.due) @if a.action.due < today && matches!(a.action.status.as_str(), "proposed" | "in_progress") { " " span.tag.t-P1 { "overdue" } } }
                                form method="post" action={"/plans/" (urlencode(&a.action.id))} {
                                    (csrf_field(&headers))
                                    label.small { "Status " select name="status" { @for s in ACTION_STATUSES { option value=(s) selected[*s == a.action.status] { (s) } } } }
                                    label.small { " Owner " input name="owner" value=(a.action.owner) size="14" required maxlength="200"; }
                                    button type="submit" { "Update" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Plans",
            "/plans",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct PlanForm {
    pub status: String,
    pub owner: String,
}

pub async fn plan_update(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<PlanForm>,
) -> Response {
    if !ACTION_STATUSES.contains(&f.status.as_str()) {
        return redirect("/plans", false, "Choose one of the listed statuses.");
    }
    if f.owner.trim().is_empty() {
        return redirect("/plans", false, "Every action needs an owner.");
    }
    match state
        .store
        .update_plan_action(&id, &f.status, &f.owner, &actor_of(&user))
        .await
    {
        Ok(()) => redirect("/plans", true, "Action updated."),
        Err(e) => redirect("/plans", false, &e.to_string()),
    }
}

pub async fn reviews(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<FlashQuery>,
) -> Response {
    let now = ward_store::now_micros();
    let site = q.site.clone().filter(|s| !s.is_empty());
    let (queue, total) = match state.store.review_queue(now, site.as_deref(), 200).await {
        Ok(x) => x,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let recent = state.store.recent_reviews(20).await.unwrap_or_default();
    let intervals = state.store.review_intervals().await.unwrap_or_default();
    let body = html! {
        h1 { "Periodic reviews" }
        p { (total) " device(s) due for review (never reviewed, or the last review is older than the category's interval)." }
        @if queue.is_empty() { div.empty { "Every device's review is up to date." } } @else {
            table { thead { tr { th { "Device" } th { "Site" } th { "Category" } th { "Criticality" } th { "Last review" } th {} } }
            tbody { @for r in &queue { tr {
                td { a href={"/devices/" (urlencode(&r.device_id))} { (r.name) } }
                td { (r.site) } td { (r.category) } td { (r.criticality) }
                td { @match r.last_reviewed_at { Some(t) => { (fmt_date(&state, t)) }, None => { span.tag.t-P2 { "never" } } } }
                td { a href={"/reviews/" (urlencode(&r.device_id))} { "Review" } }
            } } } }
        }
        h2 { "Recent reviews" }
        @if recent.is_empty() { div.empty { "No reviews recorded yet." } } @else {
            table { thead { tr { th { "When" } th { "Who" } th { "Device" } th { "Checklist" } } }
            tbody { @for r in &recent { tr { td.small { (fmt_time(&state, r.reviewed_at)) } td { (r.reviewer) } td { a href={"/devices/" (urlencode(&r.device_id))} { (r.device_id.chars().take(12).collect::<String>()) } } td.small { (checklist_summary(r)) } } } } }
        }
        h2 { "Review intervals" }
        table { thead { tr { th { "Category" } th { "Every (days)" } } } tbody { @for (c, d) in &intervals { tr { td { @if c.is_empty() { "all other categories" } @else { (c) } } td { (d) } } } } }
        form.filters method="post" action="/reviews/_intervals" {
            (csrf_field(&headers))
            label { "Category (empty: default)" input name="category" maxlength="64"; }
            label { "Days" input type="number" name="days" min="1" max="3650" required; }
            button type="submit" { "Set interval" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Reviews",
            "/reviews",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

pub async fn review_form(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let d = match state.store.device(&id).await {
        Ok(Some(d)) => d,
        Ok(None) => return error_page(&user, StatusCode::NOT_FOUND, "No device with this id."),
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let s = &d.summary;
    let body = html! {
        h1 { "Review " (s.name) }
        p.muted { (s.category.clone().unwrap_or_default()) " · " (s.vendor.clone().unwrap_or_default()) " " (s.model.clone().unwrap_or_default()) " · software " (s.software_version.clone().unwrap_or_default()) " · " a href={"/devices/" (urlencode(&id))} { "device page" } }
        form.form method="post" action={"/reviews/" (urlencode(&id))} {
            (csrf_field(&headers))
            fieldset.checklist {
                legend { "Checklist" }
                label { input type="checkbox" name="identity_confirmed" value="yes"; " Identity confirmed (vendor, model, location)" }
                label { input type="checkbox" name="software_confirmed" value="yes"; " Software version confirmed" }
                label { input type="checkbox" name="findings_triaged" value="yes"; " Findings triaged" }
                label { input type="checkbox" name="plan_current" value="yes"; " Mitigation plan current" }
                label { input type="checkbox" name="connections_expected" value="yes"; " Connections as expected" }
            }
            p { label { "Notes (required when an item is not confirmed)" textarea name="note" rows="4" cols="70" maxlength="4000" {} } }
            button type="submit" { "Record review" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Review",
            "/reviews",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

pub async fn review_submit(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let has = |k: &str| pairs.iter().any(|(a, v)| a == k && v == "yes");
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if id == "_intervals" {
        let days: i64 = match get("days").parse() {
            Ok(d) if (1..=3650).contains(&d) => d,
            _ => {
                return redirect(
                    "/reviews",
                    false,
                    "The interval must be a whole number of days between 1 and 3650.",
                )
            }
        };
        let cat = get("category");
        if !cat.is_empty() && cat.parse::<ward_identify::Category>().is_err() {
            return redirect("/reviews", false, &format!("Unknown category {cat:?}."));
        }
        return match state
            .store
            .set_review_interval(&cat, days, &actor_of(&user))
            .await
        {
            Ok(()) => redirect("/reviews", true, "Review interval saved."),
            Err(e) => redirect("/reviews", false, &e.to_string()),
        };
    }
    let input = ReviewInput {
        device_id: id.clone(),
        identity_confirmed: has("identity_confirmed"),
        software_confirmed: has("software_confirmed"),
        findings_triaged: has("findings_triaged"),
        plan_current: has("plan_current"),
        connections_expected: has("connections_expected"),
        note: get("note"),
    };
    let back = format!("/reviews/{}", urlencode(&id));
    let all = input.identity_confirmed
        && input.software_confirmed
        && input.findings_triaged
        && input.plan_current
        && input.connections_expected;
    if !all && input.note.is_empty() {
        return redirect(
            &back,
            false,
            "Some checklist items are not confirmed: explain why in the notes.",
        );
    }
    match state.store.record_review(&input, &actor_of(&user)).await {
        Ok(r) => redirect(
            &format!("/devices/{}", urlencode(&id)),
            true,
            &format!(
                "Review recorded; next due {}.",
                r.due_at.map(|t| fmt_date(&state, t)).unwrap_or_default()
            ),
        ),
        Err(e) => redirect(&back, false, &e.to_string()),
    }
}

pub async fn admin(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<FlashQuery>,
) -> Response {
    let users = state.store.users_overview().await.unwrap_or_default();
    let sites = state.store.sites().await.unwrap_or_default();
    // Local accounts (a password Ward can reset), not single sign-on ones.
    let local: std::collections::HashSet<String> = state
        .store
        .list_users()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u.oidc_issuer.is_none())
        .map(|u| u.id)
        .collect();
    let verify = state.store.verify_audit_chain().await;
    let (head, _) = state.store.audit_head().await.unwrap_or((0, String::new()));
    let mut entries = state
        .store
        .audit_entries((head - 50).max(0), 50)
        .await
        .unwrap_or_default();
    entries.reverse();
    let jobs = state.store.list_jobs().await.unwrap_or_default();
    let tokens = state.store.list_tokens(None).await.unwrap_or_default();
    let intel_docs = state
        .store
        .list_intel_documents(1000)
        .await
        .unwrap_or_default();
    let names: std::collections::HashMap<String, String> = users
        .iter()
        .map(|u| (u.id.clone(), u.username.clone()))
        .collect();
    let now = ward_store::now_micros();
    let body = html! {
        h1 { "Administration" }
        p.small.muted { "Each role is granted for all sites or for one site (a site-scoped user sees only that site). Times in " (state.config.time_zone) "." }
        div.grid {
            section.card {
                h2 { "Users" }
                @if users.is_empty() { div.empty { "No users." } } @else {
                    table { thead { tr { th { "User" } th { "Roles" } th { "State" } th { "Change" } } }
                    tbody { @for u in &users { tr {
                        td { (u.username) " " span.muted { (u.display_name) } }
                        td { (u.roles.join(", ")) }
                        td { @if u.disabled { "disabled" } @else { "active" } }
                        td { (super::admin::user_row_forms(&user, &headers, u, &sites, local.contains(&u.id))) }
                    } } } }
                }
                (super::admin::create_user_form(&user, &headers, &sites))
                p.small { "Also with " code { "ward user" } " or the API (" code { "/api/v1/users" } ")." }
            }
            section.card {
                h2 { "API tokens" }
                @if tokens.is_empty() { div.empty { "No API tokens." } } @else {
                    table { thead { tr { th { "Token" } th { "User" } th { "Scopes" } th { "Site" } th { "State" } th { "Last used" } th {} } }
                    tbody { @for t in &tokens { tr {
                        td { (t.name) " " span.muted.small { (t.id) } }
                        td { (t.user_id.as_ref().and_then(|u| names.get(u)).cloned().unwrap_or_default()) }
                        td.small { (t.scopes.join(", ")) }
                        td { (t.site.clone().unwrap_or_else(|| "all".into())) }
                        td { @if t.revoked_at.is_some() { "revoked" } @else if t.expires_at.is_some_and(|e| e <= now) { "expired" } @else { "active" } }
                        td.small { (t.last_used_at.map(|x| fmt_time(&state, x)).unwrap_or_else(|| "never".into())) }
                        td { (super::admin::token_row_form(&user, &headers, &t.id, t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))) }
                    } } } }
                }
                (super::admin::create_token_form(&user, &headers, &users))
                p.small { "Tokens are shown once and stored hashed (also through " code { "/api/v1/tokens" } ")." }
                h2 { "Single sign-on" }
                @match &state.config.oidc {
                    Some(o) => { p { "OpenID Connect with " code { (o.issuer_url) } " (client " code { (o.client_id) } ")." } },
                    None => { p.muted { "Not configured: local accounts only (see the " code { "[oidc]" } " section of the configuration)." } },
                }
                h2 { "Intel" }
                p { (intel_docs.len()) " intel document(s) imported. " a href="/advisories" { "Advisories" } }
                h2 { "Audit log" }
                @match &verify {
                    Ok(r) if r.ok() => { p { span.tag style="background:#1a7f37;color:#fff" { "chain verified" } " " (r.entries) " entries, head #" (r.head_seq) } },
                    Ok(r) => { p { span.tag.t-P1 { "CHAIN BROKEN" } " " (format!("{:?}", r.problem)) } },
                    Err(e) => { p { span.tag.t-P1 { "verification failed" } " " (e.to_string()) } },
                }
            }
        }
        h2 { "Recent audit entries" }
        @if entries.is_empty() { div.empty { "The audit log is empty." } } @else {
            table { thead { tr { th { "#" } th { "When" } th { "Who" } th { "From" } th { "Action" } th { "Object" } } }
            tbody { @for e in &entries { tr { td { (e.seq) } td.small { (fmt_time(&state, e.ts)) } td { (e.actor) } td.small { (e.source) } td { (e.action) } td.small { (e.object) } } } } }
        }
        h2 { "Jobs" }
        @if jobs.is_empty() { div.empty { "No scheduled jobs." } } @else {
            table { thead { tr { th { "Job" } th { "Kind" } th { "State" } th { "Next run" } th { "Last run" } th { "Last error" } } }
            tbody { @for j in &jobs { tr { td { (j.id) } td { (j.kind) } td { (j.state) } td.small { (fmt_time(&state, j.run_after)) } td.small { (j.last_run_at.map(|t| fmt_time(&state, t)).unwrap_or_default()) } td.small { (j.last_error.clone().unwrap_or_default()) } } } } }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Administration",
            "/admin",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

pub async fn reports(State(state): State<AppState>, user: MaybeUser) -> Response {
    let sites = state.store.sites().await.unwrap_or_default();
    let body = html! {
        h1 { "Reports" }
        p { "The posture report follows the NHS six steps for medical device security (identify, mitigation plan, reduce likelihood, user management, connections, periodic review) with a page per device model scored against the IMDRF principles from what Ward observed." }
        form.filters method="get" action="/reports/posture.html" {
            label { "Scope" select name="site" { option value="" { "Whole organisation" } @for s in &sites { option value=(s.id) { "Site " (s.name) } } } }
            button type="submit" { "Open the printable HTML report" }
            button type="submit" formaction="/reports/posture.pdf" { "Download PDF" }
        }
        p.small.muted { "Also from the command line: " code { "ward report --data DIR --format pdf --out report.pdf" } }
    };
    html_response(
        StatusCode::OK,
        layout(&user, "Reports", "/reports", None, body),
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct ReportQuery {
    pub site: Option<String>,
}

pub async fn report_html(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let site = q.site.filter(|s| !s.is_empty());
    match crate::report::Posture::gather(&state.store, site.as_deref(), &state.config.time_zone)
        .await
    {
        Ok(p) => html_response(StatusCode::OK, maud::PreEscaped(crate::report::html(&p))),
        Err(e) => error_page(
            &user,
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("The report could not be built: {e:#}"),
        ),
    }
}

pub async fn report_pdf(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let site = q.site.filter(|s| !s.is_empty());
    match crate::report::Posture::gather(&state.store, site.as_deref(), &state.config.time_zone)
        .await
    {
        Ok(p) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"ward-posture-{}.pdf\"",
                        site.as_deref().unwrap_or("organisation")
                    ),
                ),
            ],
            crate::report::pdf(&p),
        )
            .into_response(),
        Err(e) => error_page(
            &user,
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("The report could not be built: {e:#}"),
        ),
    }
}

/// The hospital's triage decisions as an OpenVEX 0.2.0 document: every finding that is no
/// longer open, with its status mapped to a VEX status and the recorded reason.
pub async fn findings_vex(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let site = q.site.filter(|s| !s.is_empty());
    let rows = match state
        .store
        .finding_rows(&FindingRowQuery {
            site: site.clone(),
            limit: 100_000,
            ..Default::default()
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let doc = openvex_of(
        &rows,
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let name = format!(
        "ward-vex-{}.json",
        site.as_deref().unwrap_or("organisation")
    );
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )
        .into_response()
}

/// Builds the OpenVEX document of [`findings_vex`] (pure, for tests).
pub fn openvex_of(rows: &[ward_store::FindingRow], timestamp: &str) -> serde_json::Value {
    let statements: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|r| {
            let f = &r.finding;
            let status = match f.status {
                FindingStatus::Open => return None,
                FindingStatus::InTriage => "under_investigation",
                FindingStatus::Affected | FindingStatus::RiskAccepted => "affected",
                FindingStatus::Mitigated | FindingStatus::Fixed => "fixed",
                FindingStatus::FalsePositive => "not_affected",
            };
            let mut st = serde_json::json!({
                "vulnerability": { "name": f.vulnerability },
                "products": [{ "@id": format!("urn:ward:device:{}", f.device_id) }],
                "status": status,
                "timestamp": timestamp,
            });
            if status == "not_affected" {
                let j = VEX_JUSTIFICATIONS.iter().find(|j| f.reason.contains(*j));
                match j {
                    Some(j) => st["justification"] = serde_json::json!(j),
                    None => st["impact_statement"] = serde_json::json!(f.reason),
                }
            }
            if status == "affected" {
                st["action_statement"] = serde_json::json!(if f.reason.is_empty() {
                    "follow the Ward mitigation plan".to_string()
                } else {
                    f.reason.clone()
                });
            }
            Some(st)
        })
        .collect();
    serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:ward:vex:{}", timestamp),
        "author": "Ward",
        "role": "Healthcare delivery organisation",
        "timestamp": timestamp,
        "version": 1,
        "tooling": "ward",
        "statements": statements,
    })
}
