-- Token buckets of the rate limits shared by every replica (store.Limits):
-- one row per key, its tokens at updated_us (microseconds since the Unix
-- epoch), the burst and refill period (microseconds per token) it was last
-- taken with, and whether that take was granted. A bucket that has
-- refilled is the same as no row, so full rows are swept.

CREATE TABLE rate_buckets (
	key        TEXT PRIMARY KEY,
	tokens     REAL NOT NULL,
	burst      REAL NOT NULL,
	per_us     REAL NOT NULL,
	updated_us INTEGER NOT NULL,
	granted    INTEGER NOT NULL
);
