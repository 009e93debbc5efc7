package sqldb

import (
	"context"
	"strings"

	"sesame/internal/store"
)

const personCols = "id, username, email, given_name, family_name, display_name, language, quota, state, " +
	"password_hash, password_changed_at, admin, mfa_grace_until, created_at, updated_at"

func scanPerson(s scanner) (store.Person, error) {
	var v store.Person
	err := s.Scan(&v.ID, &v.Username, &v.Email, &v.GivenName, &v.FamilyName, &v.DisplayName, &v.Language,
		&v.Quota, &v.State, &v.PasswordHash, ts(&v.PasswordChangedAt), &v.Admin, ts(&v.MFAGraceUntil), ts(&v.CreatedAt),
		ts(&v.UpdatedAt))
	return v, err
}

func checkPerson(v *store.Person) error {
	switch {
	case v.Username == "":
		return invalid("person: empty username")
	case store.FoldEmail(v.Email) == "":
		return invalid("person %q: empty email", v.Username)
	}
	switch v.State {
	case store.StateInvited, store.StateActive, store.StateDisabled:
	default:
		return invalid("person %q: unknown state %q", v.Username, v.State)
	}
	return nil
}

// CreatePerson inserts p, filling ID (when empty) and timestamps. An empty
// State means invited.
func (t *Tx) CreatePerson(ctx context.Context, p *store.Person) error {
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
	v.PasswordChangedAt, v.MFAGraceUntil = norm(v.PasswordChangedAt), norm(v.MFAGraceUntil)
	v.CreatedAt = t.db.now()
	v.UpdatedAt = v.CreatedAt
	err := t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO people ("+personCols+", email_fold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				v.ID, v.Username, v.Email, v.GivenName, v.FamilyName, v.DisplayName, v.Language, v.Quota,
				string(v.State), v.PasswordHash, e.tv(v.PasswordChangedAt), v.Admin, e.tv(v.MFAGraceUntil),
				e.tv(v.CreatedAt), e.tv(v.UpdatedAt), store.FoldEmail(v.Email))
			return e.wrap(err, "create person %q", v.Username)
		})
	})
	if err == nil {
		*p = v
	}
	return err
}

// GetPerson returns a person by id.
func (t *Tx) GetPerson(ctx context.Context, id string) (store.Person, error) {
	return t.getPerson(ctx, "id", id)
}

// GetPersonByEmail looks a person up by case-folded email.
func (t *Tx) GetPersonByEmail(ctx context.Context, email string) (store.Person, error) {
	return t.getPerson(ctx, "email_fold", store.FoldEmail(email))
}

// GetPersonByUsername returns a person by username.
func (t *Tx) GetPersonByUsername(ctx context.Context, username string) (store.Person, error) {
	return t.getPerson(ctx, "username", username)
}

func (t *Tx) getPerson(ctx context.Context, col, val string) (store.Person, error) {
	return one(ctx, t, scanPerson, "SELECT "+personCols+" FROM people WHERE "+col+" = ?", val, "get person by %s %q", col, val)
}

// ListPeople returns people ordered by username.
func (t *Tx) ListPeople(ctx context.Context, f store.PeopleFilter) ([]store.Person, error) {
	q := "SELECT " + prefixCols("p.", personCols) + " FROM people p"
	var where []string
	var args []any
	if f.StructureID != "" {
		q += " JOIN memberships m ON m.person_id = p.id"
		where = append(where, "m.structure_id = ?")
		args = append(args, f.StructureID)
	}
	if f.State != "" {
		where = append(where, "p.state = ?")
		args = append(args, string(f.State))
	}
	if f.Admin {
		where = append(where, "p.admin = ?")
		args = append(args, true)
	}
	if f.IDs != nil {
		if len(f.IDs) > store.MaxFilterIDs {
			return nil, invalid("list people: %d ids, more than %d", len(f.IDs), store.MaxFilterIDs)
		}
		where, args = inIDs(where, args, "p.id", f.IDs)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY p.username"
	var out []store.Person
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanPerson)(e.query(ctx, q, args...))
		return e.wrap(err, "list people")
	})
	return out, err
}

// inIDs adds "col IN (ids)" to a query's conditions; no ids match nothing.
func inIDs(where []string, args []any, col string, ids []string) ([]string, []any) {
	if len(ids) == 0 {
		return append(where, "1 = 0"), args
	}
	for _, id := range ids {
		args = append(args, id)
	}
	return append(where, col+" IN (?"+strings.Repeat(", ?", len(ids)-1)+")"), args
}

// UsernamesWithPrefix returns every username that starts with prefix.
func (t *Tx) UsernamesWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := t.single(ctx, func(e *ex) error {
		var err error
		// A range on the unique index: every string with the prefix sorts
		// between prefix and prefix+U+10FFFF.
		out, err = all(func(s scanner) (string, error) {
			var u string
			return u, s.Scan(&u)
		})(e.query(ctx, "SELECT username FROM people WHERE username >= ? AND username < ? ORDER BY username",
			prefix, prefix+"\U0010FFFF"))
		return e.wrap(err, "usernames with prefix %q", prefix)
	})
	if err != nil {
		return nil, err
	}
	// Collations may differ from byte order: keep only true prefixes.
	kept := out[:0]
	for _, u := range out {
		if strings.HasPrefix(u, prefix) {
			kept = append(kept, u)
		}
	}
	return kept, nil
}

// UpdatePerson reads the person, hands it to fn and writes back what fn
// left, atomically. Changing Username or ID gives ErrInvalid.
func (t *Tx) UpdatePerson(ctx context.Context, id string, fn func(*store.Person) error) (store.Person, error) {
	var v store.Person
	err := t.run(ctx, func(e *ex) error {
		old, err := scanPerson(e.row(ctx, "SELECT "+personCols+" FROM people WHERE id = ?", id))
		if err != nil {
			return e.wrap(err, "update person %q", id)
		}
		v = old
		if err := fn(&v); err != nil {
			return err
		}
		if v.ID != old.ID || v.Username != old.Username {
			return invalid("update person %q: the id and username cannot change", old.Username)
		}
		if err := checkPerson(&v); err != nil {
			return err
		}
		v.PasswordChangedAt, v.MFAGraceUntil = norm(v.PasswordChangedAt), norm(v.MFAGraceUntil)
		v.CreatedAt = old.CreatedAt
		v.UpdatedAt = t.db.now()
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, `UPDATE people SET email = ?, email_fold = ?, given_name = ?, family_name = ?,
				display_name = ?, language = ?, quota = ?, state = ?, password_hash = ?, password_changed_at = ?,
				admin = ?, mfa_grace_until = ?, updated_at = ? WHERE id = ?`,
				v.Email, store.FoldEmail(v.Email), v.GivenName, v.FamilyName, v.DisplayName, v.Language, v.Quota,
				string(v.State), v.PasswordHash, e.tv(v.PasswordChangedAt), v.Admin, e.tv(v.MFAGraceUntil), e.tv(v.UpdatedAt), id)
			if err == nil && (v.Admin || old.Admin) {
				// A hoster admin is no structure's former member (see
				// store.FormerMembership), nor one demoted: a record
				// kept for an admin ends with the role.
				_, err = e.exec(ctx, "DELETE FROM former_memberships WHERE person_id = ?", id)
			}
			return e.wrap(err, "update person %q", old.Username)
		})
	})
	if err != nil {
		return store.Person{}, err
	}
	return v, nil
}

// DeletePerson removes a person with their memberships, grants, tokens,
// provisioning records, second factors and recovery codes; ErrNotFound
// when there was none.
func (t *Tx) DeletePerson(ctx context.Context, id string) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM people WHERE id = ?", id)
		if err == nil {
			err = mustAffect(res)
		}
		return e.wrap(err, "delete person %q", id)
	})
}

// prefixCols qualifies every column of a list with a table alias.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = prefix + p
	}
	return strings.Join(parts, ", ")
}

const membershipCols = "person_id, structure_id, referent, created_at"

func scanMembership(s scanner) (store.Membership, error) {
	var v store.Membership
	err := s.Scan(&v.PersonID, &v.StructureID, &v.Referent, ts(&v.CreatedAt))
	return v, err
}

// PutMembership inserts a membership or updates its referent flag. An
// unknown person or structure gives ErrNotFound.
func (t *Tx) PutMembership(ctx context.Context, m store.Membership) error {
	if m.PersonID == "" || m.StructureID == "" {
		return invalid("put membership: empty person or structure")
	}
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, `INSERT INTO memberships (person_id, structure_id, referent, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (person_id, structure_id) DO UPDATE SET referent = excluded.referent`,
				m.PersonID, m.StructureID, m.Referent, e.tv(now))
			if err == nil {
				_, err = e.exec(ctx, "DELETE FROM former_memberships WHERE person_id = ?", m.PersonID)
			}
			return e.wrap(err, "put membership of %q in %q", m.PersonID, m.StructureID)
		})
	})
}

// DeleteMembership removes a membership; ErrNotFound when there was none.
// A person left in no structure keeps it as their former membership.
func (t *Tx) DeleteMembership(ctx context.Context, personID, structureID string) error {
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM memberships WHERE person_id = ? AND structure_id = ?", personID, structureID)
		if err == nil {
			err = mustAffect(res)
		}
		if err != nil {
			return e.wrap(err, "delete membership of %q in %q", personID, structureID)
		}
		var left int
		if err := e.row(ctx, "SELECT COUNT(*) FROM memberships WHERE person_id = ?", personID).Scan(&left); err != nil {
			return e.wrap(err, "count memberships of %q", personID)
		}
		if left > 0 {
			return nil
		}
		// A hoster admin leaves no former membership: the structure never
		// held them alone (its referents could not manage them).
		var admin bool
		if err := e.row(ctx, "SELECT admin FROM people WHERE id = ?", personID).Scan(&admin); err != nil {
			return e.wrap(err, "read person %q", personID)
		}
		if admin {
			return nil
		}
		_, err = e.exec(ctx, `INSERT INTO former_memberships (person_id, structure_id, left_at) VALUES (?, ?, ?)
			ON CONFLICT (person_id) DO UPDATE SET structure_id = excluded.structure_id, left_at = excluded.left_at`,
			personID, structureID, e.tv(now))
		return e.wrap(err, "record former membership of %q in %q", personID, structureID)
	})
}

// ListFormerMemberships returns a structure's former memberships (every
// structure's when structureID is empty), by person.
func (t *Tx) ListFormerMemberships(ctx context.Context, structureID string) ([]store.FormerMembership, error) {
	q := "SELECT person_id, structure_id, left_at FROM former_memberships"
	var args []any
	if structureID != "" {
		q += " WHERE structure_id = ?"
		args = append(args, structureID)
	}
	q += " ORDER BY person_id"
	var out []store.FormerMembership
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(func(s scanner) (store.FormerMembership, error) {
			var v store.FormerMembership
			err := s.Scan(&v.PersonID, &v.StructureID, ts(&v.LeftAt))
			return v, err
		})(e.query(ctx, q, args...))
		return e.wrap(err, "list former memberships")
	})
	return out, err
}

// ListMemberships returns memberships by person, then structure.
func (t *Tx) ListMemberships(ctx context.Context, f store.MembershipFilter) ([]store.Membership, error) {
	q := "SELECT " + membershipCols + " FROM memberships"
	var where []string
	var args []any
	if f.PersonID != "" {
		where = append(where, "person_id = ?")
		args = append(args, f.PersonID)
	}
	if f.StructureID != "" {
		where = append(where, "structure_id = ?")
		args = append(args, f.StructureID)
	}
	if f.PersonIDs != nil {
		if len(f.PersonIDs) > store.MaxFilterIDs {
			return nil, invalid("list memberships: %d ids, more than %d", len(f.PersonIDs), store.MaxFilterIDs)
		}
		where, args = inIDs(where, args, "person_id", f.PersonIDs)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY person_id, structure_id"
	var out []store.Membership
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanMembership)(e.query(ctx, q, args...))
		return e.wrap(err, "list memberships")
	})
	return out, err
}

const grantCols = "person_id, service_id, role, created_at"

func scanGrant(s scanner) (store.Grant, error) {
	var v store.Grant
	err := s.Scan(&v.PersonID, &v.ServiceID, &v.Role, ts(&v.CreatedAt))
	return v, err
}

// PutGrant inserts a grant or changes its role. An unknown person or
// service gives ErrNotFound.
func (t *Tx) PutGrant(ctx context.Context, g store.Grant) error {
	if g.PersonID == "" || g.ServiceID == "" {
		return invalid("put grant: empty person or service")
	}
	now := t.db.now()
	return t.run(ctx, func(e *ex) error {
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, `INSERT INTO grants (person_id, service_id, role, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (person_id, service_id) DO UPDATE SET role = excluded.role`,
				g.PersonID, g.ServiceID, g.Role, e.tv(now))
			return e.wrap(err, "put grant of %q on %q", g.PersonID, g.ServiceID)
		})
	})
}

// DeleteGrant removes a grant; ErrNotFound when there was none.
func (t *Tx) DeleteGrant(ctx context.Context, personID, serviceID string) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM grants WHERE person_id = ? AND service_id = ?", personID, serviceID)
		if err == nil {
			err = mustAffect(res)
		}
		return e.wrap(err, "delete grant of %q on %q", personID, serviceID)
	})
}

// ListGrants returns grants by person, then service.
func (t *Tx) ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error) {
	q := "SELECT " + prefixCols("g.", grantCols) + " FROM grants g"
	var where []string
	var args []any
	if f.StructureID != "" {
		q += " JOIN services s ON s.id = g.service_id"
		where = append(where, "s.structure_id = ?")
		args = append(args, f.StructureID)
	}
	if f.PersonID != "" {
		where = append(where, "g.person_id = ?")
		args = append(args, f.PersonID)
	}
	if f.ServiceID != "" {
		where = append(where, "g.service_id = ?")
		args = append(args, f.ServiceID)
	}
	if f.PersonIDs != nil {
		if len(f.PersonIDs) > store.MaxFilterIDs {
			return nil, invalid("list grants: %d ids, more than %d", len(f.PersonIDs), store.MaxFilterIDs)
		}
		where, args = inIDs(where, args, "g.person_id", f.PersonIDs)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY g.person_id, g.service_id"
	var out []store.Grant
	err := t.single(ctx, func(e *ex) error {
		var err error
		out, err = all(scanGrant)(e.query(ctx, q, args...))
		return e.wrap(err, "list grants")
	})
	return out, err
}
