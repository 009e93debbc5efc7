package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sesame/internal/manage"
	"sesame/internal/store"
)

func init() {
	commands = append(commands, newAdminCmd)
	structureSubcommands = append(structureSubcommands, newStructureReferentCmd, newStructureUpdateCmd, newStructureRemoveCmd)
	serviceSubcommands = append(serviceSubcommands, newServiceRemoveCmd)
	userSubcommands = append(userSubcommands, newUserUpdateCmd, newUserDisableCmd, newUserEnableCmd, newUserDeleteCmd)
}

// manager returns the operations shared with the admin pages, over the
// configured store, with the token issuer when links are needed.
func (a *app) manager(cmd *cobra.Command, links bool) (*manage.Manager, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	st, err := a.store(cmd.Context())
	if err != nil {
		return nil, err
	}
	m := &manage.Manager{Store: st}
	if links {
		tokens, err := a.tokens(cfg)
		if err != nil {
			return nil, err
		}
		m.Links = tokens
	}
	return m, nil
}

// structureManager is manager with the structure whose slug the command
// names (exit status 2 when there is none).
func (a *app) structureManager(cmd *cobra.Command, links bool, slug string) (*manage.Manager, store.Structure, error) {
	m, err := a.manager(cmd, links)
	if err != nil {
		return nil, store.Structure{}, err
	}
	s, err := structureBySlug(cmd.Context(), m.Store, slug)
	if err != nil {
		return nil, store.Structure{}, err
	}
	return m, s, nil
}

// manageError turns an operation's error into the CLI's exit status: 1
// for a refusal (unknown person, wrong state, taken address), 2 for a bad
// argument.
func manageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrInvalid):
		return exitWith(2, err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return exitWith(1, err)
	}
	return err
}

func linkSentence(inv manage.Invite) string {
	if !inv.Linked {
		return ""
	}
	return fmt.Sprintf(" An activation link is on its way to %s; it is valid until %s.", inv.Person.Email,
		inv.Expires.Local().Format("2006-01-02 15:04 MST"))
}

func newAdminCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage the hoster admins, who may manage every structure from /admin",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add EMAIL",
		Short: "Make a person a hoster admin, creating them when needed",
		Long: `Add makes the person with this email address a hoster admin: they may manage every structure
at /admin after logging in. A person who does not exist yet is created; a person who has not
activated their account is sent an activation link. Being an admin is not a membership: a sync
import of a structure never disables an admin's account.

Exit status: 0 when done; 1 when the person is disabled; 2 on a usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd, true)
			if err != nil {
				return err
			}
			inv, err := m.AddAdmin(cmd.Context(), cliActor(), args[0])
			if err != nil {
				return manageError(err)
			}
			verb := "is now"
			if inv.Created {
				verb = "was created as"
			}
			fmt.Fprintf(a.out, "%s (%s) %s a hoster admin.%s\n", inv.Person.Username, inv.Person.Email, verb, linkSentence(inv))
			return nil
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the hoster admins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			admins, err := m.ListAdmins(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tEMAIL\tSTATE")
			for _, p := range admins {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Username, p.Email, p.State)
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Take the hoster admin right from a person (their account stays)",
		Long: `Remove takes the hoster admin right from the person with this email address; their account and
memberships stay. The last admin cannot be removed.

Exit status: 0 when done; 1 when there is no such person or they are the last admin; 2 on a
usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			p, err := m.RemoveAdmin(cmd.Context(), cliActor(), args[0])
			if err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s is no longer a hoster admin.\n", p.Username)
			return nil
		},
	})
	return cmd
}

func newStructureReferentCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "referent",
		Short: "Manage a structure's referents, who manage its people from /admin",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add SLUG EMAIL",
		Short: "Make a person a referent of a structure, creating them when needed",
		Long: `Add makes the person with this email address a referent of the structure: a member who may manage
its people, services and imports at /admin. A person who does not exist yet is created and sent an
activation link.

Exit status: 0 when done; 1 when the person is disabled; 2 on a usage error or an unknown
structure.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, s, err := a.structureManager(cmd, true, args[0])
			if err != nil {
				return err
			}
			inv, err := m.AddReferent(cmd.Context(), cliActor(), s.ID, args[1])
			if err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s (%s) is now a referent of %s.%s\n", inv.Person.Username, inv.Person.Email, s.Slug, linkSentence(inv))
			return nil
		},
	}, &cobra.Command{
		Use:   "remove SLUG EMAIL",
		Short: "Take the referent right from a member of a structure (they stay a member)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, s, err := a.structureManager(cmd, false, args[0])
			if err != nil {
				return err
			}
			p, err := m.RemoveReferent(cmd.Context(), cliActor(), s.ID, args[1])
			if err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s is no longer a referent of %s.\n", p.Username, s.Slug)
			return nil
		},
	})
	return cmd
}

func newStructureUpdateCmd(a *app) *cobra.Command {
	var name, contact string
	cmd := &cobra.Command{
		Use:   "update SLUG [--name NAME] [--contact EMAIL]",
		Short: "Rename a structure or change its contact",
		Long: `Update changes a structure's display name or contact address (shown on "no access" pages). The
slug never changes.

Exit status: 0 when done; 2 on a usage error or an unknown structure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c manage.StructureChange
			if cmd.Flags().Changed("name") {
				if strings.TrimSpace(name) == "" {
					return exitWith(2, errors.New("--name cannot be empty"))
				}
				c.Name = &name
			}
			if cmd.Flags().Changed("contact") {
				c.Contact = &contact
			}
			if c.Name == nil && c.Contact == nil {
				return exitWith(2, errors.New("give --name or --contact"))
			}
			m, s, err := a.structureManager(cmd, false, args[0])
			if err != nil {
				return err
			}
			if s, err = m.UpdateStructure(cmd.Context(), cliActor(), s.ID, c); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s: name %q, contact %s.\n", s.Slug, s.Name, dashIfEmpty(s.Contact))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "The new display name.")
	cmd.Flags().StringVar(&contact, "contact", "", "The new contact address (empty to remove it).")
	return cmd
}

func newStructureRemoveCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove SLUG --yes",
		Short: "Delete a structure with its services and memberships",
		Long: `Remove deletes a structure: its services (their OpenID Connect clients stop working at once), its
memberships, rights and import history. The people stay (a person left without any structure
keeps their account; disable them with "sesame user disable"). Their directory entries are brought
up to date by jobs. --yes confirms.

Exit status: 0 when done; 2 on a usage error or an unknown structure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return exitWith(2, fmt.Errorf("removing %s deletes its services and memberships: add --yes to confirm", args[0]))
			}
			m, s, err := a.structureManager(cmd, false, args[0])
			if err != nil {
				return err
			}
			if _, err := m.RemoveStructure(cmd.Context(), cliActor(), s.ID); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "The structure %s was removed.\n", s.Slug)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "Confirm the removal.")
	return cmd
}

func newServiceRemoveCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove STRUCTURE SERVICE --yes",
		Short: "Delete a service: its client stops working and its rights go",
		Long: `Remove deletes a service of a structure: its OpenID Connect client stops working at once and every
right on it goes; the directory groups are brought up to date by jobs. The accounts inside the
application itself are left as they are. --yes confirms.

Exit status: 0 when done; 2 on a usage error or an unknown structure or service.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return exitWith(2, fmt.Errorf("removing %s/%s stops its client: add --yes to confirm", args[0], args[1]))
			}
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			s, svc, err := serviceByName(cmd.Context(), m.Store, args[0], args[1])
			if err != nil {
				return err
			}
			if _, err := m.RemoveService(cmd.Context(), cliActor(), svc.ID); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "The service %s of %s was removed; its client %s no longer works.\n", svc.Slug, s.Slug, svc.ClientID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "Confirm the removal.")
	return cmd
}

// personArg finds the person an EMAIL|USERNAME argument names.
func personArg(cmd *cobra.Command, m *manage.Manager, who string) (store.Person, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return store.Person{}, exitWith(2, errors.New("give the person's email address or username"))
	}
	return findPerson(cmd.Context(), m.Store, who)
}

func newUserUpdateCmd(a *app) *cobra.Command {
	var given, family, display, email string
	cmd := &cobra.Command{
		Use:   "update EMAIL|USERNAME [--given-name G] [--family-name F] [--display-name D] [--email E]",
		Short: "Change a person's names or email address",
		Long: `Update changes a person's names or email address; the username never changes. The directory and
the applications are brought up to date by jobs.

Exit status: 0 when done; 1 when there is no such person or the address is taken; 2 on a usage
error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c manage.PersonChange
			for _, f := range []struct {
				name string
				v    *string
				dst  **string
			}{{"given-name", &given, &c.GivenName}, {"family-name", &family, &c.FamilyName},
				{"display-name", &display, &c.DisplayName}, {"email", &email, &c.Email}} {
				if cmd.Flags().Changed(f.name) {
					*f.dst = f.v
				}
			}
			if c == (manage.PersonChange{}) {
				return exitWith(2, errors.New("give at least one of --given-name, --family-name, --display-name, --email"))
			}
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			p, err := personArg(cmd, m, args[0])
			if err != nil {
				return err
			}
			if p, err = m.UpdatePerson(cmd.Context(), cliActor(), p.ID, c); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s: %s %s (%s), %s.\n", p.Username, p.GivenName, p.FamilyName, dashIfEmpty(p.DisplayName), p.Email)
			return nil
		},
	}
	cmd.Flags().StringVar(&given, "given-name", "", "The new first name.")
	cmd.Flags().StringVar(&family, "family-name", "", "The new last name.")
	cmd.Flags().StringVar(&display, "display-name", "", "The new display name.")
	cmd.Flags().StringVar(&email, "email", "", "The new email address.")
	return cmd
}

func newUserDisableCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "disable EMAIL|USERNAME",
		Short: "Disable a person: no more logins, sessions ended, accounts disabled",
		Long: `Disable stops a person from logging in: their sessions end everywhere, they leave every directory
group and lose their directory password, and their application accounts are disabled (jobs).
"sesame user enable" undoes it.

Exit status: 0 when done; 1 when there is no such person; 2 on a usage error.`,
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
			if _, err := m.Disable(cmd.Context(), cliActor(), p.ID); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s is disabled.\n", p.Username)
			return nil
		},
	}
}

func newUserEnableCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "enable EMAIL|USERNAME",
		Short: "Enable a disabled person again",
		Long: `Enable gives a disabled person their account back: active when they had set a password, else
invited (send them a link with "sesame user resend").

Exit status: 0 when done; 1 when there is no such person; 2 on a usage error.`,
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
			if p, err = m.Enable(cmd.Context(), cliActor(), p.ID); err != nil {
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s is %s.\n", p.Username, p.State)
			return nil
		},
	}
}

func newUserDeleteCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete EMAIL|USERNAME --yes",
		Short: "Delete a disabled person for good",
		Long: `Delete removes a disabled person with their memberships, rights, links and sessions. Only a
disabled person may be deleted: run "sesame user disable" first. The audit log keeps their
username and email. --yes confirms.

Exit status: 0 when done; 1 when there is no such person or they are not disabled; 2 on a usage
error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return exitWith(2, errors.New("deleting a person cannot be undone: add --yes to confirm"))
			}
			m, err := a.manager(cmd, false)
			if err != nil {
				return err
			}
			p, err := personArg(cmd, m, args[0])
			if err != nil {
				return err
			}
			if _, err := m.Delete(cmd.Context(), cliActor(), p.ID); err != nil {
				if errors.Is(err, manage.ErrNotDisabled) {
					return exitWith(1, fmt.Errorf("%s is not disabled: run \"sesame user disable %s\" first", p.Username, p.Username))
				}
				return manageError(err)
			}
			fmt.Fprintf(a.out, "%s was deleted.\n", p.Username)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "Confirm the deletion.")
	return cmd
}
