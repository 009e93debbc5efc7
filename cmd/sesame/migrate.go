package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the store's schema up to date",
		Long: `Migrate applies the store's pending schema migrations, each in its own transaction, and exits.
It is safe to run again: a store that is up to date is left as it is. "sesame serve" migrates
at start as well, so this command is only needed to upgrade ahead of a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "The %s store is up to date.\n", st.Backend())
			return nil
		},
	}
}
