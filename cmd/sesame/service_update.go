package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"sesame/internal/manage"
)

func init() { serviceSubcommands = append(serviceSubcommands, newServiceUpdateCmd) }

func newServiceUpdateCmd(a *app) *cobra.Command {
	var (
		newURL, name string
		requireMFA   bool
	)
	cmd := &cobra.Command{
		Use:   "update STRUCTURE SERVICE [--url URL] [--name NAME] [--require-mfa=true|false]",
		Short: "Move a service to a new address, rename it, or require two factors for it",
		Long: `Update changes a service of a structure (named by its slug or client id).

--url moves it to a new base address: every registered redirect, post-logout and back-channel
address under the old one moves with it (others stay as they are); change the application's own
address to match. Giving --url, even the service's current address, confirms an address a structure
referent gave (the services page says which): sesame then connects to it as to any hoster's address,
a private network included. --name changes the name people read (and that a spreadsheet's column may use);
the slug, the client id and the directory groups' names never change. The same as the services
page of /admin. --require-mfa=true gives the service's client codes only for logins made with two
factors (password and an authenticator app or a passkey, or a passkey alone that verified its user):
a person without a second factor is walked through enrolling one; false lets a password alone do.

Exit status: 0 when done; 1 when another service of the structure already has that name; 2 on a
usage error (nothing to change, an address that is not http(s), an empty name) or an unknown
structure or service.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			changeURL, rename, mfa := cmd.Flags().Changed("url"), cmd.Flags().Changed("name"), cmd.Flags().Changed("require-mfa")
			if !changeURL && !rename && !mfa {
				return exitWith(2, errors.New("give --url, --name or --require-mfa"))
			}
			if rename && strings.TrimSpace(name) == "" {
				return exitWith(2, errors.New("--name cannot be empty"))
			}
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, svc, err := serviceByName(ctx, m.Store, args[0], args[1])
			if err != nil {
				return err
			}
			// Both in one transaction: a refused address or name changes
			// nothing.
			// The hoster gave the credentials, and vouches for the address.
			change := manage.ServiceChange{ByHoster: true}
			if changeURL {
				change.URL = &newURL
			}
			if rename {
				change.Name = &name
			}
			if mfa {
				change.RequireMFA = &requireMFA
			}
			if svc, err = m.UpdateService(ctx, cliActor(), svc.ID, change); err != nil {
				if changeURL && errors.Is(err, manage.ErrBadService) {
					err = fmt.Errorf("--url %q: %w", newURL, err)
				}
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s/%s: name %q, address %s, client %s, two factors required: %s.\n", s.Slug, svc.Slug, svc.Name,
				dashIfEmpty(svc.BaseURL), svc.ClientID, yesNo(svc.RequireMFA))
			return nil
		},
	}
	cmd.Flags().StringVar(&newURL, "url", "", "The new base URL (https://...).")
	cmd.Flags().StringVar(&name, "name", "", "The new display name.")
	cmd.Flags().BoolVar(&requireMFA, "require-mfa", false, "Require two factors for this service's logins (true or false).")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
