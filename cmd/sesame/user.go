package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/store"
)

func init() { commands = append(commands, newUserCmd) }

// userSubcommands lists constructors of further "sesame user" commands
// (resend, reset...) added by other files in their init functions.
var userSubcommands []func(a *app) *cobra.Command

func newUserCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage people and their accounts",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newUserListCmd(a), newUserShowCmd(a))
	for _, c := range userSubcommands {
		cmd.AddCommand(c(a))
	}
	return cmd
}

// userGrantJSON is a right in "user list --format json".
type userGrantJSON struct {
	Structure string `json:"structure"`
	Service   string `json:"service"`
	Role      string `json:"role"`
}

// userProvisionJSON is the state of a person's account in one service's
// application.
type userProvisionJSON struct {
	Structure string `json:"structure"`
	Service   string `json:"service"`
	Status    string `json:"status"` // pending, done, failed, manual
	RemoteID  string `json:"remote_id,omitempty"`
	// Managed is false for an account sesame found but did not create, on
	// a service that does not take such accounts over: linked, unmanaged.
	Managed bool   `json:"managed"`
	Message string `json:"message,omitempty"`
}

// userJSON is a person in "user list --format json".
type userJSON struct {
	ID          string          `json:"id"`
	Username    string          `json:"username"`
	Email       string          `json:"email"`
	GivenName   string          `json:"given_name"`
	FamilyName  string          `json:"family_name"`
	DisplayName string          `json:"display_name"`
	Language    string          `json:"language"`
	Quota       string          `json:"quota,omitempty"`
	State       string          `json:"state"`
	Structures  []string        `json:"structures"`
	Grants      []userGrantJSON `json:"grants"`
	// Provisioning is the state of each of their accounts in the
	// applications sesame provisions.
	Provisioning []userProvisionJSON `json:"provisioning"`
	CreatedAt    time.Time           `json:"created_at"`
}

func newUserListCmd(a *app) *cobra.Command {
	var structureSlug, format string
	cmd := &cobra.Command{
		Use:   "list [--structure S] [--format json]",
		Short: "List people, with their structures and rights",
		Long: `List shows people ordered by username. With --structure, only the members of that structure,
and only their rights on its services.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			structures, err := st.ListStructures(ctx)
			if err != nil {
				return fmt.Errorf("list structures: %w", err)
			}
			slugOf := map[string]string{}
			for _, s := range structures {
				slugOf[s.ID] = s.Slug
			}
			var filter store.PeopleFilter
			var onlyStructure string
			if structureSlug != "" {
				s, err := structureBySlug(ctx, st, structureSlug)
				if err != nil {
					return err
				}
				filter.StructureID, onlyStructure = s.ID, s.ID
			}
			people, err := st.ListPeople(ctx, filter)
			if err != nil {
				return fmt.Errorf("list people: %w", err)
			}
			services, err := st.ListServices(ctx, onlyStructure)
			if err != nil {
				return fmt.Errorf("list services: %w", err)
			}
			svcByID := map[string]store.Service{}
			for _, s := range services {
				svcByID[s.ID] = s
			}
			members, err := st.ListMemberships(ctx, store.MembershipFilter{StructureID: onlyStructure})
			if err != nil {
				return fmt.Errorf("list memberships: %w", err)
			}
			memberOf := map[string][]string{}
			for _, m := range members {
				memberOf[m.PersonID] = append(memberOf[m.PersonID], slugOf[m.StructureID])
			}
			grants, err := st.ListGrants(ctx, store.GrantFilter{StructureID: onlyStructure})
			if err != nil {
				return fmt.Errorf("list grants: %w", err)
			}
			grantsOf := map[string][]userGrantJSON{}
			for _, g := range grants {
				svc, ok := svcByID[g.ServiceID]
				if !ok {
					continue
				}
				grantsOf[g.PersonID] = append(grantsOf[g.PersonID], userGrantJSON{
					Structure: slugOf[svc.StructureID], Service: svc.Slug, Role: g.Role})
			}
			recs, err := st.ListProvisions(ctx, store.ProvisionFilter{StructureID: onlyStructure})
			if err != nil {
				return fmt.Errorf("list provisions: %w", err)
			}
			provOf := map[string][]userProvisionJSON{}
			for _, r := range recs {
				if svc, ok := svcByID[r.ServiceID]; ok {
					provOf[r.PersonID] = append(provOf[r.PersonID], provisionJSON(slugOf[svc.StructureID], svc, r))
				}
			}
			out := make([]userJSON, 0, len(people))
			for _, p := range people {
				ss := memberOf[p.ID]
				sort.Strings(ss)
				gs := grantsOf[p.ID]
				sort.Slice(gs, func(i, j int) bool {
					return gs[i].Structure+"/"+gs[i].Service < gs[j].Structure+"/"+gs[j].Service
				})
				if ss == nil {
					ss = []string{}
				}
				if gs == nil {
					gs = []userGrantJSON{}
				}
				ps := provOf[p.ID]
				if ps == nil {
					ps = []userProvisionJSON{}
				}
				out = append(out, userJSON{ID: p.ID, Username: p.Username, Email: p.Email, GivenName: p.GivenName,
					FamilyName: p.FamilyName, DisplayName: p.DisplayName, Language: p.Language, Quota: p.Quota,
					State: string(p.State), Structures: ss, Grants: gs, Provisioning: ps, CreatedAt: p.CreatedAt.UTC()})
			}
			if format == "json" {
				return a.writeJSON(out)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tEMAIL\tNAME\tSTATE\tSTRUCTURES\tRIGHTS")
			for _, u := range out {
				var rights []string
				for _, g := range u.Grants {
					r := g.Service + ":" + g.Role
					if onlyStructure == "" {
						r = g.Structure + "/" + r
					}
					rights = append(rights, r)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Email, dashIfEmpty(u.DisplayName), u.State,
					dashIfEmpty(strings.Join(u.Structures, ", ")), dashIfEmpty(strings.Join(rights, ", ")))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&structureSlug, "structure", "", "Only the members of this structure (slug).")
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}
