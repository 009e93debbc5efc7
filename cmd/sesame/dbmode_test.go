package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"sesame/internal/store/sqlite"
)

// TestNewDatabaseIsPrivate: the SQLite database holds password hashes,
// sealed secrets and personal data; "sesame backup" writes its copies with
// mode 0600 for that reason. The database itself, and its -wal and -shm
// files, must be as private when "sesame migrate" (or serve) creates them
// in a data_dir that already existed with the usual 0755 (made by a package,
// or by hand with mkdir) and the administrator's usual umask 022.
func TestNewDatabaseIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	clearConfigEnv(t)
	data := filepath.Join(t.TempDir(), "sesame")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SESAME_DATA_DIR", data)
	mustRun(t, "migrate")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta") // a write: the WAL exists
	for _, name := range []string{"sesame.db", "sesame.db-wal", "sesame.db-shm", "secret.key"} {
		fi, err := os.Stat(filepath.Join(data, name))
		if os.IsNotExist(err) && name != "sesame.db" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o: other users of the machine can read it", name, fi.Mode().Perm())
		}
	}
}

// TestOpenDatabaseFilesArePrivate: the same while the database is open, for
// the -wal and -shm files beside it.
func TestOpenDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sesame.db")
	db, err := sqlite.Open(context.Background(), path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o: other users of the machine can read it", filepath.Base(name), fi.Mode().Perm())
		}
	}
}
