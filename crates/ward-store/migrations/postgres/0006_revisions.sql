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

-- The revision of what API-token authentication reads: token rows (not their last use),
-- the users' names and disabled flags, and role grants. The server caches a token's
-- authentication under it, so a request with a known token reads one number instead of
-- the token, the user and the roles; a revocation, an expiry change, a role change or a
-- disabled user (by any replica, or SQL) changes the number and ends the cached entry.
-- Deferred to COMMIT and bumped once per transaction, like the device revision.
CREATE TABLE auth_revision (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL
);
INSERT INTO auth_revision (id, rev) VALUES (1, 0);

CREATE FUNCTION ward_bump_auth_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ward.auth_revision_bumped', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('ward.auth_revision_bumped', 'yes', true);
        UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER users_auth_revision_update AFTER UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION ward_bump_auth_revision();
CREATE CONSTRAINT TRIGGER users_auth_revision_delete AFTER DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ward_bump_auth_revision();
CREATE CONSTRAINT TRIGGER user_roles_auth_revision AFTER INSERT OR UPDATE OR DELETE ON user_roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ward_bump_auth_revision();
CREATE CONSTRAINT TRIGGER api_tokens_auth_revision_update AFTER UPDATE ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.site IS DISTINCT FROM NEW.site
          OR OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.token_hash IS DISTINCT FROM NEW.token_hash)
    EXECUTE FUNCTION ward_bump_auth_revision();
CREATE CONSTRAINT TRIGGER api_tokens_auth_revision_delete AFTER DELETE ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ward_bump_auth_revision();
