package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/store"
)

func init() {
	userSubcommands = append(userSubcommands, newUserResendCmd, newUserResetCmd)
}

func newUserResendCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "resend EMAIL|USERNAME",
		Short: "Send a new activation link to a person who has not activated their account",
		Long: `Resend issues a new activation link for an invited person and queues the email that carries
it to the address on file; every older activation link of that person stops working. The link
itself is never printed. A person who is already active needs "sesame user reset" instead.

Exit status: 0 when the link was issued; 1 when there is no such person or the account is not
waiting for activation; 2 on a usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return issueLink(cmd, a, args[0], store.PurposeActivate)
		},
	}
}

func newUserResetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reset EMAIL|USERNAME",
		Short: "Send a password reset link to an active person",
		Long: `Reset issues a password reset link for an active person and queues the email that carries it
to the address on file; every older reset link of that person stops working. The current password
keeps working until the person sets a new one. The link itself is never printed. A person who has
not activated their account yet needs "sesame user resend" instead.

Exit status: 0 when the link was issued; 1 when there is no such person or the account is not
active; 2 on a usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return issueLink(cmd, a, args[0], store.PurposeReset)
		},
	}
}

// issueLink finds the person named by who (an email or a username) and, if
// their state allows it, issues a link of purpose in one transaction with
// its email job and an audit entry.
func issueLink(cmd *cobra.Command, a *app, who string, purpose store.TokenPurpose) error {
	ctx := cmd.Context()
	who = strings.TrimSpace(who)
	if who == "" {
		return exitWith(2, errors.New("give the person's email address or username"))
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	tokens, err := a.tokens(cfg)
	if err != nil {
		return err
	}
	var username string
	var expires time.Time
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		p, err := findPerson(ctx, tx, who)
		if err != nil {
			return err
		}
		username = p.Username
		switch {
		case p.State == store.StateDisabled:
			return exitWith(1, fmt.Errorf("%s is disabled: no link can be sent", p.Username))
		case purpose == store.PurposeActivate && p.State != store.StateInvited:
			return exitWith(1, fmt.Errorf("%s has already activated their account: use \"sesame user reset %s\" to send a password reset link", p.Username, p.Username))
		case purpose == store.PurposeReset && p.State != store.StateActive:
			return exitWith(1, fmt.Errorf("%s has not activated their account yet: use \"sesame user resend %s\" to send a new activation link", p.Username, p.Username))
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
		if err != nil {
			return fmt.Errorf("list memberships: %w", err)
		}
		structureID := ""
		if len(ms) > 0 {
			structureID = ms[0].StructureID
		}
		expires, err = tokens.Issue(ctx, tx, p.ID, structureID, purpose)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "person.link." + string(purpose),
			Target: "person:" + p.ID})
	})
	if err != nil {
		return err
	}
	what := "activation link"
	if purpose == store.PurposeReset {
		what = "password reset link"
	}
	fmt.Fprintf(a.out, "A new %s for %s is on its way to the address on file; it is valid until %s.\n",
		what, username, expires.Local().Format("2006-01-02 15:04 MST"))
	return nil
}

// findPerson looks a person up by email (when who holds an @) or username.
func findPerson(ctx context.Context, tx store.Tx, who string) (store.Person, error) {
	var p store.Person
	var err error
	if strings.Contains(who, "@") {
		p, err = tx.GetPersonByEmail(ctx, store.FoldEmail(who))
	} else {
		p, err = tx.GetPersonByUsername(ctx, strings.ToLower(who))
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, exitWith(1, fmt.Errorf("no person has the email address or username %q", who))
	}
	if err != nil {
		return p, fmt.Errorf("look up %q: %w", who, err)
	}
	return p, nil
}
