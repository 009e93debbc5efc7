package importbench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
)

// rawRows is the size of the import measured against the raw insert.
var rawRows = envInt("SESAME_IMPORTBENCH_RAW_ROWS", 10000)

// benchStore is a fresh, migrated store with one structure and its two
// services, and the raw handle under it.
type benchStore struct {
	st        store.Store
	raw       *sql.DB
	pg        bool
	structure store.Structure
	nc, site  store.Service
}

func openBench(b *testing.B, backend string) *benchStore {
	b.Helper()
	ctx := context.Background()
	bs := &benchStore{}
	switch backend {
	case "sqlite":
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sesame.db"), time.Now)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		bs.st, bs.raw = db, db.SQL()
	case "postgres":
		db, err := postgres.Open(ctx, testenv.Postgres(b), time.Now)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		bs.st, bs.raw, bs.pg = db, db.SQL(), true
	}
	b.Cleanup(func() { _ = bs.st.Close() })
	bs.structure = store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := bs.st.CreateStructure(ctx, &bs.structure); err != nil {
		b.Fatal(err)
	}
	for _, svc := range []*store.Service{&bs.nc, &bs.site} {
		slug := "nextcloud"
		*svc = store.Service{Slug: slug, Name: "Nextcloud", Kind: store.KindNextcloud, DefaultRole: "user"}
		if svc == &bs.site {
			*svc = store.Service{Slug: "site", Name: "Site web", Kind: store.KindWordPress, DefaultRole: "subscriber"}
		}
		svc.StructureID, svc.BaseURL, svc.ClientID = bs.structure.ID, "https://"+svc.Slug+".example.org", "le-beta."+svc.Slug
		if err := bs.st.CreateService(ctx, svc); err != nil {
			b.Fatal(err)
		}
	}
	return bs
}

// rawFile is the CSV of n new people, each with two rights.
func rawFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Prénom;Nom;Courriel;Droits\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Prénom%d;Nom%d;p%d@example.org;nextcloud, site:éditeur\n", i, i, i)
	}
	return b.Bytes()
}

// cpuTime is the process's user + system CPU time so far: beside the wall
// time, which the other work on a shared machine stretches, the CPU each
// side spent in this process (all of SQLite's work; on PostgreSQL the
// client's share only).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// importRows runs plan + apply of data through the Importer.
func (bs *benchStore) importRows(b *testing.B, data []byte, n int) time.Duration {
	im := &onboarding.Importer{Store: bs.st, Tokens: &onboarding.Tokens{Key: bytes.Repeat([]byte("k"), 32)},
		Options: onboarding.Options{MaxRows: n}}
	start := time.Now()
	res, err := im.Import(context.Background(), onboarding.Request{Structure: bs.structure.Slug, FileName: "bench.csv",
		Data: data, Actor: "bench"})
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if res.Status != onboarding.StatusApplied || res.Report.Summary.Create != n {
		b.Fatalf("import: %s %+v", res.Status, res.Report.Summary)
	}
	return d
}

// rawInsert is the reference: a plain program writing the same people,
// memberships and grants (two per person) straight into the tables, in
// one transaction, with multi-row INSERTs of 500 rows (well under both
// engines' parameter limits).
func (bs *benchStore) rawInsert(b *testing.B, n int) time.Duration {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var ts any = now.Format("2006-01-02T15:04:05.000000Z")
	if bs.pg {
		ts = now
	}
	const chunk = 500
	start := time.Now()
	tx, err := bs.raw.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	insert := func(table, cols string, ncols int, rows [][]any) {
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
		args := make([]any, 0, len(rows)*ncols)
		p := 0
		for i, r := range rows {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for j := range ncols {
				if j > 0 {
					q.WriteString(", ")
				}
				p++
				if bs.pg {
					q.WriteString("$" + strconv.Itoa(p))
				} else {
					q.WriteString("?")
				}
			}
			q.WriteString(")")
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatalf("raw insert into %s: %v", table, err)
		}
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		var people, members, grants [][]any
		for i := lo; i < hi; i++ {
			id := uuid.NewString()
			email := fmt.Sprintf("p%d@example.org", i)
			people = append(people, []any{id, fmt.Sprintf("prenom%d.nom%d", i, i), email, email,
				fmt.Sprintf("Prénom%d", i), fmt.Sprintf("Nom%d", i), fmt.Sprintf("Prénom%d Nom%d", i, i), "fr", "",
				"invited", "", false, ts, ts})
			members = append(members, []any{id, bs.structure.ID, false, ts})
			grants = append(grants, []any{id, bs.nc.ID, "user", ts}, []any{id, bs.site.ID, "editor", ts})
		}
		insert("people", "id, username, email, email_fold, given_name, family_name, display_name, language, quota, "+
			"state, password_hash, admin, created_at, updated_at", 14, people)
		insert("memberships", "person_id, structure_id, referent, created_at", 4, members)
		insert("grants", "person_id, service_id, role, created_at", 4, grants)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkImportVsRaw measures, on each backend and in the same run, plan
// + apply of 10,000 new people (two rights each) through the Importer
// (import.max_rows raised) and the raw reference: the same people,
// memberships and grants inserted by a plain program in one transaction
// with multi-row INSERTs. Each side gets a fresh database; the order
// alternates between iterations. Metrics: both times and
// import_vs_raw (the import's rate divided by the raw insert's; the aim is
// at least 0.5). PostgreSQL runs when SESAME_TEST_POSTGRES is set.
//
//	go test -run '^$' -bench ImportVsRaw -benchtime 3x ./bench/import/
func BenchmarkImportVsRaw(b *testing.B) {
	data := rawFile(rawRows)
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			if backend == "postgres" && testenv.PostgresAdminDSN() == "" {
				b.Skip("SESAME_TEST_POSTGRES is not set")
			}
			var imp, raw time.Duration
			var ratios, cpuRatios []float64
			i := 0
			for b.Loop() {
				b.StopTimer()
				a, c := openBench(b, backend), openBench(b, backend)
				var di, dr, ci, cr time.Duration
				// Each side starts clean: the other's garbage collected
				// and its written pages flushed (the second side would
				// otherwise wait for the first's writeback at its commit).
				settle := func() {
					runtime.GC()
					syscall.Sync()
				}
				runImport := func() {
					settle()
					c0 := cpuTime()
					di = a.importRows(b, data, rawRows)
					ci = cpuTime() - c0
				}
				runRaw := func() {
					settle()
					c0 := cpuTime()
					dr = c.rawInsert(b, rawRows)
					cr = cpuTime() - c0
				}
				if i%2 == 0 {
					runImport()
					runRaw()
				} else {
					runRaw()
					runImport()
				}
				cpuRatios = append(cpuRatios, cr.Seconds()/ci.Seconds())
				imp, raw = imp+di, raw+dr
				ratios = append(ratios, dr.Seconds()/di.Seconds())
				b.Logf("%s: import %s, raw %s, ratio %.2f; CPU in this process: import %s, raw %s, ratio %.2f",
					backend, di, dr, dr.Seconds()/di.Seconds(), ci, cr, cr.Seconds()/ci.Seconds())
				i++
				b.StartTimer()
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(imp.Seconds()/float64(i), "import-s")
			b.ReportMetric(raw.Seconds()/float64(i), "raw-s")
			b.ReportMetric(raw.Seconds()/imp.Seconds(), "import_vs_raw")
			b.ReportMetric(median(ratios), "median_ratio")
			b.ReportMetric(slices.Min(ratios), "min_ratio")
			b.ReportMetric(median(cpuRatios), "median_cpu_ratio")
		})
	}
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
