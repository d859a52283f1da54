-- Documents attached to a device by people (MDS2 form, the manufacturer's security white
-- paper, an SBOM file, a manual ...): non-patient files, stored in the database so that
-- every replica of the server sees them. PostgreSQL dialect; keep in step with
-- ../sqlite/0007_device_documents.sql.
--
-- No foreign key to devices: merging a device deletes the alias row, and its documents
-- must not disappear with it (they are listed under the merge target, see
-- `Store::device_documents`). Attaching checks that the device exists.
CREATE TABLE device_documents (
    id          BIGSERIAL PRIMARY KEY,
    device_id   TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('mds2', 'security_white_paper', 'sbom', 'manual', 'other')),
    file_name   TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    content     BYTEA NOT NULL
);
CREATE INDEX device_documents_by_device ON device_documents (device_id, uploaded_at);
