//! Dashboard, inventory, device page and connection map.

use super::{
    actor_of, csrf_field, error_page, fmt_date, fmt_time, html_response, layout, raw, redirect,
    svg, tier_tag, urlencode, Flash, MaybeUser,
};
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use ward_store::{
    now_micros, DeviceQuery, DeviceSort, FindingRow, FindingRowQuery, SavedFilter, MICROS_PER_DAY,
};

/// Statuses that still need work.
pub const OPEN_STATUSES: &[&str] = &["open", "in_triage", "affected"];

/// The tier stored in a finding's explanation.
pub fn tier_of(f: &FindingRow) -> String {
    f.finding
        .explanation
        .get("tier")
        .and_then(|t| t.as_str())
        .unwrap_or("P4")
        .to_string()
}

/// Whether the finding's vulnerability is in CISA KEV.
pub fn kev_of(f: &FindingRow) -> bool {
    f.finding
        .explanation
        .get("kev")
        .and_then(|t| t.as_bool())
        .unwrap_or(false)
}

#[derive(Debug, Deserialize, Default)]
pub struct FlashQuery {
    pub ok: Option<String>,
    pub err: Option<String>,
    pub site: Option<String>,
}

/// Figures shared by the dashboard and the posture report.
pub struct Overview {
    pub by_category: Vec<(String, u64, String)>,
    pub by_criticality: Vec<(String, u64, String)>,
    pub by_tier: Vec<(String, u64, String)>,
    pub devices: u64,
    pub open_findings: usize,
    pub kev_devices: usize,
    pub overdue_actions: usize,
    pub reviews_due: u64,
    pub new_this_week: u64,
    pub device_trend: Vec<(String, f64)>,
    pub finding_trend: Vec<(String, f64)>,
}

pub async fn overview(state: &AppState, site: Option<&str>) -> ward_store::Result<Overview> {
    let store = &state.store;
    let counts = store.device_counts(site).await?;
    let mut cat: BTreeMap<String, u64> = BTreeMap::new();
    let mut crit: BTreeMap<String, u64> = BTreeMap::new();
    let mut devices = 0;
    for c in &counts {
        let k = if c.category.is_empty() {
            "unknown".to_string()
        } else {
            c.category.clone()
        };
        *cat.entry(k).or_default() += c.devices;
        let k = if c.criticality.is_empty() {
            "unknown".to_string()
        } else {
            c.criticality.clone()
        };
        *crit.entry(k).or_default() += c.devices;
        devices += c.devices;
    }
    let mut by_category: Vec<(String, u64, String)> = cat
        .into_iter()
        .map(|(k, v)| (k, v, String::new()))
        .collect();
    by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let order = ["critical", "high", "medium", "low", "unknown"];
    let by_criticality = order
        .iter()
        .filter_map(|k| crit.get(*k).map(|v| (k.to_string(), *v, k.to_string())))
        .collect();
    let findings = store
        .finding_rows(&FindingRowQuery {
            site: site.map(str::to_owned),
            limit: 100_000,
            ..Default::default()
        })
        .await?;
    let open: Vec<&FindingRow> = findings
        .iter()
        .filter(|f| OPEN_STATUSES.contains(&f.finding.status.as_str()))
        .collect();
    let mut tiers: BTreeMap<String, u64> = BTreeMap::new();
    for f in &open {
        *tiers.entry(tier_of(f)).or_default() += 1;
    }
    let by_tier = ["P1", "P2", "P3", "P4"]
        .iter()
        .map(|t| {
            (
                t.to_string(),
                tiers.get(*t).copied().unwrap_or(0),
                t.to_string(),
            )
        })
        .collect();
    let kev_devices = open
        .iter()
        .filter(|f| kev_of(f))
        .map(|f| f.finding.device_id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let today = super::pipeline::today();
    let overdue_actions = store
        .plan_board(None, site, 100_000)
        .await?
        .iter()
        .filter(|a| {
            !a.action.due.is_empty()
                && a.action.due < today
                && matches!(a.action.status.as_str(), "proposed" | "in_progress")
        })
        .count();
    let now = now_micros();
    let (_, reviews_due) = store.review_queue(now, site, 1).await?;
    let new_this_week = store
        .count_devices_since(now - 7 * MICROS_PER_DAY, site)
        .await?;
    let mut cumulative = 0u64;
    let per_day = store.devices_first_seen_by_day(site).await?;
    let mut device_trend: Vec<(String, f64)> = per_day
        .iter()
        .map(|(day, n)| {
            cumulative += n;
            (fmt_date(state, day * MICROS_PER_DAY), cumulative as f64)
        })
        .collect();
    if device_trend.len() > 60 {
        device_trend.drain(..device_trend.len() - 60);
    }
    // Open findings over time, replayed from the status history.
    let changes = store.finding_changes_since(0).await?;
    let mut open_n: i64 = 0;
    let mut by_day: BTreeMap<i64, i64> = BTreeMap::new();
    for (ts, from, to) in &changes {
        let was_open = from.as_deref().is_some_and(|f| OPEN_STATUSES.contains(&f));
        let is_open = OPEN_STATUSES.contains(&to.as_str());
        open_n += i64::from(is_open) - i64::from(was_open);
        by_day.insert(ts / MICROS_PER_DAY, open_n);
    }
    let mut finding_trend: Vec<(String, f64)> = by_day
        .into_iter()
        .map(|(d, n)| (fmt_date(state, d * MICROS_PER_DAY), n.max(0) as f64))
        .collect();
    if finding_trend.len() > 60 {
        finding_trend.drain(..finding_trend.len() - 60);
    }
    Ok(Overview {
        by_category,
        by_criticality,
        by_tier,
        devices,
        open_findings: open.len(),
        kev_devices,
        overdue_actions,
        reviews_due,
        new_this_week,
        device_trend,
        finding_trend,
    })
}

pub async fn dashboard(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<FlashQuery>,
) -> Response {
    let site = q.site.as_deref().filter(|s| !s.is_empty());
    let o = match overview(&state, site).await {
        Ok(o) => o,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let sites = state.store.sites().await.unwrap_or_default();
    let body = html! {
        h1 { "Dashboard" }
        form.filters method="get" action="/" {
            label { "Site" select name="site" {
                option value="" { "All sites" }
                @for s in &sites { option value=(s.id) selected[Some(s.id.as_str()) == site] { (s.name) } }
            } }
            button type="submit" { "Show" }
        }
        @if o.devices == 0 {
            div.empty { "No devices yet. " a href="/upload" { "Upload a capture" } " or connect a sensor to start the inventory." }
        }
        div.kpis {
            div.kpi { div.n { (o.devices) } div.l { a href="/inventory" { "devices" } } }
            div.kpi { div.n { (o.open_findings) } div.l { a href="/findings" { "open findings" } } }
            div.kpi { div.n { (o.kev_devices) } div.l { "devices with known exploited (KEV) vulnerabilities" } }
            div.kpi { div.n { (o.overdue_actions) } div.l { a href="/plans" { "overdue plan actions" } } }
            div.kpi { div.n { (o.reviews_due) } div.l { a href="/reviews" { "reviews due" } } }
            div.kpi { div.n { (o.new_this_week) } div.l { "new devices this week" } }
        }
        div.grid {
            section.card { h2 { "Devices by clinical category" } (raw(svg::bars("Devices by clinical category", &o.by_category, 520))) }
            section.card { h2 { "Devices by criticality" } (raw(svg::bars("Devices by criticality", &o.by_criticality, 520))) }
            section.card { h2 { "Open findings by priority tier" } (raw(svg::bars("Open findings by priority tier", &o.by_tier, 520))) }
            section.card { h2 { "Devices known over time" } (raw(svg::line("Devices known over time", &o.device_trend, 520, 220))) }
            section.card { h2 { "Open findings over time" } (raw(svg::line("Open findings over time", &o.finding_trend, 520, 220))) }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Dashboard",
            "/",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct InventoryQuery {
    pub q: Option<String>,
    pub site: Option<String>,
    pub category: Option<String>,
    pub vendor: Option<String>,
    pub stale: Option<String>,
    pub sort: Option<String>,
    pub desc: Option<String>,
    pub after: Option<String>,
    pub ok: Option<String>,
    pub err: Option<String>,
}

fn parse_sort(s: &str) -> Option<DeviceSort> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

const SORTS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("site", "Site"),
    ("category", "Category"),
    ("criticality", "Criticality"),
    ("vendor", "Vendor"),
    ("model", "Model"),
    ("software_version", "Software"),
    ("last_seen", "Last seen"),
    ("first_seen", "First seen"),
];

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The inventory's query string without the cursor (for links and saved filters).
fn filter_query(q: &InventoryQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("site", &q.site),
        ("category", &q.category),
        ("vendor", &q.vendor),
        ("stale", &q.stale),
        ("sort", &q.sort),
        ("desc", &q.desc),
    ] {
        if let Some(v) = nonempty(v) {
            parts.push(format!("{k}={}", urlencode(&v)));
        }
    }
    parts.join("&")
}

pub async fn inventory(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Query(q): Query<InventoryQuery>,
) -> Response {
    let started = std::time::Instant::now();
    let mut problems = Vec::new();
    let sort = match nonempty(&q.sort) {
        Some(s) => parse_sort(&s).unwrap_or_else(|| {
            problems.push(format!("Unknown sort column {s:?}; sorted by name."));
            DeviceSort::Name
        }),
        None => DeviceSort::Name,
    };
    let stale = match nonempty(&q.stale).as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let dq = DeviceQuery {
        site: nonempty(&q.site),
        category: nonempty(&q.category),
        vendor: nonempty(&q.vendor),
        stale,
        text: nonempty(&q.q),
        sort,
        descending: nonempty(&q.desc).is_some(),
        limit: 50,
        offset: 0,
        after: nonempty(&q.after),
        with_total: true,
    };
    let (page, more_than) = match state.store.search_devices(&dq).await {
        Ok(s) => (s.page, s.more_than),
        Err(e) => {
            return error_page(
                &user,
                StatusCode::BAD_REQUEST,
                &format!("The inventory could not be listed: {e}"),
            )
        }
    };
    let list_ms = started.elapsed().as_secs_f64() * 1000.0;
    let owner = user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let saved = state.store.saved_filters(&owner).await.unwrap_or_default();
    let fq = filter_query(&q);
    let flash = Flash::from_query(&q.ok, &q.err)
        .or_else(|| (!problems.is_empty()).then(|| Flash::err(problems.join(" "))));
    let body = html! {
        h1 { "Inventory" }
        form.filters method="get" action="/inventory" role="search" {
            label { "Search (name, host, IP, MAC)" input type="search" name="q" value=(q.q.clone().unwrap_or_default()); }
            label { "Site" input name="site" value=(q.site.clone().unwrap_or_default()) size="10"; }
            label { "Category" input name="category" value=(q.category.clone().unwrap_or_default()) size="14"; }
            label { "Vendor" input name="vendor" value=(q.vendor.clone().unwrap_or_default()) size="12"; }
            label { "Stale" select name="stale" {
                option value="" { "any" }
                option value="no" selected[stale == Some(false)] { "active" }
                option value="yes" selected[stale == Some(true)] { "stale" }
            } }
            label { "Sort by" select name="sort" {
                @for (k, l) in SORTS { option value=(k) selected[parse_sort(k) == Some(sort)] { (l) } }
            } }
            label { "Descending" input type="checkbox" name="desc" value="1" checked[dq.descending]; }
            button type="submit" { "Apply" }
            a href="/inventory" { "Clear" }
        }
        p.small.muted {
            @if let Some(n) = more_than { "More than " (n) } @else { (page.total.unwrap_or(0)) }
            " devices match · listed in " (format!("{list_ms:.1}")) " ms · "
            a href={"/api/v1/export/devices.csv" @if !fq.is_empty() { "?" (fq) }} { "Export CSV" }
        }
        details {
            summary { "Saved filters (" (saved.len()) ")" }
            @if saved.is_empty() { p.muted { "No saved filters yet." } }
            ul { @for f in &saved {
                li {
                    a href={"/inventory?" (f.query)} { (f.name) } " "
                    form.inline method="post" action="/inventory/filters/delete" {
                        (csrf_field(&headers))
                        input type="hidden" name="name" value=(f.name);
                        label.small { input type="checkbox" name="confirm" value="yes" required; " confirm" }
                        button.danger type="submit" { "Delete" }
                    }
                }
            } }
            form.filters method="post" action="/inventory/filters" {
                (csrf_field(&headers))
                input type="hidden" name="query" value=(fq);
                label { "Save the current filter as" input name="name" required maxlength="100"; }
                button type="submit" { "Save" }
            }
        }
        @if page.devices.is_empty() {
            div.empty { "No devices match these filters." }
        } @else {
            table {
                thead { tr { th { "Name" } th { "Site" } th { "Category" } th { "Criticality" } th { "Vendor" } th { "Model" } th { "Software" } th { "IP" } th { "Last seen" } } }
                tbody { @for d in &page.devices {
                    tr {
                        td { a href={"/devices/" (urlencode(&d.id))} { (d.name) } @if d.stale { " " span.tag { "stale" } } }
                        td { (d.site) }
                        td { (d.category.clone().unwrap_or_default()) }
                        td { (d.criticality.clone().unwrap_or_default()) }
                        td { (d.vendor.clone().unwrap_or_default()) }
                        td { (d.model.clone().unwrap_or_default()) }
                        td { (d.software_version.clone().or(d.firmware_version.clone()).unwrap_or_default()) }
                        td.small { (d.ips.first().cloned().unwrap_or_default()) }
                        td.small { (fmt_time(&state, d.last_seen)) }
                    }
                } }
            }
        }
        div.pager {
            @if q.after.is_some() { a href={"/inventory?" (fq)} { "« First page" } }
            @if let Some(c) = &page.next_cursor {
                a href={"/inventory?" (fq) @if !fq.is_empty() { "&" } "after=" (urlencode(c))} { "Next page »" }
            }
        }
    };
    let mut resp = html_response(
        StatusCode::OK,
        layout(&user, "Inventory", "/inventory", flash.as_ref(), body),
    );
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = format!("list;dur={list_ms:.2}, total;dur={total_ms:.2}").parse() {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

#[derive(Debug, Deserialize)]
pub struct SaveFilterForm {
    pub name: String,
    pub query: String,
}

pub async fn save_filter(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(f): Form<SaveFilterForm>,
) -> Response {
    let owner = user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let name = f.name.trim().to_string();
    if name.is_empty() {
        return redirect(
            &format!("/inventory?{}", f.query),
            false,
            "Give the filter a name.",
        );
    }
    match state
        .store
        .save_filter(&SavedFilter {
            owner,
            name: name.clone(),
            query: f.query.clone(),
        })
        .await
    {
        Ok(()) => redirect(
            &format!("/inventory?{}", f.query),
            true,
            &format!("Filter \u{201c}{name}\u{201d} saved."),
        ),
        Err(e) => redirect("/inventory", false, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteFilterForm {
    pub name: String,
    pub confirm: Option<String>,
}

pub async fn delete_filter(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(f): Form<DeleteFilterForm>,
) -> Response {
    if f.confirm.as_deref() != Some("yes") {
        return redirect(
            "/inventory",
            false,
            "Tick \u{201c}confirm\u{201d} to delete a saved filter.",
        );
    }
    let owner = user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    match state.store.delete_filter(&owner, &f.name).await {
        Ok(true) => redirect("/inventory", true, "Saved filter deleted."),
        Ok(false) => redirect("/inventory", false, "No saved filter of that name."),
        Err(e) => redirect("/inventory", false, &e.to_string()),
    }
}

fn evidence_text(ev: &serde_json::Value) -> String {
    if ev.is_null() {
        return String::new();
    }
    let g = |k: &str| ev.get(k).map(|v| v.to_string()).unwrap_or_default();
    format!("file {} packet {}", g("file"), g("packet"))
}

fn source_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub async fn device(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let store = &state.store;
    let d = match store.device(&id).await {
        // A site-scoped user learns nothing about other sites' devices (as in the API).
        Ok(Some(d))
            if user
                .as_ref()
                .is_none_or(|u| u.may_see_site(&d.summary.site)) =>
        {
            d
        }
        Ok(_) => return error_page(&user, StatusCode::NOT_FOUND, "No device with this id."),
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let findings = store
        .finding_rows(&FindingRowQuery {
            device_id: Some(id.clone()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let conns = store
        .connection_rows(None, Some(&id), 500)
        .await
        .unwrap_or_default();
    let plan = store.plan_of_device(&id).await.unwrap_or_default();
    let reviews = store.reviews_of_device(&id).await.unwrap_or_default();
    let documents = store.device_documents(&id).await.unwrap_or_default();
    let sboms = device_sboms(&state, &d.summary, &documents).await;
    let s = &d.summary;
    let attrs = d
        .detail
        .get("attributes")
        .and_then(|a| a.as_object())
        .cloned()
        .unwrap_or_default();
    let security = d
        .detail
        .get("security")
        .and_then(|a| a.as_array())
        .cloned()
        .unwrap_or_default();
    // Peers: names of the devices on the other side.
    let mut peer_ids: BTreeSet<String> = BTreeSet::new();
    for c in &conns {
        for p in [&c.client_device, &c.server_device].into_iter().flatten() {
            if *p != id {
                peer_ids.insert(p.clone());
            }
        }
    }
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    for p in peer_ids.iter().take(60) {
        if let Ok(Some(pd)) = store.device(p).await {
            names.insert(
                p.clone(),
                (
                    pd.summary.name.clone(),
                    pd.summary.criticality.clone().unwrap_or_default(),
                ),
            );
        }
    }
    let name_of = |x: &Option<String>, addr: &str| -> String {
        x.as_ref()
            .and_then(|i| {
                names
                    .get(i)
                    .map(|n| n.0.clone())
                    .or_else(|| (*i == id).then(|| s.name.clone()))
            })
            .unwrap_or_else(|| addr.to_string())
    };
    let mut nodes = vec![svg::Node {
        id: id.clone(),
        label: s.name.clone(),
        group: "this device".into(),
        criticality: s.criticality.clone().unwrap_or_default(),
        href: None,
    }];
    let mut edges = Vec::new();
    let mut seen_nodes = BTreeSet::new();
    for c in &conns {
        let other = if c.client_device.as_deref() == Some(id.as_str()) {
            (&c.server_device, &c.server)
        } else {
            (&c.client_device, &c.client)
        };
        let oid = other.0.clone().unwrap_or_else(|| other.1.clone());
        if seen_nodes.insert(oid.clone()) && seen_nodes.len() <= 40 {
            let (label, crit) = other
                .0
                .as_ref()
                .and_then(|i| names.get(i).cloned())
                .unwrap_or_else(|| (other.1.clone(), String::new()));
            nodes.push(svg::Node {
                id: oid.clone(),
                label,
                group: "peers".into(),
                criticality: crit,
                href: other
                    .0
                    .as_ref()
                    .map(|i| format!("/devices/{}", urlencode(i))),
            });
        }
        edges.push(svg::Edge {
            from: id.clone(),
            to: oid,
            protocol: if c.protocol.is_empty() {
                format!("{}/{}", c.transport, c.server_port)
            } else {
                c.protocol.clone()
            },
            violation: false,
            critical_path: false,
        });
    }
    // Blast radius: what this device could reach next over observed connections (a client
    // reaches the servers it talked to), up to three hops within its site.
    let site_conns = store
        .connection_rows(Some(&s.site), None, 50_000)
        .await
        .unwrap_or_default();
    let mut adj: HashMap<String, BTreeSet<String>> = HashMap::new();
    for c in &site_conns {
        let a = c.client_device.clone().unwrap_or_else(|| c.client.clone());
        let b = c.server_device.clone().unwrap_or_else(|| c.server.clone());
        if a != b {
            adj.entry(a).or_default().insert(b);
        }
    }
    let mut reached: Vec<(String, u32)> = Vec::new();
    {
        let mut seen: BTreeSet<String> = BTreeSet::from([id.clone()]);
        let mut frontier = vec![id.clone()];
        for hop in 1..=3u32 {
            let mut next = Vec::new();
            for n in &frontier {
                for m in adj.get(n).into_iter().flatten() {
                    if seen.insert(m.clone()) {
                        reached.push((m.clone(), hop));
                        next.push(m.clone());
                    }
                }
            }
            frontier = next;
        }
    }
    let mut blast: Vec<(String, String, String, u32, bool)> = Vec::new();
    for (n, hops) in reached.iter().take(200) {
        match store.device(n).await {
            Ok(Some(pd)) => {
                let crit = pd.summary.criticality.clone().unwrap_or_default();
                let life = crit == "critical";
                blast.push((
                    n.clone(),
                    pd.summary.name.clone(),
                    pd.summary.category.clone().unwrap_or_default(),
                    *hops,
                    life,
                ));
            }
            _ => blast.push((
                String::new(),
                n.clone(),
                "unidentified address".into(),
                *hops,
                false,
            )),
        }
    }
    let life_reached = blast.iter().filter(|b| b.4).count();
    let kinds: Vec<&str> = ward_store::DEVICE_COLUMNS.to_vec();
    let body = html! {
        h1 { (s.name) }
        p.muted.small { "Device " code { (s.id) } " · site " (s.site) " · first seen " (fmt_time(&state, s.first_seen)) " · last seen " (fmt_time(&state, s.last_seen)) @if s.stale { " · " span.tag { "stale" } } }
        div.grid {
            section.card {
                h2 { "Identity" }
                table {
                    thead { tr { th { "Attribute" } th { "Value" } th { "Confidence" } th { "Evidence" } } }
                    tbody {
                        tr { td { "category" } td { (s.category.clone().unwrap_or_default()) } td {} td { "clinical taxonomy" } }
                        tr { td { "criticality" } td { (s.criticality.clone().unwrap_or_default()) } td {} td { "from the category" } }
                        @for (k, a) in &attrs {
                            tr {
                                td { (k) }
                                td { (a.get("value").and_then(|v| v.as_str()).unwrap_or("")) @if a.get("overridden").and_then(|v| v.as_bool()) == Some(true) { " " span.tag { "manual" } } @if a.get("conflict").and_then(|v| v.as_bool()) == Some(true) { " " span.tag { "conflict" } } }
                                td { (format!("{:.2}", a.get("confidence").and_then(|v| v.as_f64()).unwrap_or(0.0))) }
                                td.small {
                                    details {
                                        summary { (a.get("candidates").and_then(|c| c.as_array()).map(|c| c.len()).unwrap_or(0)) " candidate(s)" }
                                        ul { @for c in a.get("candidates").and_then(|c| c.as_array()).cloned().unwrap_or_default() {
                                            li { strong { (c.get("value").and_then(|v| v.as_str()).unwrap_or("")) } " (" (format!("{:.2}", c.get("confidence").and_then(|v| v.as_f64()).unwrap_or(0.0))) ") from " (source_text(c.get("source").unwrap_or(&serde_json::Value::Null))) " " (evidence_text(c.get("evidence").unwrap_or(&serde_json::Value::Null))) }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
                p.small { "MAC " (s.macs.join(", ")) " · IP " (s.ips.join(", ")) }
                h3 { "Manual correction" }
                form.filters method="post" action={"/devices/" (urlencode(&s.id)) "/override"} {
                    (csrf_field(&headers))
                    label { "Attribute" select name="attribute" { @for k in &kinds { option value=(k) { (k) } } } }
                    label { "Value" input name="value" required maxlength="200"; }
                    label { "Note" input name="note" maxlength="500"; }
                    button type="submit" { "Save correction" }
                }
                @if !d.overrides.is_empty() {
                    p.small { "Corrections: " @for o in &d.overrides { (o.attribute.as_str()) " = " (o.value) " (" (o.author.clone().unwrap_or_default()) ") " } }
                }
            }
            section.card {
                h2 { "Connections" }
                (raw(svg::graph(&format!("Connections of {}", s.name), &nodes, &edges, 460)))
                @if conns.is_empty() { div.empty { "No connections observed for this device." } } @else {
                    table { thead { tr { th { "Client" } th { "Server" } th { "Service" } th { "Last seen" } } }
                    tbody { @for c in conns.iter().take(100) { tr {
                        td { (name_of(&c.client_device, &c.client)) } td { (name_of(&c.server_device, &c.server)) }
                        td { (c.protocol) " " span.muted { (c.transport) "/" (c.server_port) } } td.small { (fmt_time(&state, c.last_seen)) }
                    } } } }
                }
            }
        }
        section.card {
            h2 { "Security observations" }
            @if security.is_empty() { div.empty { "No security observations for this device." } } @else {
                table { thead { tr { th { "Kind" } th { "Severity" } th { "Detail" } th { "Seen" } } }
                tbody { @for o in &security { tr {
                    td { (o.get("kind").and_then(|v| v.as_str()).unwrap_or("")) }
                    td { (o.get("severity").and_then(|v| v.as_str()).unwrap_or("")) }
                    td { (o.get("detail").and_then(|v| v.as_str()).unwrap_or("")) }
                    td { (o.get("count").and_then(|v| v.as_u64()).unwrap_or(0)) "×" }
                } } } }
            }
        }
        section.card {
            h2 { "Findings" }
            @if findings.is_empty() { div.empty { "No findings: no imported advisory matches this device." } } @else {
                table { thead { tr { th { "Vulnerability" } th { "Tier" } th { "Status" } th { "Why" } } }
                tbody { @for f in &findings { tr {
                    td { (f.finding.vulnerability) @if kev_of(f) { " " span.tag.kev { "KEV" } } }
                    td { (tier_tag(&tier_of(f))) }
                    td { (f.finding.status.as_str()) @if !f.finding.reason.is_empty() { br; span.small.muted { (f.finding.reason) } } }
                    td.small { details { summary { "explanation" } ul { @for l in f.finding.explanation.get("lines").and_then(|l| l.as_array()).cloned().unwrap_or_default() { li { (l.as_str().unwrap_or("")) } } } } }
                } } } }
                p { a href={"/findings?device=" (urlencode(&id))} { "Triage these findings" } }
            }
        }
        div.grid {
            section.card {
                h2 { "Mitigation plan" }
                @if plan.is_empty() { div.empty { "No plan actions for this device." } } @else {
                    ul { @for a in &plan { li { strong { (a.title) } " · " (a.status) " · " (a.owner) @if !a.due.is_empty() { " · due " (a.due) } } } }
                }
            }
            section.card {
                h2 { "Blast radius" }
                @if blast.is_empty() { div.empty { "This device started no observed connection: nothing reachable from it." } } @else {
                    p { "If this device were compromised it could reach " strong { (reached.len()) } " device(s) or address(es) within 3 hops" @if life_reached > 0 { ", " span.tag.t-P1 { (life_reached) " life-critical" } } "." }
                    table { thead { tr { th { "Reached" } th { "Category" } th { "Hops" } } }
                    tbody { @for b in blast.iter().take(30) { tr {
                        td { @if b.0.is_empty() { (b.1) } @else { a href={"/devices/" (urlencode(&b.0))} { (b.1) } } @if b.4 { " " span.tag.t-P1 { "life-critical" } } }
                        td { (b.2) } td { (b.3) }
                    } } } }
                }
            }
            section.card {
                h2 { "Review history" }
                p { a.button href={"/reviews/" (urlencode(&id))} { "Review this device" } }
                @if reviews.is_empty() { div.empty { "Never reviewed." } } @else {
                    table { thead { tr { th { "When" } th { "Who" } th { "Checklist" } th { "Next due" } } }
                    tbody { @for r in &reviews { tr {
                        td.small { (fmt_time(&state, r.reviewed_at)) } td { (r.reviewer) }
                        td.small { (checklist_summary(r)) @if !r.note.is_empty() { br; (r.note) } }
                        td.small { (r.due_at.map(|t| fmt_date(&state, t)).unwrap_or_default()) }
                    } } } }
                }
            }
        }
        div.grid {
            (documents_section(&user, &headers, &state, s, &documents, &sboms))
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            &s.name,
            "/inventory",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

/// "identity ✓, software ✗ ..." for a review.
pub fn checklist_summary(r: &ward_store::Review) -> String {
    let m = |b: bool| if b { "yes" } else { "no" };
    format!(
        "identity {}, software {}, findings {}, plan {}, connections {}",
        m(r.identity_confirmed),
        m(r.software_confirmed),
        m(r.findings_triaged),
        m(r.plan_current),
        m(r.connections_expected)
    )
}

#[derive(Debug, Deserialize)]
pub struct OverrideForm {
    pub attribute: String,
    pub value: String,
    pub note: Option<String>,
}

pub async fn device_override(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> Response {
    let back = format!("/devices/{}", urlencode(&id));
    let value = f.value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return redirect(
            &back,
            false,
            "The corrected value must be 1 to 200 characters.",
        );
    }
    let Ok(attribute) = f.attribute.parse::<ward_identify::AttrKind>() else {
        return redirect(&back, false, "Choose one of the listed attributes.");
    };
    let actor = actor_of(&user);
    let ov = ward_identify::ManualOverride {
        device_id: id.clone(),
        attribute,
        value: value.to_string(),
        author: Some(actor.name.clone()),
        note: f.note.filter(|n| !n.trim().is_empty()),
        set_at: Some(ward_model::Timestamp(
            u64::try_from(now_micros()).unwrap_or(0),
        )),
    };
    match state.store.set_override(&ov, &actor).await {
        Ok(()) => redirect(
            &back,
            true,
            "Correction saved; it wins over what Ward inferred.",
        ),
        Err(e) => redirect(&back, false, &e.to_string()),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct MapQuery {
    pub site: Option<String>,
    pub category: Option<String>,
    pub zone: Option<String>,
}

/// Category group (zone) of a category.
fn zone_of(category: &str) -> String {
    category
        .parse::<ward_identify::taxonomy::Category>()
        .map(|c| c.group().as_str().to_string())
        .unwrap_or_else(|_| {
            if category.is_empty() {
                "unknown".into()
            } else {
                "other".into()
            }
        })
}

pub async fn map(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(q): Query<MapQuery>,
) -> Response {
    let site = nonempty(&q.site);
    let cat = nonempty(&q.category);
    let zone = nonempty(&q.zone);
    let conns = match state
        .store
        .connection_rows(site.as_deref(), None, 5000)
        .await
    {
        Ok(c) => c,
        Err(e) => return error_page(&user, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let page = state
        .store
        .list_devices(&DeviceQuery {
            site: site.clone(),
            limit: 1000,
            with_total: false,
            ..Default::default()
        })
        .await
        .map(|p| p.devices)
        .unwrap_or_default();
    let by_id: HashMap<&str, &ward_store::DeviceSummary> =
        page.iter().map(|d| (d.id.as_str(), d)).collect();
    let keep = |d: &ward_store::DeviceSummary| {
        let c = d.category.clone().unwrap_or_default();
        cat.as_ref().is_none_or(|x| *x == c) && zone.as_ref().is_none_or(|z| *z == zone_of(&c))
    };
    let mut nodes = Vec::new();
    let mut seen = BTreeSet::new();
    let mut edges = Vec::new();
    let mut violations = 0;
    for c in &conns {
        let (Some(a), Some(b)) = (
            c.client_device.as_deref().and_then(|i| by_id.get(i)),
            c.server_device.as_deref().and_then(|i| by_id.get(i)),
        ) else {
            continue;
        };
        if !keep(a) && !keep(b) {
            continue;
        }
        for d in [a, b] {
            if seen.insert(d.id.clone()) {
                let c = d.category.clone().unwrap_or_default();
                nodes.push(svg::Node {
                    id: d.id.clone(),
                    label: d.name.clone(),
                    group: zone_of(&c),
                    criticality: d.criticality.clone().unwrap_or_default(),
                    href: Some(format!("/devices/{}", urlencode(&d.id))),
                });
            }
        }
        let za = zone_of(&a.category.clone().unwrap_or_default());
        let zb = zone_of(&b.category.clone().unwrap_or_default());
        let p = c.protocol.to_ascii_lowercase();
        // Cleartext remote logins and IT-to-clinical traffic outside clinical protocols.
        let violation = p.contains("telnet")
            || p.contains("ftp")
            || (za != zb && za == "it" && !(p.contains("hl7") || p.contains("dicom")));
        violations += usize::from(violation);
        let critical_path = [a, b]
            .iter()
            .any(|d| d.criticality.as_deref() == Some("critical"));
        edges.push(svg::Edge {
            from: a.id.clone(),
            to: b.id.clone(),
            protocol: if c.protocol.is_empty() {
                format!("{}/{}", c.transport, c.server_port)
            } else {
                c.protocol.clone()
            },
            violation,
            critical_path,
        });
    }
    let mut protos: BTreeMap<String, usize> = BTreeMap::new();
    for e in &edges {
        *protos.entry(e.protocol.clone()).or_default() += 1;
    }
    let sites = state.store.sites().await.unwrap_or_default();
    let body = html! {
        h1 { "Connection map" }
        form.filters method="get" action="/map" {
            label { "Site" select name="site" { option value="" { "All sites" } @for s in &sites { option value=(s.id) selected[Some(&s.id) == site.as_ref()] { (s.name) } } } }
            label { "Zone" input name="zone" value=(zone.clone().unwrap_or_default()) placeholder="life_sustaining, it, ..."; }
            label { "Category" input name="category" value=(cat.clone().unwrap_or_default()); }
            button type="submit" { "Filter" }
        }
        p.small.muted { (nodes.len()) " devices · " (edges.len()) " connections · " strong { (violations) " policy violations" } " (red dashed) · thick lines: paths to life-critical devices (dark ring)" }
        @if nodes.is_empty() { div.empty { "No connections between identified devices match these filters." } } @else {
            (raw(svg::graph("Connection map", &nodes, &edges, 900)))
        }
        h2 { "Connections by protocol" }
        table { thead { tr { th { "Protocol" } th { "Connections" } } } tbody { @for (p, n) in &protos { tr { td { (p) } td { (n) } } } } }
    };
    html_response(
        StatusCode::OK,
        layout(&user, "Connection map", "/map", None, body),
    )
}

/// Keeps `Markup` in the signature set used by other modules.
pub fn nothing() -> Markup {
    html! {}
}

// ---------------------------------------------------------------------------------------
// Device documents and SBOMs

/// The label of a document kind.
pub fn document_kind_label(kind: &str) -> &str {
    ward_store::DOCUMENT_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

/// A byte count for people.
pub fn human_size(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    }
}

/// Whether the page's user may change the inventory (no user: the page tests, which run
/// without the authorization layer).
fn may_edit(user: &MaybeUser) -> bool {
    user.as_ref()
        .is_none_or(|u| u.allows(crate::rbac::Permission::EditInventory))
}

/// One SBOM shown on a device page: where it comes from and its components.
pub struct SbomView {
    /// "intel SBOM ..." or "attached file ...".
    pub source: String,
    /// What the SBOM describes (its subject), when it says.
    pub subject: String,
    pub components: Vec<ward_intel::Component>,
    /// Why an attached SBOM file could not be read.
    pub error: Option<String>,
}

/// The SBOM of a stored intel document's JSON: imports store the parsed document beside
/// the exact file (`{"file", "raw", "parsed"}`, `ui::pipeline::intel_document`); records
/// of earlier versions hold only the file (read again) or only the parsed document.
pub fn sbom_of_stored(json: &serde_json::Value) -> Option<ward_intel::SbomDocument> {
    if let Some(parsed) = json.get("parsed") {
        return match serde_json::from_value::<ward_intel::IntelDocument>(parsed.clone()).ok()? {
            ward_intel::IntelDocument::Sbom(s) => Some(*s),
            _ => None,
        };
    }
    let doc = match json.get("raw").and_then(|r| r.as_str()) {
        Some(raw) => {
            let file = json.get("file").and_then(|f| f.as_str()).unwrap_or("sbom");
            ward_intel::read_document(raw.as_bytes(), file).ok()?.1
        }
        None => serde_json::from_value::<ward_intel::IntelDocument>(json.clone()).ok()?,
    };
    match doc {
        ward_intel::IntelDocument::Sbom(s) => Some(*s),
        _ => None,
    }
}

/// Whether an SBOM describes this device: its subject's supplier (or publisher) is the
/// device's vendor (through the vendor alias table) and its subject's name is the device's
/// model, the rule `ward assess --sbom` links SBOMs to devices by.
pub fn sbom_describes(sbom: &ward_intel::SbomDocument, vendor: &str, model: &str) -> bool {
    let Some(subject) = &sbom.subject else {
        return false;
    };
    let aliases = ward_assess::alias::VendorAliases::standard();
    let Some(device_vendor) = aliases.key(vendor) else {
        return false;
    };
    let sbom_vendor = subject
        .supplier
        .as_deref()
        .or(subject.publisher.as_deref())
        .and_then(|v| aliases.key(v));
    !model.trim().is_empty()
        && sbom_vendor.as_deref() == Some(device_vendor.as_str())
        && subject.name.trim().eq_ignore_ascii_case(model.trim())
}

fn subject_text(sbom: &ward_intel::SbomDocument) -> String {
    sbom.subject
        .as_ref()
        .map(|s| {
            let mut t = String::new();
            if let Some(v) = s.supplier.as_ref().or(s.publisher.as_ref()) {
                t.push_str(v);
                t.push(' ');
            }
            t.push_str(&s.name);
            if let Some(v) = &s.version {
                t.push(' ');
                t.push_str(v);
            }
            t
        })
        .unwrap_or_default()
}

/// The SBOMs that apply to a device: imported intel SBOMs whose subject is the device's
/// vendor and model, and SBOM files attached to the device (read with `ward-intel`).
pub async fn device_sboms(
    state: &AppState,
    summary: &ward_store::DeviceSummary,
    documents: &[ward_store::DeviceDocument],
) -> Vec<SbomView> {
    let vendor = summary.vendor.clone().unwrap_or_default();
    let model = summary.model.clone().unwrap_or_default();
    let mut out = Vec::new();
    if !vendor.trim().is_empty() && !model.trim().is_empty() {
        let stored = state
            .store
            .sbom_intel_documents(model.trim(), 50)
            .await
            .unwrap_or_default();
        let (v, m) = (vendor.clone(), model.clone());
        let matched = tokio::task::spawn_blocking(move || {
            stored
                .into_iter()
                .filter_map(|(summary, json)| {
                    let sbom = sbom_of_stored(&json)?;
                    sbom_describes(&sbom, &v, &m).then_some((summary, sbom))
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for (s, sbom) in matched {
            out.push(SbomView {
                source: format!("intel SBOM {} (imported by {})", s.doc_id, s.imported_by),
                subject: subject_text(&sbom),
                components: sbom.components,
                error: None,
            });
        }
    }
    for d in documents.iter().filter(|d| d.kind == "sbom").take(5) {
        let Ok(Some((meta, bytes))) = state.store.device_document_content(d.id).await else {
            continue;
        };
        let name = meta.file_name.clone();
        let read =
            tokio::task::spawn_blocking(move || ward_intel::read_document(&bytes, &name)).await;
        let source = format!("attached file {} (by {})", meta.file_name, meta.uploaded_by);
        match read {
            Ok(Ok((_, ward_intel::IntelDocument::Sbom(sbom), _))) => out.push(SbomView {
                source,
                subject: subject_text(&sbom),
                components: sbom.components,
                error: None,
            }),
            Ok(Ok(_)) => out.push(SbomView {
                source,
                subject: String::new(),
                components: Vec::new(),
                error: Some("the file is not an SBOM (CycloneDX or SPDX)".into()),
            }),
            Ok(Err(e)) => out.push(SbomView {
                source,
                subject: String::new(),
                components: Vec::new(),
                error: Some(format!("the file could not be read as an SBOM: {e}")),
            }),
            Err(_) => {}
        }
    }
    out
}

/// The device page's "Attached SBOM" and "Documents" sections.
pub fn documents_section(
    user: &MaybeUser,
    headers: &HeaderMap,
    state: &AppState,
    device: &ward_store::DeviceSummary,
    documents: &[ward_store::DeviceDocument],
    sboms: &[SbomView],
) -> Markup {
    let enc = urlencode(&device.id);
    let edit = may_edit(user);
    html! {
        section.card id="sbom" {
            h2 { "Attached SBOM" }
            @if sboms.is_empty() {
                div.empty {
                    "No SBOM applies to this device: no imported SBOM describes "
                    @match (&device.vendor, &device.model) {
                        (Some(v), Some(m)) if !v.is_empty() && !m.is_empty() => { strong { (v) " " (m) } }
                        _ => { "it (its vendor and model are not known)" }
                    }
                    ", and no SBOM file is attached."
                }
            } @else {
                p.small.muted { "An imported SBOM applies when its subject's supplier is the device's vendor and its name the device's model; attached SBOM files always apply." }
                @for s in sboms {
                    h3 { (s.source) @if !s.subject.is_empty() { " · " span.muted { (s.subject) } } }
                    @if let Some(e) = &s.error { div.msg.err { (e) } }
                    @else if s.components.is_empty() { div.empty { "The SBOM lists no components." } }
                    @else {
                        table {
                            caption.small.muted { (s.components.len()) " component(s)" }
                            thead { tr { th { "Component" } th { "Version" } th { "Type" } th { "Supplier" } th { "Package URL" } } }
                            tbody { @for c in s.components.iter().take(200) { tr {
                                td { @if let Some(g) = &c.group { span.muted { (g) "/" } } (c.name) }
                                td { (c.version.clone().unwrap_or_default()) }
                                td.small { (c.component_type.clone().unwrap_or_default()) }
                                td.small { (c.supplier.clone().or_else(|| c.publisher.clone()).unwrap_or_default()) }
                                td.small { code { (c.purl.clone().unwrap_or_default()) } }
                            } } }
                        }
                        @if s.components.len() > 200 { p.small.muted { "and " (s.components.len() - 200) " more" } }
                    }
                }
            }
        }
        section.card id="documents" {
            h2 { "Documents" }
            @if documents.is_empty() {
                div.empty { "No documents attached to this device yet." }
            } @else {
                table {
                    thead { tr { th { "Document" } th { "Kind" } th { "Size" } th { "Added" } th { "SHA-256" } @if edit { th {} } } }
                    tbody { @for d in documents { tr {
                        td {
                            a href={"/api/v1/devices/" (enc) "/documents/" (d.id)} download=(d.file_name) { (d.file_name) }
                            @if !d.note.is_empty() { br; span.small.muted { (d.note) } }
                        }
                        td { (document_kind_label(&d.kind)) }
                        td.small { (human_size(d.size)) }
                        td.small { (fmt_time(state, d.uploaded_at)) " by " (d.uploaded_by) }
                        td.small { code title=(d.sha256) { (d.sha256.get(..12).unwrap_or(&d.sha256)) "…" } }
                        @if edit { td { a href={"/devices/" (enc) "/documents/" (d.id) "/delete"} aria-label={"Delete " (d.file_name)} { "Delete…" } } }
                    } } }
                }
            }
            @if edit {
                h3 { "Attach a document" }
                form.filters method="post" action={"/devices/" (enc) "/documents"} enctype="multipart/form-data" {
                    (csrf_field(headers))
                    label { "Kind" select name="kind" required { @for (k, l) in ward_store::DOCUMENT_KINDS { option value=(k) { (l) } } } }
                    label { "File (at most " (ward_store::MAX_DOCUMENT_BYTES >> 20) " MiB)" input type="file" name="file" required; }
                    label { "Note" input name="note" maxlength="1000"; }
                    button type="submit" { "Attach" }
                }
                p.small.muted { "Only documents without patient data: MDS2 forms, security white papers, SBOMs, manuals." }
            }
        }
    }
}

/// Attaches an uploaded document to a device (the form of the device page).
pub async fn document_upload(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let back = format!("/devices/{}", urlencode(&id));
    let u = user.as_ref().map(|u| &u.0);
    if let Err(e) = crate::api::documents::visible_device(&state, u, &id).await {
        return error_page(&user, e.status, "No device with this id.");
    }
    let mp = match mp {
        Ok(m) => m,
        Err(e) => {
            return redirect(
                &back,
                false,
                &format!("The upload was refused: {}", e.body_text()),
            )
        }
    };
    let doc = match crate::api::documents::read_document_form(mp, &id).await {
        Ok(d) => d,
        Err(e) => return redirect(&back, false, &format!("Nothing attached: {}.", e.message)),
    };
    match state
        .store
        .attach_device_document(&doc, &actor_of(&user))
        .await
    {
        Ok(d) => redirect(
            &back,
            true,
            &format!("{} attached ({}).", d.file_name, human_size(d.size)),
        ),
        Err(e) => redirect(&back, false, &format!("Nothing attached: {e}.")),
    }
}

/// The confirmation page before a document is deleted.
pub async fn document_delete_page(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path((id, doc)): Path<(String, i64)>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let u = user.as_ref().map(|u| &u.0);
    let d = match crate::api::documents::document_of_device(&state, u, &id, doc).await {
        Ok(d) => d,
        Err(e) => return error_page(&user, e.status, "No such document on this device."),
    };
    let enc = urlencode(&id);
    let body = html! {
        h1 { "Delete a document" }
        div.msg.err role="alert" {
            "Delete " strong { (d.file_name) } " (" (document_kind_label(&d.kind)) ", " (human_size(d.size)) ", added " (fmt_time(&state, d.uploaded_at)) " by " (d.uploaded_by) ") from this device? This cannot be undone; the audit log keeps its name and SHA-256."
        }
        form method="post" action={"/devices/" (enc) "/documents/" (d.id) "/delete"} {
            (csrf_field(&headers))
            p { label { input type="checkbox" name="confirm" value="yes" required; " Yes, delete this document" } }
            button.danger type="submit" { "Delete" } " "
            a href={"/devices/" (enc)} { "Cancel" }
        }
    };
    html_response(
        StatusCode::OK,
        layout(
            &user,
            "Delete a document",
            "/inventory",
            Flash::from_query(&q.ok, &q.err).as_ref(),
            body,
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    pub confirm: Option<String>,
}

/// Deletes a document once confirmed.
pub async fn document_delete(
    State(state): State<AppState>,
    user: MaybeUser,
    Path((id, doc)): Path<(String, i64)>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let back = format!("/devices/{}", urlencode(&id));
    let u = user.as_ref().map(|u| &u.0);
    if let Err(e) = crate::api::documents::document_of_device(&state, u, &id, doc).await {
        return error_page(&user, e.status, "No such document on this device.");
    }
    if f.confirm.as_deref() != Some("yes") {
        return redirect(
            &format!("{back}/documents/{doc}/delete"),
            false,
            "Tick the confirmation to delete the document.",
        );
    }
    match state
        .store
        .delete_device_document(doc, &actor_of(&user))
        .await
    {
        Ok(d) => redirect(&back, true, &format!("{} deleted.", d.file_name)),
        Err(e) => redirect(
            &back,
            false,
            &format!("The document could not be deleted: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sbom(supplier: &str, name: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "metadata": {"component": {"type": "device", "bom-ref": "d", "name": name,
                                       "supplier": {"name": supplier}}},
            "components": [{"type": "library", "bom-ref": "c1", "name": "zlib", "version": "1.2.11"}]
        }))
        .expect("json")
    }

    #[test]
    fn sboms_apply_by_vendor_alias_and_model() {
        let bytes = sbom("Baxter Healthcare", "Sigma Spectrum");
        let (_, doc, _) = ward_intel::read_document(&bytes, "s.json").expect("reads");
        let ward_intel::IntelDocument::Sbom(s) = doc else {
            panic!("an SBOM")
        };
        assert!(sbom_describes(&s, "Baxter", "Sigma Spectrum"));
        assert!(sbom_describes(
            &s,
            "baxter international",
            "sigma spectrum "
        ));
        assert!(!sbom_describes(&s, "Baxter", "Sigma"), "the whole model");
        assert!(
            !sbom_describes(&s, "Philips", "Sigma Spectrum"),
            "the vendor too"
        );
        assert!(!sbom_describes(&s, "", "Sigma Spectrum"));
        assert!(!sbom_describes(&s, "Baxter", ""));
    }

    #[test]
    fn stored_sboms_read_back_from_both_storage_forms() {
        let bytes = sbom("Baxter", "Sigma Spectrum");
        // The upload page keeps the exact file.
        let raw = serde_json::json!({"file": "s.json", "raw": String::from_utf8(bytes.clone()).expect("utf8")});
        let a = sbom_of_stored(&raw).expect("raw form");
        // The API keeps the normalised document.
        let (_, doc, _) = ward_intel::read_document(&bytes, "s.json").expect("reads");
        let b =
            sbom_of_stored(&serde_json::to_value(&doc).expect("json")).expect("normalised form");
        assert_eq!(a.components.len(), 1);
        assert_eq!(a.components[0].name, "zlib");
        assert_eq!(a.components, b.components);
        // Not an SBOM, or not readable: none.
        assert!(sbom_of_stored(&serde_json::json!({"file": "x.json", "raw": "{}"})).is_none());
        assert!(sbom_of_stored(&serde_json::json!({"kind": "kev"})).is_none());
    }
}
