package sqldb

import (
	"context"
	"strings"

	"sesame/internal/store"
)

const provisionCols = "person_id, service_id, status, remote_id, owned, role, message, updated_at"

func scanProvision(s scanner) (store.Provision, error) {
	var v store.Provision
	err := s.Scan(&v.PersonID, &v.ServiceID, &v.Status, &v.RemoteID, &v.Owned, &v.Role, &v.Message, ts(&v.UpdatedAt))
	return v, err
}

// PutProvision inserts or replaces the record of p's person and service.
// An unknown person or service gives ErrNotFound.
func (t *Tx) PutProvision(ctx context.Context, p store.Provision) error {
	if p.PersonID == "" || p.ServiceID == "" {
		return invalid("put provision: empty person or service")
	}
	switch p.Status {
	case store.ProvisionPending, store.ProvisionDone, store.ProvisionFailed, store.ProvisionManual:
	default:
		return invalid("put provision of %q on %q: unknown status %q", p.PersonID, p.ServiceID, p.Status)
	}
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, `INSERT INTO provisions (`+provisionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (person_id, service_id) DO UPDATE SET status = excluded.status,
				remote_id = excluded.remote_id, owned = excluded.owned, role = excluded.role,
				message = excluded.message, updated_at = excluded.updated_at`,
				p.PersonID, p.ServiceID, string(p.Status), p.RemoteID, p.Owned, p.Role, p.Message, e.tv(now))
			return e.wrap(err, "put provision of %q on %q", p.PersonID, p.ServiceID)
		})
	})
}

// GetProvision returns one record; ErrNotFound when there is none.
func (t *Tx) GetProvision(ctx context.Context, personID, serviceID string) (store.Provision, error) {
	var v store.Provision
	err := t.single(ctx, func(e *ex) error {
		var err error
		v, err = scanProvision(e.row(ctx, "SELECT "+provisionCols+" FROM provisions WHERE person_id = ? AND service_id = ?", personID, serviceID))
		return e.wrap(err, "get provision of %q on %q", personID, serviceID)
	})
	return v, err
}

// ListProvisions returns records by person, then service.
func (t *Tx) ListProvisions(ctx context.Context, f store.ProvisionFilter) ([]store.Provision, error) {
	q := "SELECT " + prefixCols("p.", provisionCols) + " FROM provisions p"
	var where []string
	var args []any
	if f.StructureID != "" {
		q += " JOIN services s ON s.id = p.service_id"
		where = append(where, "s.structure_id = ?")
		args = append(args, f.StructureID)
	}
	if f.PersonID != "" {
		where = append(where, "p.person_id = ?")
		args = append(args, f.PersonID)
	}
	if f.ServiceID != "" {
		where = append(where, "p.service_id = ?")
		args = append(args, f.ServiceID)
	}
	if f.Status != "" {
		where = append(where, "p.status = ?")
		args = append(args, string(f.Status))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY p.person_id, p.service_id"
	var out []store.Provision
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanProvision)(e.query(ctx, q, args...))
		return e.wrap(err, "list provisions")
	})
	return out, err
}
