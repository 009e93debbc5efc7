package sqldb

import (
	"context"
	"errors"
	"strings"
	"time"

	"sesame/internal/store"
)

const importCols = "id, structure_id, actor, file_name, file_digest, mode, dry_run, status, counts, report, created_at"

func scanImport(s scanner) (store.Import, error) {
	var v store.Import
	err := s.Scan(&v.ID, &v.StructureID, &v.Actor, &v.FileName, &v.FileDigest, &v.Mode, &v.DryRun, &v.Status,
		js(&v.Counts), bs(&v.Report), ts(&v.CreatedAt))
	return v, err
}

// CreateImport inserts im, filling ID (when empty) and CreatedAt. An unknown
// structure gives ErrNotFound.
func (t *Tx) CreateImport(ctx context.Context, im *store.Import) error {
	if im.StructureID == "" {
		return invalid("create import: no structure")
	}
	v := *im
	if v.ID == "" {
		v.ID = newID()
	}
	if v.Mode == "" {
		v.Mode = store.ModeAdd
	}
	v.CreatedAt = t.db.now()
	counts, err := jv(v.Counts)
	if err != nil {
		return err
	}
	err = t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO imports ("+importCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				v.ID, v.StructureID, v.Actor, v.FileName, v.FileDigest, string(v.Mode), v.DryRun, v.Status,
				counts, v.Report, e.tv(v.CreatedAt))
			return e.wrap(err, "create import of %q", v.FileName)
		})
	})
	if err == nil {
		*im = v
	}
	return err
}

// GetImport returns an import by id.
func (t *Tx) GetImport(ctx context.Context, id string) (store.Import, error) {
	return one(ctx, t, scanImport, "SELECT "+importCols+" FROM imports WHERE id = ?", id, "get import %q", id)
}

// ListImports returns a structure's imports, newest first.
func (t *Tx) ListImports(ctx context.Context, structureID string) ([]store.Import, error) {
	var out []store.Import
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanImport)(e.query(ctx, "SELECT "+importCols+" FROM imports WHERE structure_id = ? ORDER BY created_at DESC, id", structureID))
		return e.wrap(err, "list imports of %q", structureID)
	})
	return out, err
}

const auditCols = "id, time, actor, action, target, details, structure_id, person_id, ip"

func scanAudit(s scanner) (store.AuditEntry, error) {
	var v store.AuditEntry
	err := s.Scan(&v.ID, ts(&v.Time), &v.Actor, &v.Action, &v.Target, js(&v.Details), &v.StructureID, &v.PersonID, &v.IP)
	return v, err
}

// AppendAudit inserts e, filling ID and (when zero) Time.
func (t *Tx) AppendAudit(ctx context.Context, a *store.AuditEntry) error {
	if a.Action == "" {
		return invalid("append audit: empty action")
	}
	v := *a
	if v.Time.IsZero() {
		v.Time = t.db.now()
	}
	v.Time = norm(v.Time)
	details, err := jv(v.Details)
	if err != nil {
		return err
	}
	if v.PersonID == "" {
		if id, ok := strings.CutPrefix(v.Target, "person:"); ok {
			v.PersonID = id
		} else if id, ok := v.Details["person_id"].(string); ok {
			v.PersonID = id
		}
	}
	err = t.run(ctx, func(e *ex) error {
		if slug, ok := strings.CutPrefix(v.Target, "structure:"); ok && v.StructureID == "" {
			err := e.row(ctx, "SELECT id FROM structures WHERE slug = ?", slug).Scan(&v.StructureID)
			if err != nil && !errors.Is(err, errNoRows) {
				return e.wrap(err, "append audit %q: structure", v.Action)
			}
		}
		err := e.row(ctx, "INSERT INTO audit (time, actor, action, target, details, structure_id, person_id, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			e.tv(v.Time), v.Actor, v.Action, v.Target, details, v.StructureID, v.PersonID, v.IP).Scan(&v.ID)
		return e.wrap(err, "append audit %q", v.Action)
	})
	if err == nil {
		*a = v
	}
	return err
}

// ListAudit returns entries newest first.
func (t *Tx) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	q := "SELECT " + auditCols + " FROM audit"
	var where []string
	var args []any
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.StructureID != "" {
		where = append(where, "structure_id = ?")
		args = append(args, f.StructureID)
	}
	if f.PersonID != "" {
		where = append(where, "person_id = ?")
		args = append(args, f.PersonID)
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, sinceValue(t.db.dialect, f.Since))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	var out []store.AuditEntry
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanAudit)(e.query(ctx, q, args...))
		return e.wrap(err, "list audit")
	})
	return out, err
}

// LastMailsSent returns when the newest "mail.sent" entry of each person
// (of a structure's members when structureID is set) was written.
func (t *Tx) LastMailsSent(ctx context.Context, structureID string) (map[string]time.Time, error) {
	q := "SELECT person_id, MAX(time) FROM audit WHERE action = 'mail.sent' AND person_id <> ''"
	var args []any
	if structureID != "" {
		q += " AND person_id IN (SELECT person_id FROM memberships WHERE structure_id = ?)"
		args = append(args, structureID)
	}
	q += " GROUP BY person_id"
	type last struct {
		person string
		at     time.Time
	}
	var rows []last
	err := t.single(ctx, func(e *ex) error {
		var err error
		rows, err = all(func(s scanner) (last, error) {
			var v last
			err := s.Scan(&v.person, ts(&v.at))
			return v, err
		})(e.query(ctx, q, args...))
		return e.wrap(err, "last mails sent")
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.person] = r.at
	}
	return out, nil
}

// sinceValue is a time bound as the dialect compares it.
func sinceValue(d *Dialect, t time.Time) any {
	t = norm(t)
	if d.NativeTime {
		return t
	}
	return t.Format(textTime)
}
