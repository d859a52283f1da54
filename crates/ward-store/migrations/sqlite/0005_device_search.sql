-- Index-backed free-text device search (the inventory's `q=`): an FTS5 trigram index over
-- `devices.search` (name, host name, addresses, id; lower case), so a substring query of
-- three or more characters looks up trigrams instead of scanning every device.
-- External content: the text lives once, in `devices`; triggers keep the index in step.
-- The search recheck (`search LIKE`) keeps answers exact even if the index were stale;
-- after a VACUUM (which may renumber rowids) rebuild with
--   INSERT INTO devices_fts(devices_fts) VALUES ('rebuild');
CREATE VIRTUAL TABLE devices_fts USING fts5(
    search,
    content = 'devices',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);
INSERT INTO devices_fts(devices_fts) VALUES ('rebuild');

CREATE TRIGGER devices_fts_insert AFTER INSERT ON devices BEGIN
    INSERT INTO devices_fts(rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER devices_fts_delete AFTER DELETE ON devices BEGIN
    INSERT INTO devices_fts(devices_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
END;
CREATE TRIGGER devices_fts_update AFTER UPDATE OF search ON devices
WHEN old.search IS NOT new.search BEGIN
    INSERT INTO devices_fts(devices_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
    INSERT INTO devices_fts(rowid, search) VALUES (new.rowid, new.search);
END;
