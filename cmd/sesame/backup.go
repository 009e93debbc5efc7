package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/config"
	"sesame/internal/store/sqlite"
)

func init() { commands = append(commands, newBackupCmd) }

func newBackupCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "backup FILE [--force]",
		Short: "Copy the SQLite database to a file, while sesame runs",
		Long: `Backup writes a complete, consistent copy of the SQLite database to FILE, while "sesame serve" and
other commands keep working: the copy is the database as of one instant. It is written next to FILE,
checked, and then moved to FILE, so FILE is never a partial copy; an existing FILE is kept unless
--force, and FILE may never be the database itself (or its -wal or -shm file) nor the master key. The copy does not hold the master key (secrets.key_file): back that up separately, since
the database cannot be used without it. Backup changes nothing in the database and applies no
migration, so it can be run before an upgrade. With PostgreSQL, use pg_dump: the command says how.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if cfg.Store.Driver == "postgres" {
				return exitWith(1, fmt.Errorf(`the store is PostgreSQL: back it up with pg_dump, for example
  pg_dump --format=custom --file %s '%s'
and restore it into an empty database with pg_restore --no-owner --dbname 'DSN' %s (see docs/operations.md).
Back up the master key %s as well: it is not in the database`,
					args[0], config.RedactDSN(cfg.Store.Postgres.DSN), args[0], cfg.Secrets.KeyFile))
			}
			if _, err := os.Stat(cfg.Store.SQLite.Path); errors.Is(err, fs.ErrNotExist) {
				return exitWith(1, a.missing("database", cfg.Store.SQLite.Path, "There is nothing to back up"))
			}
			ctx := cmd.Context()
			// Opened without migrating: a backup taken before an upgrade
			// must be the database as the old binary left it.
			db, err := sqlite.Open(ctx, cfg.Store.SQLite.Path, time.Now)
			if err != nil {
				return fmt.Errorf("open sqlite store: %w", err)
			}
			defer db.Close()
			v, err := db.Version(ctx)
			if err != nil || v == 0 {
				return exitWith(1, fmt.Errorf("%s is not a sesame database (no schema version: %v). Nothing was written", a.storeWhere(cfg), err))
			}
			if sameFile(args[0], cfg.Secrets.KeyFile) {
				// With --force the copy would replace the master key, and
				// with it every link sent and the signing keys.
				return exitWith(1, fmt.Errorf("%s is the master key (secrets.key_file): the copy must go to another file. Nothing was written", args[0]))
			}
			start := time.Now()
			err = db.Backup(ctx, args[0], force)
			if errors.Is(err, sqlite.ErrBackupIsDatabase) {
				return exitWith(1, fmt.Errorf("%s is the database itself (or its -wal or -shm file): the copy must go to another file, ideally on another disk. Nothing was written", args[0]))
			}
			if errors.Is(err, sqlite.ErrBackupExists) {
				return exitWith(1, fmt.Errorf("%s already exists: choose another name, or --force to replace it. Nothing was written", args[0]))
			}
			if err != nil {
				return exitWith(1, fmt.Errorf("back up %s: %w. Nothing was written to %s", a.storeWhere(cfg), err, args[0]))
			}
			st, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "The database (schema version %d) is backed up to %s (%d bytes, %s).\n",
				v, args[0], st.Size(), time.Since(start).Round(time.Millisecond))
			fmt.Fprintf(a.out, "The master key %s is not in it: back it up too, apart from this copy (see docs/operations.md).\n", cfg.Secrets.KeyFile)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "Replace FILE when it exists.")
	return cmd
}

// sesameFile names the file of sesame's own that path is (the SQLite
// database or one of its -wal, -shm, -journal files, the master key), ""
// for none: a command writing a file of its own (export -o) must not
// replace one of them.
func sesameFile(cfg *config.Config, path string) string {
	if cfg.Store.Driver != "postgres" {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if sameFile(path, cfg.Store.SQLite.Path+suffix) {
				return "the database (" + cfg.Store.SQLite.Path + suffix + ")"
			}
		}
	}
	if sameFile(path, cfg.Secrets.KeyFile) {
		return "the master key (secrets.key_file)"
	}
	return ""
}

// sameFile reports whether a and b name one file: the same path once made
// absolute, or the same existing file reached by another path.
func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
