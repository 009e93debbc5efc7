package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the store's schema up to date",
		Long: `Migrate applies the store's pending schema migrations, each in its own transaction, and exits.
It is safe to run again: a store that is up to date is left as it is. "sesame serve" migrates
at start as well, so this command is only needed to upgrade ahead of a restart, or to start
a new installation: with serve, it is the only command that creates what is missing (data_dir,
the SQLite database or sesame's tables in PostgreSQL, and, for a new store, the master key);
every other command refuses to run without them. On an existing store whose master key is not
where the configuration says, it warns and creates no key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.creates = true
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "The %s store is up to date.\n", st.Backend())
			_, statErr := os.Stat(a.cfg.Secrets.KeyFile)
			_, err = a.masterKey(a.cfg)
			switch {
			case err == nil && errors.Is(statErr, fs.ErrNotExist):
				fmt.Fprintf(a.out, "A new master key is in %s: back it up, apart from the database (see docs/operations.md).\n", a.cfg.Secrets.KeyFile)
			case err != nil && !a.newStore && errors.Is(statErr, fs.ErrNotExist):
				// An existing store without its key here: the key is where
				// sesame ran before. Making a new one would break every link
				// already sent, so say where to look instead.
				fmt.Fprintf(a.errOut, "warning: %v\n", err)
			case err != nil:
				return err
			}
			return nil
		},
	}
}
