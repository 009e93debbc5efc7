package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/auditlog"
)

func init() { commands = append(commands, newAuditCmd) }

func newAuditCmd(a *app) *cobra.Command {
	var structure, person, since, action, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit [--structure SLUG] [--person EMAIL] [--since 7d|DATE] [--action ACTION] [--limit N] [--format text|json]",
		Short: "Show the audit trail: who did what, when, from where",
		Long: `Audit lists the audit trail, newest first: when (UTC), who (cli:USER for the command line,
admin:..., notify for emails), from where (the client's address for web actions), the action,
and the structure and person it concerns, with its details. --structure and --person (email or
username) keep the entries that concern them; --since keeps those at or after a date
(2026-12-01), a time (RFC 3339) or a duration back from now (36h, 7d).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if limit < 0 || limit > auditlog.MaxLimit {
				return exitWith(2, fmt.Errorf("--limit must be between 1 and %d", auditlog.MaxLimit))
			}
			from, err := auditlog.ParseSince(since, time.Now())
			if err != nil {
				return exitWith(2, fmt.Errorf("--since: %w", err))
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			list, err := auditlog.List(ctx, st, auditlog.Query{Structure: structure, Person: person, Since: from,
				Action: action, Limit: limit})
			if errors.Is(err, auditlog.ErrUnknown) {
				return exitWith(2, err)
			}
			if err != nil {
				return err
			}
			if format == "json" {
				if list == nil {
					list = []auditlog.Entry{}
				}
				return a.writeJSON(list)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME (UTC)\tWHO\tFROM\tACTION\tSTRUCTURE\tPERSON\tDETAILS")
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format("2006-01-02 15:04:05"), oneLineCell(e.Actor),
					dashIfEmpty(e.IP), oneLineCell(e.Action), dashIfEmpty(e.Structure), dashIfEmpty(e.Person), details(e.Details))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&structure, "structure", "", "Only entries about this structure (slug).")
	cmd.Flags().StringVar(&person, "person", "", "Only entries about this person (email or username).")
	cmd.Flags().StringVar(&since, "since", "", "Only entries at or after: a date (2026-12-01), an RFC 3339 time, or a duration back from now (36h, 7d).")
	cmd.Flags().StringVar(&action, "action", "", "Only entries of this action (e.g. import.apply).")
	cmd.Flags().IntVar(&limit, "limit", 100, "At most this many entries.")
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}

// details writes an entry's details as sorted key=value pairs on one line.
func details(m map[string]any) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = oneLineCell(fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// oneLineCell keeps a value on one line of the table (a hostile name from
// a spreadsheet cannot forge a row).
func oneLineCell(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
