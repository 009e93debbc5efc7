package auditlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sesame/internal/store"
)

// Source is what the query reads; store.Store and store.Tx are one.
type Source interface {
	GetStructure(ctx context.Context, id string) (store.Structure, error)
	GetStructureBySlug(ctx context.Context, slug string) (store.Structure, error)
	GetPerson(ctx context.Context, id string) (store.Person, error)
	GetPersonByEmail(ctx context.Context, email string) (store.Person, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Query selects entries. Zero values match everything.
type Query struct {
	Structure string    // a structure's slug
	Person    string    // a person's email or username
	Since     time.Time // at or after
	Action    string
	Limit     int // 0 means 100, at most MaxLimit
}

// MaxLimit bounds the entries one query returns.
const MaxLimit = 10000

// Entry is one audit entry, with what it concerns named for people.
type Entry struct {
	ID        int64          `json:"id"`
	Time      time.Time      `json:"time"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	IP        string         `json:"ip,omitempty"`
	Structure string         `json:"structure,omitempty"` // slug
	Person    string         `json:"person,omitempty"`    // email
	Details   map[string]any `json:"details,omitempty"`
}

// ErrUnknown means the query names a structure or person that does not
// exist.
var ErrUnknown = errors.New("auditlog: unknown structure or person")

// List returns the entries q selects, newest first.
func List(ctx context.Context, src Source, q Query) ([]Entry, error) {
	f := store.AuditFilter{Since: q.Since, Action: q.Action, Limit: min(q.Limit, MaxLimit)}
	if q.Structure != "" {
		s, err := src.GetStructureBySlug(ctx, q.Structure)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: no structure %q", ErrUnknown, q.Structure)
		}
		if err != nil {
			return nil, fmt.Errorf("auditlog: %w", err)
		}
		f.StructureID = s.ID
	}
	if q.Person != "" {
		p, err := findPerson(ctx, src, q.Person)
		if err != nil {
			return nil, err
		}
		f.PersonID = p.ID
	}
	list, err := src.ListAudit(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("auditlog: %w", err)
	}
	slugs, emails := map[string]string{}, map[string]string{}
	out := make([]Entry, 0, len(list))
	for _, a := range list {
		e := Entry{ID: a.ID, Time: a.Time.UTC(), Actor: a.Actor, Action: a.Action, Target: a.Target, IP: a.IP, Details: a.Details}
		if id := a.StructureID; id != "" {
			if _, ok := slugs[id]; !ok {
				s, err := src.GetStructure(ctx, id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, fmt.Errorf("auditlog: %w", err)
				}
				slugs[id] = s.Slug
			}
			e.Structure = slugs[id]
		}
		if id := a.PersonID; id != "" {
			if _, ok := emails[id]; !ok {
				p, err := src.GetPerson(ctx, id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, fmt.Errorf("auditlog: %w", err)
				}
				emails[id] = p.Email
			}
			e.Person = emails[id]
		}
		out = append(out, e)
	}
	return out, nil
}

// findPerson looks a person up by email, else by username.
func findPerson(ctx context.Context, src Source, who string) (store.Person, error) {
	p, err := src.GetPersonByEmail(ctx, store.FoldEmail(who))
	if errors.Is(err, store.ErrNotFound) {
		if u, ok := src.(interface {
			GetPersonByUsername(context.Context, string) (store.Person, error)
		}); ok {
			p, err = u.GetPersonByUsername(ctx, strings.ToLower(strings.TrimSpace(who)))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("%w: no person %q", ErrUnknown, who)
	}
	if err != nil {
		return p, fmt.Errorf("auditlog: %w", err)
	}
	return p, nil
}

// ParseSince reads a lower bound on time: a date ("2026-12-01", midnight
// UTC), an RFC 3339 time, or a duration back from now ("36h", "7d").
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.Add(-time.Duration(d) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("auditlog: %q is not a date (2026-12-01), a time (RFC 3339) or a duration (36h, 7d)", s)
}
