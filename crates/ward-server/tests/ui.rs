//! The web UI's pages over real corpus data (clinical captures, ICSMA advisories, KEV) and
//! crafted records: every page renders, forms validate on the server, destructive and bulk
//! changes are confirmed, and no canary patient data reaches any page.

mod common;

use common::*;
use std::collections::BTreeMap;
use ward_store::{DeviceRecord, FindingStatus, NewFinding, PlanAction, Store};

/// A crafted device with one finding and one plan action.
async fn crafted(store: &Store) -> (String, String, String) {
    store
        .upsert_site("north", "North Hospital")
        .await
        .expect("site");
    let mut inferred = BTreeMap::new();
    inferred.insert("category".to_string(), "infusion_pump".to_string());
    inferred.insert("vendor".to_string(), "Baxter".to_string());
    inferred.insert("model".to_string(), "Sigma Spectrum".to_string());
    let id = "dev-pump-1".to_string();
    let now = ward_store::now_micros();
    store
        .upsert_devices(
            &[DeviceRecord {
                id: id.clone(),
                site: "north".into(),
                name: "Pump <ward 3>".into(),
                inferred,
                macs: vec!["00:09:fb:00:00:01".into()],
                ips: vec!["10.1.2.3".into()],
                is_router: false,
                first_seen: now - 1_000_000,
                last_seen: now,
                detail: serde_json::json!({"attributes": {}, "security": [{"kind": "telnet_in_use", "severity": "high", "detail": "telnet to 23", "count": 3}]}),
            }],
            &system(),
        )
        .await
        .expect("device");
    let fid = "F-000000000001".to_string();
    store
        .upsert_findings(
            &[NewFinding {
                id: fid.clone(),
                device_id: id.clone(),
                vulnerability: "CVE-2020-12040".into(),
                document: None,
                confidence: 0.9,
                explanation: serde_json::json!({"lines": ["matched Baxter Sigma Spectrum 8.00.01"], "tier": "P1", "score": 81.0, "kev": true}),
            }],
            &system(),
        )
        .await
        .expect("finding");
    let aid = "A-test".to_string();
    store
        .upsert_plan_actions(
            &[PlanAction {
                id: aid.clone(),
                device_id: id.clone(),
                kind: "vendor_fix".into(),
                title: "Update to 8.01".into(),
                details: String::new(),
                url: String::new(),
                status: "proposed".into(),
                owner: "clinical engineering".into(),
                due: "2000-01-01".into(),
                findings: vec![fid.clone()],
                created_at: 0,
                updated_at: 0,
            }],
            &system(),
        )
        .await
        .expect("plan");
    (id, fid, aid)
}

#[tokio::test]
async fn empty_store_shows_empty_states() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    for (uri, text) in [
        ("/", "No devices yet"),
        ("/inventory", "No devices match"),
        ("/findings", "No findings here"),
        ("/plans", "No plan actions yet"),
        ("/reviews", "Every device"),
        ("/advisories", "No intel imported yet"),
        ("/map", "No connections"),
    ] {
        let a = send(&st, "GET", uri, None).await;
        assert_eq!(a.status, 200, "{uri}");
        assert!(a.body.contains(text), "{uri} should say {text:?}");
        assert!(
            a.body.contains("<nav aria-label=\"Main\">"),
            "{uri} has the navigation"
        );
    }
    let css = send(&st, "GET", "/ui/style.css", None).await;
    assert!(css.body.contains("@media"), "the stylesheet is embedded");
    let missing = send(&st, "GET", "/devices/nope", None).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn crafted_device_pages_escape_and_show_everything() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    let (id, _fid, _aid) = crafted(&store).await;
    let d = send(&st, "GET", &format!("/devices/{id}"), None).await;
    assert_eq!(d.status, 200);
    assert!(d.body.contains("Pump &lt;ward 3&gt;"), "names are escaped");
    assert!(!d.body.contains("Pump <ward 3>"));
    for t in [
        "CVE-2020-12040",
        "KEV",
        "Update to 8.01",
        "telnet_in_use",
        "Never reviewed",
        "matched Baxter Sigma Spectrum",
    ] {
        assert!(d.body.contains(t), "device page shows {t}");
    }
    let dash = send(&st, "GET", "/", None).await;
    assert!(
        dash.body.contains("infusion_pump") && dash.body.contains("<svg"),
        "dashboard has figures"
    );
    // One overdue action (due 2000-01-01), one KEV device, one device due for review.
    assert!(dash
        .body
        .contains("<div class=\"n\">1</div><div class=\"l\">devices with known exploited"));
    let inv = send(
        &st,
        "GET",
        "/inventory?q=10.1.2&sort=criticality&desc=1",
        None,
    )
    .await;
    assert!(inv.body.contains("Pump &lt;ward 3&gt;") && inv.body.contains("1 devices match"));
    let bad = send(&st, "GET", "/inventory?sort=bogus", None).await;
    assert!(
        bad.body.contains("Unknown sort column"),
        "bad input is explained"
    );
    let plans = send(&st, "GET", "/plans", None).await;
    assert!(plans.body.contains("overdue"));
}

#[tokio::test]
async fn triage_needs_reason_justification_expiry_and_confirmation() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    let (_id, fid, _aid) = crafted(&store).await;
    let post = |body: String| {
        let st = st.clone();
        async move { send(&st, "POST", "/findings/bulk", Some(&body)).await }
    };
    let a = post(format!("id={fid}&to=mitigated&reason=")).await;
    assert_eq!(a.status, 303);
    assert!(
        a.location.unwrap_or_default().contains("reason"),
        "a reason is required"
    );
    let a = post(format!("id={fid}&to=false_positive&reason=not+ours")).await;
    assert!(a.location.unwrap_or_default().contains("justification"));
    let a = post(format!(
        "id={fid}&to=risk_accepted&reason=vendor+says+so&until=2001-01-01"
    ))
    .await;
    assert!(a.location.unwrap_or_default().contains("future"));
    let a = post(format!(
        "id={fid}&to=risk_accepted&reason=vendor+says+so&until="
    ))
    .await;
    assert!(a.location.unwrap_or_default().contains("expiry"));
    // Valid, not yet confirmed: a confirmation page, nothing changed.
    let a = post(format!(
        "id={fid}&to=risk_accepted&reason=segmented+VLAN&until=2099-12-31"
    ))
    .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains("Confirm the status change")
            && a.body.contains("name=\"confirm\" value=\"yes\"")
    );
    assert_eq!(
        store.finding(&fid).await.expect("f").expect("f").status,
        FindingStatus::Open
    );
    let a = post(format!(
        "id={fid}&to=risk_accepted&reason=segmented+VLAN&until=2099-12-31&confirm=yes"
    ))
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let f = store.finding(&fid).await.expect("f").expect("f");
    assert_eq!(f.status, FindingStatus::RiskAccepted);
    assert!(f
        .accepted_until
        .is_some_and(|t| t > ward_store::now_micros()));
    let h = store.finding_history(&fid).await.expect("history");
    assert_eq!(h.last().map(|c| c.reason.as_str()), Some("segmented VLAN"));
    // A false positive with its VEX justification.
    let a = post(format!("id={fid}&to=false_positive&reason=no+such+module&justification=component_not_present&confirm=yes")).await;
    assert_eq!(a.status, 303);
    let f = store.finding(&fid).await.expect("f").expect("f");
    assert!(f.reason.contains("component_not_present"));
}

#[tokio::test]
async fn reviews_record_who_what_when_and_validate() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    let (id, _fid, aid) = crafted(&store).await;
    let q = send(&st, "GET", "/reviews", None).await;
    assert!(q.body.contains("1 device(s) due") && q.body.contains("never"));
    let form = send(&st, "GET", &format!("/reviews/{id}"), None).await;
    assert!(
        form.body.contains("Identity confirmed") && form.body.contains("Connections as expected")
    );
    let a = send(
        &st,
        "POST",
        &format!("/reviews/{id}"),
        Some("identity_confirmed=yes&note="),
    )
    .await;
    assert!(
        a.location.unwrap_or_default().contains("explain"),
        "unconfirmed items need a note"
    );
    assert!(store.reviews_of_device(&id).await.expect("r").is_empty());
    let all = "identity_confirmed=yes&software_confirmed=yes&findings_triaged=yes&plan_current=yes&connections_expected=yes&note=all+good";
    let a = send(&st, "POST", &format!("/reviews/{id}"), Some(all)).await;
    assert_eq!(a.status, 303);
    let r = store.reviews_of_device(&id).await.expect("r");
    assert_eq!(r.len(), 1);
    assert!(r[0].identity_confirmed && r[0].connections_expected && r[0].note == "all good");
    assert_eq!(
        r[0].reviewer, "anonymous",
        "the actor is recorded (no session in this test)"
    );
    // Default interval 365 days.
    let due = r[0].due_at.expect("due");
    assert!((due - r[0].reviewed_at - 365 * ward_store::MICROS_PER_DAY).abs() < 1_000_000);
    let q = send(&st, "GET", "/reviews", None).await;
    assert!(q.body.contains("0 device(s) due"));
    // Intervals per category, validated.
    let a = send(
        &st,
        "POST",
        "/reviews/_intervals",
        Some("category=infusion_pump&days=0"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("between"));
    let a = send(
        &st,
        "POST",
        "/reviews/_intervals",
        Some("category=toaster&days=30"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("Unknown"));
    let a = send(
        &st,
        "POST",
        "/reviews/_intervals",
        Some("category=infusion_pump&days=90"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("ok="));
    assert!(store
        .review_intervals()
        .await
        .expect("i")
        .contains(&("infusion_pump".to_string(), 90)));
    // Plans: owner required, status changes.
    let a = send(
        &st,
        "POST",
        &format!("/plans/{aid}"),
        Some("status=done&owner="),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("owner"));
    let a = send(
        &st,
        "POST",
        &format!("/plans/{aid}"),
        Some("status=done&owner=network+team"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("ok="));
    let p = store.plan_of_device(&id).await.expect("plan");
    assert_eq!(
        (p[0].status.as_str(), p[0].owner.as_str()),
        ("done", "network team")
    );
    // Every change is in the audit chain.
    let v = store.verify_audit_chain().await.expect("verify");
    assert!(v.ok() && v.entries >= 5);
    let admin = send(&st, "GET", "/admin", None).await;
    assert!(admin.body.contains("chain verified") && admin.body.contains("review.record"));
}

#[tokio::test]
async fn saved_filters_and_confirmed_delete() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    crafted(&store).await;
    let a = send(
        &st,
        "POST",
        "/inventory/filters",
        Some("name=Pumps&query=category%3Dinfusion_pump"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("ok="));
    let inv = send(&st, "GET", "/inventory", None).await;
    assert!(
        inv.body.contains("Saved filters (1)")
            && inv.body.contains("/inventory?category=infusion_pump")
    );
    let a = send(&st, "POST", "/inventory/filters/delete", Some("name=Pumps")).await;
    assert!(
        a.location.unwrap_or_default().contains("confirm"),
        "deleting needs confirmation"
    );
    assert_eq!(store.saved_filters("").await.expect("f").len(), 1);
    let a = send(
        &st,
        "POST",
        "/inventory/filters/delete",
        Some("name=Pumps&confirm=yes"),
    )
    .await;
    assert!(a.location.unwrap_or_default().contains("ok="));
    assert!(store.saved_filters("").await.expect("f").is_empty());
}

#[tokio::test]
async fn clinical_captures_and_intel_make_pages_without_canaries() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    let captures = clinical_captures();
    let s = ward_server::ui::pipeline::import_captures(&store, "main", &captures, &system())
        .await
        .expect("captures import");
    assert!(
        s.devices >= 10,
        "the clinical captures hold many devices: {s:?}"
    );
    assert!(s.connections > 0);
    let n = ward_server::ui::pipeline::import_intel_files(&store, &intel_files(), &system())
        .await
        .expect("intel import");
    assert!(n >= 20, "ICSMA advisories and KEV imported: {n}");
    ward_server::ui::pipeline::reassess_all(&store, &system())
        .await
        .expect("reassess");
    let page = store
        .list_devices(&ward_store::DeviceQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(page.devices.len(), s.devices);
    let mut bodies = Vec::new();
    for uri in [
        "/",
        "/inventory",
        "/map",
        "/findings",
        "/advisories",
        "/plans",
        "/reviews",
        "/admin",
        "/reports",
    ] {
        let a = send(&st, "GET", uri, None).await;
        assert_eq!(a.status, 200, "{uri}");
        bodies.push((uri.to_string(), a.body));
    }
    for d in &page.devices {
        let a = send(&st, "GET", &format!("/devices/{}", d.id), None).await;
        assert_eq!(a.status, 200);
        bodies.push((d.id.clone(), a.body));
    }
    let map = &bodies[2].1;
    assert!(
        map.contains("<svg") && map.contains("<line"),
        "the map draws connections"
    );
    let adv = &bodies[4].1;
    assert!(
        adv.contains("icsma") || adv.contains("ICSMA"),
        "advisories listed"
    );
    for (what, b) in &bodies {
        assert_no_canary(what, b);
    }
}

/// Sends one request through the whole application (authorization layer included).
async fn send_app(
    app: &axum::Router,
    method: &str,
    uri: &str,
    cookies: &str,
    form: Option<&str>,
) -> (u16, Option<String>, Vec<String>, String) {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "text/html,*/*");
    if !cookies.is_empty() {
        b = b.header(header::COOKIE, cookies);
    }
    if form.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let resp = app
        .clone()
        .oneshot(
            b.body(Body::from(form.unwrap_or("").to_string()))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let loc = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let set: Vec<String> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect();
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    (
        status,
        loc,
        set,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn user(store: &Store, name: &str, password: &str, role: &str, must_change: bool) {
    store
        .create_user(
            &ward_store::NewUser {
                id: format!("u-{name}"),
                username: name.into(),
                display_name: name.into(),
                password_hash: Some(ward_server::auth::hash_password(password).expect("hash")),
                must_change_password: must_change,
                roles: vec![ward_store::RoleGrant {
                    role: role.into(),
                    site: None,
                }],
                ..ward_store::NewUser::default()
            },
            &system(),
        )
        .await
        .expect("user");
}

async fn sign_in(app: &axum::Router, name: &str, password: &str) -> (Option<String>, String) {
    let (status, loc, set, _) = send_app(
        app,
        "POST",
        "/login",
        "",
        Some(&format!(
            "username={name}&password={}&next=%2Finventory",
            password.replace(' ', "+")
        )),
    )
    .await;
    assert_eq!(status, 303);
    (loc, set.join("; "))
}

#[tokio::test]
async fn every_ui_route_has_a_permission_row() {
    for (m, p) in [
        ("GET", "/"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/logout"),
        ("POST", "/logout"),
        ("GET", "/account/password"),
        ("POST", "/account/password"),
        ("GET", "/inventory"),
        ("POST", "/inventory/filters"),
        ("POST", "/inventory/filters/delete"),
        ("GET", "/devices/{id}"),
        ("POST", "/devices/{id}/override"),
        ("POST", "/devices/{id}/documents"),
        ("GET", "/devices/{id}/documents/{doc}/delete"),
        ("POST", "/devices/{id}/documents/{doc}/delete"),
        ("POST", "/admin/users/{id}/password"),
        ("GET", "/map"),
        ("GET", "/findings"),
        ("POST", "/findings/bulk"),
        ("GET", "/findings/vex"),
        ("GET", "/advisories"),
        ("GET", "/upload"),
        ("POST", "/upload"),
        ("GET", "/plans"),
        ("POST", "/plans/{id}"),
        ("GET", "/reviews"),
        ("GET", "/reviews/{id}"),
        ("POST", "/reviews/{id}"),
        ("GET", "/admin"),
        ("GET", "/reports"),
        ("GET", "/reports/posture.html"),
        ("GET", "/reports/posture.pdf"),
        ("GET", "/ui/style.css"),
        ("GET", "/ui/upload.js"),
    ] {
        let method: axum::http::Method = m.parse().expect("method");
        assert!(
            ward_server::rbac::route_permission(&method, p).is_some(),
            "{m} {p} has no row in rbac::ROUTES"
        );
    }
}

#[tokio::test]
async fn login_csrf_roles_and_logout_through_the_whole_app() {
    let (store, _dir) = temp_store().await;
    let st = state(&store);
    let (id, fid, _aid) = crafted(&store).await;
    user(
        &store,
        "alice",
        "correct horse battery staple 1",
        "security_analyst",
        false,
    )
    .await;
    user(
        &store,
        "carl",
        "another long passphrase 22",
        "clinical_engineer",
        false,
    )
    .await;
    user(&store, "nina", "first run password 333", "admin", true).await;
    let app = ward_server::app(st.clone());

    // Without a session a page redirects to the login form; the API answers 401.
    let (s, loc, _, _) = send_app(&app, "GET", "/inventory?q=pump", "", None).await;
    assert_eq!(s, 303);
    assert_eq!(loc.as_deref(), Some("/login?next=%2Finventory%3Fq%3Dpump"));
    let (s, _, _, _) = send_app(&app, "GET", "/api/v1/devices", "", None).await;
    assert_eq!(s, 401);
    let (s, _, _, body) = send_app(&app, "GET", "/login", "", None).await;
    assert_eq!(s, 200);
    assert!(body.contains("name=\"password\""));

    // Wrong password: back to the form with a message; no cookie.
    let (s, loc, set, _) = send_app(
        &app,
        "POST",
        "/login",
        "",
        Some("username=alice&password=nope"),
    )
    .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().contains("err="));
    assert!(set.is_empty());

    let (loc, cookies) = sign_in(&app, "alice", "correct horse battery staple 1").await;
    assert_eq!(
        loc.as_deref(),
        Some("/inventory"),
        "back where the user was going"
    );
    assert!(cookies.contains("ward_session=") && cookies.contains("ward_csrf="));
    let csrf = cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("ward_csrf="))
        .expect("csrf cookie")
        .to_string();
    let (s, _, _, body) = send_app(&app, "GET", "/findings", &cookies, None).await;
    assert_eq!(s, 200);
    assert!(
        body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
        "forms carry the CSRF token"
    );
    assert!(body.contains("Signed in as <strong>alice</strong>"));

    // A state change without the CSRF field is refused; with it, it goes through.
    let form = format!("id={fid}&to=mitigated&reason=VLAN+40&confirm=yes");
    let (s, _, _, _) = send_app(&app, "POST", "/findings/bulk", &cookies, Some(&form)).await;
    assert_eq!(s, 403, "no CSRF token");
    let (s, _, _, _) = send_app(
        &app,
        "POST",
        "/findings/bulk",
        &cookies,
        Some(&format!("csrf=wrong&{form}")),
    )
    .await;
    assert_eq!(s, 403, "wrong CSRF token");
    let (s, loc, _, _) = send_app(
        &app,
        "POST",
        "/findings/bulk",
        &cookies,
        Some(&format!("csrf={csrf}&{form}")),
    )
    .await;
    assert_eq!(s, 303, "{loc:?}");
    let f = store.finding(&fid).await.expect("f").expect("f");
    assert_eq!(f.status, FindingStatus::Mitigated);
    let h = store.finding_history(&fid).await.expect("h");
    assert_eq!(
        h.last().map(|c| c.actor.as_str()),
        Some("alice"),
        "the signed-in user is recorded"
    );

    // OpenVEX export of the triage.
    let (s, _, _, vex) = send_app(&app, "GET", "/findings/vex", &cookies, None).await;
    assert_eq!(s, 200);
    let doc: serde_json::Value = serde_json::from_str(&vex).expect("json");
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(doc["statements"][0]["status"], "fixed");
    assert_eq!(
        doc["statements"][0]["vulnerability"]["name"],
        "CVE-2020-12040"
    );

    // An analyst cannot see administration: a browser gets an HTML page saying so, an API
    // client its JSON 403. A clinical engineer cannot triage.
    let (s, _, _, body) = send_app(&app, "GET", "/admin", &cookies, None).await;
    assert_eq!(s, 403);
    assert!(
        body.contains("<!DOCTYPE html>")
            && body.contains("You do not have the rights to open this page"),
        "HTML 403 page: {body}"
    );
    assert!(
        body.contains("Signed in as <strong>alice</strong>"),
        "with the navigation"
    );
    let (s, _, _, body) = send_app(&app, "GET", "/api/v1/audit", &cookies, None).await;
    assert_eq!(s, 403);
    assert!(
        body.starts_with('{') && !body.contains("<html"),
        "API stays JSON: {body}"
    );
    let (_, carl) = sign_in(&app, "carl", "another long passphrase 22").await;
    let (s, _, _, _) = send_app(&app, "GET", &format!("/devices/{id}"), &carl, None).await;
    assert_eq!(s, 200);
    let carl_csrf = carl
        .split("; ")
        .find_map(|c| c.strip_prefix("ward_csrf="))
        .expect("csrf")
        .to_string();
    let (s, _, _, _) = send_app(
        &app,
        "POST",
        "/findings/bulk",
        &carl,
        Some(&format!("csrf={carl_csrf}&{form}")),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, _, _) = send_app(&app, "GET", "/admin", &carl, None).await;
    assert_eq!(s, 403);

    // A first-run password must be changed before anything else.
    let (loc, nina) = sign_in(&app, "nina", "first run password 333").await;
    assert_eq!(loc.as_deref(), Some("/account/password"));
    let nina_csrf = nina
        .split("; ")
        .find_map(|c| c.strip_prefix("ward_csrf="))
        .expect("csrf")
        .to_string();
    // Pages lead to the password form; the API keeps its JSON 403.
    let (s, loc, _, _) = send_app(&app, "GET", "/admin", &nina, None).await;
    assert_eq!(s, 303);
    assert!(
        loc.as_deref()
            .unwrap_or_default()
            .starts_with("/account/password?err="),
        "{loc:?}"
    );
    let (s, loc, _, _) = send_app(&app, "GET", "/inventory", &nina, None).await;
    assert_eq!(
        (s, loc.map(|l| l.starts_with("/account/password"))),
        (303, Some(true))
    );
    let (s, _, _, body) = send_app(&app, "GET", "/account/password", &nina, None).await;
    assert_eq!(s, 200);
    assert!(body.contains("Change your password") || body.contains("choose your own"));
    let (s, _, _, body) = send_app(&app, "GET", "/api/v1/devices", &nina, None).await;
    assert_eq!(s, 403);
    assert!(body.contains("must be changed first"), "{body}");
    let (s, loc, _, _) = send_app(&app, "POST", "/account/password", &nina, Some(&format!("csrf={nina_csrf}&current_password=first+run+password+333&new_password=short&confirm_password=short"))).await;
    assert_eq!(s, 303);
    assert!(
        loc.unwrap_or_default().contains("err="),
        "the policy is enforced"
    );
    let (s, loc, set, _) = send_app(&app, "POST", "/account/password", &nina, Some(&format!("csrf={nina_csrf}&current_password=first+run+password+333&new_password=a+brand+new+passphrase&confirm_password=a+brand+new+passphrase"))).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().starts_with("/?ok="));
    let nina2 = set.join("; ");
    let (s, _, _, body) = send_app(&app, "GET", "/admin", &nina2, None).await;
    assert_eq!(s, 200);
    assert!(body.contains("chain verified") && body.contains("alice"));
    let (s, _, _, _) = send_app(&app, "GET", "/admin", &nina, None).await;
    assert_eq!(s, 303, "the old session ended with the password change");

    // Sign out ends the session.
    let (s, _, _, _) = send_app(
        &app,
        "POST",
        "/logout",
        &cookies,
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(s, 303);
    let (s, _, _, _) = send_app(&app, "GET", "/findings", &cookies, None).await;
    assert_eq!(s, 303, "signed out: back to the login form");
}

/// The inventory search through the trigram index answers exactly what the scan
/// (`Store::list_devices`, `search LIKE`) answers, pages through all matches, follows
/// renames, and lists a common term without counting it.
#[tokio::test]
async fn inventory_search_index_matches_the_scan() {
    use ward_store::{DeviceQuery, DeviceSort};
    let (store, _dir) = temp_store().await;
    store.upsert_site("s1", "Site one").await.expect("site");
    let now = ward_store::now_micros();
    let record = |i: u32, name: String| DeviceRecord {
        id: format!("dev-{i:06}"),
        site: "s1".into(),
        name,
        inferred: BTreeMap::new(),
        macs: vec![format!("00:1b:21:00:{:02x}:{:02x}", i >> 8, i & 0xff)],
        ips: vec![format!("10.9.{}.{}", i >> 8, i & 0xff)],
        is_router: false,
        first_seen: now,
        last_seen: now - i64::from(i),
        detail: serde_json::json!({}),
    };
    let mut records: Vec<DeviceRecord> = (0..2500)
        .map(|i| record(i, format!("bed-{i:05}")))
        .collect();
    records.push(record(9000, "Ventilator_Room%7".into()));
    store
        .upsert_devices(&records, &system())
        .await
        .expect("devices");
    let query = |text: &str, limit: u32| DeviceQuery {
        text: Some(text.to_string()),
        sort: DeviceSort::LastSeen,
        descending: true,
        limit,
        with_total: true,
        ..Default::default()
    };
    for term in [
        "bed-0012",
        "10.9.3.",
        "ROOM%7",
        "m%7",
        "00:1b:21:00:09",
        "2499",
        "nomatch-xyz",
        "_ro",
    ] {
        let scan = store.list_devices(&query(term, 1000)).await.expect("scan");
        let found = store
            .search_devices(&query(term, 1000))
            .await
            .expect("search");
        assert_eq!(found.more_than, None, "{term}");
        assert_eq!(found.page.total, scan.total, "{term}: count");
        let ids =
            |p: &ward_store::DevicePage| p.devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&found.page), ids(&scan), "{term}: devices and order");
    }
    assert_eq!(
        store
            .search_devices(&query("ROOM%7", 10))
            .await
            .expect("q")
            .page
            .devices
            .len(),
        1,
        "wildcards are literal"
    );
    // Paging through 1,000 matches, 50 at a time, gives every match once, in order.
    let all = store
        .list_devices(&query("bed-01", 1000))
        .await
        .expect("scan");
    assert_eq!(all.devices.len(), 1000);
    let mut q = query("bed-01", 50);
    let mut paged = Vec::new();
    loop {
        let page = store.search_devices(&q).await.expect("page").page;
        assert_eq!(page.total, Some(1000));
        paged.extend(page.devices.iter().map(|d| d.id.clone()));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(
        paged,
        all.devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
    );
    // A common term is listed along the sort index and not counted.
    let common = store
        .search_devices_with_limit(&query("bed-", 50), 2000)
        .await
        .expect("common");
    assert_eq!(common.more_than, Some(2000));
    assert_eq!(common.page.devices.len(), 50);
    assert_eq!(common.page.devices[0].id, "dev-000000", "latest seen first");
    // Renames reach the index (the update trigger); the old name no longer matches.
    store
        .upsert_devices(&[record(7, "theatre-monitor".into())], &system())
        .await
        .expect("rename");
    let renamed = store
        .search_devices(&query("theatre-mon", 10))
        .await
        .expect("q");
    assert_eq!(
        renamed
            .page
            .devices
            .iter()
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>(),
        ["dev-000007"]
    );
    let old = store
        .search_devices(&query("bed-00007", 10))
        .await
        .expect("q");
    assert_eq!(old.page.total, Some(0));
    // The page says how the search was answered.
    let st = state(&store);
    let page = send(&st, "GET", "/inventory?q=bed-", None).await;
    assert!(
        page.body.contains("2499 devices match"),
        "counted below the bound"
    );
    let page = send(&st, "GET", "/inventory?q=theatre", None).await;
    assert!(page.body.contains("1 devices match") && page.body.contains("theatre-monitor"));
}

/// Without JavaScript the upload form posts its CSRF token in the action (`?csrf=`); it is
/// checked against the session, so a missing or foreign token is refused.
/// One part of a multipart body: (field name, file name, content type, bytes).
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

const BOUNDARY: &str = "----wardtestboundary7MA4YWxk";

fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, ct, bytes) in parts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(f) = file {
            body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = ct {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A multipart POST through the whole application, optionally with a header; returns the
/// status, the Location and the body.
async fn post_multipart(
    app: &axum::Router,
    uri: &str,
    cookies: &str,
    header: Option<(&str, &str)>,
    body: Vec<u8>,
) -> (u16, Option<String>, String) {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;
    let mut b = Request::post(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookies)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if let Some((k, v)) = header {
        b = b.header(k, v);
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let loc = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    (status, loc, String::from_utf8_lossy(&bytes).into_owned())
}

/// The upload form without script: the CSRF token is the form's first field (never in
/// the URL); a token in the query is no longer accepted, nor another session's or a forged
/// one; the script's header works too.
#[tokio::test]
async fn multipart_upload_sends_the_token_as_the_first_field_never_in_the_url() {
    let (store, _dir) = temp_store().await;
    let app = ward_server::app(state(&store));
    user(&store, "ula", "upload passphrase 4444", "admin", false).await;
    user(&store, "vic", "other passphrase 5555", "admin", false).await;
    let (_, cookies) = sign_in(&app, "ula", "upload passphrase 4444").await;
    let (_, other) = sign_in(&app, "vic", "other passphrase 5555").await;
    let (csrf, other_csrf) = (csrf_of(&cookies), csrf_of(&other));
    let (s, _, _, page) = send_app(&app, "GET", "/upload", &cookies, None).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("action=\"/upload\""),
        "the form posts to the plain address"
    );
    assert!(
        !page.contains("?csrf=") && !page.contains("data-csrf"),
        "the token is in no URL or attribute for scripts"
    );
    let form_start = page.find("id=\"upload-form\"").expect("the form");
    let first_input = page[form_start..].find("<input").expect("an input") + form_start;
    assert!(
        page[first_input..].starts_with(&format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\""
        )),
        "the token is the form's first field: {}",
        &page[first_input..first_input + 80]
    );
    assert!(
        ward_server::ui::UPLOAD_JS.contains("input[name=csrf]")
            && !ward_server::ui::UPLOAD_JS.contains("data-csrf"),
        "the script reads the token from the field"
    );
    let kev = intel_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("known_exploited"))
        .expect("KEV catalogue");
    let data = std::fs::read(&kev).expect("read KEV");
    let form = |token: Option<&str>| {
        let mut parts: Vec<Part<'_>> = Vec::new();
        if let Some(t) = token {
            parts.push(("csrf", None, None, t.as_bytes()));
        }
        parts.push(("kind", None, None, b"intel"));
        parts.push(("site", None, None, b"main"));
        parts.push(("file", Some("kev.json"), Some("application/json"), &data));
        multipart_body(&parts)
    };
    let (s, _, _) = post_multipart(&app, "/upload", &cookies, None, form(None)).await;
    assert_eq!(s, 403, "no token");
    let (s, _, _) = post_multipart(
        &app,
        &format!("/upload?csrf={csrf}"),
        &cookies,
        None,
        form(None),
    )
    .await;
    assert_eq!(s, 403, "a token in the URL is not accepted any more");
    let (s, _, _) = post_multipart(&app, "/upload", &cookies, None, form(Some(&other_csrf))).await;
    assert_eq!(s, 403, "another session's token");
    let (s, _, _) = post_multipart(&app, "/upload", &cookies, None, form(Some("forged"))).await;
    assert_eq!(s, 403, "forged token");
    // The token must be the first field: later, it is not read (the body streams on).
    let late = multipart_body(&[
        ("kind", None, None, b"intel"),
        ("csrf", None, None, csrf.as_bytes()),
        ("file", Some("kev.json"), Some("application/json"), &data),
    ]);
    let (s, _, _) = post_multipart(&app, "/upload", &cookies, None, late).await;
    assert_eq!(s, 403, "a token after other fields");
    assert!(
        store
            .list_intel_documents(10)
            .await
            .expect("docs")
            .is_empty(),
        "nothing imported by the refused posts"
    );
    let (s, loc, _) = post_multipart(&app, "/upload", &cookies, None, form(Some(&csrf))).await;
    assert_eq!(s, 303);
    let loc = loc.unwrap_or_default();
    assert!(loc.starts_with("/advisories?ok="), "imported: {loc}");
    assert!(!loc.contains(&csrf), "the token is not in the redirect");
    assert_eq!(store.list_intel_documents(10).await.expect("docs").len(), 1);
    // The script's way: the header (the file is already there: nothing new, but accepted).
    let (s, loc, _) = post_multipart(
        &app,
        "/upload",
        &cookies,
        Some(("x-csrf-token", &csrf)),
        form(Some(&csrf)),
    )
    .await;
    assert_eq!(s, 303, "{loc:?}");
    let (s, _, _) = post_multipart(
        &app,
        "/upload",
        &cookies,
        Some(("x-csrf-token", "forged")),
        form(Some(&csrf)),
    )
    .await;
    assert_eq!(s, 403, "a wrong header is not rescued by the field");
}

fn csrf_of(cookies: &str) -> String {
    cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("ward_csrf="))
        .expect("csrf cookie")
        .to_string()
}

/// The one-time secret on a "created" page.
fn secret_of(page: &str) -> String {
    let start = page.find("class=\"secret\"").expect("a secret on the page");
    let rest = &page[start..];
    let open = rest.find('>').expect(">") + 1;
    let close = rest.find("</code>").expect("</code>");
    rest[open..close].to_string()
}

/// Administration from the UI: create a user (one-time password shown once, on a page that
/// is not cached), change roles and site scopes, disable (confirmed) and enable, create a
/// token (secret shown once) and revoke it (confirmed); each change is audited, CSRF is
/// required, and a non-admin can post none of them.
#[tokio::test]
async fn admin_write_actions_are_confirmed_audited_and_admin_only() {
    let (store, _dir) = temp_store().await;
    store
        .upsert_site("north", "North Hospital")
        .await
        .expect("site");
    let app = ward_server::app(state(&store));
    user(&store, "ada", "admin passphrase 12345", "admin", false).await;
    user(
        &store,
        "sam",
        "analyst passphrase 6789",
        "security_analyst",
        false,
    )
    .await;
    let (_, ada) = sign_in(&app, "ada", "admin passphrase 12345").await;
    let (_, sam) = sign_in(&app, "sam", "analyst passphrase 6789").await;
    let (csrf, sam_csrf) = (csrf_of(&ada), csrf_of(&sam));

    let (s, _, _, page) = send_app(&app, "GET", "/admin", &ada, None).await;
    assert_eq!(s, 200);
    for form in [
        "action=\"/admin/users\"",
        "action=\"/admin/tokens\"",
        "/disable\"",
        "/roles\"",
        "action=\"/admin/users/u-sam/password\"",
    ] {
        assert!(page.contains(form), "the admin page has {form}");
    }
    // Roles are chosen from the real roles, for all sites or one, never typed.
    assert!(!page.contains("name=\"roles\""), "no typed roles");
    assert!(page.contains("<select name=\"grant\" multiple"));
    for role in ward_server::rbac::Role::ALL {
        for value in [
            role.as_str().to_string(),
            format!("{}@north", role.as_str()),
        ] {
            assert!(
                page.contains(&format!("<option value=\"{value}\"")),
                "the role list offers {value}"
            );
        }
    }
    assert!(
        page.contains("<option value=\"admin\" selected"),
        "the current grants are chosen"
    );
    assert!(
        !page.contains("action=\"/admin/users/u-ada/password\""),
        "no reset of one's own password"
    );

    // Without the CSRF field nothing is created.
    let (s, _, _, _) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some("username=eve&grant=auditor"),
    )
    .await;
    assert_eq!(s, 403);
    // Server-side validation.
    let (s, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some(&format!("csrf={csrf}&username=bad+name&grant=auditor")),
    )
    .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().starts_with("/admin?err="));
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some(&format!("csrf={csrf}&username=eve&grant=wizard")),
    )
    .await;
    assert!(
        loc.unwrap_or_default().contains("is%20not%20a%20role"),
        "not a role"
    );
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some(&format!("csrf={csrf}&username=eve")),
    )
    .await;
    assert!(
        loc.unwrap_or_default()
            .contains("choose%20at%20least%20one%20role"),
        "a role is required"
    );
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some(&format!("csrf={csrf}&username=eve&grant=auditor%40nowhere")),
    )
    .await;
    assert!(
        loc.unwrap_or_default().starts_with("/admin?err="),
        "unknown site"
    );
    assert!(store.user_by_name("eve").await.expect("q").is_none());

    // Create: the one-time password is on the page (not in a URL), not cached, and works.
    let (s, loc, _, page) = send_app(
        &app,
        "POST",
        "/admin/users",
        &ada,
        Some(&format!(
            "csrf={csrf}&username=eve&display_name=Eve+Ng&grant=auditor%40north"
        )),
    )
    .await;
    assert_eq!((s, loc), (200, None));
    let otp = secret_of(&page);
    assert!(otp.len() >= 12, "{otp}");
    let eve = store.user_by_name("eve").await.expect("q").expect("eve");
    assert!(eve.must_change_password);
    assert_eq!(
        store.user_roles(&eve.id).await.expect("roles"),
        vec![ward_store::RoleGrant {
            role: "auditor".into(),
            site: Some("north".into())
        }]
    );
    let (loc, _) = sign_in(&app, "eve", &otp).await;
    assert_eq!(
        loc.as_deref(),
        Some("/account/password"),
        "the one-time password signs in once, to be changed"
    );

    // Roles and site scopes.
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/users/{}/roles", eve.id),
        &ada,
        Some(&format!(
            "csrf={csrf}&grant=security_analyst%40north&grant=auditor"
        )),
    )
    .await;
    assert!(loc.unwrap_or_default().starts_with("/admin?ok="));
    let roles = store.user_roles(&eve.id).await.expect("roles");
    assert_eq!(roles.len(), 2);
    assert!(roles.contains(&ward_store::RoleGrant {
        role: "auditor".into(),
        site: None
    }));
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users/u-ada/roles",
        &ada,
        Some(&format!("csrf={csrf}&grant=auditor")),
    )
    .await;
    assert!(
        loc.unwrap_or_default()
            .contains("cannot%20remove%20your%20own"),
        "an admin keeps their own admin role"
    );

    // Disable needs the confirmation; the admin cannot disable themself.
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/users/{}/disable", eve.id),
        &ada,
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert!(loc.unwrap_or_default().contains("confirm"));
    assert!(!store.user(&eve.id).await.expect("q").expect("u").disabled);
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/users/{}/disable", eve.id),
        &ada,
        Some(&format!("csrf={csrf}&confirm=yes")),
    )
    .await;
    assert!(loc.unwrap_or_default().starts_with("/admin?ok="));
    assert!(store.user(&eve.id).await.expect("q").expect("u").disabled);
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/users/u-ada/disable",
        &ada,
        Some(&format!("csrf={csrf}&confirm=yes")),
    )
    .await;
    assert!(loc.unwrap_or_default().contains("yourself"));
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/users/{}/enable", eve.id),
        &ada,
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert!(loc.unwrap_or_default().starts_with("/admin?ok="));
    assert!(!store.user(&eve.id).await.expect("q").expect("u").disabled);

    // A token: the secret is shown once and authenticates; revoking needs the confirmation.
    let (s, _, _, page) = send_app(
        &app,
        "POST",
        "/admin/tokens",
        &ada,
        Some(&format!(
            "csrf={csrf}&user_id=u-ada&name=sensor-1&scopes=read&site=&days=30"
        )),
    )
    .await;
    assert_eq!(s, 200);
    let secret = secret_of(&page);
    let tokens = store.list_tokens(None).await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert!(!page.contains("token_hash") && tokens[0].expires_at.is_some());
    let api = |secret: String| {
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            app.oneshot(
                axum::http::Request::get("/api/v1/devices")
                    .header("authorization", format!("Bearer {secret}"))
                    .body(axum::body::Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp")
            .status()
            .as_u16()
        }
    };
    assert_eq!(api(secret.clone()).await, 200, "the shown secret works");
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        "/admin/tokens",
        &ada,
        Some(&format!("csrf={csrf}&user_id=u-ada&name=x&scopes=&days=30")),
    )
    .await;
    assert!(
        loc.unwrap_or_default().starts_with("/admin?err="),
        "a token needs a scope"
    );
    let tid = tokens[0].id.clone();
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/tokens/{tid}/revoke"),
        &ada,
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert!(loc.unwrap_or_default().contains("confirm"));
    assert_eq!(api(secret.clone()).await, 200);
    let (_, loc, _, _) = send_app(
        &app,
        "POST",
        &format!("/admin/tokens/{tid}/revoke"),
        &ada,
        Some(&format!("csrf={csrf}&confirm=yes")),
    )
    .await;
    assert!(loc.unwrap_or_default().starts_with("/admin?ok="));
    assert_eq!(api(secret).await, 401, "revoked");

    // A non-admin can post none of them (and sees no forms).
    for (uri, form) in [
        ("/admin/users".to_string(), "username=mallory&grant=admin"),
        (format!("/admin/users/{}/roles", "u-sam"), "grant=admin"),
        (format!("/admin/users/{}/password", eve.id), "confirm=yes"),
        (format!("/admin/users/{}/disable", eve.id), "confirm=yes"),
        (format!("/admin/users/{}/enable", eve.id), ""),
        ("/admin/tokens".to_string(), "user_id=u-sam&name=t&scopes=*"),
        (format!("/admin/tokens/{tid}/revoke"), "confirm=yes"),
    ] {
        let (s, _, _, _) = send_app(
            &app,
            "POST",
            &uri,
            &sam,
            Some(&format!("csrf={sam_csrf}&{form}")),
        )
        .await;
        assert_eq!(s, 403, "{uri} is admin only");
    }
    assert!(store.user_by_name("mallory").await.expect("q").is_none());
    assert_eq!(
        store.user_roles("u-sam").await.expect("r")[0].role,
        "security_analyst"
    );
    assert_eq!(store.list_tokens(None).await.expect("t").len(), 1);

    // Every change is in the audit log, by ada.
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let by_ada: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == "ada")
        .map(|e| e.action.as_str())
        .collect();
    assert!(by_ada.len() >= 6, "{by_ada:?}");
    for e in &audit {
        let text = format!("{:?} {:?}", e.before, e.after);
        assert!(
            !text.contains(&otp),
            "the one-time password is not in the audit log"
        );
    }
}

/// An administrator resets another local user's password: a confirmed form, a one-time
/// password shown once (not cached, not in a URL or the audit log) that must be changed at
/// the next sign-in; the old password and the user's sessions stop working; their own
/// password and single sign-on accounts cannot be reset this way; admin only.
#[tokio::test]
async fn admin_resets_a_local_password_with_a_one_time_password() {
    let (store, _dir) = temp_store().await;
    let app = ward_server::app(state(&store));
    user(&store, "ada", "admin passphrase 12345", "admin", false).await;
    user(
        &store,
        "bob",
        "engineer passphrase 222",
        "clinical_engineer",
        false,
    )
    .await;
    user(
        &store,
        "sam",
        "analyst passphrase 6789",
        "security_analyst",
        false,
    )
    .await;
    store
        .create_user(
            &ward_store::NewUser {
                id: "u-olga".into(),
                username: "olga".into(),
                display_name: "Olga".into(),
                oidc_issuer: Some("https://idp.example".into()),
                oidc_subject: Some("olga-1".into()),
                roles: vec![ward_store::RoleGrant {
                    role: "auditor".into(),
                    site: None,
                }],
                ..ward_store::NewUser::default()
            },
            &system(),
        )
        .await
        .expect("sso user");
    let (_, ada) = sign_in(&app, "ada", "admin passphrase 12345").await;
    let (_, bob) = sign_in(&app, "bob", "engineer passphrase 222").await;
    let (_, sam) = sign_in(&app, "sam", "analyst passphrase 6789").await;
    let csrf = csrf_of(&ada);
    let (_, _, _, page) = send_app(&app, "GET", "/admin", &ada, None).await;
    assert!(page.contains("action=\"/admin/users/u-bob/password\""));
    assert!(
        !page.contains("action=\"/admin/users/u-olga/password\""),
        "single sign-on accounts have no password form"
    );
    let reset = |cookies: String, form: String, who: &'static str| {
        let app = app.clone();
        async move {
            send_app(
                &app,
                "POST",
                &format!("/admin/users/u-{who}/password"),
                &cookies,
                Some(&form),
            )
            .await
        }
    };

    // Refused: no CSRF, not confirmed, not an admin, oneself, a single sign-on account.
    let (s, _, _, _) = reset(ada.clone(), "confirm=yes".into(), "bob").await;
    assert_eq!(s, 403, "no CSRF field");
    let (s, loc, _, _) = reset(ada.clone(), format!("csrf={csrf}"), "bob").await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().contains("confirm"), "needs the box");
    let (s, _, _, _) = reset(
        sam.clone(),
        format!("csrf={}&confirm=yes", csrf_of(&sam)),
        "bob",
    )
    .await;
    assert_eq!(s, 403, "admin only");
    let (_, loc, _, _) = reset(ada.clone(), format!("csrf={csrf}&confirm=yes"), "ada").await;
    assert!(loc.unwrap_or_default().contains("own%20password"));
    let (_, loc, _, _) = reset(ada.clone(), format!("csrf={csrf}&confirm=yes"), "olga").await;
    assert!(loc.unwrap_or_default().contains("single%20sign-on"));
    let (_, loc, _, _) = reset(ada.clone(), format!("csrf={csrf}&confirm=yes"), "nobody").await;
    assert!(loc.unwrap_or_default().contains("No%20such%20user"));
    let before = store.user_by_name("bob").await.expect("q").expect("bob");
    assert!(!before.must_change_password, "nothing changed yet");

    // Reset: the one-time password is on the page only.
    let (s, loc, _, page) = reset(ada.clone(), format!("csrf={csrf}&confirm=yes"), "bob").await;
    assert_eq!((s, loc), (200, None));
    assert!(page.contains("bob has a new one-time password"));
    let otp = secret_of(&page);
    assert!(otp.len() >= 12, "{otp}");
    let after = store.user_by_name("bob").await.expect("q").expect("bob");
    assert!(
        after.must_change_password,
        "must be changed at next sign-in"
    );
    // Bob's session ended; the old password no longer works; the new one signs in once, to
    // the password form.
    let (s, loc, _, _) = send_app(&app, "GET", "/inventory", &bob, None).await;
    assert!(
        s == 303 && loc.as_deref().is_some_and(|l| l.starts_with("/login")),
        "the old session ended: {s} {loc:?}"
    );
    let (loc, _) = sign_in(&app, "bob", "engineer passphrase 222").await;
    assert!(
        loc.as_deref().is_some_and(|l| l.starts_with("/login")),
        "the old password fails: {loc:?}"
    );
    let (loc, _) = sign_in(&app, "bob", &otp).await;
    assert_eq!(loc.as_deref(), Some("/account/password"));

    // Audited, by ada, without the password or its hash.
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let e = audit
        .iter()
        .find(|e| e.action == "user.password" && e.actor == "ada")
        .expect("the reset is audited");
    assert_eq!(e.object, "user:bob");
    for e in &audit {
        let text = format!("{:?} {:?}", e.before, e.after);
        assert!(!text.contains(&otp), "the one-time password is not audited");
        assert!(!text.contains("$argon2"), "no hash in the audit log");
    }
}

/// A minimal CycloneDX SBOM whose subject is the crafted pump (Baxter Sigma Spectrum).
fn pump_sbom() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"component": {
            "type": "device", "bom-ref": "pump", "name": "Sigma Spectrum",
            "version": "8.00.01", "supplier": {"name": "Baxter"}
        }},
        "components": [
            {"type": "library", "bom-ref": "c1", "name": "openssl", "version": "1.0.2k",
             "purl": "pkg:generic/openssl@1.0.2k"},
            {"type": "operating-system", "bom-ref": "c2", "name": "VxWorks", "version": "6.9"}
        ]
    }))
    .expect("json")
}

/// The device page's documents and SBOM: a clinical engineer attaches a document (form
/// with the CSRF field first), it is listed with a download link that answers as an
/// attachment with nosniff, deletion asks for a confirmation, everything is audited, an
/// auditor cannot change anything; an imported SBOM whose subject is the device's vendor
/// and model and an attached SBOM file show their components, other devices say that no
/// SBOM applies.
#[tokio::test]
async fn device_documents_and_sbom_on_the_device_page() {
    let (store, _dir) = temp_store().await;
    let (id, _fid, _aid) = crafted(&store).await;
    // A second device of another model.
    let mut inferred = BTreeMap::new();
    inferred.insert("vendor".to_string(), "Philips".to_string());
    inferred.insert("model".to_string(), "IntelliVue MX450".to_string());
    store
        .upsert_devices(
            &[DeviceRecord {
                id: "dev-monitor-1".into(),
                site: "north".into(),
                name: "Monitor 1".into(),
                inferred,
                macs: vec![],
                ips: vec![],
                is_router: false,
                first_seen: 1,
                last_seen: 2,
                detail: serde_json::json!({}),
            }],
            &system(),
        )
        .await
        .expect("device");
    let app = ward_server::app(state(&store));
    user(
        &store,
        "cleo",
        "clinical passphrase 3141",
        "clinical_engineer",
        false,
    )
    .await;
    user(
        &store,
        "audrey",
        "auditor passphrase 2718",
        "auditor",
        false,
    )
    .await;
    let (_, cleo) = sign_in(&app, "cleo", "clinical passphrase 3141").await;
    let (_, audrey) = sign_in(&app, "audrey", "auditor passphrase 2718").await;
    let csrf = csrf_of(&cleo);
    let page_uri = format!("/devices/{id}");

    // Empty states first.
    let (s, _, _, page) = send_app(&app, "GET", &page_uri, &cleo, None).await;
    assert_eq!(s, 200);
    assert!(page.contains("No documents attached to this device yet."));
    assert!(
        page.contains("No SBOM applies to this device"),
        "honest empty state"
    );
    assert!(
        page.contains("Baxter Sigma Spectrum"),
        "says which product it looked for"
    );
    let form_at = page
        .find(&format!("action=\"/devices/{id}/documents\""))
        .expect("the upload form");
    let form = &page[form_at..];
    assert!(form.contains("enctype=\"multipart/form-data\""));
    let first_input = form.find("<input").expect("input");
    assert!(
        form[first_input..].starts_with("<input type=\"hidden\" name=\"csrf\""),
        "the CSRF field comes first"
    );
    assert!(!form[..form.find("</form>").expect("end")].contains("?csrf="));

    // Upload: refused without the token, by an auditor, when empty or of an unknown kind.
    let mds2 = b"%PDF-1.4 MDS2 form for the Sigma Spectrum (no patient data)".to_vec();
    let body = |token: &str, kind: &str, bytes: &[u8]| {
        multipart_body(&[
            ("csrf", None, None, token.as_bytes()),
            ("kind", None, None, kind.as_bytes()),
            ("note", None, None, b"from the manufacturer portal"),
            (
                "file",
                Some("MDS2 Sigma.pdf"),
                Some("application/pdf"),
                bytes,
            ),
        ])
    };
    let uri = format!("/devices/{id}/documents");
    let (s, _, _) = post_multipart(&app, &uri, &cleo, None, body("forged", "mds2", &mds2)).await;
    assert_eq!(s, 403, "forged token");
    let (s, _, _) = post_multipart(
        &app,
        &uri,
        &audrey,
        None,
        body(&csrf_of(&audrey), "mds2", &mds2),
    )
    .await;
    assert_eq!(s, 403, "an auditor attaches nothing");
    let (s, loc, _) = post_multipart(&app, &uri, &cleo, None, body(&csrf, "mds2", b"")).await;
    assert_eq!(s, 303);
    assert!(
        loc.unwrap_or_default().contains("err="),
        "empty file refused"
    );
    let (_, loc, _) =
        post_multipart(&app, &uri, &cleo, None, body(&csrf, "patient_chart", &mds2)).await;
    assert!(
        loc.unwrap_or_default().contains("err="),
        "unknown kind refused"
    );
    assert!(store.device_documents(&id).await.expect("docs").is_empty());

    // Attach.
    let (s, loc, _) = post_multipart(&app, &uri, &cleo, None, body(&csrf, "mds2", &mds2)).await;
    assert_eq!(s, 303);
    let loc = loc.unwrap_or_default();
    assert!(loc.starts_with(&format!("/devices/{id}?ok=")), "{loc}");
    let docs = store.device_documents(&id).await.expect("docs");
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(
        (
            doc.kind.as_str(),
            doc.file_name.as_str(),
            doc.media_type.as_str(),
            doc.uploaded_by.as_str()
        ),
        ("mds2", "MDS2 Sigma.pdf", "application/pdf", "cleo")
    );
    let (_, _, _, page) = send_app(&app, "GET", &page_uri, &cleo, None).await;
    let link = format!("/api/v1/devices/{id}/documents/{}", doc.id);
    assert!(page.contains(&format!("href=\"{link}\"")), "download link");
    assert!(page.contains("MDS2 form") && page.contains("from the manufacturer portal"));
    assert!(page.contains(&format!("/devices/{id}/documents/{}/delete", doc.id)));
    // An auditor sees the list but no upload or delete forms.
    let (_, _, _, page) = send_app(&app, "GET", &page_uri, &audrey, None).await;
    assert!(page.contains(&format!("href=\"{link}\"")));
    assert!(!page.contains("Attach a document") && !page.contains("/delete\""));

    // Download: the exact bytes, as an attachment, nosniff.
    let dl = {
        use axum::body::Body;
        use axum::http::{header, Request};
        use tower::ServiceExt;
        let resp = app
            .clone()
            .oneshot(
                Request::get(&link)
                    .header(header::COOKIE, &audrey)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp");
        let h = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (h, bytes.to_vec())
    };
    assert_eq!(dl.1, mds2);
    let hv = |k: &str| {
        dl.0.get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(hv("content-disposition").starts_with("attachment; filename=\"MDS2 Sigma.pdf\""));
    assert_eq!(hv("x-content-type-options"), "nosniff");
    assert_eq!(hv("content-type"), "application/pdf");

    // Delete: a confirmation page first; without the box nothing is deleted.
    let del = format!("/devices/{id}/documents/{}/delete", doc.id);
    let (s, _, _, page) = send_app(&app, "GET", &del, &cleo, None).await;
    assert_eq!(s, 200);
    assert!(page.contains("cannot be undone") && page.contains("name=\"confirm\""));
    let (s, loc, _, _) = send_app(&app, "POST", &del, &cleo, Some(&format!("csrf={csrf}"))).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().contains("confirmation"));
    assert_eq!(store.device_documents(&id).await.expect("docs").len(), 1);
    let (s, _, _, _) = send_app(
        &app,
        "POST",
        &del,
        &audrey,
        Some(&format!("csrf={}&confirm=yes", csrf_of(&audrey))),
    )
    .await;
    assert_eq!(s, 403, "an auditor deletes nothing");
    let (s, loc, _, _) = send_app(
        &app,
        "POST",
        &del,
        &cleo,
        Some(&format!("csrf={csrf}&confirm=yes")),
    )
    .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap_or_default().contains("ok="));
    assert!(store.device_documents(&id).await.expect("docs").is_empty());
    let (s, _, _, _) = send_app(&app, "GET", &del, &cleo, None).await;
    assert_eq!(s, 404, "gone");
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.action.starts_with("document."))
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![("document.attach", "cleo"), ("document.delete", "cleo")]
    );

    // SBOMs: an imported SBOM of the pump's product, and the corpus's real SBOM attached as
    // a file.
    let stored = ward_server::ui::pipeline::intel_document(&pump_sbom(), "pump.cdx.json")
        .expect("the SBOM reads");
    store
        .import_intel(&[stored], &system())
        .await
        .expect("import");
    let real = corpus().join("medical-device-sbom-spacelab/dev/narrow.sbom.json");
    let real = std::fs::read(&real).expect("the corpus SBOM");
    let (s, _, _) = post_multipart(
        &app,
        &uri,
        &cleo,
        None,
        multipart_body(&[
            ("csrf", None, None, csrf.as_bytes()),
            ("kind", None, None, b"sbom"),
            (
                "file",
                Some("narrow.sbom.json"),
                Some("application/json"),
                &real,
            ),
        ]),
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, _, page) = send_app(&app, "GET", &page_uri, &cleo, None).await;
    assert!(!page.contains("No SBOM applies"), "SBOMs apply now");
    for t in [
        "intel SBOM urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "openssl",
        "pkg:generic/openssl@1.0.2k",
        "VxWorks",
        "attached file narrow.sbom.json",
        "Qualcomm Atheros QCA9563",
        "55 component(s)",
    ] {
        assert!(page.contains(t), "the SBOM section shows {t}");
    }
    // A user scoped to another site sees neither the device page nor its documents.
    store.upsert_site("south", "South").await.expect("site");
    store
        .create_user(
            &ward_store::NewUser {
                id: "u-sol".into(),
                username: "sol".into(),
                display_name: "sol".into(),
                password_hash: Some(
                    ward_server::auth::hash_password("south passphrase 1618").expect("hash"),
                ),
                roles: vec![ward_store::RoleGrant {
                    role: "clinical_engineer".into(),
                    site: Some("south".into()),
                }],
                ..ward_store::NewUser::default()
            },
            &system(),
        )
        .await
        .expect("user");
    let (_, sol) = sign_in(&app, "sol", "south passphrase 1618").await;
    let (s, _, _, page) = send_app(&app, "GET", &page_uri, &sol, None).await;
    assert_eq!(s, 404, "another site's device page");
    assert!(!page.contains("narrow.sbom.json"));
    let (s, _, _) =
        post_multipart(&app, &uri, &sol, None, body(&csrf_of(&sol), "mds2", &mds2)).await;
    assert_eq!(s, 404, "nor attach to it");
    // The other device: no SBOM describes it.
    let (_, _, _, page) = send_app(&app, "GET", "/devices/dev-monitor-1", &cleo, None).await;
    assert!(page.contains("No SBOM applies to this device"));
    assert!(!page.contains("openssl"));
    assert!(store.verify_audit_chain().await.expect("verify").ok());
}
