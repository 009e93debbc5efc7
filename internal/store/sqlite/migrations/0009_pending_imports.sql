-- Spreadsheet imports previewed in the browser and waiting for their
-- confirmation (store.PendingImports), shared by every replica: the
-- confirmation may reach another process than the upload. id is the
-- unguessable name in the preview's address; session binds it to its
-- uploader. data is the uploaded file sealed under a key derived from the
-- master key (the database alone does not reveal it); the plan is not
-- kept: the replica that confirms plans the file again and compares the
-- fingerprint. Rows past expires_at are swept.

CREATE TABLE pending_imports (
	id           TEXT PRIMARY KEY,
	session      TEXT NOT NULL,
	structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
	file_name    TEXT NOT NULL,
	data         BLOB NOT NULL,
	mode         TEXT NOT NULL,
	options      TEXT NOT NULL,
	fingerprint  TEXT NOT NULL,
	changed      INTEGER NOT NULL,
	created_at   TEXT NOT NULL,
	expires_at   TEXT NOT NULL
);
CREATE INDEX pending_imports_session ON pending_imports (session, created_at);
CREATE INDEX pending_imports_expires ON pending_imports (expires_at);
