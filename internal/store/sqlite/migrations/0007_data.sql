-- Per-structure settings of the data side (the column mapping remembered
-- for imports, automatic reminders), the claims that make each reminder
-- and digest go out once whatever the number of replicas, and the person
-- and structure an audit entry concerns (backfilled from its target).

CREATE TABLE structure_settings (
	structure_id   TEXT PRIMARY KEY REFERENCES structures (id) ON DELETE CASCADE,
	import_mapping TEXT NOT NULL DEFAULT 'null',
	reminders_off  INTEGER NOT NULL DEFAULT 0,
	updated_at     TEXT NOT NULL
);

CREATE TABLE notify_claims (
	key        TEXT PRIMARY KEY,
	created_at TEXT NOT NULL
);

ALTER TABLE audit ADD COLUMN structure_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN person_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN ip TEXT NOT NULL DEFAULT '';

UPDATE audit SET structure_id = COALESCE((SELECT s.id FROM structures s WHERE 'structure:' || s.slug = audit.target), '')
	WHERE target LIKE 'structure:%';
UPDATE audit SET person_id = substr(target, 8) WHERE target LIKE 'person:%';
UPDATE audit SET person_id = CASE WHEN json_valid(details) AND json_type(details, '$.person_id') = 'text'
	THEN json_extract(details, '$.person_id') ELSE '' END
	WHERE person_id = '' AND details LIKE '%"person_id"%';

CREATE INDEX audit_structure ON audit (structure_id, id);
CREATE INDEX audit_person ON audit (person_id, id);
