-- The inventory's revision: a number that changes whenever a device is added or removed or
-- one of the columns the listing filters on (site, category, vendor, stale, search) changes.
-- The store caches device counts (the listing's `total`) under it, so a count over a large
-- inventory runs once per change instead of once per request. Triggers keep it, so no
-- write path can forget to. SQLite has one writer at a time: a plain counter row is enough.
CREATE TABLE device_revision (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
);
INSERT INTO device_revision (id, rev) VALUES (1, 0);

CREATE TRIGGER devices_revision_insert AFTER INSERT ON devices BEGIN
    UPDATE device_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER devices_revision_delete AFTER DELETE ON devices BEGIN
    UPDATE device_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER devices_revision_update AFTER UPDATE ON devices
WHEN old.site IS NOT new.site OR old.category IS NOT new.category
  OR old.vendor IS NOT new.vendor OR old.stale IS NOT new.stale
  OR old.search IS NOT new.search BEGIN
    UPDATE device_revision SET rev = rev + 1 WHERE id = 1;
END;
