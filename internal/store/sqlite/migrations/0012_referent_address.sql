-- A service's referent_address is set while its base address was given by
-- a structure referent and no hoster (a hoster admin, the CLI) has given it
-- since: sesame then refuses to connect to an internal network for it,
-- whatever the name resolves to when it connects (DNS rebinding). Services
-- from before it were all vouched for (checked when given).

ALTER TABLE services ADD COLUMN referent_address INTEGER NOT NULL DEFAULT 0;
