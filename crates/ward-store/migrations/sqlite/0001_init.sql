-- Ward store schema, SQLite dialect (keep in step with ../postgres/0001_init.sql).
-- Times are microseconds since the Unix epoch (INTEGER). Absent strings are '' (not NULL)
-- in sortable/key columns so that ordering and uniqueness agree across both backends.
-- JSON is kept as TEXT: the audit chain hashes the exact bytes.

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per accepted sensor batch, written in the same transaction as its rows: a
-- retried batch finds its id here and changes nothing.
CREATE TABLE ingest_batches (
    batch_id     TEXT PRIMARY KEY,
    site         TEXT NOT NULL REFERENCES sites(id),
    received_at  INTEGER NOT NULL,
    files        TEXT NOT NULL,
    observations INTEGER NOT NULL,
    security     INTEGER NOT NULL,
    edges        INTEGER NOT NULL
);

CREATE TABLE observations (
    site        TEXT NOT NULL REFERENCES sites(id),
    subject_mac TEXT NOT NULL,
    subject_ip  TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    ev_batch    TEXT NOT NULL,
    ev_file     INTEGER NOT NULL,
    ev_packet   INTEGER NOT NULL,
    ev_ts       INTEGER NOT NULL,
    ev_flow     INTEGER,
    PRIMARY KEY (site, subject_mac, subject_ip, key, value)
) WITHOUT ROWID;
CREATE INDEX observations_by_key ON observations (key, value);

CREATE TABLE security_observations (
    site        TEXT NOT NULL REFERENCES sites(id),
    kind        TEXT NOT NULL,
    subject_mac TEXT NOT NULL,
    subject_ip  TEXT NOT NULL,
    peer_mac    TEXT NOT NULL,
    peer_ip     TEXT NOT NULL,
    has_peer    INTEGER NOT NULL,
    detail      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    ev_batch    TEXT NOT NULL,
    ev_file     INTEGER NOT NULL,
    ev_packet   INTEGER NOT NULL,
    ev_ts       INTEGER NOT NULL,
    ev_flow     INTEGER,
    PRIMARY KEY (site, kind, subject_mac, subject_ip, peer_mac, peer_ip, has_peer, detail)
) WITHOUT ROWID;

CREATE TABLE edges (
    site            TEXT NOT NULL REFERENCES sites(id),
    client_mac      TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    server_mac      TEXT NOT NULL,
    server_ip       TEXT NOT NULL,
    transport       TEXT NOT NULL,
    server_port     INTEGER NOT NULL,
    vlan            INTEGER NOT NULL, -- -1: untagged
    protocol        TEXT NOT NULL,
    bytes_to_server INTEGER NOT NULL,
    bytes_to_client INTEGER NOT NULL,
    packets         INTEGER NOT NULL,
    sessions        INTEGER NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    ev_batch        TEXT NOT NULL,
    ev_file         INTEGER NOT NULL,
    ev_packet       INTEGER NOT NULL,
    ev_ts           INTEGER NOT NULL,
    ev_flow         INTEGER,
    PRIMARY KEY (site, client_mac, client_ip, server_mac, server_ip, transport, server_port, vlan)
) WITHOUT ROWID;

-- Devices: the chosen (effective) attributes as columns for filtering and sorting; a
-- manual override's value replaces the inferred one here, and `inferred` keeps what
-- identification said so that clearing the override restores it. `detail` is the full
-- identified device (attributes with candidates and evidence, facts, security).
CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    site             TEXT NOT NULL REFERENCES sites(id),
    name             TEXT NOT NULL,
    category         TEXT NOT NULL DEFAULT '',
    criticality      TEXT NOT NULL DEFAULT '',
    criticality_rank INTEGER NOT NULL DEFAULT 0,
    vendor           TEXT NOT NULL DEFAULT '',
    model            TEXT NOT NULL DEFAULT '',
    os               TEXT NOT NULL DEFAULT '',
    firmware_version TEXT NOT NULL DEFAULT '',
    software_version TEXT NOT NULL DEFAULT '',
    hostname         TEXT NOT NULL DEFAULT '',
    macs             TEXT NOT NULL DEFAULT '',
    ips              TEXT NOT NULL DEFAULT '',
    search           TEXT NOT NULL DEFAULT '',
    is_router        INTEGER NOT NULL DEFAULT 0,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    stale            INTEGER NOT NULL DEFAULT 0,
    inferred         TEXT NOT NULL DEFAULT '{}',
    detail           TEXT NOT NULL DEFAULT '{}',
    updated_at       INTEGER NOT NULL
);
CREATE INDEX devices_by_name ON devices (name, id);
CREATE INDEX devices_by_site ON devices (site, name, id);
CREATE INDEX devices_by_category ON devices (category, name, id);
CREATE INDEX devices_by_vendor ON devices (vendor, name, id);
CREATE INDEX devices_by_criticality ON devices (criticality_rank, id);
CREATE INDEX devices_by_last_seen ON devices (last_seen, id);
CREATE INDEX devices_by_first_seen ON devices (first_seen, id);
CREATE INDEX devices_by_model ON devices (model, id);
CREATE INDEX devices_by_software_version ON devices (software_version, id);
CREATE INDEX devices_by_hostname ON devices (hostname, id);
-- Narrow: the cheapest index for counting all devices, and the stale filter.
CREATE INDEX devices_by_stale ON devices (stale);

-- People's decisions about device attributes; they win over inference.
CREATE TABLE device_overrides (
    device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    author     TEXT,
    note       TEXT,
    set_at     INTEGER NOT NULL,
    PRIMARY KEY (device_id, attribute)
);

CREATE TABLE endpoints (
    site       TEXT NOT NULL REFERENCES sites(id),
    id         TEXT NOT NULL,
    device_id  TEXT REFERENCES devices(id) ON DELETE SET NULL,
    mac        TEXT NOT NULL,
    is_router  INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (site, id)
);
CREATE INDEX endpoints_by_device ON endpoints (device_id);

CREATE TABLE ip_bindings (
    site        TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    ip          TEXT NOT NULL,
    sources     TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (site, endpoint_id, ip),
    FOREIGN KEY (site, endpoint_id) REFERENCES endpoints(site, id) ON DELETE CASCADE
);
CREATE INDEX ip_bindings_by_ip ON ip_bindings (ip);

-- Identified connections (device to device/peer), rebuilt with the inventory.
CREATE TABLE connections (
    site            TEXT NOT NULL REFERENCES sites(id),
    client          TEXT NOT NULL,
    server          TEXT NOT NULL,
    transport       TEXT NOT NULL,
    server_port     INTEGER NOT NULL,
    client_device   TEXT,
    server_device   TEXT,
    protocol        TEXT NOT NULL,
    detail          TEXT NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    PRIMARY KEY (site, client, server, transport, server_port)
);
CREATE INDEX connections_by_client_device ON connections (client_device);
CREATE INDEX connections_by_server_device ON connections (server_device);

CREATE TABLE intel_documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    version     TEXT NOT NULL,
    publisher   TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    provenance  TEXT NOT NULL,
    document    TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE INDEX intel_documents_by_doc ON intel_documents (kind, doc_id, version);

CREATE TABLE intel_products (
    document   INTEGER NOT NULL REFERENCES intel_documents(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    vendor     TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    cpe        TEXT NOT NULL,
    purl       TEXT NOT NULL,
    PRIMARY KEY (document, product_id)
);
CREATE INDEX intel_products_by_name ON intel_products (vendor, name);
CREATE INDEX intel_products_by_cpe ON intel_products (cpe);
CREATE INDEX intel_products_by_purl ON intel_products (purl);

CREATE TABLE intel_vulnerabilities (
    document   INTEGER NOT NULL REFERENCES intel_documents(id) ON DELETE CASCADE,
    cve        TEXT NOT NULL,
    product_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    PRIMARY KEY (document, cve, product_id, status)
);
CREATE INDEX intel_vulnerabilities_by_cve ON intel_vulnerabilities (cve);

CREATE TABLE findings (
    id             TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    vulnerability  TEXT NOT NULL,
    document       INTEGER REFERENCES intel_documents(id) ON DELETE SET NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'in_triage', 'affected', 'mitigated',
                       'risk_accepted', 'false_positive', 'fixed')),
    reason         TEXT NOT NULL DEFAULT '',
    accepted_until INTEGER,
    confidence     REAL NOT NULL,
    explanation    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (status <> 'risk_accepted' OR accepted_until IS NOT NULL),
    UNIQUE (device_id, vulnerability)
);
CREATE INDEX findings_by_status ON findings (status, updated_at);
CREATE INDEX findings_by_vulnerability ON findings (vulnerability);

CREATE TABLE finding_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id     TEXT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    ts             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    reason         TEXT NOT NULL,
    accepted_until INTEGER
);
CREATE INDEX finding_history_by_finding ON finding_history (finding_id, id);

-- Users, roles, tokens, sessions: secrets are stored hashed only.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    oidc_issuer   TEXT,
    oidc_subject  TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    site    TEXT NOT NULL DEFAULT '', -- '' = all sites
    PRIMARY KEY (user_id, role, site)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    site         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_hash    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    reviewer    TEXT NOT NULL,
    reviewed_at INTEGER NOT NULL,
    due_at      INTEGER,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reviews_by_device ON reviews (device_id, reviewed_at);
CREATE INDEX reviews_by_due ON reviews (due_at);

-- Scheduled jobs with a lease: a replica runs a job only while it holds an unexpired lease.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    run_after     INTEGER NOT NULL,
    interval_secs INTEGER,
    lease_owner   TEXT,
    lease_until   INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    last_run_at   INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_after);

-- Append-only audit log, hash-chained; audit_head holds the last seq and hash so that a
-- deleted last entry is detected too.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    source    TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The store never updates or deletes audit rows; these triggers stop accidents. They do
-- not stop someone with write access to the file (they can drop them): the hash chain is
-- what detects that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
