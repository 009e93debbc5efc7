-- Second factors (issue 14). second_factors holds each person's TOTP apps
-- and passkeys: secret is sealed by the application; credential_id is a
-- passkey's WebAuthn credential id (NULL for TOTP), unique across people;
-- counter is the last TOTP time step or passkey signature counter
-- accepted, so a code is never accepted twice. recovery_codes holds the
-- SHA-256 of each one-time recovery code; used_at is set when it is spent.
-- Both go with their person.
--
-- A structure's mfa_policy ('' is the default, see store.MFAPolicy), a
-- service's require_mfa, and a person's mfa_grace_until (NULL until a
-- login first asked them to enrol). amr (JSON list of RFC 8176 values) is
-- how the person proved who they are, kept on authorization requests,
-- SSO sessions and token families; rows from before it have none.

CREATE TABLE second_factors (
	id            TEXT PRIMARY KEY,
	person_id     TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	kind          TEXT NOT NULL,
	name          TEXT NOT NULL DEFAULT '',
	secret        BLOB NOT NULL,
	credential_id BLOB UNIQUE,
	counter       INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL,
	last_used_at  TEXT
);
CREATE INDEX second_factors_person ON second_factors (person_id, created_at);

CREATE TABLE recovery_codes (
	person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	hash       BLOB NOT NULL,
	used_at    TEXT,
	created_at TEXT NOT NULL,
	PRIMARY KEY (person_id, hash)
);

ALTER TABLE structures ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN mfa_grace_until TEXT;
ALTER TABLE oidc_auth_requests ADD COLUMN amr TEXT NOT NULL DEFAULT 'null';
ALTER TABLE oidc_auth_requests ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oidc_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'null';
ALTER TABLE oidc_token_families ADD COLUMN amr TEXT NOT NULL DEFAULT 'null';
