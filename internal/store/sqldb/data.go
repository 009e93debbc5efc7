package sqldb

import (
	"context"
	"errors"

	"time"

	"sesame/internal/store"
)

// ensureSettings inserts the structure's settings row when missing.
func (e *ex) ensureSettings(ctx context.Context, structureID string, now time.Time) error {
	var one int
	err := e.row(ctx, "SELECT 1 FROM structures WHERE id = ?", structureID).Scan(&one)
	if err != nil {
		return e.wrap(err, "structure %q", structureID)
	}
	_, err = e.exec(ctx, "INSERT INTO structure_settings (structure_id, updated_at) VALUES (?, ?) ON CONFLICT (structure_id) DO NOTHING",
		structureID, e.tv(now))
	return e.wrap(err, "settings of %q", structureID)
}

// ImportMapping returns the structure's remembered column mapping.
func (t *Tx) ImportMapping(ctx context.Context, structureID string) (map[string]string, error) {
	var m map[string]string
	err := t.single(ctx, func(e *ex) error {
		err := e.row(ctx, "SELECT import_mapping FROM structure_settings WHERE structure_id = ?", structureID).Scan(js(&m))
		if errors.Is(err, errNoRows) {
			return nil
		}
		return e.wrap(err, "import mapping of %q", structureID)
	})
	if m == nil {
		m = map[string]string{}
	}
	return m, err
}

// SetImportMapping replaces the structure's column mapping.
func (t *Tx) SetImportMapping(ctx context.Context, structureID string, m map[string]string) error {
	if len(m) == 0 {
		m = nil
	}
	v, err := jv(m)
	if err != nil {
		return err
	}
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		if err := e.ensureSettings(ctx, structureID, now); err != nil {
			return err
		}
		_, err := e.exec(ctx, "UPDATE structure_settings SET import_mapping = ?, updated_at = ? WHERE structure_id = ?",
			v, e.tv(now), structureID)
		return e.wrap(err, "set import mapping of %q", structureID)
	})
}

// RemindersEnabled reports whether the structure's reminders are on.
func (t *Tx) RemindersEnabled(ctx context.Context, structureID string) (bool, error) {
	var off bool
	err := t.single(ctx, func(e *ex) error {
		err := e.row(ctx, "SELECT reminders_off FROM structure_settings WHERE structure_id = ?", structureID).Scan(&off)
		if errors.Is(err, errNoRows) {
			return nil
		}
		return e.wrap(err, "reminders of %q", structureID)
	})
	return !off, err
}

// SetRemindersEnabled turns the structure's reminders on or off.
func (t *Tx) SetRemindersEnabled(ctx context.Context, structureID string, on bool) error {
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		if err := e.ensureSettings(ctx, structureID, now); err != nil {
			return err
		}
		_, err := e.exec(ctx, "UPDATE structure_settings SET reminders_off = ?, updated_at = ? WHERE structure_id = ?",
			!on, e.tv(now), structureID)
		return e.wrap(err, "set reminders of %q", structureID)
	})
}

// Claim inserts key unless present; true when this call inserted it.
func (t *Tx) Claim(ctx context.Context, key string, now time.Time) (bool, error) {
	if key == "" {
		return false, invalid("claim: empty key")
	}
	var n int64
	err := t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "INSERT INTO notify_claims (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
			key, e.tv(now))
		if err != nil {
			return e.wrap(err, "claim %q", key)
		}
		n, err = res.RowsAffected()
		return e.wrap(err, "claim %q", key)
	})
	return n == 1, err
}

// LatestActivations returns each person's newest activation token.
func (t *Tx) LatestActivations(ctx context.Context, structureID string) (map[string]store.Activation, error) {
	q := "SELECT " + tokenCols + " FROM tokens WHERE purpose = ?"
	args := []any{string(store.PurposeActivate)}
	if structureID != "" {
		q += " AND person_id IN (SELECT person_id FROM memberships WHERE structure_id = ?)"
		args = append(args, structureID)
	}
	var toks []store.Token
	err := t.single(ctx, func(e *ex) error {
		var err error
		toks, err = all(scanToken)(e.query(ctx, q, args...))
		return e.wrap(err, "latest activations")
	})
	if err != nil {
		return nil, err
	}
	out := map[string]store.Activation{}
	for _, k := range toks {
		if old, ok := out[k.PersonID]; ok && !k.CreatedAt.After(old.CreatedAt) {
			continue
		}
		out[k.PersonID] = store.Activation{PersonID: k.PersonID, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, UsedAt: k.UsedAt}
	}
	return out, nil
}
