package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"sesame/internal/store"
)

func newStructureRemindersCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reminders SLUG [on|off]",
		Short: "Show, or turn on or off, a structure's automatic reminders and weekly digest",
		Long: `Reminders are on by default: a person who has not activated their account gets one reminder
with a fresh link two days before their link expires, and the structure's referents and contact
get, every Monday from 08:00 (Paris time), the list of who has not activated. "off" stops both
for the structure; without on or off, the command says which it is.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var on bool
			if len(args) == 2 {
				switch args[1] {
				case "on":
					on = true
				case "off":
				default:
					return exitWith(2, fmt.Errorf("say on or off, not %q", args[1]))
				}
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			s, err := structureBySlug(ctx, st, args[0])
			if err != nil {
				return err
			}
			if len(args) == 1 {
				on, err := st.RemindersEnabled(ctx, s.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Reminders for %s: %s.\n", s.Slug, onOff(on))
				return nil
			}
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.SetRemindersEnabled(ctx, s.ID, on); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "structure.reminders",
					Target: "structure:" + s.Slug, Details: map[string]any{"on": on}})
			})
			if err != nil {
				return fmt.Errorf("set reminders: %w", err)
			}
			fmt.Fprintf(a.out, "Reminders for %s: %s.\n", s.Slug, onOff(on))
			return nil
		},
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
