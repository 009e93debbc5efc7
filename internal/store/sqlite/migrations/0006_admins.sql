-- Roles: hoster admins are people with the admin flag (being one is not a
-- membership of any structure). Structure referents are members whose
-- membership has the referent flag (memberships.referent, since 0001).

ALTER TABLE people ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
CREATE INDEX people_admin ON people (admin, username);
