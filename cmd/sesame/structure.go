package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

func init() { commands = append(commands, newStructureCmd) }

var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// checkFormat returns a usage error unless format is text or json.
func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return exitWith(2, fmt.Errorf("--format must be text or json, not %q", format))
	}
	return nil
}

// writeJSON writes v indented to the command's output.
func (a *app) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "%s\n", b)
	return err
}

// structureSubcommands lists constructors of further "sesame structure"
// commands (referent, update, remove) added by other files.
var structureSubcommands []func(a *app) *cobra.Command

func newStructureCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "structure",
		Short: "Manage structures (the associations whose people sesame onboards)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStructureAddCmd(a), newStructureListCmd(a), newStructureRemindersCmd(a))
	for _, c := range structureSubcommands {
		cmd.AddCommand(c(a))
	}
	return cmd
}

func newStructureAddCmd(a *app) *cobra.Command {
	var name, contact string
	cmd := &cobra.Command{
		Use:   "add SLUG --name NAME [--contact EMAIL]",
		Short: "Create a structure",
		Long: `Add creates a structure. SLUG ([a-z0-9-], e.g. "le-beta") names it in URLs, in the LDAP
directory (o=SLUG) and on the command line; NAME is what people read. The contact is the
referent's email, shown on "no access" pages.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			slug := args[0]
			if !slugRe.MatchString(slug) {
				return exitWith(2, fmt.Errorf("slug %q: use 1 to 63 lowercase letters, digits and dashes", slug))
			}
			if name == "" {
				return exitWith(2, errors.New("--name is required"))
			}
			if contact != "" {
				if a, err := mail.ParseAddress(contact); err != nil || a.Address != contact {
					return exitWith(2, fmt.Errorf("--contact %q is not an email address", contact))
				}
				contact = store.FoldEmail(contact)
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			s := store.Structure{Slug: slug, Name: name, Contact: contact}
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateStructure(ctx, &s); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "structure.create",
					Target: "structure:" + slug, Details: map[string]any{"name": name, "contact": contact}}); err != nil {
					return err
				}
				payload, _ := json.Marshal(jobs.StructureRef{StructureID: s.ID})
				_, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindLDAPStructure,
					DedupeKey: jobs.DedupeLDAPStructure(s.ID), Payload: payload})
				return err
			})
			if errors.Is(err, store.ErrConflict) {
				return exitWith(1, fmt.Errorf("a structure with the slug %q already exists", slug))
			}
			if err != nil {
				return fmt.Errorf("create structure: %w", err)
			}
			fmt.Fprintf(a.out, "Structure %s (%s) created.\n", slug, name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "Display name, e.g. \"Le Bêta\" (required).")
	cmd.Flags().StringVar(&contact, "contact", "", "The referent's email address.")
	return cmd
}

// structureJSON is a structure in "structure list --format json".
type structureJSON struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Contact   string    `json:"contact"`
	Services  int       `json:"services"`
	Members   int       `json:"members"`
	CreatedAt time.Time `json:"created_at"`
}

func newStructureListCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list [--format json]",
		Short: "List structures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			list, err := st.ListStructures(ctx)
			if err != nil {
				return fmt.Errorf("list structures: %w", err)
			}
			out := make([]structureJSON, 0, len(list))
			for _, s := range list {
				svcs, err := st.ListServices(ctx, s.ID)
				if err != nil {
					return fmt.Errorf("list services: %w", err)
				}
				ms, err := st.ListMemberships(ctx, store.MembershipFilter{StructureID: s.ID})
				if err != nil {
					return fmt.Errorf("list memberships: %w", err)
				}
				out = append(out, structureJSON{ID: s.ID, Slug: s.Slug, Name: s.Name, Contact: s.Contact,
					Services: len(svcs), Members: len(ms), CreatedAt: s.CreatedAt.UTC()})
			}
			if format == "json" {
				return a.writeJSON(out)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLUG\tNAME\tCONTACT\tSERVICES\tMEMBERS")
			for _, s := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", s.Slug, s.Name, dashIfEmpty(s.Contact), s.Services, s.Members)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// structureBySlug finds a structure named on the command line; an unknown
// slug is a usage error (exit 2) that points to the list.
func structureBySlug(ctx context.Context, st store.Structures, slug string) (store.Structure, error) {
	s, err := st.GetStructureBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return s, exitWith(2, fmt.Errorf("no structure %q (see sesame structure list)", slug))
	}
	if err != nil {
		return s, fmt.Errorf("get structure: %w", err)
	}
	return s, nil
}
