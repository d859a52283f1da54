-- Index-backed free-text device search (the inventory's `q=`, `search LIKE '%text%'`).
-- A trigram GIN index when the pg_trgm extension is available (it ships with PostgreSQL's
-- contrib and is a trusted extension from PostgreSQL 13); without it, a btree index with
-- text_pattern_ops still serves prefix searches (`search LIKE 'text%'`, the device name
-- comes first in `search`). A server without pg_trgm migrates without error.
CREATE INDEX devices_search_prefix ON devices (search text_pattern_ops);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXECUTE 'CREATE INDEX devices_search_trgm ON devices USING gin (search gin_trgm_ops)';
        EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
            RAISE NOTICE 'pg_trgm not installed (%); device search uses the prefix index only', SQLERRM;
        END;
    END IF;
END
$$;
