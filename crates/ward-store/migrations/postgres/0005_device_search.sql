-- Index-backed free-text device search (the inventory's `q=`, `search LIKE '%text%'`):
-- a trigram GIN index when the pg_trgm extension is available (it ships with PostgreSQL's
-- contrib and is a trusted extension from PostgreSQL 13). A server without pg_trgm, or a
-- role that may not create it, migrates without error and searches by scanning.
-- (No btree on `search`: a device with many addresses has a long `search`, past btree's
-- row size limit.)
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXECUTE 'CREATE INDEX devices_search_trgm ON devices USING gin (search gin_trgm_ops)';
        EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
            RAISE NOTICE 'pg_trgm unavailable (%); device search scans', SQLERRM;
        END;
    END IF;
END
$$;
