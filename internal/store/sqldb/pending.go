package sqldb

import (
	"context"
	"errors"

	"time"

	"sesame/internal/store"
)

var _ store.PendingImports = (*DB)(nil)

const pendingCols = "id, session, structure_id, file_name, data, mode, options, fingerprint, changed, created_at, expires_at"

func scanPending(s scanner) (store.PendingImport, error) {
	var v store.PendingImport
	var options string
	err := s.Scan(&v.ID, &v.Session, &v.StructureID, &v.FileName, bs(&v.Data), &v.Mode, &options, &v.Fingerprint,
		&v.Changed, ts(&v.CreatedAt), ts(&v.ExpiresAt))
	v.Options = []byte(options)
	return v, err
}

// PutPendingImport keeps p within the bounds, in one transaction (see
// store.PendingImports).
func (db *DB) PutPendingImport(ctx context.Context, p store.PendingImport, max, perSession int) error {
	switch {
	case p.ID == "" || p.Session == "" || p.StructureID == "":
		return invalid("put pending import: id, session and structure are required")
	case max < 1 || perSession < 1:
		return invalid("put pending import: bounds %d and %d must be at least 1", max, perSession)
	case p.CreatedAt.IsZero() || !p.ExpiresAt.After(p.CreatedAt):
		return invalid("put pending import %q: it must expire after its creation", p.FileName)
	}
	if p.Options == nil {
		p.Options = []byte("{}")
	}
	if p.Data == nil {
		p.Data = []byte{}
	}
	full := false
	err := db.Tx.run(ctx, func(e *ex) error {
		full = false
		if _, err := e.exec(ctx, "DELETE FROM pending_imports WHERE expires_at <= ?", e.tv(p.CreatedAt)); err != nil {
			return e.wrap(err, "put pending import: sweep")
		}
		rows, err := e.query(ctx, "SELECT id FROM pending_imports WHERE session = ? ORDER BY seq, created_at, id", p.Session)
		if err != nil {
			return e.wrap(err, "put pending import: list the session's")
		}
		var mine []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return e.wrap(err, "put pending import: list the session's")
			}
			mine = append(mine, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return e.wrap(err, "put pending import: list the session's")
		}
		for len(mine) >= perSession {
			if _, err := e.exec(ctx, "DELETE FROM pending_imports WHERE id = ?", mine[0]); err != nil {
				return e.wrap(err, "put pending import: forget the session's oldest")
			}
			mine = mine[1:]
		}
		var n int
		if err := e.row(ctx, "SELECT COUNT(*) FROM pending_imports").Scan(&n); err != nil {
			return e.wrap(err, "put pending import: count")
		}
		if n >= max {
			full = true
			return nil // the session's oldest stay forgotten
		}
		var found int
		err = e.row(ctx, "SELECT COUNT(*) FROM structures WHERE id = ?", p.StructureID).Scan(&found)
		if err != nil {
			return e.wrap(err, "put pending import: structure")
		}
		if found == 0 {
			return e.wrap(store.ErrNotFound, "put pending import: structure %q", p.StructureID)
		}
		// seq orders a session's previews by arrival (migration 0010).
		var seq int64
		if err := e.row(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM pending_imports").Scan(&seq); err != nil {
			return e.wrap(err, "put pending import: order")
		}
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO pending_imports ("+pendingCols+", seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				p.ID, p.Session, p.StructureID, p.FileName, p.Data, string(p.Mode), string(p.Options), p.Fingerprint,
				p.Changed, e.tv(p.CreatedAt), e.tv(p.ExpiresAt), seq)
			return e.wrap(err, "put pending import %q", p.FileName)
		})
	})
	if err == nil && full {
		return store.ErrFull
	}
	return err
}

// GetPendingImport returns the preview id of session, unless expired.
func (db *DB) GetPendingImport(ctx context.Context, id, session string, now time.Time) (store.PendingImport, error) {
	var v store.PendingImport
	err := db.Tx.single(ctx, func(e *ex) error {
		var err error
		v, err = scanPending(e.row(ctx, "SELECT "+pendingCols+" FROM pending_imports WHERE id = ? AND session = ? AND expires_at > ?",
			id, session, e.tv(now)))
		return e.wrap(err, "get pending import %q", id)
	})
	return v, err
}

// DeletePendingImport forgets the preview id of session, in one statement.
func (db *DB) DeletePendingImport(ctx context.Context, id, session string) (bool, error) {
	var n int64
	err := db.Tx.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM pending_imports WHERE id = ? AND session = ?", id, session)
		if err != nil {
			return e.wrap(err, "delete pending import %q", id)
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "delete pending import %q", id)
	})
	return n == 1, err
}

// SweepPendingImports forgets the previews expired at now.
func (db *DB) SweepPendingImports(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.Tx.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM pending_imports WHERE expires_at <= ?", e.tv(now))
		if err != nil {
			return e.wrap(err, "sweep pending imports")
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "sweep pending imports")
	})
	return int(n), err
}
