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

-- The revision of what API-token authentication reads: token rows (not their last use),
-- the users' names and disabled flags, and role grants. The server caches a token's
-- authentication under it, so a request with a known token reads one number instead of
-- the token, the user and the roles; a revocation, an expiry change, a role change or a
-- disabled user (by any replica, or SQL) changes the number and ends the cached entry.
CREATE TABLE auth_revision (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
);
INSERT INTO auth_revision (id, rev) VALUES (1, 0);

CREATE TRIGGER users_auth_revision_update AFTER UPDATE ON users
WHEN old.disabled IS NOT new.disabled OR old.username IS NOT new.username BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER users_auth_revision_delete AFTER DELETE ON users BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER user_roles_auth_revision_insert AFTER INSERT ON user_roles BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER user_roles_auth_revision_update AFTER UPDATE ON user_roles BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER user_roles_auth_revision_delete AFTER DELETE ON user_roles BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER api_tokens_auth_revision_update AFTER UPDATE ON api_tokens
WHEN old.revoked_at IS NOT new.revoked_at OR old.expires_at IS NOT new.expires_at
  OR old.scopes IS NOT new.scopes OR old.site IS NOT new.site
  OR old.user_id IS NOT new.user_id OR old.token_hash IS NOT new.token_hash BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
CREATE TRIGGER api_tokens_auth_revision_delete AFTER DELETE ON api_tokens BEGIN
    UPDATE auth_revision SET rev = rev + 1 WHERE id = 1;
END;
