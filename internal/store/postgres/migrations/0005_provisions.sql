-- The state of each person's account in each application sesame
-- provisions (Nextcloud, WordPress, Paheko), and whether a service may take
-- over accounts it did not create.

CREATE TABLE provisions (
	person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
	service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	status     TEXT NOT NULL,
	remote_id  TEXT NOT NULL DEFAULT '',
	owned      BOOLEAN NOT NULL DEFAULT FALSE,
	role       TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (person_id, service_id)
);
CREATE INDEX provisions_service ON provisions (service_id, status);

ALTER TABLE services ADD COLUMN provision_take_over BOOLEAN NOT NULL DEFAULT FALSE;
