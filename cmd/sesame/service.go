package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"sesame/internal/apps"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/onboarding"
)

func init() { commands = append(commands, newServiceCmd) }

// serviceSubcommands lists constructors of further "sesame service"
// commands (show...) added by other files in their init functions.
var serviceSubcommands []func(a *app) *cobra.Command

// serviceAddHook lets another file take part in "sesame service add" (the
// OpenID Connect client registration): Flags adds its flags, Prepare
// completes or checks the service before it is stored (the slug, client id
// and redirect URIs are set by then; it runs outside the transaction, so it
// may hash a secret), and Created runs once the service is committed (to
// print a secret or a setup snippet). Any of them may be nil.
type serviceAddHook struct {
	Flags   func(fs *pflag.FlagSet)
	Prepare func(ctx context.Context, a *app, s *store.Service) error
	Created func(ctx context.Context, a *app, s store.Service) error
}

// serviceAddHooks are registered by other files in their init functions.
var serviceAddHooks []serviceAddHook

func newServiceCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Manage a structure's services (its Nextcloud, WordPress, Paheko...)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newServiceAddCmd(a), newServiceListCmd(a))
	for _, c := range serviceSubcommands {
		cmd.AddCommand(c(a))
	}
	return cmd
}

// kindDefaults sets the OpenID Connect client settings s's kind needs
// (apps.Kind.Client, after INTEGRATIONS.md): the redirect URI under the
// base URL, PKCE, refresh tokens and the client authentication method.
func kindDefaults(s *store.Service) { apps.Of(*s).ApplyClient(s) }

// kindRolesHelp lists each kind's built-in roles, default first:
// "nextcloud: user|admin; wordpress: subscriber|...".
func kindRolesHelp() string {
	var parts []string
	for _, k := range apps.Kinds() {
		if len(k.Roles) == 0 {
			continue
		}
		roles := []string{k.DefaultRole}
		for _, r := range k.Roles {
			if r != k.DefaultRole {
				roles = append(roles, r)
			}
		}
		parts = append(parts, k.Name+": "+strings.Join(roles, "|"))
	}
	return strings.Join(parts, ";\n")
}

func newServiceAddCmd(a *app) *cobra.Command {
	var name, baseURL, roleDefault, slug string
	var categories []string
	cmd := &cobra.Command{
		Use:   "add STRUCTURE KIND --name NAME --url BASE_URL [--role-default R] [--paheko-category NAME ...]",
		Short: "Add a service to a structure",
		Long: `Add registers one application of a structure: KIND is ` + strings.Join(apps.Names(), ", ") + `.
NAME is what people read and what a spreadsheet column may be called; the slug (default: the kind,
or the name when the structure already has a service of that kind) names the LDAP groups.

Roles, the first one the default (French names are accepted too):
` + kindRolesHelp() + `.
Paheko: the structure's categories, given with --paheko-category NAME (or NAME=ID to record the
Paheko category id), one flag per category; the first one is the default. --role-default is the
role of a right that names none.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := store.ServiceKind(strings.ToLower(args[1]))
			if !kind.Valid() {
				return exitWith(2, fmt.Errorf("kind %q: use %s", args[1], strings.Join(apps.Names(), ", ")))
			}
			if strings.TrimSpace(name) == "" {
				return exitWith(2, errors.New("--name is required"))
			}
			u, err := url.Parse(baseURL)
			if baseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return exitWith(2, fmt.Errorf("--url %q: give the service's absolute http(s) base URL", baseURL))
			}
			svc := store.Service{Kind: kind, Name: onboarding.Clean(name), BaseURL: strings.TrimRight(baseURL, "/")}
			// A kind whose roles are each service's own (Paheko's member
			// categories) takes them from --paheko-category.
			perService := apps.Of(svc).RolesPerService
			if len(categories) > 0 && !perService {
				return exitWith(2, errors.New("--paheko-category is only for paheko services"))
			}
			if perService {
				if len(categories) == 0 {
					return exitWith(2, errors.New("a paheko service needs at least one --paheko-category"))
				}
				svc.RoleMapping = map[string]string{}
				for _, c := range categories {
					n, id, _ := strings.Cut(c, "=")
					n = onboarding.Clean(n)
					if n == "" {
						return exitWith(2, fmt.Errorf("--paheko-category %q names no category", c))
					}
					svc.Roles = append(svc.Roles, n)
					if id = strings.TrimSpace(id); id != "" {
						svc.RoleMapping[n] = id
					}
				}
			}
			if roleDefault != "" {
				r, ok := onboarding.ResolveRole(svc, roleDefault)
				if !ok {
					return exitWith(2, fmt.Errorf("--role-default %q is not a role of %s (%s)", roleDefault, kind,
						strings.Join(onboarding.ServiceRoles(svc), ", ")))
				}
				svc.DefaultRole = r
			} else if r, ok := onboarding.ResolveRole(svc, ""); ok {
				svc.DefaultRole = r
			} else if len(svc.Roles) > 0 {
				svc.DefaultRole = svc.Roles[0]
			}
			if slug != "" && !slugRe.MatchString(slug) {
				return exitWith(2, fmt.Errorf("--slug %q: use lowercase letters, digits and dashes", slug))
			}
			kindDefaults(&svc)
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			structure, err := structureBySlug(ctx, st, args[0])
			if err != nil {
				return err
			}
			svc.StructureID = structure.ID
			existing, err := st.ListServices(ctx, structure.ID)
			if err != nil {
				return fmt.Errorf("list services: %w", err)
			}
			if svc.Slug = slug; svc.Slug == "" {
				svc.Slug = string(kind)
				for _, e := range existing {
					if e.Slug == svc.Slug {
						svc.Slug = onboarding.Slug(svc.Name)
					}
				}
				if !slugRe.MatchString(svc.Slug) {
					return exitWith(2, fmt.Errorf("no slug can be made from the name %q; give --slug", svc.Name))
				}
			}
			for _, e := range existing {
				if e.Slug != svc.Slug && store.ServiceSlugsClash(svc.Slug, e.Slug) {
					return exitWith(2, fmt.Errorf("the slug %q would share directory group names with the service %q "+
						"(groups are named SLUG and SLUG-ROLE); choose another with --slug", svc.Slug, e.Slug))
				}
			}
			svc.ClientID = structure.Slug + "." + svc.Slug
			for _, h := range serviceAddHooks {
				if h.Prepare != nil {
					if err := h.Prepare(ctx, a, &svc); err != nil {
						return err
					}
				}
			}
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				s := svc
				if err := tx.CreateService(ctx, &s); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "service.create",
					Target: "structure:" + structure.Slug, Details: map[string]any{
						"service": s.Slug, "kind": string(kind), "name": s.Name, "url": s.BaseURL}}); err != nil {
					return err
				}
				payload, _ := json.Marshal(jobs.StructureRef{StructureID: structure.ID})
				if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindLDAPStructure,
					DedupeKey: jobs.DedupeLDAPStructure(structure.ID), Payload: payload}); err != nil {
					return err
				}
				svc = s
				return nil
			})
			if errors.Is(err, store.ErrConflict) {
				return exitWith(1, fmt.Errorf("the structure %s already has a service with that slug; choose another with --slug", structure.Slug))
			}
			if err != nil {
				return fmt.Errorf("create service: %w", err)
			}
			fmt.Fprintf(a.out, "Service %s (%s, %s) added to %s; OpenID Connect client id %s.\n",
				svc.Slug, svc.Kind, svc.Name, structure.Slug, svc.ClientID)
			for _, h := range serviceAddHooks {
				if h.Created != nil {
					if err := h.Created(ctx, a, svc); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "Display name, e.g. \"Nextcloud\" or \"Site web\" (required).")
	cmd.Flags().StringVar(&baseURL, "url", "", "Base URL of the application, e.g. https://cloud.example.org (required).")
	cmd.Flags().StringVar(&roleDefault, "role-default", "", "Role given when a right names none.")
	cmd.Flags().StringVar(&slug, "slug", "", "Slug of the service within the structure (default: the kind, else from the name).")
	cmd.Flags().StringArrayVar(&categories, "paheko-category", nil, "A Paheko category people may be put in: NAME or NAME=ID (repeatable).")
	for _, h := range serviceAddHooks {
		if h.Flags != nil {
			h.Flags(cmd.Flags())
		}
	}
	return cmd
}

// serviceJSON is a service in "service list --format json".
type serviceJSON struct {
	ID           string   `json:"id"`
	Slug         string   `json:"slug"`
	Kind         string   `json:"kind"`
	Name         string   `json:"name"`
	URL          string   `json:"url"`
	DefaultRole  string   `json:"default_role"`
	Roles        []string `json:"roles"`
	ClientID     string   `json:"client_id"`
	RedirectURIs []string `json:"redirect_uris"`
}

func newServiceListCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list STRUCTURE [--format json]",
		Short: "List a structure's services",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			structure, err := structureBySlug(ctx, st, args[0])
			if err != nil {
				return err
			}
			svcs, err := st.ListServices(ctx, structure.ID)
			if err != nil {
				return fmt.Errorf("list services: %w", err)
			}
			out := make([]serviceJSON, 0, len(svcs))
			for _, s := range svcs {
				out = append(out, serviceJSON{ID: s.ID, Slug: s.Slug, Kind: string(s.Kind), Name: s.Name, URL: s.BaseURL,
					DefaultRole: s.DefaultRole, Roles: onboarding.ServiceRoles(s), ClientID: s.ClientID,
					RedirectURIs: s.RedirectURIs})
			}
			if format == "json" {
				return a.writeJSON(out)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tKIND\tNAME\tURL\tDEFAULT ROLE\tROLES\tCLIENT ID")
			for _, s := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Slug, s.Kind, s.Name, s.URL, dashIfEmpty(s.DefaultRole),
					strings.Join(s.Roles, ", "), s.ClientID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}
