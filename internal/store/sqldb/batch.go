package sqldb

import (
	"context"
	"fmt"
	"strings"

	"sesame/internal/store"
)

// maxParams bounds the parameters of one statement: SQLite allows 32,766
// (SQLITE_MAX_VARIABLE_NUMBER since 3.32), PostgreSQL 65,535.
const maxParams = 32766

// maxBatchRows bounds the rows of one multi-row INSERT: past a few hundred
// rows a longer statement saves no round trip worth its parsing.
const maxBatchRows = 1000

// maxArrayRows bounds the rows of one INSERT from arrays (ArrayInsert).
const maxArrayRows = 10000

// batchRows is how many rows of ncols parameters go in one statement of
// a bulk method.
func batchRows(ncols int) int { return min(maxBatchRows, maxParams/ncols) }

// insertRows returns how many rows of ncols columns one insertSQL
// statement takes.
func (e *ex) insertRows(ncols int) int {
	if e.d.ArrayInsert {
		return maxArrayRows
	}
	return batchRows(ncols)
}

// insertSQL returns head ("INSERT INTO t (a, b)") with the values of n
// rows, then tail (ON CONFLICT ..., RETURNING ...). types are the
// columns' SQL types, used by ArrayInsert: there the rows come as one
// array per column (see insertArgs) expanded by unnest.
func (e *ex) insertSQL(head string, n int, types []string, tail string) string {
	if !e.d.ArrayInsert {
		return head + " VALUES " + values(n, len(types)) + " " + tail
	}
	var b strings.Builder
	b.WriteString(head + " SELECT * FROM unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("CAST(? AS " + t + "[])")
	}
	b.WriteString(") " + tail)
	return b.String()
}

// insertArgs turns the values of rows laid out row after row into the
// arguments of insertSQL: as they are, or one slice per column.
func (e *ex) insertArgs(args []any, ncols int) []any {
	if !e.d.ArrayInsert {
		return args
	}
	n := len(args) / ncols
	cols := make([]any, ncols)
	for j := range ncols {
		c := make([]any, n)
		for i := range n {
			c[i] = args[i*ncols+j]
		}
		cols[j] = c
	}
	return cols
}

// values returns "(?, ?, ?), (?, ?, ?)" for n rows of ncols.
func values(n, ncols int) string {
	row := "(?" + strings.Repeat(", ?", ncols-1) + ")"
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// chunks calls fn with the bounds of each run of at most size of n items.
func chunks(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// upsert runs the insertSQL of n rows with the ON CONFLICT clause
// onConflict. On an engine where a failed statement undoes only itself
// (SQLite, without Savepoints) it first tries a plain INSERT, which costs
// half as much there, and goes again with the clause only on a unique
// violation: most batches only add rows (an import's new people).
func (e *ex) upsert(ctx context.Context, head string, n int, types []string, onConflict string, args []any) error {
	args = e.insertArgs(args, len(types))
	if !e.d.Savepoints {
		_, err := e.exec(ctx, e.insertSQL(head, n, types, ""), args...)
		if err == nil || !e.d.IsUnique(err) {
			return err
		}
	}
	_, err := e.exec(ctx, e.insertSQL(head, n, types, onConflict), args...)
	return err
}

// batch runs fn, the statements of one bulk method, so that they all take
// effect or none does: in the caller's transaction, under a savepoint on
// both engines (a failed chunk must not leave the chunks before it), and
// otherwise in a transaction of its own.
func (t *Tx) batch(ctx context.Context, fn func(e *ex) error) error {
	return t.run(ctx, func(e *ex) error {
		if !e.userTx {
			return fn(e)
		}
		if _, err := e.q.ExecContext(ctx, "SAVEPOINT sesame_batch"); err != nil {
			return fmt.Errorf("sqldb: savepoint: %w", err)
		}
		if err := fn(e); err != nil {
			if _, rerr := e.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sesame_batch"); rerr != nil {
				return fmt.Errorf("%w (and rollback to savepoint: %v)", err, rerr)
			}
			_, _ = e.q.ExecContext(ctx, "RELEASE SAVEPOINT sesame_batch")
			return err
		}
		if _, err := e.q.ExecContext(ctx, "RELEASE SAVEPOINT sesame_batch"); err != nil {
			return fmt.Errorf("sqldb: release savepoint: %w", err)
		}
		return nil
	})
}

// CreatePeople inserts people in multi-row INSERTs, all or none.
func (t *Tx) CreatePeople(ctx context.Context, people []*store.Person) error {
	if len(people) == 0 {
		return nil
	}
	vs := make([]store.Person, len(people))
	ids := make(map[string]bool, len(people))
	names := make(map[string]bool, len(people))
	emails := make(map[string]bool, len(people))
	now := t.db.now()
	for i, p := range people {
		v := *p
		if v.State == "" {
			v.State = store.StateInvited
		}
		if err := checkPerson(&v); err != nil {
			return err
		}
		if v.ID == "" {
			v.ID = newID()
		}
		fold := store.FoldEmail(v.Email)
		switch {
		case ids[v.ID]:
			return fmt.Errorf("sqldb: create people: id %q twice: %w", v.ID, store.ErrConflict)
		case names[v.Username]:
			return fmt.Errorf("sqldb: create people: username %q twice: %w", v.Username, store.ErrConflict)
		case emails[fold]:
			return fmt.Errorf("sqldb: create people: email %q twice: %w", v.Email, store.ErrConflict)
		}
		ids[v.ID], names[v.Username], emails[fold] = true, true, true
		v.PasswordChangedAt, v.MFAGraceUntil = norm(v.PasswordChangedAt), norm(v.MFAGraceUntil)
		v.CreatedAt, v.UpdatedAt = now, now
		vs[i] = v
	}
	types := []string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
		"timestamptz", "boolean", "timestamptz", "timestamptz", "timestamptz", "text"}
	ncols := len(types)
	err := t.batch(ctx, func(e *ex) error {
		return chunks(len(vs), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			for _, v := range vs[lo:hi] {
				args = append(args, v.ID, v.Username, v.Email, v.GivenName, v.FamilyName, v.DisplayName, v.Language,
					v.Quota, string(v.State), v.PasswordHash, e.tv(v.PasswordChangedAt), v.Admin, e.tv(v.MFAGraceUntil),
					e.tv(v.CreatedAt), e.tv(v.UpdatedAt), store.FoldEmail(v.Email))
			}
			_, err := e.exec(ctx, e.insertSQL("INSERT INTO people ("+personCols+", email_fold)", hi-lo, types, ""),
				e.insertArgs(args, ncols)...)
			return e.wrap(err, "create people %q to %q", vs[lo].Username, vs[hi-1].Username)
		})
	})
	if err != nil {
		return err
	}
	for i, p := range people {
		*p = vs[i]
	}
	return nil
}

// lastPerKey keeps one element per key, the last given, in their order: a
// batch upsert must not name a row twice (PostgreSQL refuses to update a
// row twice in one statement), and the last of duplicates wins as it would
// row by row.
func lastPerKey[T any, K comparable](xs []T, key func(T) K) []T {
	last := make(map[K]int, len(xs))
	for i, x := range xs {
		last[key(x)] = i
	}
	kept := make([]T, 0, len(last))
	for i, x := range xs {
		if last[key(x)] == i {
			kept = append(kept, x)
		}
	}
	return kept
}

// PutMemberships inserts memberships or updates their referent flag, in
// multi-row INSERTs, all or none.
func (t *Tx) PutMemberships(ctx context.Context, ms []store.Membership) error {
	for _, m := range ms {
		if m.PersonID == "" || m.StructureID == "" {
			return invalid("put memberships: empty person or structure")
		}
	}
	kept := lastPerKey(ms, func(m store.Membership) [2]string { return [2]string{m.PersonID, m.StructureID} })
	if len(kept) == 0 {
		return nil
	}
	now := t.db.now()
	types := []string{"text", "text", "boolean", "timestamptz"}
	ncols := len(types)
	return t.batch(ctx, func(e *ex) error {
		err := chunks(len(kept), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			for _, m := range kept[lo:hi] {
				args = append(args, m.PersonID, m.StructureID, m.Referent, e.tv(now))
			}
			err := e.upsert(ctx, "INSERT INTO memberships (person_id, structure_id, referent, created_at)", hi-lo, types,
				"ON CONFLICT (person_id, structure_id) DO UPDATE SET referent = excluded.referent", args)
			return e.wrap(err, "put %d memberships", hi-lo)
		})
		if err != nil {
			return err
		}
		// Their former memberships end (see store.FormerMembership).
		return chunks(len(kept), formerChunk, func(lo, hi int) error {
			ids := make([]string, 0, hi-lo)
			for _, m := range kept[lo:hi] {
				ids = append(ids, m.PersonID)
			}
			where, args := inIDs(nil, nil, "person_id", ids)
			_, err := e.exec(ctx, "DELETE FROM former_memberships WHERE "+where[0], args...)
			return e.wrap(err, "end %d former memberships", hi-lo)
		})
	})
}

// formerChunk is how many people one statement of PutMemberships ends the
// former memberships of.
const formerChunk = 500

// PutGrants inserts grants or changes their role, in multi-row INSERTs,
// all or none.
func (t *Tx) PutGrants(ctx context.Context, gs []store.Grant) error {
	for _, g := range gs {
		if g.PersonID == "" || g.ServiceID == "" {
			return invalid("put grants: empty person or service")
		}
	}
	kept := lastPerKey(gs, func(g store.Grant) [2]string { return [2]string{g.PersonID, g.ServiceID} })
	if len(kept) == 0 {
		return nil
	}
	now := t.db.now()
	types := []string{"text", "text", "text", "timestamptz"}
	ncols := len(types)
	return t.batch(ctx, func(e *ex) error {
		return chunks(len(kept), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			for _, g := range kept[lo:hi] {
				args = append(args, g.PersonID, g.ServiceID, g.Role, e.tv(now))
			}
			err := e.upsert(ctx, "INSERT INTO grants (person_id, service_id, role, created_at)", hi-lo, types,
				"ON CONFLICT (person_id, service_id) DO UPDATE SET role = excluded.role", args)
			return e.wrap(err, "put %d grants", hi-lo)
		})
	})
}

// IssueTokens removes the unused tokens of the same people and purposes,
// then inserts the new ones, in a few statements, all or none.
func (t *Tx) IssueTokens(ctx context.Context, toks []store.Token) error {
	type key struct {
		p string
		u store.TokenPurpose
	}
	last := make(map[key]int, len(toks))
	hashes := make(map[string]bool, len(toks))
	for i, tok := range toks {
		switch {
		case len(tok.Hash) == 0:
			return invalid("issue tokens: empty hash")
		case tok.PersonID == "":
			return invalid("issue tokens: no person")
		case tok.Purpose != store.PurposeActivate && tok.Purpose != store.PurposeReset:
			return invalid("issue tokens: unknown purpose %q", tok.Purpose)
		case tok.ExpiresAt.IsZero():
			return invalid("issue tokens: no expiry")
		case hashes[string(tok.Hash)]:
			return fmt.Errorf("sqldb: issue tokens: a hash given twice: %w", store.ErrConflict)
		}
		hashes[string(tok.Hash)] = true
		last[key{tok.PersonID, tok.Purpose}] = i
	}
	byPurpose := map[store.TokenPurpose][]any{}
	var kept []store.Token
	for i, tok := range toks {
		if last[key{tok.PersonID, tok.Purpose}] == i {
			kept = append(kept, tok)
			byPurpose[tok.Purpose] = append(byPurpose[tok.Purpose], tok.PersonID)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	now := t.db.now()
	types := []string{"bytea", "text", "text", "timestamptz", "timestamptz", "timestamptz"}
	ncols := len(types)
	return t.batch(ctx, func(e *ex) error {
		for _, purpose := range []store.TokenPurpose{store.PurposeActivate, store.PurposeReset} {
			people := byPurpose[purpose]
			err := chunks(len(people), e.insertRows(1)-1, func(lo, hi int) error {
				q := "DELETE FROM tokens WHERE purpose = ? AND used_at IS NULL AND person_id IN (?" + strings.Repeat(", ?", hi-lo-1) + ")"
				args := append([]any{string(purpose)}, people[lo:hi]...)
				if e.d.ArrayInsert {
					q = "DELETE FROM tokens WHERE purpose = ? AND used_at IS NULL AND person_id = ANY(CAST(? AS text[]))"
					args = []any{string(purpose), people[lo:hi]}
				}
				_, err := e.exec(ctx, q, args...)
				return e.wrap(err, "issue tokens: invalidate older tokens")
			})
			if err != nil {
				return err
			}
		}
		return chunks(len(kept), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			for _, tok := range kept[lo:hi] {
				args = append(args, tok.Hash, tok.PersonID, string(tok.Purpose), e.tv(tok.ExpiresAt), e.tv(tok.UsedAt), e.tv(now))
			}
			_, err := e.exec(ctx, e.insertSQL("INSERT INTO tokens ("+tokenCols+")", hi-lo, types, ""), e.insertArgs(args, ncols)...)
			return e.wrap(err, "issue %d tokens", hi-lo)
		})
	})
}
