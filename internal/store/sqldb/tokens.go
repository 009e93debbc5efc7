package sqldb

import (
	"context"
	"errors"
	"time"

	"sesame/internal/store"
)

const tokenCols = "hash, person_id, purpose, expires_at, used_at, created_at"

func scanToken(s scanner) (store.Token, error) {
	var v store.Token
	err := s.Scan(bs(&v.Hash), &v.PersonID, &v.Purpose, ts(&v.ExpiresAt), ts(&v.UsedAt), ts(&v.CreatedAt))
	return v, err
}

// IssueToken stores t and removes every other unused token of the same
// person and purpose, so an older link stops working (it is then unknown).
func (t *Tx) IssueToken(ctx context.Context, tok store.Token) error {
	switch {
	case len(tok.Hash) == 0:
		return invalid("issue token: empty hash")
	case tok.PersonID == "":
		return invalid("issue token: no person")
	case tok.Purpose != store.PurposeActivate && tok.Purpose != store.PurposeReset:
		return invalid("issue token: unknown purpose %q", tok.Purpose)
	case tok.ExpiresAt.IsZero():
		return invalid("issue token: no expiry")
	}
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		if _, err := e.exec(ctx, "DELETE FROM tokens WHERE person_id = ? AND purpose = ? AND used_at IS NULL",
			tok.PersonID, string(tok.Purpose)); err != nil {
			return e.wrap(err, "issue token: invalidate older tokens")
		}
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO tokens ("+tokenCols+") VALUES (?, ?, ?, ?, ?, ?)",
				tok.Hash, tok.PersonID, string(tok.Purpose), e.tv(tok.ExpiresAt), e.tv(tok.UsedAt), e.tv(now))
			return e.wrap(err, "issue token for %q", tok.PersonID)
		})
	})
}

// RevokeTokens deletes every unused token of the person.
func (t *Tx) RevokeTokens(ctx context.Context, personID string) (int, error) {
	var n int64
	err := t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM tokens WHERE person_id = ? AND used_at IS NULL", personID)
		if err != nil {
			return e.wrap(err, "revoke tokens of %q", personID)
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "revoke tokens of %q", personID)
	})
	return int(n), err
}

// GetToken returns a token by hash, used or not.
func (t *Tx) GetToken(ctx context.Context, hash []byte) (store.Token, error) {
	return one(ctx, t, scanToken, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?", hash, "get token")
}

// ConsumeToken marks the token used at now with one conditional UPDATE, so
// of any number of concurrent calls exactly one succeeds. On failure it
// tells why: unknown (or another purpose), used, or expired; the token is
// returned with ErrTokenUsed and ErrTokenExpired.
func (t *Tx) ConsumeToken(ctx context.Context, hash []byte, purpose store.TokenPurpose, now time.Time) (store.Token, error) {
	var v store.Token
	err := t.singleWrite(ctx, func(e *ex) error {
		var err error
		v, err = scanToken(e.row(ctx, `UPDATE tokens SET used_at = ?
			WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
			RETURNING `+tokenCols, e.tv(now), hash, string(purpose), e.tv(now)))
		if !errors.Is(err, errNoRows) {
			return e.wrap(err, "consume token")
		}
		v, err = scanToken(e.row(ctx, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?", hash))
		switch {
		case err != nil:
			return e.wrap(err, "consume token")
		case v.Purpose != purpose:
			v = store.Token{}
			return e.wrap(store.ErrNotFound, "consume token: it is for another purpose")
		case !v.UsedAt.IsZero():
			return e.wrap(store.ErrTokenUsed, "consume token")
		default:
			return e.wrap(store.ErrTokenExpired, "consume token")
		}
	})
	return v, err
}
