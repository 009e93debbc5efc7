package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// provisionJSON describes one provision record of svc.
func provisionJSON(structure string, svc store.Service, r store.Provision) userProvisionJSON {
	return userProvisionJSON{Structure: structure, Service: svc.Slug, Status: string(r.Status), RemoteID: r.RemoteID,
		Managed: r.Owned || svc.ProvisionTakeOver, Message: r.Message}
}

// provisionText is a provision's state in one line, for people.
func provisionText(p userProvisionJSON) string {
	var b strings.Builder
	switch store.ProvisionStatus(p.Status) {
	case store.ProvisionPending:
		b.WriteString("pending")
	case store.ProvisionDone:
		b.WriteString("done")
	case store.ProvisionFailed:
		b.WriteString("FAILED")
	case store.ProvisionManual:
		b.WriteString("MANUAL STEP NEEDED")
	default:
		b.WriteString(p.Status)
	}
	if p.RemoteID != "" {
		fmt.Fprintf(&b, " (id %s", p.RemoteID)
		if !p.Managed {
			b.WriteString(", linked, not managed: an account sesame did not create")
		}
		b.WriteString(")")
	}
	if p.Message != "" && p.Message != "linked-unmanaged" {
		b.WriteString(": " + strings.ReplaceAll(p.Message, "\n", " / "))
	}
	return b.String()
}

// userShowJSON is "user show --format json".
type userShowJSON struct {
	userJSON
	// Directory is the state of the person's LDAP entry: "" when nothing is
	// known to be wrong, else the directory's last refusal.
	Directory string `json:"directory,omitempty"`
	// SecondFactors are the person's second factors ("totp: Téléphone"),
	// oldest first; reset them with "sesame user mfa reset".
	SecondFactors []string `json:"second_factors"`
}

func newUserShowCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show EMAIL|USERNAME [--format json]",
		Short: "Show one person: state, structures, rights, and their accounts in the applications",
		Long: `Show prints everything sesame knows about one person: their state, structures and rights, and
for each application sesame provisions, whether their account there is done, pending, failed (with the
application's own message) or needs a manual step, and whether it is an account sesame did not create
(linked, not managed). A refusal by the LDAP directory is shown too, and their second factors
(authenticator apps and passkeys, by name).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			p, err := st.GetPersonByEmail(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				p, err = st.GetPersonByUsername(ctx, args[0])
			}
			if errors.Is(err, store.ErrNotFound) {
				return exitWith(1, fmt.Errorf("nobody has the email or username %q (see sesame user list)", args[0]))
			}
			if err != nil {
				return err
			}
			structures, err := st.ListStructures(ctx)
			if err != nil {
				return err
			}
			slugOf := map[string]string{}
			for _, s := range structures {
				slugOf[s.ID] = s.Slug
			}
			svcOf := func(id string) (store.Service, bool) {
				svc, err := st.GetService(ctx, id)
				return svc, err == nil
			}
			u := userShowJSON{userJSON: userJSON{ID: p.ID, Username: p.Username, Email: p.Email, GivenName: p.GivenName,
				FamilyName: p.FamilyName, DisplayName: p.DisplayName, Language: p.Language, Quota: p.Quota,
				State: string(p.State), Structures: []string{}, Grants: []userGrantJSON{},
				Provisioning: []userProvisionJSON{}, CreatedAt: p.CreatedAt.UTC()}}
			ms, err := st.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
			if err != nil {
				return err
			}
			for _, m := range ms {
				u.Structures = append(u.Structures, slugOf[m.StructureID])
			}
			sort.Strings(u.Structures)
			gs, err := st.ListGrants(ctx, store.GrantFilter{PersonID: p.ID})
			if err != nil {
				return err
			}
			for _, g := range gs {
				if svc, ok := svcOf(g.ServiceID); ok {
					u.Grants = append(u.Grants, userGrantJSON{Structure: slugOf[svc.StructureID], Service: svc.Slug, Role: g.Role})
				}
			}
			recs, err := st.ListProvisions(ctx, store.ProvisionFilter{PersonID: p.ID})
			if err != nil {
				return err
			}
			for _, r := range recs {
				if svc, ok := svcOf(r.ServiceID); ok {
					u.Provisioning = append(u.Provisioning, provisionJSON(slugOf[svc.StructureID], svc, r))
				}
			}
			factors, err := st.ListSecondFactors(ctx, p.ID)
			if err != nil {
				return err
			}
			u.SecondFactors = []string{}
			for _, f := range factors {
				u.SecondFactors = append(u.SecondFactors, string(f.Kind)+": "+f.Name)
			}
			dead, err := st.ListJobs(ctx, store.JobFilter{State: store.JobDead, Kind: jobs.KindLDAPPerson, Limit: 10000})
			if err != nil {
				return err
			}
			for _, j := range dead {
				var ref jobs.PersonRef
				if json.Unmarshal(j.Payload, &ref) == nil && ref.PersonID == p.ID {
					u.Directory = j.LastError
				}
			}
			if format == "json" {
				return a.writeJSON(u)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "username\t%s\n", u.Username)
			fmt.Fprintf(tw, "email\t%s\n", u.Email)
			fmt.Fprintf(tw, "name\t%s\n", dashIfEmpty(strings.TrimSpace(u.DisplayName)))
			fmt.Fprintf(tw, "state\t%s\n", u.State)
			fmt.Fprintf(tw, "structures\t%s\n", dashIfEmpty(strings.Join(u.Structures, ", ")))
			fmt.Fprintf(tw, "second factors\t%s\n", dashIfEmpty(strings.Join(u.SecondFactors, ", ")))
			for _, g := range u.Grants {
				fmt.Fprintf(tw, "right\t%s/%s: %s\n", g.Structure, g.Service, g.Role)
			}
			for _, pr := range u.Provisioning {
				fmt.Fprintf(tw, "account\t%s/%s: %s\n", pr.Structure, pr.Service, provisionText(pr))
			}
			if u.Directory != "" {
				fmt.Fprintf(tw, "directory\trefused: %s\n", strings.ReplaceAll(u.Directory, "\n", " / "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}
