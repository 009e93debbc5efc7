package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"sesame/internal/store/sqlite"
)

// TestBackupWhileWriting backs the database up while another connection
// keeps committing: the copy opens, passes its check, holds every row
// committed before the backup began and no half of a transaction, and has
// mode 0600. An existing file is kept unless overwrite is set.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := open(t, nil)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	write := func(n int64) error {
		// Two rows per transaction: a copy must hold both or neither.
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for range 2 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, details) VALUES ('2026-01-01T00:00:00.000000Z', 'cli:root', 'x', ?, 'null')", n); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	}
	for i := range 200 {
		if err := write(int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := int64(1000); !stop.Load(); n++ {
			if err := write(n); err != nil {
				writeErr = err
				return
			}
		}
	}()
	dest := filepath.Join(t.TempDir(), "backup", "sesame-copy.db")
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		t.Fatal(err)
	}
	err := db.Backup(ctx, dest, false)
	stop.Store(true)
	wg.Wait()
	if err != nil || writeErr != nil {
		t.Fatalf("backup: %v; writer: %v", err, writeErr)
	}
	st, err := os.Stat(dest)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".sesame-backup-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	cp, err := sqlite.Open(ctx, dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var rows, odd int
	if err := cp.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM audit").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := cp.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT target FROM audit GROUP BY target HAVING COUNT(*) != 2)").Scan(&odd); err != nil {
		t.Fatal(err)
	}
	if rows < 400 || odd != 0 {
		t.Fatalf("the copy holds %d rows, %d half transactions; want ≥ 400 and none", rows, odd)
	}

	// An existing file is kept, and is replaced only with overwrite.
	if err := db.Backup(ctx, dest, false); !errors.Is(err, sqlite.ErrBackupExists) {
		t.Fatalf("backup over an existing file = %v, want ErrBackupExists", err)
	}
	if err := os.WriteFile(dest, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, dest, false); !errors.Is(err, sqlite.ErrBackupExists) {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "not a database" {
		t.Fatal("the existing file was changed")
	}
	if err := db.Backup(ctx, dest, true); err != nil {
		t.Fatalf("backup with overwrite: %v", err)
	}
	if b, _ := os.ReadFile(dest); len(b) < 4096 || string(b[:15]) != "SQLite format 3" {
		t.Fatalf("the overwritten file is not a database (%d bytes)", len(b))
	}

	// A folder that does not exist, or an empty name: an error, no file.
	if err := db.Backup(ctx, filepath.Join(t.TempDir(), "none", "x.db"), false); err == nil {
		t.Error("backup into a missing folder succeeded")
	}
	if err := db.Backup(ctx, "", false); err == nil {
		t.Error("backup to an empty name succeeded")
	}
}
