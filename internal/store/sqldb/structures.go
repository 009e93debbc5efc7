package sqldb

import (
	"context"

	"sesame/internal/store"
)

const structureCols = "id, slug, name, contact, mfa_policy, created_at, updated_at"

func scanStructure(s scanner) (store.Structure, error) {
	var v store.Structure
	err := s.Scan(&v.ID, &v.Slug, &v.Name, &v.Contact, &v.MFAPolicy, ts(&v.CreatedAt), ts(&v.UpdatedAt))
	return v, err
}

func checkStructure(v *store.Structure) error {
	switch {
	case v.Slug == "":
		return invalid("structure: empty slug")
	case !v.MFAPolicy.Valid():
		return invalid("structure %q: unknown second-factor policy %q", v.Slug, v.MFAPolicy)
	}
	return nil
}

// CreateStructure inserts s, filling ID (when empty) and timestamps.
func (t *Tx) CreateStructure(ctx context.Context, s *store.Structure) error {
	if err := checkStructure(s); err != nil {
		return err
	}
	v := *s
	if v.ID == "" {
		v.ID = newID()
	}
	v.CreatedAt = t.db.now()
	v.UpdatedAt = v.CreatedAt
	err := t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO structures ("+structureCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
				v.ID, v.Slug, v.Name, v.Contact, string(v.MFAPolicy), e.tv(v.CreatedAt), e.tv(v.UpdatedAt))
			return e.wrap(err, "create structure %q", v.Slug)
		})
	})
	if err == nil {
		*s = v
	}
	return err
}

// GetStructure returns a structure by id.
func (t *Tx) GetStructure(ctx context.Context, id string) (store.Structure, error) {
	return one(ctx, t, scanStructure, "SELECT "+structureCols+" FROM structures WHERE id = ?", id, "get structure %q", id)
}

// GetStructureBySlug returns a structure by slug.
func (t *Tx) GetStructureBySlug(ctx context.Context, slug string) (store.Structure, error) {
	return one(ctx, t, scanStructure, "SELECT "+structureCols+" FROM structures WHERE slug = ?", slug, "get structure by slug %q", slug)
}

// ListStructures returns every structure ordered by slug.
func (t *Tx) ListStructures(ctx context.Context) ([]store.Structure, error) {
	var out []store.Structure
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanStructure)(e.query(ctx, "SELECT "+structureCols+" FROM structures ORDER BY slug"))
		return e.wrap(err, "list structures")
	})
	return out, err
}

// UpdateStructure reads the structure, hands it to fn and writes back what
// fn left, atomically.
func (t *Tx) UpdateStructure(ctx context.Context, id string, fn func(*store.Structure) error) (store.Structure, error) {
	var v store.Structure
	err := t.run(ctx, func(e *ex) error {
		old, err := scanStructure(e.row(ctx, "SELECT "+structureCols+" FROM structures WHERE id = ?", id))
		if err != nil {
			return e.wrap(err, "update structure %q", id)
		}
		v = old
		if err := fn(&v); err != nil {
			return err
		}
		if v.ID != old.ID {
			return invalid("update structure %q: the id cannot change", id)
		}
		if err := checkStructure(&v); err != nil {
			return err
		}
		v.CreatedAt = old.CreatedAt
		v.UpdatedAt = t.db.now()
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "UPDATE structures SET slug = ?, name = ?, contact = ?, mfa_policy = ?, updated_at = ? WHERE id = ?",
				v.Slug, v.Name, v.Contact, string(v.MFAPolicy), e.tv(v.UpdatedAt), id)
			return e.wrap(err, "update structure %q", id)
		})
	})
	if err != nil {
		return store.Structure{}, err
	}
	return v, nil
}

// DeleteStructure removes a structure with its services, memberships,
// grants and imports; ErrNotFound when there was none.
func (t *Tx) DeleteStructure(ctx context.Context, id string) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM structures WHERE id = ?", id)
		if err == nil {
			err = mustAffect(res)
		}
		return e.wrap(err, "delete structure %q", id)
	})
}
