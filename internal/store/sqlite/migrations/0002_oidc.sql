-- The OpenID Connect provider's state: signing keys, authorization
-- requests and codes, SSO sessions, token families and refresh tokens.
-- Secrets (codes, session ids, refresh tokens) are kept as SHA-256 hashes;
-- private keys are encrypted by the application.

CREATE TABLE oidc_signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    private_key  BLOB NOT NULL,
    not_before   TEXT NOT NULL,
    retire_after TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    response_type         TEXT NOT NULL,
    prompt                TEXT NOT NULL,
    max_age               INTEGER NOT NULL,
    browser_hash          BLOB,
    person_id             TEXT NOT NULL,
    auth_time             TEXT,
    sid                   TEXT NOT NULL,
    done                  INTEGER NOT NULL,
    expires_at            TEXT NOT NULL,
    created_at            TEXT NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_auth_codes (
    hash            BLOB PRIMARY KEY,
    auth_request_id TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    family_id       TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX oidc_auth_codes_expires ON oidc_auth_codes (expires_at);

CREATE TABLE oidc_sessions (
    hash            BLOB PRIMARY KEY,
    sid             TEXT NOT NULL UNIQUE,
    person_id       TEXT NOT NULL,
    auth_time       TEXT,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT,
    idle_expires_at TEXT,
    expires_at      TEXT NOT NULL,
    clients         TEXT NOT NULL
);
CREATE INDEX oidc_sessions_person ON oidc_sessions (person_id);
CREATE INDEX oidc_sessions_expires ON oidc_sessions (expires_at);

CREATE TABLE oidc_token_families (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    sid        TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  TEXT,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX oidc_token_families_person ON oidc_token_families (person_id);
CREATE INDEX oidc_token_families_sid ON oidc_token_families (sid);
CREATE INDEX oidc_token_families_expires ON oidc_token_families (expires_at);

CREATE TABLE oidc_refresh_tokens (
    hash       BLOB PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES oidc_token_families (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family_id);
CREATE INDEX oidc_refresh_tokens_expires ON oidc_refresh_tokens (expires_at);
