package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { userSubcommands = append(userSubcommands, newUserMFACmd) }

func newUserMFACmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Manage a person's second factor",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "reset EMAIL|USERNAME",
		Short: "Remove a person's second factors and recovery codes (a lost phone)",
		Long: `Reset removes every second factor (authenticator app) and recovery code of a person, ends their
sessions everywhere and tells them by email. At their next login their password is enough; where their
policy requires a second factor they are then walked through setting one up again.

Referents reset their structures' people from the administration pages; a hoster admin's own second
factor is reset here.

Exit status: 0 when done (or when the person had none); 1 when there is no such person; 2 on a usage
error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			p, err := personArg(cmd, m, args[0])
			if err != nil {
				return err
			}
			n, err := m.ResetMFA(cmd.Context(), cliActor(), p.ID)
			if err != nil {
				return manageError(err)
			}
			if n == 0 {
				fmt.Fprintf(a.out, "%s has no second factor: nothing to reset.\n", p.Username)
				return nil
			}
			fmt.Fprintf(a.out, "%s's second factor is reset (%d removed); they were told by email.\n", p.Username, n)
			return nil
		},
	})
	return cmd
}
