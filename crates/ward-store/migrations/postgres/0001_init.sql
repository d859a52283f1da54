-- Ward store schema, PostgreSQL dialect (keep in step with ../sqlite/0001_init.sql).
-- Times are microseconds since the Unix epoch (BIGINT). Absent strings are '' (not NULL)
-- in sortable/key columns so that ordering and uniqueness agree across both backends.
-- JSON is kept as TEXT: the audit chain hashes the exact bytes.

CREATE TABLE sites (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One row per accepted sensor batch, written in the same transaction as its rows: a
-- retried batch finds its id here and changes nothing.
CREATE TABLE ingest_batches (
    batch_id     TEXT COLLATE "C" PRIMARY KEY,
    site         TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    received_at  BIGINT NOT NULL,
    files        TEXT COLLATE "C" NOT NULL,
    observations BIGINT NOT NULL,
    security     BIGINT NOT NULL,
    edges        BIGINT NOT NULL
);

CREATE TABLE observations (
    site        TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    subject_mac TEXT COLLATE "C" NOT NULL,
    subject_ip  TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    value       TEXT COLLATE "C" NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    ev_batch    TEXT COLLATE "C" NOT NULL,
    ev_file     BIGINT NOT NULL,
    ev_packet   BIGINT NOT NULL,
    ev_ts       BIGINT NOT NULL,
    ev_flow     BIGINT,
    PRIMARY KEY (site, subject_mac, subject_ip, key, value)
);
CREATE INDEX observations_by_key ON observations (key, value);

CREATE TABLE security_observations (
    site        TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    kind        TEXT COLLATE "C" NOT NULL,
    subject_mac TEXT COLLATE "C" NOT NULL,
    subject_ip  TEXT COLLATE "C" NOT NULL,
    peer_mac    TEXT COLLATE "C" NOT NULL,
    peer_ip     TEXT COLLATE "C" NOT NULL,
    has_peer    BIGINT NOT NULL,
    detail      TEXT COLLATE "C" NOT NULL,
    severity    TEXT COLLATE "C" NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    ev_batch    TEXT COLLATE "C" NOT NULL,
    ev_file     BIGINT NOT NULL,
    ev_packet   BIGINT NOT NULL,
    ev_ts       BIGINT NOT NULL,
    ev_flow     BIGINT,
    PRIMARY KEY (site, kind, subject_mac, subject_ip, peer_mac, peer_ip, has_peer, detail)
);

CREATE TABLE edges (
    site            TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    client_mac      TEXT COLLATE "C" NOT NULL,
    client_ip       TEXT COLLATE "C" NOT NULL,
    server_mac      TEXT COLLATE "C" NOT NULL,
    server_ip       TEXT COLLATE "C" NOT NULL,
    transport       TEXT COLLATE "C" NOT NULL,
    server_port     BIGINT NOT NULL,
    vlan            BIGINT NOT NULL, -- -1: untagged
    protocol        TEXT COLLATE "C" NOT NULL,
    bytes_to_server BIGINT NOT NULL,
    bytes_to_client BIGINT NOT NULL,
    packets         BIGINT NOT NULL,
    sessions        BIGINT NOT NULL,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    ev_batch        TEXT COLLATE "C" NOT NULL,
    ev_file         BIGINT NOT NULL,
    ev_packet       BIGINT NOT NULL,
    ev_ts           BIGINT NOT NULL,
    ev_flow         BIGINT,
    PRIMARY KEY (site, client_mac, client_ip, server_mac, server_ip, transport, server_port, vlan)
);

-- Devices: the chosen (effective) attributes as columns for filtering and sorting; a
-- manual override's value replaces the inferred one here, and `inferred` keeps what
-- identification said so that clearing the override restores it. `detail` is the full
-- identified device (attributes with candidates and evidence, facts, security).
CREATE TABLE devices (
    id               TEXT COLLATE "C" PRIMARY KEY,
    site             TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    name             TEXT COLLATE "C" NOT NULL,
    category         TEXT COLLATE "C" NOT NULL DEFAULT '',
    criticality      TEXT COLLATE "C" NOT NULL DEFAULT '',
    criticality_rank BIGINT NOT NULL DEFAULT 0,
    vendor           TEXT COLLATE "C" NOT NULL DEFAULT '',
    model            TEXT COLLATE "C" NOT NULL DEFAULT '',
    os               TEXT COLLATE "C" NOT NULL DEFAULT '',
    firmware_version TEXT COLLATE "C" NOT NULL DEFAULT '',
    software_version TEXT COLLATE "C" NOT NULL DEFAULT '',
    hostname         TEXT COLLATE "C" NOT NULL DEFAULT '',
    macs             TEXT COLLATE "C" NOT NULL DEFAULT '',
    ips              TEXT COLLATE "C" NOT NULL DEFAULT '',
    search           TEXT COLLATE "C" NOT NULL DEFAULT '',
    is_router        BIGINT NOT NULL DEFAULT 0,
    first_seen       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    stale            BIGINT NOT NULL DEFAULT 0,
    inferred         TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    detail           TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    updated_at       BIGINT NOT NULL
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
    device_id  TEXT COLLATE "C" NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    attribute  TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    author     TEXT COLLATE "C",
    note       TEXT COLLATE "C",
    set_at     BIGINT NOT NULL,
    PRIMARY KEY (device_id, attribute)
);

CREATE TABLE endpoints (
    site       TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    id         TEXT COLLATE "C" NOT NULL,
    device_id  TEXT COLLATE "C" REFERENCES devices(id) ON DELETE SET NULL,
    mac        TEXT COLLATE "C" NOT NULL,
    is_router  BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (site, id)
);
CREATE INDEX endpoints_by_device ON endpoints (device_id);

CREATE TABLE ip_bindings (
    site        TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    ip          TEXT COLLATE "C" NOT NULL,
    sources     TEXT COLLATE "C" NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (site, endpoint_id, ip),
    FOREIGN KEY (site, endpoint_id) REFERENCES endpoints(site, id) ON DELETE CASCADE
);
CREATE INDEX ip_bindings_by_ip ON ip_bindings (ip);

-- Identified connections (device to device/peer), rebuilt with the inventory.
CREATE TABLE connections (
    site            TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    client          TEXT COLLATE "C" NOT NULL,
    server          TEXT COLLATE "C" NOT NULL,
    transport       TEXT COLLATE "C" NOT NULL,
    server_port     BIGINT NOT NULL,
    client_device   TEXT COLLATE "C",
    server_device   TEXT COLLATE "C",
    protocol        TEXT COLLATE "C" NOT NULL,
    detail          TEXT COLLATE "C" NOT NULL,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    PRIMARY KEY (site, client, server, transport, server_port)
);
CREATE INDEX connections_by_client_device ON connections (client_device);
CREATE INDEX connections_by_server_device ON connections (server_device);

CREATE TABLE intel_documents (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT COLLATE "C" NOT NULL,
    doc_id      TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    publisher   TEXT COLLATE "C" NOT NULL,
    sha256      TEXT COLLATE "C" NOT NULL UNIQUE,
    provenance  TEXT COLLATE "C" NOT NULL,
    document    TEXT COLLATE "C" NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT COLLATE "C" NOT NULL
);
CREATE INDEX intel_documents_by_doc ON intel_documents (kind, doc_id, version);

CREATE TABLE intel_products (
    document   BIGINT NOT NULL REFERENCES intel_documents(id) ON DELETE CASCADE,
    product_id TEXT COLLATE "C" NOT NULL,
    vendor     TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    version    TEXT COLLATE "C" NOT NULL,
    cpe        TEXT COLLATE "C" NOT NULL,
    purl       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (document, product_id)
);
CREATE INDEX intel_products_by_name ON intel_products (vendor, name);
CREATE INDEX intel_products_by_cpe ON intel_products (cpe);
CREATE INDEX intel_products_by_purl ON intel_products (purl);

CREATE TABLE intel_vulnerabilities (
    document   BIGINT NOT NULL REFERENCES intel_documents(id) ON DELETE CASCADE,
    cve        TEXT COLLATE "C" NOT NULL,
    product_id TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (document, cve, product_id, status)
);
CREATE INDEX intel_vulnerabilities_by_cve ON intel_vulnerabilities (cve);

CREATE TABLE findings (
    id             TEXT COLLATE "C" PRIMARY KEY,
    device_id      TEXT COLLATE "C" NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    vulnerability  TEXT COLLATE "C" NOT NULL,
    document       BIGINT REFERENCES intel_documents(id) ON DELETE SET NULL,
    status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('open', 'in_triage', 'affected', 'mitigated',
                       'risk_accepted', 'false_positive', 'fixed')),
    reason         TEXT COLLATE "C" NOT NULL DEFAULT '',
    accepted_until BIGINT,
    confidence     DOUBLE PRECISION NOT NULL,
    explanation    TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (status <> 'risk_accepted' OR accepted_until IS NOT NULL),
    UNIQUE (device_id, vulnerability)
);
CREATE INDEX findings_by_status ON findings (status, updated_at);
CREATE INDEX findings_by_vulnerability ON findings (vulnerability);

CREATE TABLE finding_history (
    id             BIGSERIAL PRIMARY KEY,
    finding_id     TEXT COLLATE "C" NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    ts             BIGINT NOT NULL,
    actor          TEXT COLLATE "C" NOT NULL,
    from_status    TEXT COLLATE "C",
    to_status      TEXT COLLATE "C" NOT NULL,
    reason         TEXT COLLATE "C" NOT NULL,
    accepted_until BIGINT
);
CREATE INDEX finding_history_by_finding ON finding_history (finding_id, id);

-- Users, roles, tokens, sessions: secrets are stored hashed only.
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT COLLATE "C" NOT NULL DEFAULT '',
    password_hash TEXT COLLATE "C",
    oidc_issuer   TEXT COLLATE "C",
    oidc_subject  TEXT COLLATE "C",
    disabled      BIGINT NOT NULL DEFAULT 0,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE user_roles (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT COLLATE "C" NOT NULL,
    site    TEXT COLLATE "C" NOT NULL DEFAULT '', -- '' = all sites
    PRIMARY KEY (user_id, role, site)
);

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    scopes       TEXT COLLATE "C" NOT NULL,
    site         TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_hash    TEXT COLLATE "C" NOT NULL,
    source       TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE reviews (
    id          BIGSERIAL PRIMARY KEY,
    device_id   TEXT COLLATE "C" NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    reviewer    TEXT COLLATE "C" NOT NULL,
    reviewed_at BIGINT NOT NULL,
    due_at      BIGINT,
    note        TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX reviews_by_device ON reviews (device_id, reviewed_at);
CREATE INDEX reviews_by_due ON reviews (due_at);

-- Scheduled jobs with a lease: a replica runs a job only while it holds an unexpired lease.
CREATE TABLE jobs (
    id            TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT COLLATE "C" NOT NULL,
    payload       TEXT COLLATE "C" NOT NULL,
    state         TEXT COLLATE "C" NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    run_after     BIGINT NOT NULL,
    interval_secs BIGINT,
    lease_owner   TEXT COLLATE "C",
    lease_until   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT COLLATE "C",
    last_run_at   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_after);

-- Append-only audit log, hash-chained; audit_head holds the last seq and hash so that a
-- deleted last entry is detected too.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    ts        BIGINT NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    source    TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    object    TEXT COLLATE "C" NOT NULL,
    before    TEXT COLLATE "C",
    after     TEXT COLLATE "C",
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT COLLATE "C" NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The store never updates or deletes audit rows; these triggers stop accidents. They do
-- not stop someone with write access to the file (they can drop them): the hash chain is
-- what detects that.
CREATE FUNCTION ward_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION ward_audit_log_append_only();
