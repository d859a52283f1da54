//! The store's conformance suite: every check is written once and runs against SQLite (a
//! temporary directory) and PostgreSQL (`postgres://postgres@127.0.0.1:5432/test`, trust
//! auth; each test creates its own database `ward_test_<unique>` and drops it at the end).
//! PostgreSQL tests fail, never skip, when the server is unreachable.

use sqlx::Connection;
use ward_identify::{AttrKind, ManualOverride};
use ward_model::{
    ConnectionEdge, EndpointAddr, Evidence, Observation, SecurityKind, SecurityObservation,
    Severity, Timestamp, Transport,
};
use ward_store::testing::ScratchPg;
use ward_store::{
    now_micros, Actor, AuditProblem, BackendKind, Batch, DeviceQuery, DeviceRecord, DeviceSort,
    FindingStatus, IngestOutcome, IntelDocument, IntelProduct, IntelVulnerability, JobSpec,
    NewFinding, NewUser, RoleGrant, Store,
};

/// One backend under test.
struct TestDb {
    store: Store,
    url: String,
    pg: Option<ScratchPg>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("ward.db").display());
        let store = Store::open(&url).await.expect("open SQLite store");
        assert_eq!(store.kind(), BackendKind::Sqlite);
        TestDb {
            store,
            url,
            pg: None,
            _dir: Some(dir),
        }
    }

    async fn postgres() -> TestDb {
        let pg = ScratchPg::create("the PostgreSQL conformance tests").await;
        let url = pg.url().to_string();
        let store = Store::open(&url).await.expect("open PostgreSQL store");
        assert_eq!(store.kind(), BackendKind::Postgres);
        TestDb {
            store,
            url,
            pg: Some(pg),
            _dir: None,
        }
    }

    /// Runs SQL directly on the database, around the store (as an attacker or an operator
    /// with database access would).
    async fn exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        if self.pg.is_some() {
            let mut c = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await?;
            c.close().await
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await?;
            c.close().await
        }
    }

    async fn finish(mut self) {
        self.store.close().await;
        if let Some(pg) = self.pg.take() {
            pg.drop_now().await;
        }
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::postgres().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    ingest_is_idempotent_by_batch_id,
    ingest_aggregates_like_the_engine,
    device_filters_sort_and_pagination,
    manual_overrides_win_over_inference,
    finding_status_history,
    intel_import_is_all_or_nothing,
    job_lease_is_exclusive,
    audit_chain_verifies_and_is_append_only,
    audit_detects_an_edited_entry,
    audit_detects_swapped_entries,
    audit_detects_a_deleted_middle_entry,
    audit_detects_a_deleted_last_entry,
    audit_chain_stays_linear_under_concurrent_writers,
    lockout_count_restarts_after_a_lock_expires,
    device_merges_win_over_inference,
    cached_device_counts_follow_every_change,
    device_documents_attach_list_fetch_delete,
    sbom_intel_documents_are_listed_with_their_json,
    prune_facts_forgets_old_facts_and_keeps_batch_ids,
);

// ---------------------------------------------------------------------------------------
// Helpers

fn actor() -> Actor {
    Actor::new("alice", Some("192.0.2.10".into()))
}

fn addr(mac: &str, ip: &str) -> EndpointAddr {
    EndpointAddr {
        mac: Some(mac.parse().expect("mac")),
        ip: Some(ip.parse().expect("ip")),
    }
}

fn ev(packet: u64, ts: u64) -> Evidence {
    Evidence {
        file: 0,
        packet,
        ts: Timestamp(ts),
        flow: Some(packet),
    }
}

fn obs(a: EndpointAddr, key: &str, value: &str, first: u64, last: u64, count: u64) -> Observation {
    Observation {
        subject: a,
        key: key.into(),
        value: value.into(),
        first_seen: Timestamp(first),
        last_seen: Timestamp(last),
        count,
        evidence: ev(first, first),
    }
}

fn sample_batch() -> Batch {
    let a = addr("00:1b:21:00:00:01", "10.0.0.1");
    let b = addr("00:1d:4a:00:00:02", "10.0.0.2");
    Batch {
        files: vec!["capture-1.pcap".into()],
        observations: vec![
            obs(a, "dhcp.hostname", "infusion-7", 100, 200, 2),
            obs(a, "dhcp.hostname", "infusion-7", 50, 120, 1),
            obs(b, "dicom.ae_title", "PACS01", 10, 300, 4),
        ],
        security: vec![SecurityObservation {
            kind: SecurityKind::TelnetInUse,
            severity: Severity::High,
            subject: b,
            peer: Some(a),
            detail: "telnet server on port 23".into(),
            first_seen: Timestamp(10),
            last_seen: Timestamp(20),
            count: 1,
            evidence: ev(3, 10),
        }],
        edges: vec![ConnectionEdge {
            client: a,
            server: b,
            transport: Transport::Tcp,
            server_port: 104,
            vlan: Some(20),
            protocol: None,
            bytes_to_server: 1000,
            bytes_to_client: 500,
            packets: 10,
            sessions: 1,
            first_seen: Timestamp(10),
            last_seen: Timestamp(40),
            evidence: ev(1, 10),
        }],
    }
}

fn device(i: u32, site: &str) -> DeviceRecord {
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
    inferred.insert("hostname".to_string(), format!("host-{i:05}"));
    DeviceRecord {
        id: format!("dev-{i:012x}"),
        site: site.into(),
        name: format!("host-{i:05}"),
        inferred,
        macs: vec![format!("00:1b:21:00:{:02x}:{:02x}", i >> 8, i & 0xff)],
        ips: vec![format!("10.1.{}.{}", i / 250, i % 250 + 1)],
        is_router: false,
        first_seen: i64::from(i),
        last_seen: 1_000_000 + i64::from(i % 97),
        detail: serde_json::json!({ "id": format!("dev-{i:012x}") }),
    }
}

fn intel_doc(n: u32, cve: &str, products: Vec<IntelProduct>) -> IntelDocument {
    IntelDocument {
        kind: "csaf".into(),
        doc_id: format!("ICSMA-24-{n:03}-01"),
        version: "1".into(),
        publisher: "CISA".into(),
        sha256: format!("{n:064x}"),
        provenance: serde_json::json!({ "file_name": format!("icsma-{n}.json") }),
        document: serde_json::json!({ "tracking_id": format!("ICSMA-24-{n:03}-01"), "cve": cve }),
        vulnerabilities: products
            .iter()
            .map(|p| IntelVulnerability {
                cve: cve.into(),
                product_id: p.product_id.clone(),
                status: "known_affected".into(),
            })
            .collect(),
        products,
    }
}

fn product(id: &str, vendor: &str, name: &str) -> IntelProduct {
    IntelProduct {
        product_id: id.into(),
        vendor: vendor.into(),
        name: name.into(),
        version: "1.0".into(),
        cpe: String::new(),
        purl: String::new(),
    }
}

async fn audit_some(store: &Store, n: usize) {
    for k in 0..n {
        store
            .append_audit(
                &actor(),
                "test.action",
                &format!("object:{k}"),
                Some(&serde_json::json!({ "k": k })),
                Some(&serde_json::json!({ "k": k + 1, "note": "after" })),
            )
            .await
            .expect("append audit");
    }
}

async fn drop_audit_triggers(db: &TestDb) {
    let sql = if db.pg.is_some() {
        "DROP TRIGGER audit_log_no_update ON audit_log"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    };
    db.exec(sql).await.expect("drop the append-only triggers");
}

// ---------------------------------------------------------------------------------------
// Checks

async fn migrations_are_idempotent(db: &TestDb) {
    let store = &db.store;
    let applied = store.applied_migrations().await.expect("versions");
    assert!(applied.contains(&1) && applied.contains(&4), "{applied:?}");
    assert!(applied.windows(2).all(|w| w[0] < w[1]), "{applied:?}");
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    assert_eq!(store.applied_migrations().await.expect("versions"), applied);
    // Opening again (as a restarted server or a second replica) applies nothing new.
    let again = Store::open(&db.url).await.expect("reopen");
    assert_eq!(again.applied_migrations().await.expect("versions"), applied);
    again
        .upsert_site("st-1", "St. Example")
        .await
        .expect("site");
    let sites = store.sites().await.expect("sites");
    assert_eq!(
        sites.len(),
        1,
        "one site after writing through the second handle"
    );
    assert_eq!(sites[0].name, "St. Example");
    again.close().await;
}

async fn ingest_is_idempotent_by_batch_id(db: &TestDb) {
    let store = &db.store;
    let batch = sample_batch();
    let first = store
        .ingest_batch("sensor-a/0001", "site-a", &batch, &actor())
        .await
        .expect("ingest");
    assert_eq!(
        first,
        IngestOutcome::Applied {
            observations: 2,
            security: 1,
            edges: 1
        },
        "the two hostname sightings merge into one row"
    );
    let before = store
        .observations("site-a", None)
        .await
        .expect("observations");
    let audit_before = store.audit_head().await.expect("head").0;
    for _ in 0..3 {
        let retry = store
            .ingest_batch("sensor-a/0001", "site-a", &batch, &actor())
            .await
            .expect("retry");
        assert_eq!(retry, IngestOutcome::AlreadyApplied);
    }
    let after = store
        .observations("site-a", None)
        .await
        .expect("observations");
    assert_eq!(before, after, "a retried batch changes nothing");
    assert_eq!(store.batch_count().await.expect("count"), 1);
    assert!(store.has_batch("sensor-a/0001").await.expect("has"));
    assert!(!store.has_batch("sensor-a/0002").await.expect("has"));
    assert_eq!(
        store.audit_head().await.expect("head").0,
        audit_before,
        "retries write no audit entry"
    );
    let host = after
        .iter()
        .find(|o| o.observation.key == "dhcp.hostname")
        .expect("hostname row");
    assert_eq!(host.observation.count, 3);
    // Concurrent retries of one new batch: exactly one applies.
    let b2 = sample_batch();
    let who = actor();
    let (x, y) = tokio::join!(
        store.ingest_batch("sensor-a/0002", "site-a", &b2, &who),
        store.ingest_batch("sensor-a/0002", "site-a", &b2, &who),
    );
    let outcomes = [x.expect("x"), y.expect("y")];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, IngestOutcome::Applied { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    let host = store
        .observations("site-a", Some("dhcp.hostname"))
        .await
        .expect("observations");
    assert_eq!(host.len(), 1);
    assert_eq!(host[0].observation.count, 6, "two batches of 3 sightings");
}

async fn ingest_aggregates_like_the_engine(db: &TestDb) {
    let store = &db.store;
    let a = addr("00:1b:21:00:00:01", "10.0.0.1");
    let mut b1 = sample_batch();
    b1.observations = vec![obs(a, "http.user_agent", "Pump/1.2", 100, 200, 2)];
    let mut b2 = sample_batch();
    b2.observations = vec![obs(a, "http.user_agent", "Pump/1.2", 50, 150, 3)];
    b2.edges[0].protocol = Some("dicom".into());
    b2.edges[0].first_seen = Timestamp(5);
    b2.edges[0].last_seen = Timestamp(90);
    b2.edges[0].evidence = ev(77, 5);
    store
        .ingest_batch("b1", "s", &b1, &actor())
        .await
        .expect("b1");
    store
        .ingest_batch("b2", "s", &b2, &actor())
        .await
        .expect("b2");
    let rows = store
        .observations("s", Some("http.user_agent"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let o = &rows[0];
    assert_eq!(o.observation.count, 5, "counts add up");
    assert_eq!(
        o.observation.first_seen,
        Timestamp(50),
        "first seen is the minimum"
    );
    assert_eq!(
        o.observation.last_seen,
        Timestamp(200),
        "last seen is the maximum"
    );
    assert_eq!(o.evidence.batch, "b2", "evidence of the earliest sighting");
    assert_eq!(o.evidence.packet, 50);
    assert_eq!(o.observation.subject, a);

    let facts = store.site_facts("s").await.expect("facts");
    assert_eq!(facts.edges.len(), 1);
    let e = &facts.edges[0];
    assert_eq!(e.bytes_to_server, 2000);
    assert_eq!(e.packets, 20);
    assert_eq!(e.sessions, 2);
    assert_eq!(
        e.protocol.as_deref(),
        Some("dicom"),
        "a later batch fills the protocol"
    );
    assert_eq!(e.first_seen, Timestamp(5));
    assert_eq!(e.last_seen, Timestamp(90));
    assert_eq!(e.evidence.packet, 77);
    assert_eq!(e.vlan, Some(20));
    assert_eq!(e.transport, Transport::Tcp);
    assert_eq!(facts.security.len(), 1);
    let s = &facts.security[0];
    assert_eq!(s.count, 2);
    assert_eq!(s.kind, SecurityKind::TelnetInUse);
    assert_eq!(s.severity, Severity::High);
    assert_eq!(s.peer, Some(a));
    assert_eq!(
        facts.observations.len(),
        1,
        "both batches carried only the user agent"
    );
}

async fn device_filters_sort_and_pagination(db: &TestDb) {
    let store = &db.store;
    let records: Vec<DeviceRecord> = (0..250)
        .map(|i| device(i, if i % 5 == 0 { "north" } else { "south" }))
        .collect();
    store
        .upsert_devices(&records, &actor())
        .await
        .expect("devices");

    let all = store
        .list_devices(&DeviceQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("all");
    assert_eq!(all.total, Some(250));
    assert_eq!(all.devices.len(), 250);
    assert!(
        all.devices.windows(2).all(|w| w[0].name < w[1].name),
        "sorted by name"
    );

    let pumps = store
        .list_devices(&DeviceQuery {
            category: Some("infusion_pump".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("pumps");
    assert_eq!(pumps.total, Some(63), "i % 4 == 0 for i < 250");
    assert!(pumps
        .devices
        .iter()
        .all(|d| d.category.as_deref() == Some("infusion_pump")
            && d.criticality.as_deref() == Some("critical")));

    let north_philips = store
        .list_devices(&DeviceQuery {
            site: Some("north".into()),
            vendor: Some("Philips".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("north philips");
    // i % 5 == 0 and i % 4 == 1: i = 5, 25, 45, ... (i % 20 == 5) -> 13 below 250.
    assert_eq!(north_philips.total, Some(13));
    assert!(north_philips
        .devices
        .iter()
        .all(|d| d.site == "north" && d.vendor.as_deref() == Some("Philips")));

    let by_ip = store
        .list_devices(&DeviceQuery {
            text: Some("10.1.0.43".into()),
            ..Default::default()
        })
        .await
        .expect("by ip");
    assert_eq!(by_ip.devices.len(), 1);
    assert_eq!(by_ip.devices[0].name, "host-00042");
    let by_mac = store
        .list_devices(&DeviceQuery {
            text: Some("00:1B:21:00:00:2A".into()),
            ..Default::default()
        })
        .await
        .expect("by mac");
    assert_eq!(by_mac.devices.len(), 1, "MAC search is case-insensitive");
    assert_eq!(by_mac.devices[0].name, "host-00042");
    let wildcard = store
        .list_devices(&DeviceQuery {
            text: Some("%".into()),
            ..Default::default()
        })
        .await
        .expect("wildcard");
    assert_eq!(
        wildcard.total,
        Some(0),
        "LIKE wildcards in the search are literal"
    );

    // Keyset pagination visits every device once, in order, for each sort and direction.
    for sort in [
        DeviceSort::Name,
        DeviceSort::Criticality,
        DeviceSort::LastSeen,
        DeviceSort::Vendor,
    ] {
        for descending in [false, true] {
            let mut seen = Vec::new();
            let mut after = None;
            for _ in 0..100 {
                let page = store
                    .list_devices(&DeviceQuery {
                        sort,
                        descending,
                        limit: 37,
                        after: after.clone(),
                        with_total: false,
                        ..Default::default()
                    })
                    .await
                    .expect("page");
                seen.extend(page.devices.into_iter().map(|d| d.id));
                match page.next_cursor {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                seen.len(),
                250,
                "{sort:?} desc={descending}: every device once"
            );
            assert_eq!(
                unique.len(),
                250,
                "{sort:?} desc={descending}: no duplicates"
            );
            // The same order as one big page.
            let one = store
                .list_devices(&DeviceQuery {
                    sort,
                    descending,
                    limit: 1000,
                    ..Default::default()
                })
                .await
                .expect("one page");
            let ids: Vec<String> = one.devices.into_iter().map(|d| d.id).collect();
            assert_eq!(seen, ids, "{sort:?} desc={descending}: keyset order");
        }
    }
    let page2 = store
        .list_devices(&DeviceQuery {
            limit: 20,
            offset: 20,
            ..Default::default()
        })
        .await
        .expect("offset");
    assert_eq!(page2.devices[0].name, "host-00020");
    let crit = store
        .list_devices(&DeviceQuery {
            sort: DeviceSort::Criticality,
            descending: true,
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("crit");
    assert_eq!(crit.devices[0].criticality.as_deref(), Some("critical"));
    assert!(store
        .list_devices(&DeviceQuery {
            after: Some("not-a-cursor".into()),
            ..Default::default()
        })
        .await
        .is_err());

    // Stale marking.
    let n = store.mark_stale(1_000_050, &actor()).await.expect("stale");
    let stale = store
        .list_devices(&DeviceQuery {
            stale: Some(true),
            ..Default::default()
        })
        .await
        .expect("stale list");
    assert_eq!(stale.total, Some(n));
    assert!(n > 0 && n < 250, "{n}");
    store
        .upsert_devices(&records, &actor())
        .await
        .expect("seen again");
    let stale = store
        .list_devices(&DeviceQuery {
            stale: Some(true),
            ..Default::default()
        })
        .await
        .expect("stale list");
    assert_eq!(stale.total, Some(0), "devices seen again are not stale");
}

async fn manual_overrides_win_over_inference(db: &TestDb) {
    let store = &db.store;
    let mut rec = device(7, "north");
    store
        .upsert_devices(std::slice::from_ref(&rec), &actor())
        .await
        .expect("device");
    let ov = ManualOverride {
        device_id: rec.id.clone(),
        attribute: AttrKind::Vendor,
        value: "GE Healthcare".into(),
        author: Some("bob".into()),
        note: Some("asset tag says so".into()),
        set_at: None,
    };
    store.set_override(&ov, &actor()).await.expect("override");
    let cat = ManualOverride {
        device_id: rec.id.clone(),
        attribute: AttrKind::Category,
        value: "ventilator".into(),
        author: None,
        note: None,
        set_at: None,
    };
    store
        .set_override(&cat, &actor())
        .await
        .expect("category override");
    // Identification runs again and still says Dell / workstation.
    rec.inferred.insert("vendor".into(), "Dell".into());
    store
        .upsert_devices(std::slice::from_ref(&rec), &actor())
        .await
        .expect("re-identify");
    let d = store.device(&rec.id).await.expect("get").expect("device");
    assert_eq!(
        d.summary.vendor.as_deref(),
        Some("GE Healthcare"),
        "override wins"
    );
    assert_eq!(d.summary.category.as_deref(), Some("ventilator"));
    assert_eq!(
        d.summary.criticality.as_deref(),
        Some("critical"),
        "from the category"
    );
    assert_eq!(d.overrides.len(), 2);
    let v = d
        .overrides
        .iter()
        .find(|o| o.attribute == AttrKind::Vendor)
        .expect("vendor override kept as such");
    assert_eq!(v.author.as_deref(), Some("bob"));
    assert_eq!(v.note.as_deref(), Some("asset tag says so"));
    let listed = store
        .list_devices(&DeviceQuery {
            vendor: Some("GE Healthcare".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(listed.total, Some(1), "filters see the override");
    store
        .clear_override(&rec.id, AttrKind::Vendor, &actor())
        .await
        .expect("clear");
    let d = store.device(&rec.id).await.expect("get").expect("device");
    assert_eq!(
        d.summary.vendor.as_deref(),
        Some("Dell"),
        "inference applies again"
    );
    assert_eq!(d.summary.category.as_deref(), Some("ventilator"));
    assert!(store
        .set_override(
            &ManualOverride {
                device_id: "dev-missing".into(),
                ..ov.clone()
            },
            &actor()
        )
        .await
        .is_err());
    assert!(store
        .set_override(
            &ManualOverride {
                value: "not a category".into(),
                ..cat
            },
            &actor()
        )
        .await
        .is_err());
    let audit = store.audit_entries(0, 100).await.expect("audit");
    let set = audit
        .iter()
        .filter(|e| e.action == "device.override.set")
        .count();
    let cleared = audit
        .iter()
        .find(|e| e.action == "device.override.clear")
        .expect("clear audited");
    assert_eq!(set, 2);
    assert!(cleared
        .before
        .as_deref()
        .unwrap_or("")
        .contains("GE Healthcare"));
    assert_eq!(cleared.after, None);
    assert_eq!(cleared.source, "192.0.2.10");
}

async fn finding_status_history(db: &TestDb) {
    let store = &db.store;
    store
        .upsert_devices(&[device(1, "north")], &actor())
        .await
        .expect("device");
    let f = NewFinding {
        id: "fnd-1".into(),
        device_id: device(1, "north").id,
        vulnerability: "CVE-2024-0001".into(),
        document: None,
        confidence: 0.8,
        explanation: serde_json::json!({ "matched": "vendor+model" }),
    };
    store
        .upsert_findings(std::slice::from_ref(&f), &Actor::system())
        .await
        .expect("create");
    store
        .upsert_findings(std::slice::from_ref(&f), &Actor::system())
        .await
        .expect("refresh");
    let bob = Actor::new("bob", None);
    store
        .set_finding_status("fnd-1", FindingStatus::InTriage, "looking", None, &bob)
        .await
        .expect("triage");
    let err = store
        .set_finding_status(
            "fnd-1",
            FindingStatus::RiskAccepted,
            "no expiry",
            None,
            &bob,
        )
        .await;
    assert!(err.is_err(), "risk acceptance needs an expiry");
    let soon = now_micros() + 2_000_000;
    store
        .set_finding_status(
            "fnd-1",
            FindingStatus::RiskAccepted,
            "segmented",
            Some(soon),
            &bob,
        )
        .await
        .expect("accept");
    let got = store.finding("fnd-1").await.expect("get").expect("finding");
    assert_eq!(got.status, FindingStatus::RiskAccepted);
    assert_eq!(got.accepted_until, Some(soon));
    assert_eq!(
        store
            .expire_risk_acceptances(soon - 1, &Actor::system())
            .await
            .expect("not yet"),
        0
    );
    assert_eq!(
        store
            .expire_risk_acceptances(soon, &Actor::system())
            .await
            .expect("expire"),
        1
    );
    // The matcher refreshing the finding keeps the status people gave it.
    store
        .set_finding_status(
            "fnd-1",
            FindingStatus::FalsePositive,
            "wrong model",
            None,
            &bob,
        )
        .await
        .expect("fp");
    store
        .upsert_findings(std::slice::from_ref(&f), &Actor::system())
        .await
        .expect("refresh");
    let got = store.finding("fnd-1").await.expect("get").expect("finding");
    assert_eq!(got.status, FindingStatus::FalsePositive);
    assert_eq!(got.reason, "wrong model");

    let h = store.finding_history("fnd-1").await.expect("history");
    let steps: Vec<(Option<FindingStatus>, FindingStatus, &str, &str)> = h
        .iter()
        .map(|c| (c.from, c.to, c.actor.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, FindingStatus::Open, "system", "created"),
            (
                Some(FindingStatus::Open),
                FindingStatus::InTriage,
                "bob",
                "looking"
            ),
            (
                Some(FindingStatus::InTriage),
                FindingStatus::RiskAccepted,
                "bob",
                "segmented"
            ),
            (
                Some(FindingStatus::RiskAccepted),
                FindingStatus::Open,
                "system",
                "risk acceptance expired"
            ),
            (
                Some(FindingStatus::Open),
                FindingStatus::FalsePositive,
                "bob",
                "wrong model"
            ),
        ]
    );
    assert_eq!(h[2].accepted_until, Some(soon));
    assert!(h.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert!(store
        .set_finding_status("fnd-missing", FindingStatus::Fixed, "x", None, &bob)
        .await
        .is_err());
    assert!(store.verify_audit_chain().await.expect("verify").ok());
}

async fn intel_import_is_all_or_nothing(db: &TestDb) {
    let store = &db.store;
    let a = intel_doc(
        1,
        "CVE-2024-1111",
        vec![product("p1", "Baxter", "Sigma Spectrum")],
    );
    let r = store
        .import_intel(std::slice::from_ref(&a), &actor())
        .await
        .expect("import a");
    assert_eq!(r.imported.len(), 1);
    let head = store.audit_head().await.expect("head");

    // A two-document import whose second document fails half-way (a duplicate product id
    // violates the primary key after the first document and the first product were
    // written): nothing of it may be visible.
    let b = intel_doc(
        2,
        "CVE-2024-2222",
        vec![product("p1", "Philips", "IntelliVue")],
    );
    let c = intel_doc(
        3,
        "CVE-2024-3333",
        vec![
            product("p1", "GE", "Carescape"),
            product("p1", "GE", "Carescape duplicate"),
        ],
    );
    let err = store.import_intel(&[b.clone(), c], &actor()).await;
    assert!(
        err.is_err(),
        "the duplicate product id must fail the import"
    );
    assert_eq!(store.intel_document_count().await.expect("count"), 1);
    assert!(store
        .intel_by_cve("CVE-2024-2222")
        .await
        .expect("lookup")
        .is_empty());
    assert!(store
        .intel_by_cve("CVE-2024-3333")
        .await
        .expect("lookup")
        .is_empty());
    assert!(store
        .intel_by_product("philips", "intellivue")
        .await
        .expect("lookup")
        .is_empty());
    assert_eq!(
        store.audit_head().await.expect("head"),
        head,
        "no audit entry either"
    );

    // The same bytes again: a no-op; the good document alone: imported.
    let r = store.import_intel(&[a, b], &actor()).await.expect("retry");
    assert_eq!(r.already_present, 1);
    assert_eq!(r.imported.len(), 1);
    let found = store.intel_by_cve("CVE-2024-2222").await.expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].doc_id, "ICSMA-24-002-01");
    let by_product = store
        .intel_by_product("PHILIPS", "IntelliVue")
        .await
        .expect("lookup");
    assert_eq!(by_product.len(), 1);
    let json = store
        .intel_document_json(found[0].id)
        .await
        .expect("json")
        .expect("document");
    assert_eq!(json["cve"], "CVE-2024-2222");
    let bad = IntelDocument {
        sha256: "xyz".into(),
        ..intel_doc(9, "CVE-2024-9999", vec![])
    };
    assert!(store.import_intel(&[bad], &actor()).await.is_err());
}

async fn job_lease_is_exclusive(db: &TestDb) {
    let store = &db.store;
    // A second handle on the same database: another `ward serve` replica.
    let replica = Store::open(&db.url).await.expect("replica");
    let now = 1_000_000_000;
    let spec = JobSpec {
        id: "stale-devices".into(),
        kind: "mark_stale".into(),
        payload: serde_json::json!({ "days": 30 }),
        run_after: now,
        interval_secs: Some(3600),
    };
    assert!(store.schedule_job(&spec, now).await.expect("schedule"));
    assert!(!replica
        .schedule_job(&spec, now)
        .await
        .expect("schedule again"));

    let (x, y) = tokio::join!(
        store.claim_job("replica-a", now, 60_000_000),
        replica.claim_job("replica-b", now, 60_000_000),
    );
    let (x, y) = (x.expect("claim a"), y.expect("claim b"));
    assert!(
        x.is_some() != y.is_some(),
        "exactly one claimer wins: {x:?} {y:?}"
    );
    let lease = x.or(y).expect("a lease");
    assert_eq!(lease.kind, "mark_stale");
    assert_eq!(lease.payload["days"], 30);
    assert_eq!(lease.attempts, 1);
    // While the lease holds nobody else gets it; after it expires another replica may.
    assert!(store
        .claim_job("replica-c", now + 59_000_000, 60_000_000)
        .await
        .expect("claim")
        .is_none());
    let other = if lease.owner == "replica-a" {
        "replica-b"
    } else {
        "replica-a"
    };
    assert!(!store
        .finish_job(&lease.id, other, now + 1, None)
        .await
        .expect("finish by non-owner"));
    let taken = replica
        .claim_job("replica-c", now + 60_000_001, 60_000_000)
        .await
        .expect("claim")
        .expect("expired lease is claimable");
    assert_eq!(taken.attempts, 2);
    assert!(!store
        .renew_job_lease(&lease.id, &lease.owner, now + 120_000_000)
        .await
        .expect("renew lost lease"));
    assert!(store
        .finish_job(&taken.id, "replica-c", now + 61_000_000, None)
        .await
        .expect("finish"));
    let state = store
        .job("stale-devices")
        .await
        .expect("job")
        .expect("state");
    assert_eq!(state.state, "pending", "recurring");
    assert_eq!(state.run_after, now + 61_000_000 + 3_600_000_000);
    assert_eq!(state.lease_owner, None);

    // Many jobs, four claimers racing: each job is claimed exactly once.
    for k in 0..20 {
        let spec = JobSpec {
            id: format!("one-off-{k:02}"),
            kind: "rematch".into(),
            payload: serde_json::Value::Null,
            run_after: now,
            interval_secs: None,
        };
        store.schedule_job(&spec, now).await.expect("schedule");
    }
    let t = now + 100;
    let claimers = (0..4).map(|w| {
        let s = if w % 2 == 0 {
            store.clone()
        } else {
            replica.clone()
        };
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(l) = s
                .claim_job(&format!("w{w}"), t, 600_000_000)
                .await
                .expect("claim")
            {
                if l.id.starts_with("one-off-") {
                    got.push(l.id);
                }
            }
            got
        })
    });
    let mut all = Vec::new();
    for h in claimers.collect::<Vec<_>>() {
        all.extend(h.await.expect("join"));
    }
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(n, 20, "every job claimed once, none twice: {all:?}");
    assert_eq!(all.len(), 20);
    replica.close().await;
}

async fn audit_chain_verifies_and_is_append_only(db: &TestDb) {
    let store = &db.store;
    let empty = store.verify_audit_chain().await.expect("verify");
    assert!(empty.ok());
    assert_eq!(empty.entries, 0);
    audit_some(store, 5).await;
    store
        .ingest_batch("b", "s", &sample_batch(), &actor())
        .await
        .expect("ingest");
    let r = store.verify_audit_chain().await.expect("verify");
    assert!(r.ok(), "{:?}", r.problem);
    assert_eq!(r.entries, 6);
    assert_eq!(r.head_seq, 6);
    let entries = store.audit_entries(0, 100).await.expect("entries");
    assert_eq!(entries[0].prev_hash, ward_store::GENESIS_HASH);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert_eq!(
        entries[0].after.as_deref(),
        Some(r#"{"k":1,"note":"after"}"#)
    );
    assert_eq!(entries[5].action, "ingest.batch");
    // The database refuses plain edits and deletes (triggers).
    assert!(db
        .exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
        .await
        .is_err());
    assert!(db
        .exec("DELETE FROM audit_log WHERE seq = 6")
        .await
        .is_err());
    assert!(store.verify_audit_chain().await.expect("verify").ok());
}

async fn audit_detects_an_edited_entry(db: &TestDb) {
    audit_some(&db.store, 5).await;
    assert!(db.store.verify_audit_chain().await.expect("verify").ok());
    drop_audit_triggers(db).await;
    db.exec(r#"UPDATE audit_log SET after = '{"k":0,"note":"after"}' WHERE seq = 3"#)
        .await
        .expect("tamper");
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert_eq!(r.problem, Some(AuditProblem::HashMismatch { seq: 3 }));
}

async fn audit_detects_swapped_entries(db: &TestDb) {
    audit_some(&db.store, 5).await;
    drop_audit_triggers(db).await;
    db.exec(
        "UPDATE audit_log SET seq = -1 WHERE seq = 2; \
         UPDATE audit_log SET seq = 2 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3 WHERE seq = -1;",
    )
    .await
    .expect("tamper");
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert_eq!(r.problem, Some(AuditProblem::HashMismatch { seq: 2 }));
}

async fn audit_detects_a_deleted_middle_entry(db: &TestDb) {
    audit_some(&db.store, 5).await;
    drop_audit_triggers(db).await;
    db.exec("DELETE FROM audit_log WHERE seq = 3")
        .await
        .expect("tamper");
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert_eq!(
        r.problem,
        Some(AuditProblem::Gap {
            expected: 3,
            found: 4
        })
    );
    // Renumbering to hide the gap breaks the hashes instead.
    db.exec("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3")
        .await
        .expect("renumber");
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert_eq!(r.problem, Some(AuditProblem::HashMismatch { seq: 3 }));
}

async fn audit_detects_a_deleted_last_entry(db: &TestDb) {
    audit_some(&db.store, 5).await;
    let (seq, hash) = db.store.audit_head().await.expect("head");
    assert_eq!(seq, 5);
    drop_audit_triggers(db).await;
    db.exec("DELETE FROM audit_log WHERE seq = 5")
        .await
        .expect("tamper");
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert_eq!(
        r.problem,
        Some(AuditProblem::HeadMismatch {
            head_seq: 5,
            last_seq: 4
        })
    );
    // The documented limit: rewinding the head too makes the chain consistent again, and
    // only an anchor kept outside the database catches it.
    let prev = db.store.audit_entries(3, 1).await.expect("entry 4")[0]
        .hash
        .clone();
    db.exec(&format!(
        "UPDATE audit_head SET seq = 4, hash = '{prev}' WHERE id = 1"
    ))
    .await
    .expect("rewind head");
    assert!(db.store.verify_audit_chain().await.expect("verify").ok());
    let r = db
        .store
        .verify_audit_chain_from(Some((seq, &hash)))
        .await
        .expect("verify");
    assert_eq!(r.problem, Some(AuditProblem::AnchorMismatch { seq: 5 }));
}

async fn audit_chain_stays_linear_under_concurrent_writers(db: &TestDb) {
    let replica = Store::open(&db.url).await.expect("replica");
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let s = if w % 2 == 0 {
                db.store.clone()
            } else {
                replica.clone()
            };
            tokio::spawn(async move { audit_some(&s, 10).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
    let r = db.store.verify_audit_chain().await.expect("verify");
    assert!(r.ok(), "{:?}", r.problem);
    assert_eq!(r.entries, 40);
    replica.close().await;
}

async fn lockout_count_restarts_after_a_lock_expires(db: &TestDb) {
    let u = db
        .store
        .create_user(
            &NewUser {
                id: "u-lock".into(),
                username: "lock".into(),
                display_name: "Lock".into(),
                password_hash: Some("$argon2id$dummy".into()),
                roles: vec![RoleGrant {
                    role: "auditor".into(),
                    site: None,
                }],
                ..NewUser::default()
            },
            &actor(),
        )
        .await
        .expect("create");
    let s = &db.store;
    let t0: i64 = 1_000_000_000;
    let lock = t0 + 900;
    // Two failures below the threshold of 3: counted, no lock.
    for n in 1..=2 {
        let f = s
            .record_login_failure(&u.id, t0 + n, 3, lock)
            .await
            .expect("fail");
        assert_eq!((f.failed, f.locked_until, f.newly_locked), (n, None, false));
    }
    // The third locks the account.
    let f = s
        .record_login_failure(&u.id, t0 + 3, 3, lock)
        .await
        .expect("fail");
    assert_eq!(
        (f.failed, f.locked_until, f.newly_locked),
        (3, Some(lock), true)
    );
    // While locked: the count does not grow and the lock is neither extended nor re-set.
    for n in 4..=10 {
        let f = s
            .record_login_failure(&u.id, t0 + n, 3, t0 + n + 900)
            .await
            .expect("fail");
        assert_eq!(
            (f.failed, f.locked_until, f.newly_locked),
            (3, Some(lock), false)
        );
    }
    let stored = s.user(&u.id).await.expect("user").expect("exists");
    assert_eq!((stored.failed_logins, stored.locked_until), (3, Some(lock)));
    // After the lock expired, one wrong password counts as the first of a new series.
    let after = lock + 1;
    let f = s
        .record_login_failure(&u.id, after, 3, after + 900)
        .await
        .expect("fail");
    assert_eq!((f.failed, f.locked_until, f.newly_locked), (1, None, false));
    let stored = s.user(&u.id).await.expect("user").expect("exists");
    assert_eq!((stored.failed_logins, stored.locked_until), (1, None));
    let f = s
        .record_login_failure(&u.id, after + 1, 3, after + 900)
        .await
        .expect("fail");
    assert_eq!((f.failed, f.locked_until), (2, None));
    // The lock at exactly its end time is over (locked_until <= now).
    let f = s
        .record_login_failure(&u.id, after + 2, 3, after + 900)
        .await
        .expect("fail");
    assert_eq!(
        (f.failed, f.locked_until, f.newly_locked),
        (3, Some(after + 900), true)
    );
    let f = s
        .record_login_failure(&u.id, after + 900, 3, after + 1800)
        .await
        .expect("fail");
    assert_eq!((f.failed, f.locked_until, f.newly_locked), (1, None, false));
    // A success clears the count.
    s.record_login_success(&u.id).await.expect("success");
    let stored = s.user(&u.id).await.expect("user").expect("exists");
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    // An unknown user changes nothing.
    let f = s
        .record_login_failure("nobody", t0, 3, lock)
        .await
        .expect("fail");
    assert_eq!(f, ward_store::LoginFailure::default());
}

async fn identify_north(store: &Store) {
    let rules = ward_identify::Rules::builtin().expect("builtin rules");
    let facts = store.site_facts("north").await.expect("facts");
    let inv = ward_identify::identify(&facts.observations, &facts.security, &facts.edges, &rules);
    store
        .replace_inventory("north", &inv, &actor())
        .await
        .expect("inventory");
}

fn finding(id: &str, device: &str, vuln: &str) -> NewFinding {
    NewFinding {
        id: id.into(),
        device_id: device.into(),
        vulnerability: vuln.into(),
        document: None,
        confidence: 0.9,
        explanation: serde_json::json!({ "why": "test" }),
    }
}

async fn device_merges_win_over_inference(db: &TestDb) {
    let store = &db.store;
    store
        .ingest_batch("b-merge", "north", &sample_batch(), &actor())
        .await
        .expect("ingest");
    identify_north(store).await;
    let page = store
        .list_devices(&DeviceQuery::default())
        .await
        .expect("list");
    assert_eq!(
        page.total,
        Some(2),
        "two devices inferred: {:?}",
        page.devices
    );
    let of_mac = |m: &str| {
        page.devices
            .iter()
            .find(|d| d.macs.iter().any(|x| x == m))
            .map(|d| d.id.clone())
            .expect("device of mac")
    };
    let a = of_mac("00:1b:21:00:00:01");
    let b = of_mac("00:1d:4a:00:00:02");
    // The alias has an override, a finding and the finding the target also has.
    store
        .set_override(
            &ManualOverride {
                device_id: b.clone(),
                attribute: AttrKind::Vendor,
                value: "Acme".into(),
                author: Some("bob".into()),
                note: None,
                set_at: None,
            },
            &actor(),
        )
        .await
        .expect("override");
    store
        .upsert_findings(
            &[
                finding("f-b1", &b, "CVE-2026-0001"),
                finding("f-b2", &b, "CVE-2026-0002"),
                finding("f-a2", &a, "CVE-2026-0002"),
            ],
            &actor(),
        )
        .await
        .expect("findings");

    // Errors: itself, unknown, other site.
    assert!(store.merge_devices(&a, &a, "", &actor()).await.is_err());
    assert!(store.merge_devices(&a, "nope", "", &actor()).await.is_err());
    store
        .upsert_devices(&[device(1, "south")], &actor())
        .await
        .expect("south");
    let south = device(1, "south").id;
    assert!(store.merge_devices(&a, &south, "", &actor()).await.is_err());

    let m = store
        .merge_devices(&a, &b, "one box, two NICs", &actor())
        .await
        .expect("merge");
    assert_eq!(
        (m.alias.as_str(), m.target.as_str()),
        (b.as_str(), a.as_str())
    );
    assert_eq!(m.site, "north");
    let check = |when: &'static str| {
        let (a, b) = (a.clone(), b.clone());
        async move {
            assert!(
                store.device(&b).await.expect("get").is_none(),
                "{when}: alias gone"
            );
            assert_eq!(
                store.device_alias(&b).await.expect("alias").as_deref(),
                Some(a.as_str()),
                "{when}"
            );
            let d = store.device(&a).await.expect("get").expect("target");
            for mac in ["00:1b:21:00:00:01", "00:1d:4a:00:00:02"] {
                assert!(
                    d.summary.macs.iter().any(|m| m == mac),
                    "{when}: {mac} in {:?}",
                    d.summary.macs
                );
            }
            assert_eq!(
                d.summary.vendor.as_deref(),
                Some("Acme"),
                "{when}: override followed"
            );
            let conns = store.site_connections("north").await.expect("connections");
            assert!(!conns.is_empty(), "{when}");
            for c in &conns {
                assert_eq!(c.client_device.as_deref(), Some(a.as_str()), "{when}");
                assert_eq!(c.server_device.as_deref(), Some(a.as_str()), "{when}");
            }
            let n = store
                .list_devices(&DeviceQuery {
                    site: Some("north".into()),
                    ..Default::default()
                })
                .await
                .expect("list")
                .total;
            assert_eq!(n, Some(1), "{when}: one device in north");
        }
    };
    check("after the merge").await;
    let fs = store.findings_of_device(&a).await.expect("findings");
    let mut ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["f-a2", "f-b1"],
        "the alias's finding moved; the duplicate went"
    );

    // Re-ingest and re-inference bring the alias back as a device of its own: it is folded.
    store
        .ingest_batch("b-merge-2", "north", &sample_batch(), &actor())
        .await
        .expect("ingest again");
    identify_north(store).await;
    check("after re-inference").await;
    // Matching again produces findings for the alias: they land on the target, one per
    // vulnerability.
    store
        .upsert_findings(
            &[
                finding("f-b1-again", &b, "CVE-2026-0001"),
                finding("f-b3", &b, "CVE-2026-0003"),
            ],
            &actor(),
        )
        .await
        .expect("findings for the alias");
    let fs = store.findings_of_device(&a).await.expect("findings");
    let mut ids: Vec<&str> = fs.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["f-a2", "f-b1", "f-b3"]);

    let merges = store.device_merges(Some(&a)).await.expect("merges");
    assert_eq!(merges, vec![m.clone()]);
    let entries = store.audit_entries(0, 10_000).await.expect("audit");
    let e = entries
        .iter()
        .find(|e| e.action == "device.merge")
        .expect("merge audited");
    assert_eq!(e.object, format!("device:{a}"));
    let before = e.before.as_deref().expect("before");
    assert!(
        before.contains(&b) && before.contains("00:1d:4a:00:00:02"),
        "{before}"
    );
    assert!(e
        .after
        .as_deref()
        .expect("after")
        .contains("one box, two NICs"));
    assert!(store.verify_audit_chain().await.expect("verify").ok());
    // A merge of the alias again: it is no device any more.
    assert!(store.merge_devices(&a, &b, "", &actor()).await.is_err());
}

/// `total` is served from a cache keyed by the inventory revision (migration 0006). Every
/// kind of change must show in the next count: the store's own writes, a write through a
/// second handle (another replica), and SQL run around the store.
async fn cached_device_counts_follow_every_change(db: &TestDb) {
    let store = &db.store;
    let count = |q: DeviceQuery| async move {
        store
            .list_devices(&DeviceQuery { limit: 1, ..q })
            .await
            .expect("list")
            .total
            .expect("total")
    };
    let north = || DeviceQuery {
        site: Some("north".into()),
        ..Default::default()
    };
    let records: Vec<DeviceRecord> = (0..120)
        .map(|i| device(i, if i % 3 == 0 { "north" } else { "south" }))
        .collect();
    store
        .upsert_devices(&records, &actor())
        .await
        .expect("devices");
    assert_eq!(count(DeviceQuery::default()).await, 120);
    assert_eq!(count(north()).await, 40);

    // A repeated sighting (only last_seen and detail change) leaves the revision alone,
    // so the cached counts stay valid.
    let rev = store.device_revision().await.expect("revision");
    let mut again = records.clone();
    for r in &mut again {
        r.last_seen += 5;
    }
    store.upsert_devices(&again, &actor()).await.expect("again");
    assert_eq!(store.device_revision().await.expect("revision"), rev);
    assert_eq!(count(DeviceQuery::default()).await, 120);

    // New devices.
    store
        .upsert_devices(&[device(500, "north"), device(501, "north")], &actor())
        .await
        .expect("more");
    assert!(store.device_revision().await.expect("revision") > rev);
    assert_eq!(count(DeviceQuery::default()).await, 122);
    assert_eq!(count(north()).await, 42);

    // Stale marking (an UPDATE of many rows).
    let stale = || DeviceQuery {
        stale: Some(true),
        ..Default::default()
    };
    assert_eq!(count(stale()).await, 0);
    let n = store
        .mark_stale(1_000_000 + 10, &actor())
        .await
        .expect("stale");
    assert!(n > 0);
    assert_eq!(count(stale()).await, n);

    // A manual override of the category moves a device between filters.
    let pumps = || DeviceQuery {
        category: Some("infusion_pump".into()),
        ..Default::default()
    };
    let before = count(pumps()).await;
    store
        .set_override(
            &ManualOverride {
                device_id: device(1, "south").id,
                attribute: AttrKind::Category,
                value: "infusion_pump".into(),
                author: Some("bob".into()),
                note: None,
                set_at: None,
            },
            &actor(),
        )
        .await
        .expect("override");
    assert_eq!(
        count(pumps()).await,
        before + 1,
        "device 1 is a monitor until overridden"
    );

    // Free text is part of the key.
    let text = |t: &str| DeviceQuery {
        text: Some(t.into()),
        ..Default::default()
    };
    assert_eq!(
        count(text("host-0050")).await,
        2,
        "host-00500 and host-00501"
    );
    assert_eq!(count(text("host-0011")).await, 10);

    // Another handle on the same database (a second replica) adds a device.
    let other = Store::open(&db.url).await.expect("second handle");
    other
        .upsert_devices(&[device(502, "north")], &actor())
        .await
        .expect("other replica");
    assert_eq!(count(DeviceQuery::default()).await, 123);
    assert_eq!(count(text("host-0050")).await, 3);
    other.close().await;

    // SQL around the store: a delete and a site move, no application code involved.
    db.exec(&format!(
        "DELETE FROM devices WHERE id = '{}'",
        device(500, "north").id
    ))
    .await
    .expect("delete");
    assert_eq!(count(DeviceQuery::default()).await, 122);
    assert_eq!(count(north()).await, 42);
    db.exec(&format!(
        "UPDATE devices SET site = 'south' WHERE id = '{}'",
        device(501, "north").id
    ))
    .await
    .expect("move");
    assert_eq!(count(north()).await, 41);
    assert_eq!(count(DeviceQuery::default()).await, 122);
}

async fn device_documents_attach_list_fetch_delete(db: &TestDb) {
    use ward_store::{NewDeviceDocument, MAX_DOCUMENT_BYTES};
    let store = &db.store;
    let applied = store.applied_migrations().await.expect("versions");
    assert!(applied.contains(&7), "migration 0007 applied: {applied:?}");
    store.upsert_site("north", "North").await.expect("site");
    store
        .upsert_devices(&[device(1, "north"), device(2, "north")], &actor())
        .await
        .expect("devices");
    let (d1, d2) = (device(1, "north").id, device(2, "north").id);
    // Every byte value survives the round trip (a BLOB / BYTEA, not text).
    let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let new = NewDeviceDocument {
        device_id: d1.clone(),
        kind: "mds2".into(),
        file_name: "MDS2 Sigma.pdf".into(),
        media_type: "Application/PDF; x=1".into(),
        note: "from the manufacturer portal".into(),
        content: content.clone(),
    };
    let doc = store
        .attach_device_document(&new, &actor())
        .await
        .expect("attach");
    assert_eq!(doc.device_id, d1);
    assert_eq!(doc.size, 70_000);
    assert_eq!(doc.media_type, "application/pdf");
    assert_eq!(doc.uploaded_by, "alice");
    assert_eq!(doc.sha256, hex_sha256(&content));
    let second = store
        .attach_device_document(
            &NewDeviceDocument {
                kind: "manual".into(),
                file_name: "manual.txt".into(),
                media_type: "text/plain".into(),
                note: String::new(),
                content: b"operator manual".to_vec(),
                ..new.clone()
            },
            &actor(),
        )
        .await
        .expect("second");
    let listed = store.device_documents(&d1).await.expect("list");
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![second.id, doc.id],
        "newest first"
    );
    assert!(store.device_documents(&d2).await.expect("list").is_empty());
    let (meta, bytes) = store
        .device_document_content(doc.id)
        .await
        .expect("fetch")
        .expect("present");
    assert_eq!(meta, doc);
    assert_eq!(bytes, content);
    assert_eq!(
        store.device_document(doc.id).await.expect("meta"),
        Some(doc.clone())
    );

    // Refused: unknown device, unknown kind, empty, too large, a path as file name.
    let refused = [
        NewDeviceDocument {
            device_id: "no-such-device".into(),
            ..new.clone()
        },
        NewDeviceDocument {
            kind: "patient_record".into(),
            ..new.clone()
        },
        NewDeviceDocument {
            content: Vec::new(),
            ..new.clone()
        },
        NewDeviceDocument {
            content: vec![0u8; MAX_DOCUMENT_BYTES + 1],
            ..new.clone()
        },
        NewDeviceDocument {
            file_name: "../../etc/passwd".into(),
            ..new.clone()
        },
    ];
    for r in &refused {
        let e = store
            .attach_device_document(r, &actor())
            .await
            .expect_err("refused");
        let text = e.to_string();
        assert!(
            matches!(
                e,
                ward_store::StoreError::NotFound { .. } | ward_store::StoreError::Invalid { .. }
            ),
            "{text}"
        );
    }
    // Exactly the limit is accepted.
    let big = store
        .attach_device_document(
            &NewDeviceDocument {
                device_id: d2.clone(),
                content: vec![7u8; MAX_DOCUMENT_BYTES],
                ..new.clone()
            },
            &actor(),
        )
        .await
        .expect("10 MiB is accepted");
    assert_eq!(big.size as usize, MAX_DOCUMENT_BYTES);

    // A merged device's documents are listed under the merge target.
    store
        .merge_devices(&d1, &d2, "same pump", &actor())
        .await
        .expect("merge");
    let merged = store.device_documents(&d1).await.expect("list");
    assert_eq!(merged.len(), 3, "{merged:?}");

    // Delete: gone, audited with the metadata (never the content), and a second delete
    // is NotFound.
    let gone = store
        .delete_device_document(doc.id, &actor())
        .await
        .expect("delete");
    assert_eq!(gone.id, doc.id);
    assert!(store.device_document(doc.id).await.expect("q").is_none());
    assert!(matches!(
        store.delete_device_document(doc.id, &actor()).await,
        Err(ward_store::StoreError::NotFound { .. })
    ));
    let audit = store.audit_entries(0, 10_000).await.expect("audit");
    let attach: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "document.attach")
        .collect();
    assert_eq!(attach.len(), 3);
    let del = audit
        .iter()
        .find(|e| e.action == "document.delete")
        .expect("delete audited");
    assert_eq!(del.object, format!("device_document:{}", doc.id));
    assert!(del
        .before
        .as_deref()
        .is_some_and(|b| b.contains(&doc.sha256) && b.contains("MDS2 Sigma.pdf")));
    assert_eq!(del.actor, "alice");
    assert!(store.verify_audit_chain().await.expect("verify").ok());
}

fn hex_sha256(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

async fn sbom_intel_documents_are_listed_with_their_json(db: &TestDb) {
    let store = &db.store;
    let mut sbom = intel_doc(1, "CVE-2024-0001", Vec::new());
    sbom.kind = "sbom".into();
    sbom.sha256 = "a".repeat(64);
    sbom.document = serde_json::json!({"subject": {"name": "Sigma Spectrum"}});
    let advisory = intel_doc(2, "CVE-2024-0002", Vec::new());
    store
        .import_intel(&[sbom, advisory], &actor())
        .await
        .expect("import");
    let sboms = store.sbom_intel_documents("", 10).await.expect("sboms");
    assert_eq!(sboms.len(), 1, "only the SBOM");
    let by_model = store
        .sbom_intel_documents("SIGMA spectrum", 10)
        .await
        .expect("sboms");
    assert_eq!(
        by_model.len(),
        1,
        "the model pre-filter is case-insensitive"
    );
    for other in ["Alaris", "sigma_spectrum", "sigma%"] {
        assert!(
            store
                .sbom_intel_documents(other, 10)
                .await
                .expect("sboms")
                .is_empty(),
            "{other}: no match (LIKE wildcards are escaped)"
        );
    }
    assert_eq!(sboms[0].0.kind, "sbom");
    assert_eq!(sboms[0].1["subject"]["name"], "Sigma Spectrum");
}

// ---------------------------------------------------------------------------------------
// Retention

const DAY: u64 = 86_400_000_000;

fn sec(kind: SecurityKind, subject: EndpointAddr, last: u64) -> SecurityObservation {
    let detail = format!("{kind:?} seen");
    SecurityObservation {
        kind,
        severity: Severity::High,
        subject,
        peer: None,
        detail,
        first_seen: Timestamp(last - 10),
        last_seen: Timestamp(last),
        count: 1,
        evidence: ev(1, last - 10),
    }
}

fn edge(client: EndpointAddr, server: EndpointAddr, port: u16, last: u64) -> ConnectionEdge {
    ConnectionEdge {
        client,
        server,
        transport: Transport::Tcp,
        server_port: port,
        vlan: None,
        protocol: None,
        bytes_to_server: 100,
        bytes_to_client: 50,
        packets: 4,
        sessions: 1,
        first_seen: Timestamp(last - 10),
        last_seen: Timestamp(last),
        evidence: ev(2, last - 10),
    }
}

/// Retention deletes facts last seen before the cutoff (observations, security
/// observations, edges, on every site) and expired sessions, in one audited transaction;
/// a fact seen again since keeps its row; batch ids, devices, findings and intel stay, so
/// a replayed old batch is still a duplicate and re-adds nothing.
async fn prune_facts_forgets_old_facts_and_keeps_batch_ids(db: &TestDb) {
    let store = &db.store;
    let now = u64::try_from(now_micros()).expect("positive clock");
    let old = now - 40 * DAY;
    let recent = now - DAY;
    let cutoff = now - 30 * DAY;
    let a = addr("00:1b:21:00:00:01", "10.0.0.1");
    let b = addr("00:1d:4a:00:00:02", "10.0.0.2");
    let c = addr("00:1d:4a:00:00:03", "10.0.0.3");
    let old_batch = Batch {
        files: vec!["old.pcap".into()],
        observations: vec![
            obs(a, "dhcp.hostname", "infusion-7", old - 10, old, 1),
            obs(a, "http.user_agent", "pump/1.0", old - 10, old, 1),
            // Exactly at the cutoff: not older than it, kept.
            obs(c, "dicom.ae_title", "EDGE01", cutoff - 10, cutoff, 1),
        ],
        security: vec![sec(SecurityKind::TelnetInUse, b, old)],
        edges: vec![edge(a, b, 104, old)],
    };
    let recent_batch = Batch {
        files: vec!["recent.pcap".into()],
        observations: vec![
            // Seen again: the merged row's last_seen is recent, so it survives.
            obs(a, "dhcp.hostname", "infusion-7", recent - 10, recent, 1),
            obs(b, "dicom.ae_title", "PACS01", recent - 10, recent, 2),
        ],
        security: vec![sec(SecurityKind::FtpInUse, b, recent)],
        edges: vec![edge(a, b, 2575, recent)],
    };
    let other_site = Batch {
        files: vec!["b.pcap".into()],
        observations: vec![obs(a, "dhcp.hostname", "ward-b-7", old - 10, old, 1)],
        security: vec![],
        edges: vec![],
    };
    for (id, site, batch) in [
        ("sensor-a/old", "site-a", &old_batch),
        ("sensor-a/recent", "site-a", &recent_batch),
        ("sensor-b/old", "site-b", &other_site),
    ] {
        let r = store
            .ingest_batch(id, site, batch, &actor())
            .await
            .expect("ingest");
        assert!(matches!(r, IngestOutcome::Applied { .. }), "{id}: {r:?}");
    }
    // What retention must not touch: a device with a finding, intel, a live session.
    let dev = device(1, "site-a");
    store
        .upsert_devices(std::slice::from_ref(&dev), &actor())
        .await
        .expect("device");
    store
        .upsert_findings(&[finding("f-ret", &dev.id, "CVE-2024-0001")], &actor())
        .await
        .expect("finding");
    store
        .import_intel(
            &[intel_doc(
                901,
                "CVE-2024-0001",
                vec![product("p1", "Baxter", "Pump")],
            )],
            &actor(),
        )
        .await
        .expect("intel");
    let user = store
        .create_user(
            &NewUser {
                id: "u-ret".into(),
                username: "ret".into(),
                password_hash: Some("$argon2id$dummy".into()),
                ..NewUser::default()
            },
            &actor(),
        )
        .await
        .expect("user");
    let t = now_micros();
    for (id, expires_at) in [("s-expired", t - 1_000_000), ("s-live", t + 3_600_000_000)] {
        store
            .create_session(&ward_store::Session {
                id_hash: id.into(),
                user_id: user.id.clone(),
                csrf_hash: format!("csrf-{id}"),
                source: String::new(),
                created_at: t - 2_000_000,
                last_seen_at: t - 2_000_000,
                expires_at,
            })
            .await
            .expect("session");
    }
    let head_before = store.audit_head().await.expect("head").0;

    let cutoff_micros = i64::try_from(cutoff).expect("cutoff");
    let job = Actor::new("job:retention", None);
    let report = store.prune_facts(cutoff_micros, &job).await.expect("prune");
    assert_eq!(
        report,
        ward_store::PruneReport {
            before: cutoff_micros,
            observations: 2,
            security_observations: 1,
            edges: 1,
            sessions: 1,
        }
    );

    // Recent facts (and the one at the cutoff) stay, old ones are gone, on every site.
    let facts = store.site_facts("site-a").await.expect("facts");
    let mut kept: Vec<(String, String)> = facts
        .observations
        .iter()
        .map(|o| (o.key.clone(), o.value.clone()))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            ("dhcp.hostname".to_string(), "infusion-7".to_string()),
            ("dicom.ae_title".to_string(), "EDGE01".to_string()),
            ("dicom.ae_title".to_string(), "PACS01".to_string()),
        ]
    );
    let host = facts
        .observations
        .iter()
        .find(|o| o.key == "dhcp.hostname")
        .expect("hostname");
    assert_eq!(host.last_seen, Timestamp(recent));
    assert_eq!(
        host.first_seen,
        Timestamp(old - 10),
        "the merged row is kept whole"
    );
    assert_eq!(host.count, 2);
    assert_eq!(facts.security.len(), 1);
    assert_eq!(facts.security[0].kind, SecurityKind::FtpInUse);
    assert_eq!(facts.edges.len(), 1);
    assert_eq!(facts.edges[0].server_port, 2575);
    assert_eq!(
        store.site_facts("site-b").await.expect("facts"),
        ward_store::SiteFacts::default()
    );

    // Batch ids stay: replaying the old batch is still a duplicate and re-adds nothing.
    assert_eq!(store.batch_count().await.expect("batches"), 3);
    for (id, site, batch) in [
        ("sensor-a/old", "site-a", &old_batch),
        ("sensor-b/old", "site-b", &other_site),
    ] {
        assert_eq!(
            store
                .ingest_batch(id, site, batch, &actor())
                .await
                .expect("replay"),
            IngestOutcome::AlreadyApplied,
            "{id}"
        );
    }
    assert_eq!(store.site_facts("site-a").await.expect("facts"), facts);
    assert!(store
        .site_facts("site-b")
        .await
        .expect("facts")
        .observations
        .is_empty());

    // Devices, findings, intel and live sessions are untouched.
    assert!(store.device(&dev.id).await.expect("device").is_some());
    assert!(store.finding("f-ret").await.expect("finding").is_some());
    assert_eq!(
        store
            .intel_documents_of_kinds(&["csaf"])
            .await
            .expect("intel")
            .len(),
        1
    );
    assert!(store
        .session("s-live", now_micros())
        .await
        .expect("session")
        .is_some());
    // The expired session row is really gone (not just filtered by the lookup): a
    // lookup as of before its expiry finds nothing.
    assert!(store
        .session("s-expired", t - 1_500_000)
        .await
        .expect("session")
        .is_none());

    // One audit entry, by the job, with the cutoff and the counts; the chain verifies.
    let entries = store.audit_entries(head_before, 100).await.expect("audit");
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e.action, "facts.prune");
    assert_eq!(e.object, "facts");
    assert_eq!(e.actor, "job:retention");
    let after: serde_json::Value =
        serde_json::from_str(e.after.as_deref().expect("after")).expect("json");
    assert_eq!(
        after,
        serde_json::json!({
            "before": cutoff_micros,
            "observations": 2,
            "security_observations": 1,
            "edges": 1,
            "sessions": 1,
        })
    );
    let v = store.verify_audit_chain().await.expect("verify");
    assert!(v.ok(), "{:?}", v.problem);

    // Nothing left to delete: zero counts and no audit entry.
    let head = store.audit_head().await.expect("head").0;
    let again = store
        .prune_facts(cutoff_micros, &job)
        .await
        .expect("prune again");
    assert_eq!(again.total(), 0, "{again:?}");
    assert_eq!(store.audit_head().await.expect("head").0, head);
    // A later cutoff takes the rest, still leaving the batch ids.
    let all = store
        .prune_facts(now_micros() + 1, &job)
        .await
        .expect("prune all");
    assert_eq!(all.facts(), 5, "{all:?}");
    assert_eq!(all.sessions, 0);
    assert_eq!(
        store.site_facts("site-a").await.expect("facts"),
        ward_store::SiteFacts::default()
    );
    assert_eq!(store.batch_count().await.expect("batches"), 3);
    assert!(store.verify_audit_chain().await.expect("verify").ok());
}
