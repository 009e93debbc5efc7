package auditlog

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

func TestList(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := db.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	p := store.Person{Username: "camille", Email: "camille@example.org", State: store.StateInvited}
	if err := db.CreatePerson(ctx, &p); err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.AuditEntry{
		{Time: now.Add(-48 * time.Hour), Actor: "cli:root", Action: "import.apply", Target: "structure:le-beta"},
		{Time: now.Add(-time.Hour), Actor: "admin:alice", Action: "person.disable", Target: "person:" + p.ID, IP: "192.0.2.1", StructureID: s.ID},
		{Time: now, Actor: "notify", Action: "mail.sent", Target: "mail:<x>", Details: map[string]any{"person_id": p.ID}},
	} {
		if err := db.AppendAudit(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	all, err := List(ctx, db, Query{})
	if err != nil || len(all) != 3 {
		t.Fatalf("all: %v %+v", err, all)
	}
	if e := all[1]; e.Structure != "le-beta" || e.Person != "camille@example.org" || e.IP != "192.0.2.1" || e.Actor != "admin:alice" {
		t.Errorf("entry = %+v", e)
	}
	bySt, _ := List(ctx, db, Query{Structure: "le-beta"})
	byPerson, _ := List(ctx, db, Query{Person: "Camille@Example.org"})
	byUsername, _ := List(ctx, db, Query{Person: "camille"})
	since, _ := List(ctx, db, Query{Structure: "le-beta", Since: now.Add(-2 * time.Hour)})
	if len(bySt) != 2 || len(byPerson) != 2 || len(byUsername) != 2 || len(since) != 1 || since[0].Action != "person.disable" {
		t.Errorf("filters: %d %d %d %d", len(bySt), len(byPerson), len(byUsername), len(since))
	}
	if _, err := List(ctx, db, Query{Structure: "nope"}); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown structure: %v", err)
	}
	if _, err := List(ctx, db, Query{Person: "nobody@example.org"}); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown person: %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"36h":                  now.Add(-36 * time.Hour),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2026-12-01":           time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"2026-12-01T10:00:00Z": time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	} {
		got, err := ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-3h", "12/01/2026"} {
		if _, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) accepted", bad)
		}
	}
}
