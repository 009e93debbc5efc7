package sqldb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"sesame/internal/store"
)

var _ store.Limits = (*DB)(nil)

// takeTokenSQL inserts a full bucket less spend, or refills the existing
// one and spends when a token is left, in one statement: PostgreSQL locks
// the row for the update, so concurrent takes on a key queue on it and
// each sees the tokens the previous one left. The new row's values carry
// the arguments (excluded.tokens is burst - spend); %[1]s and %[2]s are the
// engine's two-argument minimum and maximum.
const takeTokenSQL = `INSERT INTO rate_buckets (key, tokens, burst, per_us, updated_us, granted)
VALUES (?, CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT), 1)
ON CONFLICT (key) DO UPDATE SET
	tokens = CASE WHEN %[1]s(excluded.burst, rate_buckets.tokens + %[2]s(0, excluded.updated_us - rate_buckets.updated_us) / excluded.per_us) >= 1
		THEN %[1]s(excluded.burst, rate_buckets.tokens + %[2]s(0, excluded.updated_us - rate_buckets.updated_us) / excluded.per_us) - (excluded.burst - excluded.tokens)
		ELSE %[1]s(excluded.burst, rate_buckets.tokens + %[2]s(0, excluded.updated_us - rate_buckets.updated_us) / excluded.per_us) END,
	granted = CASE WHEN %[1]s(excluded.burst, rate_buckets.tokens + %[2]s(0, excluded.updated_us - rate_buckets.updated_us) / excluded.per_us) >= 1
		THEN 1 ELSE 0 END,
	burst = excluded.burst,
	per_us = excluded.per_us,
	updated_us = %[2]s(rate_buckets.updated_us, excluded.updated_us)
RETURNING tokens, granted`

// sweepTokensSQL deletes the buckets refilled to their burst by now.
const sweepTokensSQL = `DELETE FROM rate_buckets WHERE tokens + (CAST(? AS BIGINT) - updated_us) / per_us >= burst`

// minMax names the engine's two-argument minimum and maximum.
func (d *Dialect) minMax() (string, string) {
	if d.Name == "postgres" {
		return "LEAST", "GREATEST"
	}
	return "MIN", "MAX"
}

// TakeToken refills and spends from key's bucket in one autocommit
// statement (see store.Limits).
func (db *DB) TakeToken(ctx context.Context, key string, burst float64, per time.Duration, spend float64, now time.Time) (bool, time.Duration, error) {
	switch {
	case key == "":
		return false, 0, invalid("take token: empty key")
	case !(burst >= 1) || math.IsInf(burst, 0):
		return false, 0, invalid("take token %q: burst %v is below 1", key, burst)
	case per <= 0:
		return false, 0, invalid("take token %q: refill period %v is not positive", key, per)
	case !(spend >= 0 && spend <= burst):
		return false, 0, invalid("take token %q: spend %v is outside [0, %v]", key, spend, burst)
	}
	perUS := float64(per) / float64(time.Microsecond)
	if spend == 0 {
		return db.checkToken(ctx, key, burst, perUS, now)
	}
	lo, hi := db.dialect.minMax()
	q := fmt.Sprintf(takeTokenSQL, lo, hi)
	var tokens float64
	var granted int
	err := db.Tx.singleWrite(ctx, func(e *ex) error {
		err := e.row(ctx, q, key, burst-spend, burst, perUS, now.UnixMicro()).Scan(&tokens, &granted)
		return e.wrap(err, "take token %q", key)
	})
	if err != nil {
		return false, 0, err
	}
	if granted == 1 {
		return true, 0, nil
	}
	wait := time.Duration(math.Ceil((1-tokens)*perUS/1000)) * time.Millisecond
	return false, wait, nil
}

// checkToken is TakeToken without spending: a read, so that the checks
// of successful logins write nothing (a key without a row is full).
func (db *DB) checkToken(ctx context.Context, key string, burst, perUS float64, now time.Time) (bool, time.Duration, error) {
	var tokens float64
	var updated int64
	err := db.Tx.single(ctx, func(e *ex) error {
		err := e.row(ctx, "SELECT tokens, updated_us FROM rate_buckets WHERE key = ?", key).Scan(&tokens, &updated)
		return e.wrap(err, "check token %q", key)
	})
	if errors.Is(err, store.ErrNotFound) {
		return true, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	if el := float64(now.UnixMicro() - updated); el > 0 {
		tokens = math.Min(burst, tokens+el/perUS)
	}
	if tokens >= 1 {
		return true, 0, nil
	}
	return false, time.Duration(math.Ceil((1-tokens)*perUS/1000)) * time.Millisecond, nil
}

// SweepTokens deletes the buckets that are full again at now.
func (db *DB) SweepTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.Tx.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, sweepTokensSQL, now.UnixMicro())
		if err != nil {
			return e.wrap(err, "sweep token buckets")
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "sweep token buckets")
	})
	return int(n), err
}
