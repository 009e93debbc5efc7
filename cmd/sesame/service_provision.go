package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"sesame/internal/apps"
	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/netguard"
	"sesame/internal/secretbox"
	"sesame/internal/store"
	"sesame/provision"
)

func init() {
	serviceSubcommands = append(serviceSubcommands, newServiceCredentialsCmd, newServiceTestCmd)
}

// serviceByName finds a structure's service by slug or client id; a
// missing one is a usage error naming the list command.
func serviceByName(ctx context.Context, st store.Store, structureSlug, name string) (store.Structure, store.Service, error) {
	structure, err := structureBySlug(ctx, st, structureSlug)
	if err != nil {
		return store.Structure{}, store.Service{}, err
	}
	services, err := st.ListServices(ctx, structure.ID)
	if err != nil {
		return structure, store.Service{}, fmt.Errorf("list services: %w", err)
	}
	for _, s := range services {
		if s.Slug == name || s.ClientID == name {
			return structure, s, nil
		}
	}
	return structure, store.Service{}, exitWith(2, fmt.Errorf("the structure %s has no service %q (see sesame service list)", structure.Slug, name))
}

// credentialsHelp says, for every kind with a connector, which API
// credentials to create and how (apps.Kind.Credentials).
func credentialsHelp() string {
	var parts []string
	for _, k := range apps.Kinds() {
		if k.NewConnector != nil && k.Credentials != "" {
			parts = append(parts, k.Credentials)
		}
	}
	return strings.Join(parts, "\n\n")
}

// readCredentials reads a user name and a password: from file (two lines),
// or from the terminal (the password without echo), never from arguments.
func readCredentials(in io.Reader, out io.Writer, file string) (apps.Credentials, error) {
	var c apps.Credentials
	if file != "" {
		var b []byte
		var err error
		if file == "-" {
			b, err = io.ReadAll(io.LimitReader(in, 64<<10))
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return c, fmt.Errorf("read credentials: %w", err)
		}
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
		if len(lines) < 2 {
			return c, exitWith(2, errors.New("the credentials file needs two lines: the user name, then the password"))
		}
		c.Username, c.Password = strings.TrimSpace(lines[0]), strings.TrimRight(lines[1], "\r\n")
	} else {
		f, ok := in.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return c, exitWith(2, errors.New("no terminal to ask on: give --from-file FILE (two lines: user name, password), or - for standard input"))
		}
		r := bufio.NewReader(f)
		fmt.Fprint(out, "User name / Identifiant : ")
		line, err := r.ReadString('\n')
		if err != nil {
			return c, fmt.Errorf("read user name: %w", err)
		}
		c.Username = strings.TrimSpace(line)
		fmt.Fprint(out, "Password / Mot de passe : ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		if err != nil {
			return c, fmt.Errorf("read password: %w", err)
		}
		c.Password = string(pw)
	}
	if c.Username == "" || c.Password == "" {
		return c, exitWith(2, errors.New("both a user name and a password are needed"))
	}
	return c, nil
}

func newServiceCredentialsCmd(a *app) *cobra.Command {
	var file string
	var settings []string
	var takeOver, remove bool
	cmd := &cobra.Command{
		Use:   "credentials STRUCTURE SERVICE [--from-file FILE] [--setting KEY=VALUE ...] [--take-over] [--remove]",
		Short: "Give sesame the API credentials it provisions a service's accounts with",
		Long: `Credentials stores the application's API credentials, encrypted with the master key, and queues
the provisioning of everyone granted the service: their accounts are created with their roles
before their first login, updated on every change, demoted or disabled when they leave.

The user name and password are asked on the terminal (the password without echo), or read from
--from-file FILE (two lines: user name, then password; - reads standard input). They are never
taken from the command line, where other users and the shell history would see them.

` + credentialsHelp() + `

Accounts sesame did not create (an administrator made at install time, a member entered by hand)
are linked by email and left as they are; --take-over lets sesame change them too.
--remove forgets the credentials: provisioning stops, accounts stay as they are.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			structure, svc, err := serviceByName(ctx, st, args[0], args[1])
			if err != nil {
				return err
			}
			// Who gave or forgot an application's administrator password
			// is in the audit trail, written with the change.
			audited := func(ctx context.Context, tx store.Tx, action string, details map[string]any) error {
				details["service"] = svc.Slug
				return tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: action,
					Target: "structure:" + structure.Slug, StructureID: structure.ID, Details: details})
			}
			if remove {
				err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					if _, err := tx.UpdateService(ctx, svc.ID, func(s *store.Service) error { s.ProvisioningSecret = nil; return nil }); err != nil {
						return err
					}
					return audited(ctx, tx, "service.credentials.remove", map[string]any{})
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Identifiants oubliés : %s n'est plus provisionné. / Credentials removed: %s is no longer provisioned.\n", svc.Slug, svc.Slug)
				return nil
			}
			if !hasConnector(svc.Kind) {
				return exitWith(2, fmt.Errorf("a %s service has no provisioning (kinds with one: %s)", svc.Kind, strings.Join(apps.ConnectorKinds(), ", ")))
			}
			sec := provision.Secret{Settings: map[string]string{}}
			for _, s := range settings {
				k, v, ok := strings.Cut(s, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return exitWith(2, fmt.Errorf("--setting %q: use KEY=VALUE", s))
				}
				sec.Settings[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			if sec.Credentials, err = readCredentials(cmd.InOrStdin(), a.errOut, file); err != nil {
				return err
			}
			// The connector checks the settings and the address now.
			if _, err := apps.New(string(svc.Kind), apps.Config{BaseURL: svc.BaseURL, Credentials: sec.Credentials, Settings: sec.Settings}); err != nil {
				return exitWith(2, err)
			}
			box, err := provisionBox(cfg)
			if err != nil {
				return err
			}
			sealed, err := provision.Seal(box, svc, sec)
			if err != nil {
				return err
			}
			queued := 0
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				queued = 0
				svc, err = tx.UpdateService(ctx, svc.ID, func(s *store.Service) error {
					s.ProvisioningSecret = sealed
					if cmd.Flags().Changed("take-over") {
						s.ProvisionTakeOver = takeOver
					}
					return nil
				})
				if err != nil {
					return err
				}
				n, err := queueServiceProvisioning(ctx, tx, svc)
				queued = n
				if err != nil {
					return err
				}
				return audited(ctx, tx, "service.credentials.set", map[string]any{"take_over": svc.ProvisionTakeOver, "accounts": n})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Identifiants enregistrés (chiffrés) pour %s ; %d compte(s) à provisionner.\n"+
				"Credentials stored (encrypted) for %s; %d account(s) queued for provisioning.\n"+
				"Vérifier / check: sesame service test %s %s\n", svc.Slug, queued, svc.Slug, queued, args[0], svc.Slug)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "from-file", "", "Read the user name and password from FILE (two lines; - for standard input).")
	cmd.Flags().StringArrayVar(&settings, "setting", nil, "A connector setting KEY=VALUE (Nextcloud: provider_id=N, owned_backends, managed_groups; WordPress: permalinks=query|pretty; Paheko: email_field, name_field, categories).")
	cmd.Flags().BoolVar(&takeOver, "take-over", false, "Let sesame also change accounts it did not create (found by email).")
	cmd.Flags().BoolVar(&remove, "remove", false, "Forget the credentials: provisioning stops.")
	return cmd
}

// queueServiceProvisioning queues every person granted svc, and every
// person with a recorded account there (to demote those who left).
func queueServiceProvisioning(ctx context.Context, tx store.Tx, svc store.Service) (int, error) {
	grants, err := tx.ListGrants(ctx, store.GrantFilter{ServiceID: svc.ID})
	if err != nil {
		return 0, err
	}
	recs, err := tx.ListProvisions(ctx, store.ProvisionFilter{ServiceID: svc.ID})
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, g := range grants {
		seen[g.PersonID] = true
	}
	for _, r := range recs {
		seen[r.PersonID] = true
	}
	for id := range seen {
		if err := jobs.QueueProvision(ctx, tx, id, svc); err != nil {
			return 0, err
		}
	}
	return len(seen), nil
}

func hasConnector(k store.ServiceKind) bool {
	kind, ok := apps.Lookup(string(k))
	return ok && kind.NewConnector != nil
}

// provisionBox is the box that seals provisioning credentials.
func provisionBox(cfg *config.Config) (*secretbox.Box, error) {
	master, err := config.LoadOrCreateKey(cfg.Secrets.KeyFile)
	if err != nil {
		return nil, err
	}
	return provision.Box(master)
}

func newServiceTestCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "test STRUCTURE SERVICE",
		Short: "Check a service's provisioning credentials against the application",
		Long: `Test calls the application's API with the stored credentials and says in plain words what is
wrong, if anything: a wrong password, an API that is switched off, a missing permission.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			_, svc, err := serviceByName(ctx, st, args[0], args[1])
			if err != nil {
				return err
			}
			box, err := provisionBox(cfg)
			if err != nil {
				return err
			}
			var ac apps.Config
			if svc.ReferentAddress {
				// A referent's address: connected to as the jobs would
				// (never to an internal network), until the hoster gives it.
				ac.HTTPClient = netguard.Client(0)
			}
			conn, err := provision.Connector(box, svc, ac)
			if errors.Is(err, provision.ErrNoCredentials) {
				return exitWith(1, fmt.Errorf("%s has no provisioning credentials: give them with sesame service credentials %s %s", svc.Slug, args[0], svc.Slug))
			}
			if err != nil {
				return err
			}
			if err := conn.Check(ctx); err != nil {
				var ae *apps.Error
				if errors.As(err, &ae) && !ae.Hint.IsZero() {
					fmt.Fprintf(a.out, "Échec / Failed: %s\n%s\n", svc.Slug, ae.Hint.String())
				} else {
					fmt.Fprintf(a.out, "Échec / Failed: %s\n", svc.Slug)
				}
				return exitWith(1, err)
			}
			fmt.Fprintf(a.out, "OK : sesame peut gérer les comptes de %s (%s).\nOK: sesame can manage the accounts of %s (%s).\n",
				svc.Name, svc.BaseURL, svc.Name, svc.BaseURL)
			return nil
		},
	}
}

// registerProvision registers the provisioning jobs' handler. Services
// without credentials queue no job, so there is nothing to switch off.
// (Called from registerJobs.)
func (m *Main) registerProvision() error {
	p, err := provision.New(m.Store, m.MasterKey, provision.Config{}, m.Logger.With("component", "provision"))
	if err != nil {
		return err
	}
	p.Register(m.Runner)
	return nil
}
