-- The order in which a session's previews arrived: the oldest is the one
-- forgotten past the per-session bound. created_at alone may tie (two
-- uploads within a microsecond, or a test's fixed clock), and a tie broken
-- by the random id dropped the newest preview instead.

ALTER TABLE pending_imports ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
