package sqldb

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"sesame/internal/store"
)

var _ store.SecondFactors = (*Tx)(nil)

const factorCols = "id, person_id, kind, name, secret, credential_id, counter, created_at, last_used_at"

func scanFactor(s scanner) (store.SecondFactor, error) {
	var f store.SecondFactor
	err := s.Scan(&f.ID, &f.PersonID, &f.Kind, &f.Name, bs(&f.Secret), bs(&f.CredentialID), &f.Counter,
		ts(&f.CreatedAt), ts(&f.LastUsedAt))
	return f, err
}

// CreateSecondFactor inserts f, filling ID (when empty) and CreatedAt. An
// unknown person breaks the foreign key (ErrNotFound); an empty
// CredentialID is stored as NULL, which the unique index lets repeat.
func (t *Tx) CreateSecondFactor(ctx context.Context, f *store.SecondFactor) error {
	switch {
	case !f.Kind.Valid():
		return invalid("create second factor: unknown kind %q", f.Kind)
	case len(f.Secret) == 0:
		return invalid("create second factor: no secret")
	}
	v := *f
	if v.ID == "" {
		v.ID = newID()
	}
	v.CreatedAt, v.LastUsedAt = t.db.now(), norm(v.LastUsedAt)
	var cred any
	if len(v.CredentialID) > 0 {
		cred = v.CredentialID
	}
	err := t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO second_factors ("+factorCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				v.ID, v.PersonID, string(v.Kind), v.Name, v.Secret, cred, v.Counter, e.tv(v.CreatedAt), e.tv(v.LastUsedAt))
			return e.wrap(err, "create second factor of %q", v.PersonID)
		})
	})
	if err == nil {
		*f = v
	}
	return err
}

// ListSecondFactors returns a person's factors, oldest first.
func (t *Tx) ListSecondFactors(ctx context.Context, personID string) ([]store.SecondFactor, error) {
	var out []store.SecondFactor
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanFactor)(e.query(ctx, "SELECT "+factorCols+" FROM second_factors WHERE person_id = ? ORDER BY created_at, id", personID))
		return e.wrap(err, "list second factors of %q", personID)
	})
	return out, err
}

// GetSecondFactorByCredential returns the passkey of a credential id.
func (t *Tx) GetSecondFactorByCredential(ctx context.Context, credentialID []byte) (store.SecondFactor, error) {
	return one(ctx, t, scanFactor, "SELECT "+factorCols+" FROM second_factors WHERE credential_id = ?", credentialID, "get second factor by credential")
}

// UseSecondFactor moves the factor's counter forward with one conditional
// UPDATE (see useOnce).
func (t *Tx) UseSecondFactor(ctx context.Context, personID, id string, counter int64, now time.Time) error {
	return t.useOnce(ctx, "use second factor", now,
		"UPDATE second_factors SET last_used_at = ?, counter = ? WHERE id = ? AND person_id = ? AND counter < ?",
		[]any{counter, id, personID, counter},
		"SELECT 1 FROM second_factors WHERE id = ? AND person_id = ?", id, personID)
}

// DeleteSecondFactor removes one factor of the person.
func (t *Tx) DeleteSecondFactor(ctx context.Context, personID, id string) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM second_factors WHERE id = ? AND person_id = ?", id, personID)
		if err == nil {
			err = mustAffect(res)
		}
		return e.wrap(err, "delete second factor %q", id)
	})
}

// DeleteSecondFactors removes the person's factors and recovery codes
// together.
func (t *Tx) DeleteSecondFactors(ctx context.Context, personID string) (int, error) {
	var n int64
	err := t.run(ctx, func(e *ex) error {
		if _, err := e.exec(ctx, "DELETE FROM recovery_codes WHERE person_id = ?", personID); err != nil {
			return e.wrap(err, "delete recovery codes of %q", personID)
		}
		res, err := e.exec(ctx, "DELETE FROM second_factors WHERE person_id = ?", personID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return e.wrap(err, "delete second factors of %q", personID)
	})
	return int(n), err
}

// SetRecoveryCodes deletes the person's codes and inserts the new ones,
// all or none (see batch). A hash that is not 32 bytes gives ErrInvalid,
// the same hash twice ErrConflict.
func (t *Tx) SetRecoveryCodes(ctx context.Context, personID string, hashes [][]byte, now time.Time) error {
	for _, h := range hashes {
		if len(h) != sha256.Size {
			return invalid("set recovery codes: a hash of %d bytes, want %d", len(h), sha256.Size)
		}
	}
	types := []string{"text", "bytea", "timestamptz"}
	ncols := len(types)
	return t.batch(ctx, func(e *ex) error {
		var one int
		if err := e.row(ctx, "SELECT 1 FROM people WHERE id = ?", personID).Scan(&one); err != nil {
			return e.wrap(err, "set recovery codes: person %q", personID)
		}
		if _, err := e.exec(ctx, "DELETE FROM recovery_codes WHERE person_id = ?", personID); err != nil {
			return e.wrap(err, "set recovery codes of %q", personID)
		}
		return chunks(len(hashes), e.insertRows(ncols), func(lo, hi int) error {
			args := make([]any, 0, (hi-lo)*ncols)
			for _, h := range hashes[lo:hi] {
				args = append(args, personID, h, e.tv(now))
			}
			_, err := e.exec(ctx, e.insertSQL("INSERT INTO recovery_codes (person_id, hash, created_at)", hi-lo, types, ""),
				e.insertArgs(args, ncols)...)
			return e.wrap(err, "set recovery codes of %q", personID)
		})
	})
}

// UseRecoveryCode marks the code used with one conditional UPDATE (see
// useOnce).
func (t *Tx) UseRecoveryCode(ctx context.Context, personID string, hash []byte, now time.Time) error {
	return t.useOnce(ctx, "use recovery code", now,
		"UPDATE recovery_codes SET used_at = ? WHERE person_id = ? AND hash = ? AND used_at IS NULL",
		[]any{personID, hash},
		"SELECT 1 FROM recovery_codes WHERE person_id = ? AND hash = ?", personID, hash)
}

// CountRecoveryCodes returns how many of the person's codes are unused.
func (t *Tx) CountRecoveryCodes(ctx context.Context, personID string) (int, error) {
	var n int
	err := t.single(ctx, func(e *ex) error {
		err := e.row(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE person_id = ? AND used_at IS NULL", personID).Scan(&n)
		return e.wrap(err, "count recovery codes of %q", personID)
	})
	return n, err
}

// useOnce runs update, an UPDATE of one row on a condition that its own
// write makes false, as one statement: of concurrent callers one only
// changes the row (the others wait for its lock, then find the condition
// false). Its first placeholder is now, its others uargs. When no row
// changed, exists (the same row without the condition) tells an unknown
// row (ErrNotFound) from a refused one (ErrTokenUsed).
func (t *Tx) useOnce(ctx context.Context, what string, now time.Time, update string, uargs []any, exists string, eargs ...any) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, update, append([]any{e.tv(now)}, uargs...)...)
		if err == nil {
			err = mustAffect(res)
		}
		if !errors.Is(err, errNoRows) {
			return e.wrap(err, "%s", what)
		}
		var one int
		if err := e.row(ctx, exists, eargs...).Scan(&one); err != nil {
			return e.wrap(err, "%s", what)
		}
		return e.wrap(store.ErrTokenUsed, "%s", what)
	})
}
