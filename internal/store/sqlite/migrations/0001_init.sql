-- sesame schema, SQLite. Times are UTC text "YYYY-MM-DDTHH:MM:SS.ffffffZ"
-- (fixed width, so text order is time order); NULL is the zero time.
-- Slices and maps are JSON text.

CREATE TABLE structures (
	id         TEXT PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL DEFAULT '',
	contact    TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE services (
	id                     TEXT PRIMARY KEY,
	structure_id           TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
	kind                   TEXT NOT NULL,
	slug                   TEXT NOT NULL,
	name                   TEXT NOT NULL DEFAULT '',
	base_url               TEXT NOT NULL DEFAULT '',
	default_role           TEXT NOT NULL DEFAULT '',
	roles                  TEXT NOT NULL DEFAULT 'null',
	role_mapping           TEXT NOT NULL DEFAULT 'null',
	client_id              TEXT UNIQUE,
	client_secret_hash     TEXT NOT NULL DEFAULT '',
	redirect_uris          TEXT NOT NULL DEFAULT 'null',
	post_logout_uris       TEXT NOT NULL DEFAULT 'null',
	backchannel_logout_uri TEXT NOT NULL DEFAULT '',
	require_pkce           INTEGER NOT NULL DEFAULT 0,
	refresh_tokens         INTEGER NOT NULL DEFAULT 0,
	signing_alg            TEXT NOT NULL DEFAULT '',
	auth_method            TEXT NOT NULL DEFAULT '',
	provisioning_secret    BLOB,
	created_at             TEXT NOT NULL,
	updated_at             TEXT NOT NULL,
	UNIQUE (structure_id, slug)
);

CREATE TABLE people (
	id                  TEXT PRIMARY KEY,
	username            TEXT NOT NULL UNIQUE,
	email               TEXT NOT NULL,
	email_fold          TEXT NOT NULL UNIQUE,
	given_name          TEXT NOT NULL DEFAULT '',
	family_name         TEXT NOT NULL DEFAULT '',
	display_name        TEXT NOT NULL DEFAULT '',
	language            TEXT NOT NULL DEFAULT '',
	quota               TEXT NOT NULL DEFAULT '',
	state               TEXT NOT NULL,
	password_hash       TEXT NOT NULL DEFAULT '',
	password_changed_at TEXT,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL
);
CREATE INDEX people_state ON people (state, username);

CREATE TABLE memberships (
	person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
	referent     INTEGER NOT NULL DEFAULT 0,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (person_id, structure_id)
);
CREATE INDEX memberships_structure ON memberships (structure_id, person_id);

CREATE TABLE grants (
	person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	role       TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	PRIMARY KEY (person_id, service_id)
);
CREATE INDEX grants_service ON grants (service_id, person_id);

CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY,
	person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	purpose    TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT,
	created_at TEXT NOT NULL
);
CREATE INDEX tokens_person ON tokens (person_id, purpose);

CREATE TABLE imports (
	id           TEXT PRIMARY KEY,
	structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
	actor        TEXT NOT NULL DEFAULT '',
	file_name    TEXT NOT NULL DEFAULT '',
	file_digest  TEXT NOT NULL DEFAULT '',
	mode         TEXT NOT NULL,
	dry_run      INTEGER NOT NULL DEFAULT 0,
	status       TEXT NOT NULL DEFAULT '',
	counts       TEXT NOT NULL DEFAULT 'null',
	report       BLOB,
	created_at   TEXT NOT NULL
);
CREATE INDEX imports_structure ON imports (structure_id, created_at);

CREATE TABLE audit (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    TEXT NOT NULL,
	actor   TEXT NOT NULL DEFAULT '',
	action  TEXT NOT NULL,
	target  TEXT NOT NULL DEFAULT '',
	details TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX audit_target ON audit (target, id);
CREATE INDEX audit_action ON audit (action, id);

CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT NOT NULL,
	dedupe_key   TEXT NOT NULL DEFAULT '',
	payload      BLOB NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	max_attempts INTEGER NOT NULL DEFAULT 0,
	run_after    TEXT NOT NULL,
	lease_until  TEXT,
	lease_id     TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_after, id);
CREATE INDEX jobs_kind ON jobs (kind, id);
CREATE UNIQUE INDEX jobs_dedupe_pending ON jobs (dedupe_key) WHERE state = 'pending' AND dedupe_key <> '';
