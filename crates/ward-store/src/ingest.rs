//! Sensor ingest: one transaction per batch, idempotent by batch id, bulk upserts that
//! aggregate counts and first/last seen the way the dissection engine does.

use crate::audit::audit_append;
use crate::{
    i, now_micros, u, with_read_pool, with_write_pool, Actor, Batch, BeginWrite, IngestOutcome,
    Result, SiteFacts, Store, StoreError, StoredEvidence, StoredObservation,
};
use sqlx::Row;
use std::collections::HashMap;
use ward_model::{
    ConnectionEdge, EndpointAddr, Evidence, Observation, SecurityKind, SecurityObservation,
    Severity, Timestamp, Transport,
};

/// One batch as a sensor ships it to `POST /api/v1/ingest/batches` (JSON, optionally
/// gzip-compressed): who sent it, for which site, its place in the sensor's sequence, and
/// the [`Batch`] itself. `batch_id` makes delivery idempotent: the server commits a batch
/// id once, and a retry of a committed batch is answered `duplicate`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SensorBatch {
    pub batch_id: String,
    /// The sensor's name (audit actor `sensor:<name>` when the caller has no user name).
    pub sensor: String,
    pub site: String,
    /// The sensor's delivery sequence number (in-order delivery; informational).
    #[serde(default)]
    pub seq: u64,
    /// Flows the capture pipeline saw for this batch (informational).
    #[serde(default)]
    pub flows: u64,
    #[serde(flatten)]
    pub batch: Batch,
}

impl SensorBatch {
    /// The content id of a batch: SHA-256 over the sensor, the site, the part number
    /// (which batch of one capture run) and the JSON of the batch. Capturing the same input
    /// again yields the same ids, so re-shipping (a sensor restarted over the same files)
    /// never duplicates data.
    pub fn content_id(sensor: &str, site: &str, part: u64, batch: &Batch) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(sensor.as_bytes());
        h.update([0]);
        h.update(site.as_bytes());
        h.update([0]);
        h.update(part.to_be_bytes());
        // Serialising the model types cannot fail (no maps with non-string keys).
        h.update(serde_json::to_vec(batch).unwrap_or_default());
        hex::encode(h.finalize())
    }
}

/// Rows per multi-row INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bound
/// parameters for the widest table (20 columns).
const CHUNK: usize = 1000;

fn mac_text(a: &EndpointAddr) -> String {
    a.mac.map(|m| m.to_string()).unwrap_or_default()
}
fn ip_text(a: &EndpointAddr) -> String {
    a.ip.map(|i| i.to_string()).unwrap_or_default()
}
fn addr_from(mac: &str, ip: &str) -> EndpointAddr {
    EndpointAddr {
        mac: mac.parse().ok(),
        ip: ip.parse().ok(),
    }
}

/// Aggregated counters shared by the three row kinds.
#[derive(Clone)]
struct Agg {
    first: u64,
    last: u64,
    count: u64,
    ev: Evidence,
}

impl Agg {
    fn merge(&mut self, first: Timestamp, last: Timestamp, count: u64, ev: Evidence) {
        if first.0 < self.first {
            self.first = first.0;
            self.ev = ev;
        }
        self.last = self.last.max(last.0);
        self.count = self.count.saturating_add(count);
    }
}

/// Borrowed from the batch: no allocation per input row, only per distinct row.
type ObsKey<'a> = (EndpointAddr, &'a str, &'a str);
type SecKey = (String, String, String, String, String, bool, String);
type EdgeKey = (String, String, String, String, String, u16, i64);

struct EdgeAgg {
    agg: Agg,
    protocol: String,
    bytes_to_server: u64,
    bytes_to_client: u64,
    packets: u64,
    sessions: u64,
}

fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}
fn parse_severity(s: &str) -> Severity {
    match s {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => Severity::Info,
    }
}
fn parse_kind(s: &str) -> SecurityKind {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(SecurityKind::Other)
}
fn parse_transport(s: &str) -> Transport {
    match s {
        "tcp" => Transport::Tcp,
        "udp" => Transport::Udp,
        "icmp" => Transport::Icmp,
        "icmpv6" => Transport::Icmpv6,
        other => Transport::Other(
            other
                .strip_prefix("ip-proto-")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        ),
    }
}

/// `SET` clauses that keep the evidence of the earliest sighting.
fn evidence_updates(table: &str) -> String {
    ["ev_batch", "ev_file", "ev_packet", "ev_ts", "ev_flow"]
        .iter()
        .map(|c| {
            format!(
                "{c} = CASE WHEN excluded.first_seen < {table}.first_seen THEN excluded.{c} \
                 ELSE {table}.{c} END"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    fn min_fn(&self) -> &'static str {
        match self.kind() {
            crate::BackendKind::Sqlite => "min",
            crate::BackendKind::Postgres => "LEAST",
        }
    }
    fn max_fn(&self) -> &'static str {
        match self.kind() {
            crate::BackendKind::Sqlite => "max",
            crate::BackendKind::Postgres => "GREATEST",
        }
    }

    /// Stores one sensor batch for `site` (created if new) in one transaction.
    ///
    /// Idempotent: the batch id is recorded in the same transaction, so a retry of a
    /// committed batch returns [`IngestOutcome::AlreadyApplied`] and changes nothing, and
    /// a batch interrupted before commit leaves nothing behind. Rows are merged with what
    /// is stored: counts add up, first seen takes the minimum (with its evidence), last
    /// seen the maximum.
    pub async fn ingest_batch(
        &self,
        batch_id: &str,
        site: &str,
        batch: &Batch,
        actor: &Actor,
    ) -> Result<IngestOutcome> {
        if batch_id.is_empty() || batch_id.len() > 200 {
            return Err(StoreError::invalid(
                "batch id",
                "must be 1 to 200 characters",
            ));
        }
        if site.is_empty() {
            return Err(StoreError::invalid("site", "must not be empty"));
        }

        // Merge duplicates inside the batch first: one statement may not update a row twice
        // (PostgreSQL), and fewer rows are cheaper.
        let mut obs: HashMap<ObsKey, Agg> = HashMap::with_capacity(batch.observations.len());
        for o in &batch.observations {
            let key = (o.subject, o.key.as_str(), o.value.as_str());
            match obs.get_mut(&key) {
                Some(a) => a.merge(o.first_seen, o.last_seen, o.count, o.evidence),
                None => {
                    obs.insert(
                        key,
                        Agg {
                            first: o.first_seen.0,
                            last: o.last_seen.0,
                            count: o.count,
                            ev: o.evidence,
                        },
                    );
                }
            }
        }
        let mut sec: HashMap<SecKey, (Severity, Agg)> = HashMap::new();
        for s in &batch.security {
            let peer = s.peer.unwrap_or(EndpointAddr {
                mac: None,
                ip: None,
            });
            let key = (
                s.kind.as_str().to_string(),
                mac_text(&s.subject),
                ip_text(&s.subject),
                mac_text(&peer),
                ip_text(&peer),
                s.peer.is_some(),
                s.detail.clone(),
            );
            match sec.get_mut(&key) {
                Some((sev, a)) => {
                    *sev = (*sev).max(s.severity);
                    a.merge(s.first_seen, s.last_seen, s.count, s.evidence)
                }
                None => {
                    sec.insert(
                        key,
                        (
                            s.severity,
                            Agg {
                                first: s.first_seen.0,
                                last: s.last_seen.0,
                                count: s.count,
                                ev: s.evidence,
                            },
                        ),
                    );
                }
            }
        }
        let mut edges: HashMap<EdgeKey, EdgeAgg> = HashMap::new();
        for e in &batch.edges {
            let key = (
                mac_text(&e.client),
                ip_text(&e.client),
                mac_text(&e.server),
                ip_text(&e.server),
                e.transport.to_string(),
                e.server_port,
                e.vlan.map(i64::from).unwrap_or(-1),
            );
            let proto = e.protocol.clone().unwrap_or_default();
            match edges.get_mut(&key) {
                Some(a) => {
                    a.agg.merge(e.first_seen, e.last_seen, 0, e.evidence);
                    if a.protocol.is_empty() {
                        a.protocol = proto;
                    }
                    a.bytes_to_server = a.bytes_to_server.saturating_add(e.bytes_to_server);
                    a.bytes_to_client = a.bytes_to_client.saturating_add(e.bytes_to_client);
                    a.packets = a.packets.saturating_add(e.packets);
                    a.sessions = a.sessions.saturating_add(e.sessions);
                }
                None => {
                    edges.insert(
                        key,
                        EdgeAgg {
                            agg: Agg {
                                first: e.first_seen.0,
                                last: e.last_seen.0,
                                count: 0,
                                ev: e.evidence,
                            },
                            protocol: proto,
                            bytes_to_server: e.bytes_to_server,
                            bytes_to_client: e.bytes_to_client,
                            packets: e.packets,
                            sessions: e.sessions,
                        },
                    );
                }
            }
        }
        let obs: Vec<(ObsKey, Agg)> = obs.into_iter().collect();
        let sec: Vec<(SecKey, (Severity, Agg))> = sec.into_iter().collect();
        let edges: Vec<(EdgeKey, EdgeAgg)> = edges.into_iter().collect();
        let files = serde_json::to_string(&batch.files).unwrap_or_else(|_| "[]".into());
        let (min, max) = (self.min_fn(), self.max_fn());

        let obs_sql = "INSERT INTO observations (site, subject_mac, subject_ip, key, value, \
             first_seen, last_seen, count, ev_batch, ev_file, ev_packet, ev_ts, ev_flow) ";
        let obs_conflict = format!(
            " ON CONFLICT (site, subject_mac, subject_ip, key, value) DO UPDATE SET \
             count = observations.count + excluded.count, \
             last_seen = {max}(observations.last_seen, excluded.last_seen), {}, \
             first_seen = {min}(observations.first_seen, excluded.first_seen)",
            evidence_updates("observations")
        );
        let sec_sql = "INSERT INTO security_observations (site, kind, subject_mac, subject_ip, \
             peer_mac, peer_ip, has_peer, detail, severity, first_seen, last_seen, count, \
             ev_batch, ev_file, ev_packet, ev_ts, ev_flow) ";
        // Severity is text; the batch's (the latest sensor's) view wins.
        let sec_conflict = format!(
            " ON CONFLICT (site, kind, subject_mac, subject_ip, peer_mac, peer_ip, has_peer, \
             detail) DO UPDATE SET \
             count = security_observations.count + excluded.count, \
             severity = excluded.severity, \
             last_seen = {max}(security_observations.last_seen, excluded.last_seen), {}, \
             first_seen = {min}(security_observations.first_seen, excluded.first_seen)",
            evidence_updates("security_observations")
        );
        let edge_sql = "INSERT INTO edges (site, client_mac, client_ip, server_mac, server_ip, \
             transport, server_port, vlan, protocol, bytes_to_server, bytes_to_client, packets, \
             sessions, first_seen, last_seen, ev_batch, ev_file, ev_packet, ev_ts, ev_flow) ";
        let edge_conflict = format!(
            " ON CONFLICT (site, client_mac, client_ip, server_mac, server_ip, transport, \
             server_port, vlan) DO UPDATE SET \
             protocol = CASE WHEN edges.protocol = '' THEN excluded.protocol ELSE edges.protocol END, \
             bytes_to_server = edges.bytes_to_server + excluded.bytes_to_server, \
             bytes_to_client = edges.bytes_to_client + excluded.bytes_to_client, \
             packets = edges.packets + excluded.packets, \
             sessions = edges.sessions + excluded.sessions, \
             last_seen = {max}(edges.last_seen, excluded.last_seen), {}, \
             first_seen = {min}(edges.first_seen, excluded.first_seen)",
            evidence_updates("edges")
        );
        let audit_after = crate::audit::canonical_json(&serde_json::json!({
            "site": site,
            "observations": obs.len(),
            "security": sec.len(),
            "edges": edges.len(),
        }));
        let object = format!("batch:{batch_id}");
        let now = now_micros();

        let applied = with_write_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO sites (id, name, created_at) VALUES ($1, $1, $2) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(site)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let fresh = sqlx::query(
                "INSERT INTO ingest_batches (batch_id, site, received_at, files, observations, \
                 security, edges) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
            )
            .bind(batch_id)
            .bind(site)
            .bind(now)
            .bind(&files)
            .bind(obs.len() as i64)
            .bind(sec.len() as i64)
            .bind(edges.len() as i64)
            .fetch_optional(&mut *tx)
            .await?;
            if fresh.is_none() {
                tx.rollback().await?;
                false
            } else {
                for chunk in obs.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(obs_sql);
                    qb.push_values(chunk, |mut b, ((subject, key, value), a)| {
                        b.push_bind(site)
                            .push_bind(mac_text(subject))
                            .push_bind(ip_text(subject))
                            .push_bind(*key)
                            .push_bind(*value)
                            .push_bind(i(a.first))
                            .push_bind(i(a.last))
                            .push_bind(i(a.count))
                            .push_bind(batch_id)
                            .push_bind(i64::from(a.ev.file))
                            .push_bind(i(a.ev.packet))
                            .push_bind(i(a.ev.ts.0))
                            .push_bind(a.ev.flow.map(i));
                    });
                    qb.push(obs_conflict.as_str());
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in sec.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(sec_sql);
                    qb.push_values(
                        chunk,
                        |mut b, ((kind, smac, sip, pmac, pip, has_peer, detail), (sev, a))| {
                            b.push_bind(site)
                                .push_bind(kind.as_str())
                                .push_bind(smac.as_str())
                                .push_bind(sip.as_str())
                                .push_bind(pmac.as_str())
                                .push_bind(pip.as_str())
                                .push_bind(i64::from(*has_peer))
                                .push_bind(detail.as_str())
                                .push_bind(severity_str(*sev))
                                .push_bind(i(a.first))
                                .push_bind(i(a.last))
                                .push_bind(i(a.count))
                                .push_bind(batch_id)
                                .push_bind(i64::from(a.ev.file))
                                .push_bind(i(a.ev.packet))
                                .push_bind(i(a.ev.ts.0))
                                .push_bind(a.ev.flow.map(i));
                        },
                    );
                    qb.push(sec_conflict.as_str());
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in edges.chunks(CHUNK) {
                    let mut qb = sqlx::QueryBuilder::new(edge_sql);
                    qb.push_values(
                        chunk,
                        |mut b, ((cmac, cip, smac, sip, transport, port, vlan), e)| {
                            b.push_bind(site)
                                .push_bind(cmac.as_str())
                                .push_bind(cip.as_str())
                                .push_bind(smac.as_str())
                                .push_bind(sip.as_str())
                                .push_bind(transport.as_str())
                                .push_bind(i64::from(*port))
                                .push_bind(*vlan)
                                .push_bind(e.protocol.as_str())
                                .push_bind(i(e.bytes_to_server))
                                .push_bind(i(e.bytes_to_client))
                                .push_bind(i(e.packets))
                                .push_bind(i(e.sessions))
                                .push_bind(i(e.agg.first))
                                .push_bind(i(e.agg.last))
                                .push_bind(batch_id)
                                .push_bind(i64::from(e.agg.ev.file))
                                .push_bind(i(e.agg.ev.packet))
                                .push_bind(i(e.agg.ev.ts.0))
                                .push_bind(e.agg.ev.flow.map(i));
                        },
                    );
                    qb.push(edge_conflict.as_str());
                    qb.build().execute(&mut *tx).await?;
                }
                audit_append!(
                    tx,
                    actor,
                    "ingest.batch",
                    &object,
                    None,
                    audit_after.clone()
                )?;
                tx.commit().await?;
                true
            }
        });
        Ok(if applied {
            IngestOutcome::Applied {
                observations: obs.len() as u64,
                security: sec.len() as u64,
                edges: edges.len() as u64,
            }
        } else {
            IngestOutcome::AlreadyApplied
        })
    }

    /// Whether a batch id was committed.
    pub async fn has_batch(&self, batch_id: &str) -> Result<bool> {
        let found = with_read_pool!(self, |pool| {
            sqlx::query("SELECT 1 FROM ingest_batches WHERE batch_id = $1")
                .bind(batch_id)
                .fetch_optional(pool)
                .await?
                .is_some()
        });
        Ok(found)
    }

    /// Number of committed batches.
    pub async fn batch_count(&self) -> Result<u64> {
        let n: i64 = with_read_pool!(self, |pool| {
            sqlx::query("SELECT count(*) FROM ingest_batches")
                .fetch_one(pool)
                .await?
                .try_get(0)?
        });
        Ok(u(n))
    }

    /// The stored observations of a site (optionally only those with `key`), by subject,
    /// key and value.
    pub async fn observations(
        &self,
        site: &str,
        key: Option<&str>,
    ) -> Result<Vec<StoredObservation>> {
        let sql = format!(
            "SELECT subject_mac, subject_ip, key, value, first_seen, last_seen, count, ev_batch, \
             ev_file, ev_packet, ev_ts, ev_flow FROM observations WHERE site = $1 {} \
             ORDER BY subject_mac, subject_ip, key, value",
            if key.is_some() { "AND key = $2" } else { "" }
        );
        let out = with_read_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(site);
            if let Some(k) = key {
                q = q.bind(k);
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let mac: String = r.try_get("subject_mac")?;
                let ip: String = r.try_get("subject_ip")?;
                let ev = StoredEvidence {
                    batch: r.try_get("ev_batch")?,
                    file: u32::try_from(r.try_get::<i64, _>("ev_file")?).unwrap_or(0),
                    packet: u(r.try_get("ev_packet")?),
                    ts: u(r.try_get("ev_ts")?),
                    flow: r.try_get::<Option<i64>, _>("ev_flow")?.map(u),
                };
                out.push(StoredObservation {
                    site: site.to_string(),
                    observation: Observation {
                        subject: addr_from(&mac, &ip),
                        key: r.try_get("key")?,
                        value: r.try_get("value")?,
                        first_seen: Timestamp(u(r.try_get("first_seen")?)),
                        last_seen: Timestamp(u(r.try_get("last_seen")?)),
                        count: u(r.try_get("count")?),
                        evidence: Evidence {
                            file: ev.file,
                            packet: ev.packet,
                            ts: Timestamp(ev.ts),
                            flow: ev.flow,
                        },
                    },
                    evidence: ev,
                });
            }
            out
        });
        Ok(out)
    }

    /// Everything stored for a site, as the model types identification takes.
    pub async fn site_facts(&self, site: &str) -> Result<SiteFacts> {
        let observations = self
            .observations(site, None)
            .await?
            .into_iter()
            .map(|s| s.observation)
            .collect();
        let (security, edges) = with_read_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT kind, subject_mac, subject_ip, peer_mac, peer_ip, has_peer, detail, \
                 severity, first_seen, last_seen, count, ev_file, ev_packet, ev_ts, ev_flow \
                 FROM security_observations WHERE site = $1 \
                 ORDER BY kind, subject_mac, subject_ip, peer_mac, peer_ip, detail",
            )
            .bind(site)
            .fetch_all(pool)
            .await?;
            let mut security = Vec::with_capacity(rows.len());
            for r in &rows {
                let has_peer: i64 = r.try_get("has_peer")?;
                let pmac: String = r.try_get("peer_mac")?;
                let pip: String = r.try_get("peer_ip")?;
                security.push(SecurityObservation {
                    kind: parse_kind(&r.try_get::<String, _>("kind")?),
                    severity: parse_severity(&r.try_get::<String, _>("severity")?),
                    subject: addr_from(
                        &r.try_get::<String, _>("subject_mac")?,
                        &r.try_get::<String, _>("subject_ip")?,
                    ),
                    peer: (has_peer != 0).then(|| addr_from(&pmac, &pip)),
                    detail: r.try_get("detail")?,
                    first_seen: Timestamp(u(r.try_get("first_seen")?)),
                    last_seen: Timestamp(u(r.try_get("last_seen")?)),
                    count: u(r.try_get("count")?),
                    evidence: evidence_of(r)?,
                });
            }
            let rows = sqlx::query(
                "SELECT client_mac, client_ip, server_mac, server_ip, transport, server_port, \
                 vlan, protocol, bytes_to_server, bytes_to_client, packets, sessions, first_seen, \
                 last_seen, ev_file, ev_packet, ev_ts, ev_flow FROM edges WHERE site = $1 \
                 ORDER BY client_mac, client_ip, server_mac, server_ip, transport, server_port, vlan",
            )
            .bind(site)
            .fetch_all(pool)
            .await?;
            let mut edges = Vec::with_capacity(rows.len());
            for r in &rows {
                let vlan: i64 = r.try_get("vlan")?;
                let protocol: String = r.try_get("protocol")?;
                edges.push(ConnectionEdge {
                    client: addr_from(
                        &r.try_get::<String, _>("client_mac")?,
                        &r.try_get::<String, _>("client_ip")?,
                    ),
                    server: addr_from(
                        &r.try_get::<String, _>("server_mac")?,
                        &r.try_get::<String, _>("server_ip")?,
                    ),
                    transport: parse_transport(&r.try_get::<String, _>("transport")?),
                    server_port: u16::try_from(r.try_get::<i64, _>("server_port")?).unwrap_or(0),
                    vlan: u16::try_from(vlan).ok(),
                    protocol: (!protocol.is_empty()).then_some(protocol),
                    bytes_to_server: u(r.try_get("bytes_to_server")?),
                    bytes_to_client: u(r.try_get("bytes_to_client")?),
                    packets: u(r.try_get("packets")?),
                    sessions: u(r.try_get("sessions")?),
                    first_seen: Timestamp(u(r.try_get("first_seen")?)),
                    last_seen: Timestamp(u(r.try_get("last_seen")?)),
                    evidence: evidence_of(r)?,
                });
            }
            (security, edges)
        });
        Ok(SiteFacts {
            observations,
            security,
            edges,
        })
    }
}

fn evidence_of<R: Row>(r: &R) -> Result<Evidence, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
{
    Ok(Evidence {
        file: u32::try_from(r.try_get::<i64, _>("ev_file")?).unwrap_or(0),
        packet: u(r.try_get("ev_packet")?),
        ts: Timestamp(u(r.try_get("ev_ts")?)),
        flow: r.try_get::<Option<i64>, _>("ev_flow")?.map(u),
    })
}
