package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/store"
)

const jobCols = "id, kind, dedupe_key, payload, state, attempts, max_attempts, run_after, lease_until, lease_id, " +
	"last_error, created_at, updated_at"

func scanJob(s scanner) (store.Job, error) {
	var v store.Job
	err := s.Scan(&v.ID, &v.Kind, &v.DedupeKey, bs(&v.Payload), &v.State, &v.Attempts, &v.MaxAttempts,
		ts(&v.RunAfter), ts(&v.LeaseUntil), &v.LeaseID, &v.LastError, ts(&v.CreatedAt), ts(&v.UpdatedAt))
	return v, err
}

// SetDisabledJobSinks names the sinks whose jobs EnqueueJob skips,
// replacing any earlier list.
func (db *DB) SetDisabledJobSinks(sinks ...string) {
	m := make(map[string]bool, len(sinks))
	for _, s := range sinks {
		m[s] = true
	}
	db.offSinks.Store(&m)
}

// sinkOff reports whether kind's sink is disabled.
func (db *DB) sinkOff(kind string) bool {
	m := db.offSinks.Load()
	return m != nil && (*m)[store.JobSink(kind)]
}

// EnqueueJob inserts j as pending, filling ID and timestamps; RunAfter zero
// means now. It returns false, inserting nothing, when a pending job has the
// same non-empty DedupeKey (a partial unique index and ON CONFLICT DO
// NOTHING), or when the kind's sink is disabled.
func (t *Tx) EnqueueJob(ctx context.Context, j *store.Job) (bool, error) {
	if j.Kind == "" {
		return false, invalid("enqueue job: empty kind")
	}
	if j.MaxAttempts < 0 {
		return false, invalid("enqueue job %q: negative max attempts", j.Kind)
	}
	if t.db.sinkOff(j.Kind) {
		return false, nil
	}
	v := *j
	now := t.db.now()
	v.State = store.JobPending
	v.Attempts = 0
	v.LeaseID, v.LeaseUntil, v.LastError = "", time.Time{}, ""
	v.CreatedAt, v.UpdatedAt = now, now
	if v.RunAfter.IsZero() {
		v.RunAfter = now
	}
	v.RunAfter = norm(v.RunAfter)
	inserted := false
	err := t.run(ctx, func(e *ex) error {
		payload := v.Payload
		if payload == nil {
			payload = []byte{}
		}
		err := e.row(ctx, `INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_after,
			lease_id, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, '', '', ?, ?)
			ON CONFLICT DO NOTHING RETURNING id`,
			v.Kind, v.DedupeKey, payload, string(store.JobPending), v.MaxAttempts, e.tv(v.RunAfter),
			e.tv(v.CreatedAt), e.tv(v.UpdatedAt)).Scan(&v.ID)
		if errors.Is(err, sql.ErrNoRows) {
			inserted = false
			return nil
		}
		inserted = err == nil
		return e.wrap(err, "enqueue job %q", v.Kind)
	})
	if err != nil {
		return false, err
	}
	if inserted {
		*j = v
	}
	return inserted, nil
}

// EnqueueJobs enqueues js as EnqueueJob would one after the other, with
// multi-row INSERT ... ON CONFLICT DO NOTHING statements, all or none. A
// dedupe key given twice keeps its first job (the later ones would have
// found it pending). Each row returns its id and dedupe key: a keyed job
// is found by its key, and the unkeyed ones (which never conflict) take
// the returned ids in ascending order, the order in which both engines
// number the rows of one INSERT.
func (t *Tx) EnqueueJobs(ctx context.Context, js []*store.Job) ([]bool, error) {
	for _, j := range js {
		if j.Kind == "" {
			return nil, invalid("enqueue jobs: empty kind")
		}
		if j.MaxAttempts < 0 {
			return nil, invalid("enqueue jobs %q: negative max attempts", j.Kind)
		}
	}
	out := make([]bool, len(js))
	now := t.db.now()
	var vs []store.Job
	var at []int // index in js of each of vs
	keys := map[string]bool{}
	for i, j := range js {
		if t.db.sinkOff(j.Kind) || (j.DedupeKey != "" && keys[j.DedupeKey]) {
			continue
		}
		if j.DedupeKey != "" {
			keys[j.DedupeKey] = true
		}
		v := *j
		v.State, v.Attempts = store.JobPending, 0
		v.LeaseID, v.LeaseUntil, v.LastError = "", time.Time{}, ""
		v.CreatedAt, v.UpdatedAt = now, now
		if v.RunAfter.IsZero() {
			v.RunAfter = now
		}
		v.RunAfter = norm(v.RunAfter)
		if v.Payload == nil {
			v.Payload = []byte{}
		}
		vs, at = append(vs, v), append(at, i)
	}
	if len(vs) == 0 {
		return out, nil
	}
	types := []string{"text", "text", "bytea", "text", "integer", "timestamptz", "timestamptz", "timestamptz"}
	ncols := len(types)
	inserted := make([]bool, len(vs))
	err := t.batch(ctx, func(e *ex) error {
		clear(inserted)
		return chunks(len(vs), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			byKey := map[string]int{}
			var unkeyed []int
			for i, v := range vs[lo:hi] {
				args = append(args, v.Kind, v.DedupeKey, v.Payload, string(store.JobPending), v.MaxAttempts,
					e.tv(v.RunAfter), e.tv(v.CreatedAt), e.tv(v.UpdatedAt))
				if v.DedupeKey != "" {
					byKey[v.DedupeKey] = lo + i
				} else {
					unkeyed = append(unkeyed, lo+i)
				}
			}
			rows, err := e.query(ctx, e.insertSQL(`INSERT INTO jobs (kind, dedupe_key, payload, state, max_attempts, run_after,
				created_at, updated_at)`, hi-lo, types, `ON CONFLICT DO NOTHING RETURNING id, dedupe_key`), e.insertArgs(args, ncols)...)
			if err != nil {
				return e.wrap(err, "enqueue %d jobs", hi-lo)
			}
			defer rows.Close()
			var free []int64
			for rows.Next() {
				var id int64
				var key string
				if err := rows.Scan(&id, &key); err != nil {
					return e.wrap(err, "enqueue %d jobs", hi-lo)
				}
				if k, ok := byKey[key]; ok && key != "" {
					vs[k].ID, inserted[k] = id, true
				} else {
					free = append(free, id)
				}
			}
			if err := rows.Err(); err != nil {
				return e.wrap(err, "enqueue %d jobs", hi-lo)
			}
			if len(free) != len(unkeyed) {
				return fmt.Errorf("sqldb: enqueue %d jobs: %d unkeyed rows returned, %d inserted", hi-lo, len(free), len(unkeyed))
			}
			slices.Sort(free)
			for n, k := range unkeyed {
				vs[k].ID, inserted[k] = free[n], true
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		if inserted[k] {
			*js[i] = vs[k]
			out[i] = true
		}
	}
	return out, nil
}

// ClaimJobs takes up to r.Limit due jobs (pending and due, or running with
// an expired lease) in one statement, marks them running under a new lease
// and counts an attempt. The two kinds of due jobs are each read in index
// order up to the limit. On PostgreSQL the inner SELECT locks with FOR
// UPDATE SKIP LOCKED, so concurrent claimers take disjoint jobs (one may
// get fewer than are due while another holds them); on SQLite the
// statement holds the write lock.
func (t *Tx) ClaimJobs(ctx context.Context, r store.ClaimRequest) ([]store.Job, error) {
	if r.Lease <= 0 {
		return nil, invalid("claim jobs: the lease must be positive")
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 1
	}
	now := t.db.now()
	leaseUntil := norm(now.Add(r.Lease))
	lease := newID()
	var out []store.Job
	err := t.singleWrite(ctx, func(e *ex) error {
		kinds := ""
		if len(r.Kinds) > 0 {
			kinds = " AND kind IN (?" + strings.Repeat(", ?", len(r.Kinds)-1) + ")"
		}
		var q string
		var args []any
		if e.d.ClaimLock != "" {
			// Concurrent claimers (PostgreSQL): the same two index-ordered
			// reads give the candidates (a few times the limit, as other
			// claimers may hold some), and the locking SELECT checks them
			// again and skips those another claimer holds.
			cand := limit * 4
			args = []any{string(store.JobRunning), lease, e.tv(leaseUntil), e.tv(now), string(store.JobPending), e.tv(now)}
			for _, k := range r.Kinds {
				args = append(args, k)
			}
			args = append(args, cand, string(store.JobRunning), e.tv(now))
			for _, k := range r.Kinds {
				args = append(args, k)
			}
			args = append(args, cand, string(store.JobPending), e.tv(now), string(store.JobRunning), e.tv(now), limit)
			q = `UPDATE jobs SET state = ?, attempts = attempts + 1, lease_id = CAST(? AS TEXT) || '/' || CAST(id AS TEXT),
				lease_until = ?, updated_at = ?
				WHERE id IN (SELECT id FROM jobs WHERE id IN (
					SELECT id FROM (SELECT id FROM jobs WHERE state = ? AND run_after <= ?` + kinds + `
						ORDER BY run_after, id LIMIT ?) p
					UNION ALL
					SELECT id FROM (SELECT id FROM jobs WHERE state = ? AND lease_until <= ?` + kinds + `
						ORDER BY run_after, id LIMIT ?) r)
					AND ((state = ? AND run_after <= ?) OR (state = ? AND lease_until <= ?))
				ORDER BY run_after, id LIMIT ? ` + e.d.ClaimLock + `)
				RETURNING ` + jobCols
		}
		if e.d.ClaimLock == "" {
			// One writer at a time (SQLite): the due pending jobs and the
			// expired running ones are each read in index order up to the
			// limit, instead of sorting every match of an OR at each claim
			// (which made a claim cost as much as the whole backlog).
			args = []any{string(store.JobRunning), lease, e.tv(leaseUntil), e.tv(now), string(store.JobPending), e.tv(now)}
			for _, k := range r.Kinds {
				args = append(args, k)
			}
			args = append(args, limit, string(store.JobRunning), e.tv(now))
			for _, k := range r.Kinds {
				args = append(args, k)
			}
			args = append(args, limit, limit)
			q = `UPDATE jobs SET state = ?, attempts = attempts + 1, lease_id = CAST(? AS TEXT) || '/' || CAST(id AS TEXT),
				lease_until = ?, updated_at = ?
				WHERE id IN (SELECT id FROM jobs WHERE id IN (
					SELECT id FROM (SELECT id FROM jobs WHERE state = ? AND run_after <= ?` + kinds + `
						ORDER BY run_after, id LIMIT ?)
					UNION ALL
					SELECT id FROM (SELECT id FROM jobs WHERE state = ? AND lease_until <= ?` + kinds + `
						ORDER BY run_after, id LIMIT ?))
				ORDER BY run_after, id LIMIT ?)
				RETURNING ` + jobCols
		}
		var err error
		out, err = all(scanJob)(e.query(ctx, q, args...))
		return e.wrap(err, "claim jobs")
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.Job) int { return int(a.ID - b.ID) })
	return out, nil
}

// finish applies a fenced state change to a running job: ErrLeaseLost when
// the lease is no longer this one, ErrNotFound when the job is unknown.
// Outside InTx a single conditional UPDATE is atomic by itself (run says
// whether it needs a serializable transaction anyway).
func (t *Tx) finish(ctx context.Context, serializable bool, what string, id int64, leaseID string, set string, args ...any) error {
	now := t.db.now()
	do := t.singleWrite
	if serializable {
		do = t.run
	}
	return do(ctx, func(e *ex) error {
		vals := append(append([]any{}, args...), e.tv(now), id, leaseID, string(store.JobRunning))
		res, err := e.exec(ctx, "UPDATE jobs SET "+set+", lease_id = '', lease_until = NULL, updated_at = ? "+
			"WHERE id = ? AND lease_id = ? AND state = ?", vals...)
		if err == nil {
			err = mustAffect(res)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return e.wrap(err, "%s job %d", what, id)
		}
		var n int
		if err := e.row(ctx, "SELECT COUNT(*) FROM jobs WHERE id = ?", id).Scan(&n); err != nil {
			return e.wrap(err, "%s job %d", what, id)
		}
		if n == 0 {
			return e.wrap(store.ErrNotFound, "%s job %d", what, id)
		}
		return e.wrap(store.ErrLeaseLost, "%s job %d", what, id)
	})
}

// CompleteJob marks the job done, fenced by leaseID.
func (t *Tx) CompleteJob(ctx context.Context, id int64, leaseID string) error {
	return t.finish(ctx, false, "complete", id, leaseID, "state = ?", string(store.JobDone))
}

// RetryJob puts the job back to pending until runAfter, keeping lastErr,
// fenced by leaseID. When a newer pending job has the same dedupe key (it
// was enqueued while this one ran), this one gives its key up, so both
// stay and the newer is not lost. It reads before it writes, so it runs
// in a transaction of its own.
func (t *Tx) RetryJob(ctx context.Context, id int64, leaseID string, runAfter time.Time, lastErr string) error {
	return t.finish(ctx, true, "retry", id, leaseID, `state = ?, run_after = ?, last_error = ?,
		dedupe_key = CASE WHEN dedupe_key <> '' AND EXISTS (SELECT 1 FROM jobs o
			WHERE o.state = 'pending' AND o.dedupe_key = jobs.dedupe_key AND o.id <> jobs.id)
			THEN '' ELSE dedupe_key END`,
		string(store.JobPending), t.tv(runAfter), lastErr)
}

// BuryJob marks the job dead, keeping lastErr, fenced by leaseID.
func (t *Tx) BuryJob(ctx context.Context, id int64, leaseID string, lastErr string) error {
	return t.finish(ctx, false, "bury", id, leaseID, "state = ?, last_error = ?", string(store.JobDead), lastErr)
}

// finishChunk bounds how many jobs one statement of FinishJobs names.
const finishChunk = 200

// retrySet is the SET clause of a retry: pending until run_after, keeping
// the last error, and giving the dedupe key up when a newer pending job
// holds it (it was enqueued while this one ran), so both stay and the
// newer is not lost.
const retrySet = `state = ?, run_after = ?, last_error = ?,
	dedupe_key = CASE WHEN dedupe_key <> '' AND EXISTS (SELECT 1 FROM jobs o
		WHERE o.state = 'pending' AND o.dedupe_key = jobs.dedupe_key AND o.id <> jobs.id)
		THEN '' ELSE dedupe_key END`

// FinishJobs records outcomes in one transaction: the completed jobs in a
// few statements (one per finishChunk jobs), each retry and burial in one
// of its own, then one query telling a lost lease from an unknown job for
// those that matched nothing. A batch with a retry runs at the store's
// isolation (the retry reads before it writes, as RetryJob); one without
// runs at the engine's default, like CompleteJob.
func (t *Tx) FinishJobs(ctx context.Context, outs []store.JobOutcome) ([]error, error) {
	errs := make([]error, len(outs))
	if len(outs) == 0 {
		return errs, nil
	}
	bad := make([]error, len(outs))
	serializable := false
	for i, o := range outs {
		switch o.State {
		case store.JobDone, store.JobDead:
		case store.JobPending:
			serializable = true
		default:
			bad[i] = invalid("finish job %d: state %q is not done, pending or dead", o.ID, o.State)
		}
	}
	now := t.db.now()
	do := t.writeTx
	if serializable {
		do = t.run
	}
	err := do(ctx, func(e *ex) error {
		recorded := make([]bool, len(outs))
		// Completions, several per statement.
		var done []int
		for i, o := range outs {
			// A lease that does not name its job is no claim of it: lost.
			if bad[i] == nil && o.State == store.JobDone && strings.HasSuffix(o.LeaseID, "/"+strconv.FormatInt(o.ID, 10)) {
				done = append(done, i)
			}
		}
		for c := range slices.Chunk(done, finishChunk) {
			// A lease id names its job ("<claim>/<id>", see ClaimJobs), so
			// the two lists fence each job to its own claim; the ids lead
			// the WHERE so that both databases look the rows up by key
			// (an OR of (id, lease) pairs behind state scanned every
			// running job once per statement: 60 µs a job at 2,000
			// running on SQLite).
			args := []any{string(store.JobDone), e.tv(now)}
			for _, i := range c {
				args = append(args, outs[i].ID)
			}
			for _, i := range c {
				args = append(args, outs[i].LeaseID)
			}
			args = append(args, string(store.JobRunning))
			list := "?" + strings.Repeat(", ?", len(c)-1)
			rows, err := e.query(ctx, "UPDATE jobs SET state = ?, lease_id = '', lease_until = NULL, updated_at = ? "+
				"WHERE id IN ("+list+") AND lease_id IN ("+list+") AND state = ? RETURNING id", args...)
			ids, err := all(func(s scanner) (int64, error) { var id int64; return id, s.Scan(&id) })(rows, err)
			if err != nil {
				return e.wrap(err, "complete %d jobs", len(c))
			}
			got := make(map[int64]bool, len(ids))
			for _, id := range ids {
				got[id] = true
			}
			for _, i := range c {
				recorded[i] = got[outs[i].ID]
			}
		}
		// Retries and burials, one statement each.
		for i, o := range outs {
			if bad[i] != nil || o.State == store.JobDone {
				continue
			}
			var set string
			var args []any
			if o.State == store.JobPending {
				set, args = retrySet, []any{string(store.JobPending), e.tv(norm(o.RunAfter)), o.LastError}
				if o.Uncount {
					set += ", attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
				}
			} else {
				set, args = "state = ?, last_error = ?", []any{string(store.JobDead), o.LastError}
			}
			args = append(args, e.tv(now), o.ID, o.LeaseID, string(store.JobRunning))
			res, err := e.exec(ctx, "UPDATE jobs SET "+set+", lease_id = '', lease_until = NULL, updated_at = ? "+
				"WHERE id = ? AND lease_id = ? AND state = ?", args...)
			var n int64
			if err == nil {
				n, err = res.RowsAffected()
			}
			if err != nil {
				return e.wrap(err, "finish job %d", o.ID)
			}
			recorded[i] = n > 0
		}
		// Those that matched nothing: a lost lease, or no such job.
		var missed []int
		for i := range outs {
			if bad[i] == nil && !recorded[i] {
				missed = append(missed, i)
			}
		}
		exists := map[int64]bool{}
		for c := range slices.Chunk(missed, finishChunk) {
			args := make([]any, len(c))
			for k, i := range c {
				args[k] = outs[i].ID
			}
			rows, err := e.query(ctx, "SELECT id FROM jobs WHERE id IN (?"+strings.Repeat(", ?", len(c)-1)+")", args...)
			ids, err := all(func(s scanner) (int64, error) { var id int64; return id, s.Scan(&id) })(rows, err)
			if err != nil {
				return e.wrap(err, "finish jobs")
			}
			for _, id := range ids {
				exists[id] = true
			}
		}
		for i, o := range outs {
			switch {
			case bad[i] != nil:
				errs[i] = bad[i]
			case recorded[i]:
				errs[i] = nil
			case exists[o.ID]:
				errs[i] = e.wrap(store.ErrLeaseLost, "finish job %d", o.ID)
			default:
				errs[i] = e.wrap(store.ErrNotFound, "finish job %d", o.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// RequeueJob makes a dead job pending again with no attempts counted. Like
// RetryJob, it gives its dedupe key up when a pending job holds it.
func (t *Tx) RequeueJob(ctx context.Context, id int64) error {
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, `UPDATE jobs SET state = ?, attempts = 0, run_after = ?, updated_at = ?,
			dedupe_key = CASE WHEN dedupe_key <> '' AND EXISTS (SELECT 1 FROM jobs o
				WHERE o.state = 'pending' AND o.dedupe_key = jobs.dedupe_key AND o.id <> jobs.id)
				THEN '' ELSE dedupe_key END
			WHERE id = ? AND state = ?`,
			string(store.JobPending), e.tv(now), e.tv(now), id, string(store.JobDead))
		if err == nil {
			err = mustAffect(res)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return e.wrap(err, "requeue job %d", id)
		}
		var state string
		if err := e.row(ctx, "SELECT state FROM jobs WHERE id = ?", id).Scan(&state); errors.Is(err, sql.ErrNoRows) {
			return e.wrap(store.ErrNotFound, "requeue job %d", id)
		} else if err != nil {
			return e.wrap(err, "requeue job %d", id)
		}
		return e.wrap(store.ErrConflict, "requeue job %d: it is %s, not dead", id, state)
	})
}

// tv is ex.tv for callers outside a statement.
func (t *Tx) tv(v time.Time) any { return (&ex{d: t.db.dialect}).tv(v) }

// GetJob returns a job by id.
func (t *Tx) GetJob(ctx context.Context, id int64) (store.Job, error) {
	return one(ctx, t, scanJob, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id, "get job %d", id)
}

// ListJobs returns jobs by ascending ID.
func (t *Tx) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	q := "SELECT " + jobCols + " FROM jobs"
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	if f.Sink != "" {
		if err := checkSink(f.Sink); err != nil {
			return nil, err
		}
		where = append(where, sinkCond)
		args = append(args, f.Sink, f.Sink+".", f.Sink+".")
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit)
	var out []store.Job
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanJob)(e.query(ctx, q, args...))
		return e.wrap(err, "list jobs")
	})
	return out, err
}

// CountJobs counts jobs per state; every state is present, zero or not.
func (t *Tx) CountJobs(ctx context.Context) (map[store.JobState]int, error) {
	out := map[store.JobState]int{store.JobPending: 0, store.JobRunning: 0, store.JobDone: 0, store.JobDead: 0}
	err := t.single(ctx, func(e *ex) error {
		rows, err := e.query(ctx, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
		if err != nil {
			return e.wrap(err, "count jobs")
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			var n int
			if err := rows.Scan(&s, &n); err != nil {
				return e.wrap(err, "count jobs")
			}
			out[store.JobState(s)] = n
		}
		return e.wrap(rows.Err(), "count jobs")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sinkCond matches the kinds of a sink: the sink itself, or "SINK." and
// anything after it (its arguments: the sink, then "SINK." twice). substr
// and length count characters alike on both engines; LIKE is avoided since
// it ignores case on SQLite and not on PostgreSQL.
const sinkCond = "(kind = ? OR substr(kind, 1, length(CAST(? AS TEXT))) = ?)"

// checkSink refuses what cannot be a sink name.
func checkSink(sink string) error {
	if sink == "" || strings.Contains(sink, ".") {
		return invalid("job sink %q: empty or with a dot", sink)
	}
	for i := range len(sink) {
		if sink[i] < 0x20 || sink[i] > 0x7e {
			return invalid("job sink %q: not printable ASCII", sink)
		}
	}
	return nil
}

// ClearPendingJobs deletes the pending jobs of a sink and its running jobs
// whose lease expired, and returns how many.
func (t *Tx) ClearPendingJobs(ctx context.Context, sink string) (int, error) {
	if err := checkSink(sink); err != nil {
		return 0, err
	}
	now := t.db.now()
	var n int64
	err := t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM jobs WHERE "+sinkCond+" AND (state = ? OR (state = ? AND lease_until <= ?))",
			sink, sink+".", sink+".", string(store.JobPending), string(store.JobRunning), e.tv(now))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return e.wrap(err, "clear pending jobs of %q", sink)
	})
	return int(n), err
}

// writeTx is run at the engine's default isolation (read committed on
// PostgreSQL), for writes that are fenced row by row and read nothing
// else: a batch of completions must not fail on the serialization
// conflicts that concurrent claims would cause.
func (t *Tx) writeTx(ctx context.Context, fn func(e *ex) error) error {
	if t.tx != nil {
		return t.run(ctx, fn)
	}
	try := func() error {
		unlock, err := t.db.lockWriter(ctx)
		if err != nil {
			return err
		}
		defer unlock()
		stx, err := t.db.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqldb: begin: %w", err)
		}
		if err := fn(&ex{q: stx, d: t.db.dialect, db: t.db, stmts: t.db.txStmts()}); err != nil {
			_ = stx.Rollback()
			return err
		}
		if err := stx.Commit(); err != nil {
			return fmt.Errorf("sqldb: commit: %w", err)
		}
		return nil
	}
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || attempt >= maxTxAttempts || !t.db.dialect.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		}
	}
}
