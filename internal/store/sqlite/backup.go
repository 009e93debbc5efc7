package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// ErrBackupExists is Backup's error when dest exists and overwrite is false.
var ErrBackupExists = errors.New("sqlite: backup file exists")

// ErrBackupIsDatabase is Backup's error when dest is the database itself or
// one of its -wal, -shm or -journal files: replacing it under the running
// processes would lose what they write next, or corrupt the database.
var ErrBackupIsDatabase = errors.New("sqlite: the backup file is the database itself")

// Backup writes a consistent copy of the database to dest while other
// connections and processes may be writing: VACUUM INTO reads the database
// in one read transaction, so the copy is the database as of one instant,
// with the WAL's committed pages folded in. The copy is made in a
// temporary folder next to dest, checked (PRAGMA quick_check), synced, and
// only then moved to dest, so dest is never a partial file. dest is
// replaced only when overwrite is set. The copy has mode 0600: it holds
// password hashes and encrypted secrets.
func (db *DB) Backup(ctx context.Context, dest string, overwrite bool) error {
	if dest == "" {
		return fmt.Errorf("sqlite: backup: empty file name")
	}
	if db.isOwnFile(dest) {
		return fmt.Errorf("%w: %s", ErrBackupIsDatabase, dest)
	}
	if !overwrite {
		if _, err := os.Lstat(dest); err == nil {
			return fmt.Errorf("%w: %s", ErrBackupExists, dest)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlite: backup: %w", err)
		}
	}
	dir := filepath.Dir(dest)
	tmpDir, err := os.MkdirTemp(dir, ".sesame-backup-")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "sesame.db")
	if _, err := db.SQL().ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := checkCopy(ctx, tmp); err != nil {
		return fmt.Errorf("sqlite: backup: the copy fails its check: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if overwrite {
		err = os.Rename(tmp, dest)
	} else {
		// A hard link never replaces an existing file: a dest created
		// since the check above is not overwritten.
		err = os.Link(tmp, dest)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, dest)
	}
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(dir); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// isOwnFile reports whether dest names the database file or one of its
// companions (-wal, -shm, -journal): the same path once cleaned and made
// absolute, or the same file reached another way (a link, another spelling
// of the folder).
func (db *DB) isOwnFile(dest string) bool {
	destAbs, err := filepath.Abs(dest)
	if err != nil {
		destAbs = filepath.Clean(dest)
	}
	destInfo, destErr := os.Stat(dest)
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		own := db.path + suffix
		if abs, err := filepath.Abs(own); err == nil && abs == destAbs {
			return true
		}
		if destErr != nil {
			continue
		}
		if fi, err := os.Stat(own); err == nil && os.SameFile(fi, destInfo) {
			return true
		}
	}
	return false
}

// checkCopy opens the copy on its own and runs PRAGMA quick_check.
func checkCopy(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}

// syncFile flushes a file or a folder to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
