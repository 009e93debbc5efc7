-- Former memberships: for a person in no structure, the structure whose
-- removal of them (a sync that left them out) left them in none, and
-- when. A referent's import may link such an account again only for that
-- structure (onboarding.ComputePlan). The row goes when the person joins
-- any structure again (PutMembership, PutMemberships), with the person,
-- and with the structure.

CREATE TABLE former_memberships (
	person_id    TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
	structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
	left_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX former_memberships_structure ON former_memberships (structure_id, person_id);
