-- Device merges: a person decided that device `alias` is the same as device `target`.
-- The alias row is gone (its endpoints, findings, overrides and reviews moved to the
-- target); re-inference that produces the alias id again is folded into the target, and
-- lookups of the alias answer with the target. `alias_row` keeps the alias's device row
-- (JSON) as it was at the merge, for the audit and an unmerge.
CREATE TABLE device_merges (
    alias      TEXT PRIMARY KEY,
    target     TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    site       TEXT NOT NULL,
    author     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    alias_row  TEXT NOT NULL,
    merged_at  BIGINT NOT NULL
);
CREATE INDEX device_merges_by_target ON device_merges (target);
