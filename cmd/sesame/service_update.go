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
	var newURL, name string
	cmd := &cobra.Command{
		Use:   "update STRUCTURE SERVICE [--url URL] [--name NAME]",
		Short: "Move a service to a new address or rename it",
		Long: `Update changes a service of a structure (named by its slug or client id).

--url moves it to a new base address: every registered redirect, post-logout and back-channel
address under the old one moves with it (others stay as they are); change the application's own
address to match. --name changes the name people read (and that a spreadsheet's column may use);
the slug, the client id and the directory groups' names never change. The same as the services
page of /admin.

Exit status: 0 when done; 1 when another service of the structure already has that name; 2 on a
usage error (nothing to change, an address that is not http(s), an empty name) or an unknown
structure or service.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			changeURL, rename := cmd.Flags().Changed("url"), cmd.Flags().Changed("name")
			if !changeURL && !rename {
				return exitWith(2, errors.New("give --url or --name"))
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
			var change manage.ServiceChange
			if changeURL {
				change.URL = &newURL
			}
			if rename {
				change.Name = &name
			}
			if svc, err = m.UpdateService(ctx, cliActor(), svc.ID, change); err != nil {
				if changeURL && errors.Is(err, manage.ErrBadService) {
					err = fmt.Errorf("--url %q: %w", newURL, err)
				}
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s/%s: name %q, address %s, client %s.\n", s.Slug, svc.Slug, svc.Name, dashIfEmpty(svc.BaseURL), svc.ClientID)
			return nil
		},
	}
	cmd.Flags().StringVar(&newURL, "url", "", "The new base URL (https://...).")
	cmd.Flags().StringVar(&name, "name", "", "The new display name.")
	return cmd
}
