package onboarding

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testKey is a fixed 32-byte token key.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is a fixed, settable time for tests.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }

type migrator interface {
	store.Store
	Migrate(ctx context.Context) error
}

// openSQLite opens a migrated SQLite store in a temporary directory.
func openSQLite(t testing.TB, now func() time.Time) store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), now)
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// openPostgres opens a migrated PostgreSQL store on a fresh database.
func openPostgres(t testing.TB, now func() time.Time) store.Store {
	t.Helper()
	st, _ := openPostgresDSN(t, now)
	return st
}

// openPostgresDSN also returns the database's DSN, to open a second store
// on it.
func openPostgresDSN(t testing.TB, now func() time.Time) (store.Store, string) {
	t.Helper()
	dsn := testenv.Postgres(t)
	db, err := postgres.Open(context.Background(), dsn, now)
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db), dsn
}

func migrated(t testing.TB, db migrator) store.Store {
	t.Helper()
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// eachBackend runs f once on SQLite and once on PostgreSQL.
func eachBackend(t *testing.T, f func(t *testing.T, st store.Store, c *clock)) {
	for name, open := range map[string]func(testing.TB, func() time.Time) store.Store{
		"sqlite": openSQLite, "postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			f(t, open(t, c.Now), c)
		})
	}
}

// fixture is a structure with its services in a store.
type fixture struct {
	st        store.Store
	structure store.Structure
	services  map[string]store.Service // by slug
	im        *Importer
	clock     *clock
}

// newFixture creates the structure slug with a Nextcloud, a WordPress "Site
// web" and a Paheko "Compta".
func newFixture(t testing.TB, st store.Store, c *clock, slug string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, services: map[string]store.Service{}, clock: c}
	f.structure = store.Structure{Slug: slug, Name: "Structure " + slug, Contact: "referent@" + slug + ".example.org"}
	if err := st.CreateStructure(ctx, &f.structure); err != nil {
		t.Fatal(err)
	}
	for _, s := range []store.Service{
		{Slug: "nextcloud", Name: "Nextcloud", Kind: store.KindNextcloud, DefaultRole: "user"},
		{Slug: "site", Name: "Site web", Kind: store.KindWordPress, DefaultRole: "subscriber"},
		{Slug: "compta", Name: "Compta", Kind: store.KindPaheko, Roles: []string{"Membre", "Trésorier"},
			DefaultRole: "Membre", RoleMapping: map[string]string{"Membre": "1", "Trésorier": "4"}},
	} {
		s.StructureID = f.structure.ID
		s.BaseURL = "https://" + s.Slug + "." + slug + ".example.org"
		s.ClientID = slug + "." + s.Slug
		if err := st.CreateService(ctx, &s); err != nil {
			t.Fatal(err)
		}
		f.services[s.Slug] = s
	}
	f.im = &Importer{Store: st, Tokens: &Tokens{Key: testKey, Now: c.Now}, Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	return f
}

func (f *fixture) importFile(t testing.TB, data string, mod func(*Request)) *Result {
	t.Helper()
	f.clock.t = f.clock.t.Add(time.Minute) // imports are listed newest first
	req := Request{Structure: f.structure.Slug, FileName: "people.csv", Data: []byte(data), Actor: "test:alice"}
	if mod != nil {
		mod(&req)
	}
	res, err := f.im.Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
