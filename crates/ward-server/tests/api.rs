//! The JSON API on both backends: device listing (filter, sort, search, pagination), detail,
//! manual overrides that win over inference and survive inventory updates, findings with
//! explanation and status changes with a reason, CSV export, site scoping, readiness and
//! metrics, and the audit log (every change with who/when/from where/before/after; no
//! route can change it).

mod common;
mod support;

use axum::http::StatusCode;
use serde_json::json;
use support::*;
use ward_store::{DeviceRecord, NewFinding};

fn record(i: u32, site: &str) -> DeviceRecord {
    let categories = [
        "infusion_pump",
        "patient_monitor",
        "workstation",
        "ct_scanner",
    ];
    let vendors = ["Baxter", "Philips", "Dell", "Siemens Healthineers"];
    let mut inferred = std::collections::BTreeMap::new();
    inferred.insert(
        "category".to_string(),
        categories[(i % 4) as usize].to_string(),
    );
    inferred.insert("vendor".to_string(), vendors[(i % 4) as usize].to_string());
    inferred.insert("model".to_string(), format!("M{}", i % 3));
    inferred.insert("hostname".to_string(), format!("host-{i:05}"));
    DeviceRecord {
        id: format!("dev-{site}-{i:06}"),
        site: site.into(),
        name: format!("host-{i:05}"),
        inferred,
        macs: vec![format!("00:1b:21:00:{:02x}:{:02x}", i >> 8, i & 0xff)],
        ips: vec![format!("10.1.{}.{}", i / 250, i % 250 + 1)],
        is_router: false,
        first_seen: i64::from(i),
        last_seen: 1_000_000 + i64::from(i % 97),
        detail: json!({ "id": format!("dev-{site}-{i:06}") }),
    }
}

async fn seed(state: &ward_server::AppState) {
    state.store.upsert_site("site-a", "A").await.expect("site");
    state.store.upsert_site("site-b", "B").await.expect("site");
    let a: Vec<_> = (0..120).map(|i| record(i, "site-a")).collect();
    let b: Vec<_> = (0..30).map(|i| record(i, "site-b")).collect();
    state
        .store
        .upsert_devices(&a, &tester())
        .await
        .expect("devices");
    state
        .store
        .upsert_devices(&b, &tester())
        .await
        .expect("devices");
    state
        .store
        .upsert_findings(
            &[
                NewFinding {
                    id: "f-1".into(),
                    device_id: "dev-site-a-000001".into(),
                    vulnerability: "CVE-2024-0001".into(),
                    document: None,
                    confidence: 0.9,
                    explanation: json!({"matched": "vendor Philips, model M1"}),
                },
                NewFinding {
                    id: "f-2".into(),
                    device_id: "dev-site-b-000002".into(),
                    vulnerability: "CVE-2024-0002".into(),
                    document: None,
                    confidence: 0.5,
                    explanation: json!({"matched": "vendor"}),
                },
            ],
            &tester(),
        )
        .await
        .expect("findings");
}

async fn devices(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let admin = user(&state, "root", &[("admin", None)]).await;
    let s = session(&state, &admin).await;

    let a = get(&state, "/api/v1/devices?site=site-a&limit=10", &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let page = a.json();
    assert_eq!(page["total"], 120);
    assert_eq!(page["devices"].as_array().map(Vec::len), Some(10));
    // Keyset pagination walks every device once.
    let mut seen = std::collections::BTreeSet::new();
    let mut uri = "/api/v1/devices?site=site-a&limit=25".to_string();
    loop {
        let p = get(&state, &uri, &s).await.json();
        for d in p["devices"].as_array().expect("devices") {
            assert!(
                seen.insert(d["id"].as_str().expect("id").to_string()),
                "seen twice"
            );
        }
        match p["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/devices?site=site-a&limit=25&after={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    // Filter and sort.
    let p = get(
        &state,
        "/api/v1/devices?site=site-a&vendor=Philips&sort=hostname&desc=true&limit=1000",
        &s,
    )
    .await
    .json();
    let names: Vec<&str> = p["devices"]
        .as_array()
        .expect("d")
        .iter()
        .map(|d| d["hostname"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names.len(), 30);
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "descending");
    assert!(p["devices"]
        .as_array()
        .expect("d")
        .iter()
        .all(|d| d["vendor"] == "Philips"));
    // Search by IP and by host name.
    let p = get(&state, "/api/v1/devices?site=site-a&q=10.1.0.8", &s)
        .await
        .json();
    assert!(p["devices"]
        .as_array()
        .expect("d")
        .iter()
        .any(|d| d["id"] == "dev-site-a-000007"));
    let p = get(&state, "/api/v1/devices?q=host-00119", &s).await.json();
    assert_eq!(p["total"], 1);
    assert_eq!(
        get(&state, "/api/v1/devices?sort=password", &s)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Detail, override that wins, audited with before/after and the source address.
    let d = get(&state, "/api/v1/devices/dev-site-a-000005", &s)
        .await
        .json();
    assert_eq!(d["summary"]["vendor"], "Philips");
    let a = send_json(
        &state,
        "PUT",
        "/api/v1/devices/dev-site-a-000005/overrides/vendor",
        &s,
        json!({"value": "GE Healthcare", "note": "asset tag"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    let d = get(&state, "/api/v1/devices/dev-site-a-000005", &s)
        .await
        .json();
    assert_eq!(d["summary"]["vendor"], "GE Healthcare");
    assert_eq!(d["overrides"][0]["author"], "root");
    // A new inference does not replace the manual value.
    state
        .store
        .upsert_devices(&[record(5, "site-a")], &tester())
        .await
        .expect("re-infer");
    let d = get(&state, "/api/v1/devices/dev-site-a-000005", &s)
        .await
        .json();
    assert_eq!(
        d["summary"]["vendor"], "GE Healthcare",
        "manual wins over inference"
    );
    let p = get(
        &state,
        "/api/v1/devices?site=site-a&vendor=GE%20Healthcare",
        &s,
    )
    .await
    .json();
    assert_eq!(p["total"], 1, "listings filter on the manual value");
    let entries = state.store.audit_entries(0, 10_000).await.expect("audit");
    let e = entries
        .iter()
        .rev()
        .find(|e| e.action.contains("override"))
        .expect("override audited");
    assert_eq!(e.actor, "root");
    assert_eq!(e.source, "192.0.2.10");
    assert!(e.ts > 0);
    assert!(e.object.contains("dev-site-a-000005"));
    assert!(
        e.after
            .as_deref()
            .is_some_and(|a| a.contains("GE Healthcare")),
        "{e:?}"
    );
    // Bad input.
    let a = send_json(
        &state,
        "PUT",
        "/api/v1/devices/dev-site-a-000005/overrides/colour",
        &s,
        json!({"value": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send_json(
        &state,
        "PUT",
        "/api/v1/devices/nope/overrides/vendor",
        &s,
        json!({"value": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Clearing restores the inferred value.
    let a = send_raw(
        &state,
        "DELETE",
        "/api/v1/devices/dev-site-a-000005/overrides/vendor",
        &s,
        None,
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let d = get(&state, "/api/v1/devices/dev-site-a-000005", &s)
        .await
        .json();
    assert_eq!(d["summary"]["vendor"], "Philips");

    // Site scope: a clinical engineer of site-b sees site-b only.
    let ce = user(&state, "cleng", &[("clinical_engineer", Some("site-b"))]).await;
    let c = session(&state, &ce).await;
    let p = get(&state, "/api/v1/devices", &c).await.json();
    assert_eq!(p["total"], 30);
    assert_eq!(
        get(&state, "/api/v1/devices?site=site-a", &c).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&state, "/api/v1/devices/dev-site-a-000005", &c)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&state, "/api/v1/sites/site-a/connections", &c)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&state, "/api/v1/sites/site-b/connections", &c)
            .await
            .status,
        StatusCode::OK
    );
    let sites = get(&state, "/api/v1/sites", &c).await.json();
    assert_eq!(sites["sites"].as_array().map(Vec::len), Some(1));
    let csv = get(&state, "/api/v1/export/devices.csv", &c).await;
    assert_eq!(
        csv.text().lines().count(),
        31,
        "header + 30 rows of site-b only"
    );
    assert_eq!(
        get(&state, "/api/v1/findings/f-1", &c).await.status,
        StatusCode::NOT_FOUND
    );

    // CSV export.
    let csv = get(&state, "/api/v1/export/devices.csv?site=site-a", &s).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let text = csv.text();
    assert_eq!(text.lines().count(), 121, "header + 120 rows");
    assert!(text.lines().next().is_some_and(|h| h.contains("vendor")));
}
both_backends!(devices);

async fn findings_and_audit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let analyst = user(&state, "ana", &[("security_analyst", None)]).await;
    let s = session(&state, &analyst).await;
    let list = get(&state, "/api/v1/findings", &s).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let f = get(&state, "/api/v1/findings/f-1", &s).await.json();
    assert_eq!(f["explanation"]["matched"], "vendor Philips, model M1");
    assert_eq!(f["status"], "open");
    // A reason is required.
    let a = send_json(
        &state,
        "POST",
        "/api/v1/findings/f-1/status",
        &s,
        json!({"status": "mitigated", "reason": " "}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send_json(
        &state,
        "POST",
        "/api/v1/findings/f-1/status",
        &s,
        json!({"status": "nonsense", "reason": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send_json(
        &state,
        "POST",
        "/api/v1/findings/f-1/status",
        &s,
        json!({"status": "mitigated", "reason": "VLAN 40 isolates the pump"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["status"], "mitigated");
    let f = get(&state, "/api/v1/findings/f-1", &s).await.json();
    let h = f["history"].as_array().expect("history");
    assert!(
        h.iter()
            .any(|c| c.to_string().contains("VLAN 40 isolates the pump")),
        "{f}"
    );
    let csv = get(&state, "/api/v1/export/findings.csv", &s).await;
    assert!(csv.text().contains("CVE-2024-0001") && csv.text().contains("mitigated"));

    // Audit: the change with who, when, from where, before and after.
    let auditor = user(&state, "aud", &[("auditor", None)]).await;
    let au = session(&state, &auditor).await;
    let log = get(&state, "/api/v1/audit?limit=1000", &au).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text());
    let log_text = log.text();
    assert!(log_text.contains("VLAN 40 isolates the pump"), "{log_text}");
    let entries = state.store.audit_entries(0, 10_000).await.expect("audit");
    let e = entries
        .iter()
        .rev()
        .find(|e| e.object.contains("f-1"))
        .expect("status change audited");
    assert_eq!(e.actor, "ana");
    assert_eq!(e.source, "192.0.2.10");
    assert!(
        e.before.as_deref().is_some_and(|b| b.contains("open")),
        "{e:?}"
    );
    assert!(
        e.after.as_deref().is_some_and(|a| a.contains("mitigated")),
        "{e:?}"
    );
    let v = get(&state, "/api/v1/audit/verify", &au).await;
    assert_eq!(v.status, StatusCode::OK);
    assert!(v.json()["problem"].is_null(), "{}", v.text());
    // No route changes the audit log, whoever asks.
    let admin = user(&state, "root", &[("admin", None)]).await;
    let ad = session(&state, &admin).await;
    let head = state.store.audit_head().await.expect("head");
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        for uri in ["/api/v1/audit", "/api/v1/audit/1", "/api/v1/audit/verify"] {
            let a = send_raw(
                &state,
                m,
                uri,
                &ad,
                Some("application/json"),
                b"{}".to_vec(),
                None,
            )
            .await;
            assert!(!a.status.is_success(), "{m} {uri}: {}", a.status);
        }
    }
    for (m, p, _) in ward_server::rbac::ROUTES {
        assert!(
            !(p.starts_with("/api/v1/audit") && *m != "GET"),
            "{m} {p} would change the audit log"
        );
    }
    let after = state.store.audit_head().await.expect("head");
    assert_eq!(head, after, "nothing appended by the refused writes");
    // Tampering through SQL is caught by the verify endpoint too.
    if backend == Backend::Sqlite {
        db.exec("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;").await;
    } else {
        db.exec("DROP TRIGGER audit_log_no_update ON audit_log; UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;").await;
    }
    let v = get(&state, "/api/v1/audit/verify", &au).await.json();
    assert!(!v["problem"].is_null(), "{v}");
}
both_backends!(findings_and_audit);

async fn health_ready_metrics(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let h = get(&state, "/health", &Cred::None).await;
    assert_eq!((h.status, h.text().as_str()), (StatusCode::OK, "ok"));
    let r = get(&state, "/ready", &Cred::None).await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ready"));
    assert_eq!(
        get(&state, "/metrics", &Cred::None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let admin = user(&state, "root", &[("admin", None)]).await;
    let t = ward_server::auth::issue_token(
        &state,
        &admin,
        "prometheus",
        &["read_metrics".into()],
        None,
        None,
        &tester(),
    )
    .await
    .expect("token");
    let m = get(&state, "/metrics", &Cred::Bearer(t)).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    assert!(text.lines().any(|l| l == "ward_devices 150"), "{text}");
    assert!(text.contains("# TYPE ward_http_requests_total counter"));
    state
        .ready
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        get(&state, "/ready", &Cred::None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
both_backends!(health_ready_metrics);

/// Device merges through the API: the alias answers with a redirect, the listing loses
/// it, the merge is listed and audited, and scope and site rules hold.
async fn device_merges(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let admin = user(&state, "root", &[("admin", None)]).await;
    let s = session(&state, &admin).await;
    let b_eng = user(&state, "bea", &[("clinical_engineer", Some("site-b"))]).await;
    let sb = session(&state, &b_eng).await;
    let (a, b) = ("dev-site-a-000001", "dev-site-a-000002");
    let uri = format!("/api/v1/devices/{a}/merge");
    // Someone scoped to another site does not learn the devices exist.
    let r = send_json(&state, "POST", &uri, &sb, json!({"from": b})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // Merging into itself, or across sites, is refused.
    let r = send_json(&state, "POST", &uri, &s, json!({"from": a})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = send_json(
        &state,
        "POST",
        &uri,
        &s,
        json!({"from": "dev-site-b-000001"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = send_json(
        &state,
        "POST",
        &uri,
        &s,
        json!({"from": b, "note": "same pump"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["alias"], b);
    assert_eq!(r.json()["target"], a);
    assert_eq!(r.json()["author"], "root");
    // The alias redirects to the device it became.
    let r = get(&state, &format!("/api/v1/devices/{b}"), &s).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/v1/devices/{a}").as_str())
    );
    // ... but not for someone who may not see it.
    let r = get(&state, &format!("/api/v1/devices/{b}"), &sb).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let d = get(&state, &format!("/api/v1/devices/{a}"), &s)
        .await
        .json();
    let macs = d["summary"]["macs"].as_array().expect("macs").clone();
    assert!(macs.contains(&json!("00:1b:21:00:00:02")), "{macs:?}");
    let p = get(&state, "/api/v1/devices?site=site-a&limit=1", &s)
        .await
        .json();
    assert_eq!(p["total"], 119);
    let m = get(&state, &format!("/api/v1/devices/{a}/merges"), &s)
        .await
        .json();
    assert_eq!(m.as_array().map(Vec::len), Some(1));
    assert_eq!(m[0]["note"], "same pump");
    // Merged again: the alias is no device any more.
    let r = send_json(&state, "POST", &uri, &s, json!({"from": b})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let entries = state.store.audit_entries(0, 10_000).await.expect("audit");
    let e = entries
        .iter()
        .find(|e| e.action == "device.merge")
        .expect("audited");
    assert_eq!(e.actor, "root");
    assert!(e.before.as_deref().unwrap_or("").contains(b));
}
both_backends!(device_merges);

/// A capture uploaded through the API goes through the same pipeline as a UI upload: the
/// site is re-identified and re-assessed against the stored intel, so the answer carries
/// findings and plan actions at once (not only after a later re-match job), and the store
/// ends exactly as after the UI import of the same bytes.
async fn capture_upload_reassesses_like_the_ui(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    let analyst = user(&state, "ana", &[("security_analyst", None)]).await;
    let s = session(&state, &analyst).await;
    // A generated hospital whose devices include ones the corpus' ICSMA advisories name
    // (`ward assess` finds 2 with this seed).
    let dir = tempfile::tempdir().expect("tmp");
    let pcap = dir.path().join("hospital.pcap");
    ward_bench::generate_file(
        &ward_bench::GenConfig {
            seed: 1,
            target_bytes: 3 << 20,
            ..Default::default()
        },
        &pcap,
    )
    .expect("generate a hospital capture");
    let intel = common::intel_files();
    ward_server::ui::pipeline::import_intel_files(&state.store, &intel, &tester())
        .await
        .expect("intel");
    let bytes = std::fs::read(&pcap).expect("read");
    let a = send_raw(
        &state,
        "POST",
        "/api/v1/captures?site=main&name=hospital.pcap",
        &s,
        Some("application/vnd.tcpdump.pcap"),
        bytes,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let report = a.json();
    let findings = report["findings"].as_u64().expect("findings in the answer");
    assert!(
        findings > 0,
        "the hospital has devices the advisories name: {report}"
    );
    assert!(report["plan_actions"].as_u64().unwrap_or(0) > 0, "{report}");
    let listed = get(&state, "/api/v1/findings?limit=1000", &s).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());

    // The UI import of the same file into a second store gives the same picture.
    let other = TestDb::new(Backend::Sqlite).await;
    ward_server::ui::pipeline::import_intel_files(&other.store, &intel, &tester())
        .await
        .expect("intel");
    let ui = ward_server::ui::pipeline::import_captures(
        &other.store,
        "main",
        std::slice::from_ref(&pcap),
        &tester(),
    )
    .await
    .expect("UI import");
    assert_eq!(ui.findings as u64, findings);
    assert_eq!(ui.devices as u64, report["devices"].as_u64().unwrap_or(0));
    let ids =
        |page: ward_store::DevicePage| page.devices.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let q = ward_store::DeviceQuery {
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(
        ids(state.store.list_devices(&q).await.expect("list")),
        ids(other.store.list_devices(&q).await.expect("list"))
    );
}
both_backends!(capture_upload_reassesses_like_the_ui);

/// One multipart intel upload larger than axum's 2 MB default (every ICSMA advisory of
/// the corpus and the KEV catalogue) is accepted; the server's `max_upload_bytes` is the
/// limit, and above it the answer is 413 with the limit named.
async fn intel_upload_is_bounded_by_the_configured_limit(backend: Backend) {
    use std::io::Write as _;
    let db = TestDb::new(backend).await;
    let files = common::intel_files();
    let mut body = Vec::new();
    let boundary = "ward-intel-boundary";
    for p in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/json\r\n\r\n"
        )
        .expect("write");
        body.extend(std::fs::read(p).expect("read"));
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").expect("write");
    assert!(
        body.len() > 2 << 20,
        "the upload is over 2 MB: {}",
        body.len()
    );
    let ct = format!("multipart/form-data; boundary={boundary}");

    let small = db.state_with(ward_server::ServerConfig {
        data_dir: db.dir.path().to_path_buf(),
        max_upload_bytes: 1 << 20,
        ..ward_server::ServerConfig::default()
    });
    let analyst = user(&small, "ana", &[("security_analyst", None)]).await;
    let s = session(&small, &analyst).await;
    let a = send_raw(
        &small,
        "POST",
        "/api/v1/intel/import",
        &s,
        Some(&ct),
        body.clone(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text());
    assert!(a.text().contains("1048576"), "{}", a.text());
    assert_eq!(db.store.intel_document_count().await.expect("count"), 0);

    let state = db.state();
    let a = send_raw(
        &state,
        "POST",
        "/api/v1/intel/import",
        &s,
        Some(&ct),
        body,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        db.store.intel_document_count().await.expect("count") as usize,
        files.len()
    );
}
both_backends!(intel_upload_is_bounded_by_the_configured_limit);

fn document_form(kind: &str, file_name: &str, media: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----wardapidocs";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {media}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Device documents through the API: upload (multipart), list, download (attachment,
/// nosniff, the exact bytes), delete; the 10 MiB limit; site scoping; audit; roles.
async fn device_documents(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let dev = "dev-site-a-000001";
    let engineer = user(&state, "cleo", &[("clinical_engineer", None)]).await;
    let scoped_b = user(&state, "bea", &[("clinical_engineer", Some("site-b"))]).await;
    let auditor = user(&state, "aud", &[("auditor", None)]).await;
    let cleo = session(&state, &engineer).await;
    let bea = session(&state, &scoped_b).await;
    let aud = session(&state, &auditor).await;
    let base = format!("/api/v1/devices/{dev}/documents");

    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let (ct, body) = document_form(
        "security_white_paper",
        "Weißbuch v2.pdf",
        "application/pdf",
        &bytes,
    );
    // An auditor may not upload; a user of another site does not see the device.
    let a = send_raw(&state, "POST", &base, &aud, Some(&ct), body.clone(), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send_raw(&state, "POST", &base, &bea, Some(&ct), body.clone(), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "other site: {}", a.text());
    let a = send_raw(&state, "POST", &base, &cleo, Some(&ct), body, None).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let doc = a.json();
    let doc_id = doc["id"].as_i64().expect("id");
    assert_eq!(doc["kind"], "security_white_paper");
    assert_eq!(doc["size"], 5000);
    assert_eq!(doc["uploaded_by"], "cleo");
    assert!(doc.get("content").is_none(), "metadata only");

    // Refused uploads: not multipart, unknown kind, no file, too large.
    let a = send_json(&state, "POST", &base, &cleo, json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let (ct, body) = document_form("lab_results", "x.pdf", "application/pdf", b"x");
    let a = send_raw(&state, "POST", &base, &cleo, Some(&ct), body, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let (ct, body) = document_form(
        "manual",
        "big.bin",
        "application/octet-stream",
        &vec![1u8; ward_store::MAX_DOCUMENT_BYTES + 1],
    );
    let a = send_raw(&state, "POST", &base, &cleo, Some(&ct), body, None).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text());

    // List and download (an auditor reads).
    let a = get(&state, &base, &aud).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json().as_array().map(Vec::len), Some(1));
    let a = get(&state, &base, &bea).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "site scoping");
    let a = get(&state, &format!("{base}/{doc_id}"), &aud).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, bytes);
    assert_eq!(a.header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(
        a.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let cd = a.header("content-disposition").unwrap_or_default();
    assert!(
        cd == "attachment; filename=\"Wei_buch v2.pdf\"; filename*=UTF-8''Wei%C3%9Fbuch%20v2.pdf",
        "{cd}"
    );
    // The document is reached only through its own device.
    let a = get(
        &state,
        &format!("/api/v1/devices/dev-site-a-000002/documents/{doc_id}"),
        &aud,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Delete: an auditor may not; the engineer does; audited.
    let a = send_raw(
        &state,
        "DELETE",
        &format!("{base}/{doc_id}"),
        &aud,
        None,
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send_raw(
        &state,
        "DELETE",
        &format!("{base}/{doc_id}"),
        &cleo,
        None,
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let a = get(&state, &format!("{base}/{doc_id}"), &aud).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let audit = state.store.audit_entries(0, 10_000).await.expect("audit");
    let doc_entries: Vec<_> = audit
        .iter()
        .filter(|e| e.object == format!("device_document:{doc_id}"))
        .map(|e| (e.action.as_str(), e.actor.as_str(), e.source.as_str()))
        .collect();
    assert_eq!(
        doc_entries,
        vec![
            ("document.attach", "cleo", "192.0.2.10"),
            ("document.delete", "cleo", "192.0.2.10")
        ]
    );
    db.store.close().await;
}
both_backends!(device_documents);
