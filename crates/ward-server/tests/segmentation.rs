//! Segmentation policy and violations through the API on both backends: conduits learned
//! from the baseline window of stored connections, a later connection outside them
//! reported as a violation, nftables and ACL text, site scoping.

mod support;

use axum::http::StatusCode;
use support::*;
use ward_model::{ConnectionEdge, EndpointAddr, Evidence, Observation, Timestamp, Transport};
use ward_store::Batch;

const DAY: u64 = 86_400_000_000;
const T0: u64 = 1_700_000_000_000_000;

fn addr(mac: &str, ip: &str) -> EndpointAddr {
    EndpointAddr {
        mac: Some(mac.parse().expect("mac")),
        ip: Some(ip.parse().expect("ip")),
    }
}

fn edge(client: EndpointAddr, server: EndpointAddr, port: u16, at: u64) -> ConnectionEdge {
    ConnectionEdge {
        client,
        server,
        transport: Transport::Tcp,
        server_port: port,
        vlan: Some(20),
        protocol: None,
        bytes_to_server: 1000,
        bytes_to_client: 500,
        packets: 10,
        sessions: 1,
        first_seen: Timestamp(at),
        last_seen: Timestamp(at + 1_000_000),
        evidence: Evidence {
            file: 0,
            packet: 1,
            ts: Timestamp(at),
            flow: Some(1),
        },
    }
}

fn observation(a: EndpointAddr, key: &str, value: &str) -> Observation {
    Observation {
        subject: a,
        key: key.into(),
        value: value.into(),
        first_seen: Timestamp(T0),
        last_seen: Timestamp(T0 + 10),
        count: 1,
        evidence: Evidence {
            file: 0,
            packet: 1,
            ts: Timestamp(T0),
            flow: None,
        },
    }
}

async fn seed(state: &ward_server::AppState) {
    let pump = addr("00:1b:21:00:00:01", "10.20.0.11");
    let pacs = addr("00:1d:4a:00:00:02", "10.20.0.20");
    let batch = Batch {
        files: vec!["ward.pcap".into()],
        observations: vec![
            observation(pump, "dhcp.hostname", "pump-11"),
            observation(pacs, "dicom.ae_title", "PACS01"),
        ],
        security: vec![],
        edges: vec![
            // Baseline (first day): DICOM to the archive.
            edge(pump, pacs, 104, T0 + 100),
            // Ten days later: telnet to the same server, never seen in the baseline.
            edge(pump, pacs, 23, T0 + 10 * DAY),
        ],
    };
    let actor = tester();
    state
        .store
        .ingest_batch("seg-1", "east", &batch, &actor)
        .await
        .expect("ingest");
    let rules = ward_identify::Rules::builtin().expect("rules");
    let facts = state.store.site_facts("east").await.expect("facts");
    let inv = ward_identify::identify(&facts.observations, &facts.security, &facts.edges, &rules);
    assert_eq!(inv.connections.len(), 2, "two connections identified");
    state
        .store
        .replace_inventory("east", &inv, &actor)
        .await
        .expect("inventory");
}

async fn policy_and_violations(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = db.state();
    seed(&state).await;
    let analyst = user(&state, "ana", &[("security_analyst", None)]).await;
    let s = session(&state, &analyst).await;

    let r = get(&state, "/api/v1/sites/east/policy", &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p = r.json();
    assert_eq!(p["site"], "east");
    assert_eq!(p["baseline_flows"], 1, "{p}");
    assert_eq!(p["baseline_until"], T0 + 100 + 7 * DAY);
    let conduits = p["policy"]["conduits"]
        .as_array()
        .expect("conduits")
        .clone();
    assert_eq!(conduits.len(), 1, "{p}");
    assert_eq!(conduits[0]["port"], 104);
    assert_eq!(conduits[0]["transport"], "tcp");
    assert!(!p["policy"]["zones"].as_array().expect("zones").is_empty());

    let v = get(&state, "/api/v1/sites/east/violations", &s).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    assert_eq!(v["flows"], 2);
    let vs = v["violations"].as_array().expect("violations");
    assert_eq!(vs.len(), 1, "{v}");
    assert_eq!(vs[0]["port"], 23);
    assert_eq!(vs[0]["dst_ip"], "10.20.0.20");

    // A baseline over everything: the telnet flow is allowed, nothing violates.
    let v = get(
        &state,
        &format!(
            "/api/v1/sites/east/violations?baseline_until={}",
            T0 + 11 * DAY
        ),
        &s,
    )
    .await
    .json();
    assert_eq!(v["violations"].as_array().map(Vec::len), Some(0), "{v}");
    let p = get(&state, "/api/v1/sites/east/policy?baseline_days=30", &s)
        .await
        .json();
    assert_eq!(p["policy"]["conduits"].as_array().map(Vec::len), Some(2));

    // Text formats.
    let nft = get(&state, "/api/v1/sites/east/policy?format=nft", &s).await;
    assert_eq!(nft.status, StatusCode::OK);
    assert!(nft
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain"));
    let t = nft.text();
    assert!(t.contains("10.20.0.20") && t.contains("104"), "{t}");
    assert!(
        !t.contains("dport 23 "),
        "telnet is not in the baseline: {t}"
    );
    let acl = get(&state, "/api/v1/sites/east/policy?format=acl", &s).await;
    assert_eq!(acl.status, StatusCode::OK);
    let t = acl.text();
    assert!(t.contains("WARD-east") && t.contains("10.20.0.20"), "{t}");
    let bad = get(&state, "/api/v1/sites/east/policy?format=pdf", &s).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = get(
        &state,
        "/api/v1/sites/east/policy?baseline_days=1&baseline_until=5",
        &s,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Someone scoped to another site does not see this one.
    let other = user(&state, "wes", &[("clinical_engineer", Some("west"))]).await;
    let so = session(&state, &other).await;
    for path in ["policy", "violations"] {
        let r = get(&state, &format!("/api/v1/sites/east/{path}"), &so).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
}
both_backends!(policy_and_violations);
