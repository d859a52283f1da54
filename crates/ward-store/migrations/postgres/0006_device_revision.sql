-- The inventory's revision: a number that changes whenever a device is added or removed or
-- one of the columns the listing filters on (site, category, vendor, stale, search) changes.
-- The store caches device counts (the listing's `total`) under it, so a count over a large
-- inventory runs once per change instead of once per request. Triggers keep it, so no
-- write path can forget to.
--
-- Replicas write concurrently, so the counter row must not become a lock that device
-- writers queue on in the middle of their transactions (two writers each holding device
-- rows and waiting for the counter would deadlock). The triggers are deferred constraint
-- triggers: they run at COMMIT, after every device row lock of the transaction is held,
-- and the function bumps the counter once per transaction (a transaction-local setting
-- remembers that it did).
CREATE TABLE device_revision (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL
);
INSERT INTO device_revision (id, rev) VALUES (1, 0);

CREATE FUNCTION ward_bump_device_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ward.device_revision_bumped', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('ward.device_revision_bumped', 'yes', true);
        UPDATE device_revision SET rev = rev + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER devices_revision_insert_delete AFTER INSERT OR DELETE ON devices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ward_bump_device_revision();
CREATE CONSTRAINT TRIGGER devices_revision_update AFTER UPDATE ON devices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.site IS DISTINCT FROM NEW.site OR OLD.category IS DISTINCT FROM NEW.category
          OR OLD.vendor IS DISTINCT FROM NEW.vendor OR OLD.stale IS DISTINCT FROM NEW.stale
          OR OLD.search IS DISTINCT FROM NEW.search)
    EXECUTE FUNCTION ward_bump_device_revision();
