package backupbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/store/sqlite"
)

// rows of audit, about 300 bytes each: a database of some 60 MB, the
// size of a hoster's store after a few years.
const rows = 200_000

var (
	once   sync.Once
	db     *sqlite.DB
	dbPath string
	dbErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if db != nil {
		_ = db.Close()
		_ = os.RemoveAll(filepath.Dir(dbPath))
	}
	os.Exit(code)
}

func setup(b *testing.B) *sqlite.DB {
	once.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "backupbench")
		if err != nil {
			dbErr = err
			return
		}
		dbPath = filepath.Join(dir, "sesame.db")
		if db, dbErr = sqlite.Open(ctx, dbPath, nil); dbErr != nil {
			return
		}
		if dbErr = db.Migrate(ctx); dbErr != nil {
			return
		}
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			dbErr = err
			return
		}
		details := `{"note":"` + strings.Repeat("x", 200) + `"}`
		for i := range rows {
			if _, err := tx.ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, details) VALUES ('2026-01-01T00:00:00.000000Z', 'cli:root', 'person.create', ?, ?)",
				fmt.Sprintf("person:%d", i), details); err != nil {
				dbErr = err
				return
			}
		}
		if dbErr = tx.Commit(); dbErr != nil {
			return
		}
		_, dbErr = db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	})
	if dbErr != nil {
		b.Fatal(dbErr)
	}
	return db
}

func size(b *testing.B) int64 {
	st, err := os.Stat(dbPath)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// BenchmarkFileCopy is the reference: the database file copied as bytes
// (what a backup of a stopped sesame does), fsynced.
func BenchmarkFileCopy(b *testing.B) {
	setup(b)
	b.SetBytes(size(b))
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		in, err := os.Open(dbPath)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("copy-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		in.Close()
		out.Close()
		os.Remove(out.Name())
	}
}

// BenchmarkBackup is "sesame backup": VACUUM INTO, quick_check, fsync,
// link into place.
func BenchmarkBackup(b *testing.B) {
	d := setup(b)
	b.SetBytes(size(b))
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := d.Backup(context.Background(), dest, false); err != nil {
			b.Fatal(err)
		}
		os.Remove(dest)
	}
}

// BenchmarkBackupWhileWriting is the same backup while another goroutine
// commits one audit row per transaction without pause; it reports the
// writer's commits per second during the backups (writes/s), to compare
// with BenchmarkWriterAlone.
func BenchmarkBackupWhileWriting(b *testing.B) {
	d := setup(b)
	b.SetBytes(size(b))
	dir := b.TempDir()
	var stop atomic.Bool
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		writer(d, &stop, &n)
	}()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := d.Backup(context.Background(), dest, false); err != nil {
			b.Fatal(err)
		}
		os.Remove(dest)
	}
	stop.Store(true)
	<-done
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "writes/s")
}

// BenchmarkWriterAlone is the writer of BenchmarkBackupWhileWriting with
// no backup running, for one second per iteration.
func BenchmarkWriterAlone(b *testing.B) {
	d := setup(b)
	var total int64
	start := time.Now()
	for b.Loop() {
		var stop atomic.Bool
		var n atomic.Int64
		time.AfterFunc(time.Second, func() { stop.Store(true) })
		writer(d, &stop, &n)
		total += n.Load()
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "writes/s")
}

func writer(d *sqlite.DB, stop *atomic.Bool, n *atomic.Int64) {
	ctx := context.Background()
	for !stop.Load() {
		if _, err := d.SQL().ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, details) VALUES ('2026-01-01T00:00:00.000000Z', 'cli:root', 'bench', 'x', 'null')"); err != nil {
			panic(err)
		}
		n.Add(1)
	}
}
