-- Reviews, mitigation plans and saved filters (web UI, issue 7). PostgreSQL dialect; keep in
-- step with ../sqlite/0004_reviews_plans.sql.

-- The periodic review checklist (NHS step 6). Booleans are 0/1.
ALTER TABLE reviews ADD COLUMN identity_confirmed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reviews ADD COLUMN software_confirmed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reviews ADD COLUMN findings_triaged BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reviews ADD COLUMN plan_current BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reviews ADD COLUMN connections_expected BIGINT NOT NULL DEFAULT 0;

-- How often devices of a category are reviewed; '' is the default for all others.
CREATE TABLE review_intervals (
    category TEXT COLLATE "C" PRIMARY KEY,
    days     BIGINT NOT NULL CHECK (days > 0)
);
INSERT INTO review_intervals (category, days) VALUES ('', 365);

-- Mitigation plan actions, one row per action of a device's plan.
CREATE TABLE plan_actions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '',
    url        TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('proposed', 'in_progress', 'done', 'cancelled')),
    owner      TEXT NOT NULL DEFAULT '',
    due        TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD or ''
    findings   TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX plan_actions_by_device ON plan_actions (device_id);
CREATE INDEX plan_actions_by_status ON plan_actions (status, due);

-- Inventory filters saved by a user under a name.
CREATE TABLE saved_filters (
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, name)
);
