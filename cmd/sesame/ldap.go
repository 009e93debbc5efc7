package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"sesame/internal/config"
	"sesame/ldapsync"
)

func init() { commands = append(commands, newLDAPCmd) }

// ldapConfig maps the configuration file's ldap section onto ldapsync's
// own configuration. It fails when no directory is configured.
func ldapConfig(cfg *config.Config) (ldapsync.Config, error) {
	if !cfg.LDAPEnabled() {
		return ldapsync.Config{}, errors.New("LDAP is not configured (set ldap.url, ldap.bind_dn, ldap.bind_password and ldap.base_dn; see docs/ldap.md)")
	}
	pw, err := cfg.LDAPBindPassword()
	if err != nil {
		return ldapsync.Config{}, err
	}
	l := cfg.LDAP
	return ldapsync.Config{
		URL:            l.URL,
		StartTLS:       l.StartTLS,
		CAFile:         l.CAFile,
		BindDN:         l.BindDN,
		BindPassword:   pw,
		BaseDN:         l.BaseDN,
		PageSize:       l.PageSize,
		DialTimeout:    l.Timeout,
		RequestTimeout: l.Timeout,
		PasswordScheme: l.PasswordScheme,
	}.WithDefaults(), nil
}

// ldapConn opens (lazily) the configured directory.
func (a *app) ldapConn() (*ldapsync.Conn, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	lc, err := ldapConfig(cfg)
	if err != nil {
		return nil, err
	}
	return ldapsync.NewConn(lc)
}

func newLDAPCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ldap",
		Short: "Check, compare and synchronise the LDAP directory",
		Long: `The ldap commands work on the OpenLDAP directory configured under ldap.* (see docs/ldap.md).
sesame's store holds the desired state; the directory is brought to it by jobs, or at once by
'sesame ldap sync'. Only entries sesame created (businessCategory: sesame) are ever changed.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newLDAPCheckCmd(a), newLDAPDiffCmd(a), newLDAPSyncCmd(a))
	return cmd
}

func newLDAPCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check that the directory can hold what sesame writes",
		Long: `Check connects and binds with the configured account, then tells whether the base entry
exists, whether the account can write, whether the argon2 module verifies {ARGON2} password hashes
and whether the memberof overlay maintains memberOf, using probe entries it removes afterwards.
The exit status is 1 when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := a.ldapConn()
			if err != nil {
				return exitWith(1, err)
			}
			defer conn.Close()
			r := conn.Check(cmd.Context())
			fmt.Fprint(a.out, r.String())
			if !r.OK() {
				return exitWith(1, errors.New("the directory is not ready for sesame (see the lines marked FAIL)"))
			}
			fmt.Fprintln(a.out, "The directory is ready for sesame.")
			return nil
		},
	}
}

func newLDAPDiffCmd(a *app) *cobra.Command {
	var structure string
	cmd := &cobra.Command{
		Use:   "diff [--structure SLUG]",
		Short: "Show what differs between the store and the directory",
		Long: `Diff compares the store with the directory and prints every difference, changing nothing:
"+" a missing entry, "~" an entry whose attributes or members differ, "-" an entry sesame created
that the store no longer wants, "!" a foreign entry in the way (left alone). An entry the directory
will refuse (an email that is not plain ASCII, which the mail attribute does not allow) is marked
"! refused by the directory". Password hashes are never printed. The exit status is 0 when
nothing differs, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, closeFn, err := a.ldapSyncer(cmd)
			if err != nil {
				return exitWith(1, err)
			}
			defer closeFn()
			if err := a.checkStructureFlag(cmd, structure); err != nil {
				return err
			}
			plan, err := s.DiffStore(cmd.Context(), structure)
			if err != nil {
				return exitWith(1, err)
			}
			if plan.Empty() {
				fmt.Fprintln(a.out, "The directory matches the store.")
				return nil
			}
			fmt.Fprint(a.out, plan.String())
			return exitWith(1, fmt.Errorf("%s", summary(plan)))
		},
	}
	cmd.Flags().StringVar(&structure, "structure", "", "Compare only this structure (its slug): its entry, groups and people.")
	return cmd
}

func newLDAPSyncCmd(a *app) *cobra.Command {
	var structure string
	cmd := &cobra.Command{
		Use:   "sync [--structure SLUG]",
		Short: "Bring the directory to the store's state now",
		Long: `Sync makes the directory match the store: missing entries are added, differing attributes
and memberships changed (one modify per group), entries sesame created that the store no longer
wants removed. Foreign entries are left alone and reported. It can be interrupted and run again at
any time; afterwards 'sesame ldap diff' finds no difference. An entry the directory refuses (its data
breaks the directory's schema, e.g. an email with an invisible character) is reported with the
directory's reason, and everything else is still written: the other people, and the groups,
without the refused person. The exit status is 1 when an entry was refused or a foreign entry is
in the way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, closeFn, err := a.ldapSyncer(cmd)
			if err != nil {
				return exitWith(1, err)
			}
			defer closeFn()
			if err := a.checkStructureFlag(cmd, structure); err != nil {
				return err
			}
			var endProgress func()
			if f, ok := a.errOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				s.Progress, endProgress = progressLine(f, 200*time.Millisecond)
			}
			plan, applied, err := s.SyncStore(cmd.Context(), structure)
			if endProgress != nil {
				endProgress()
			}
			var refused *ldapsync.RefusedError
			if err != nil && !errors.As(err, &refused) {
				return exitWith(1, fmt.Errorf("%w (%d changes made before it stopped; run sync again)", err, applied))
			}
			fmt.Fprint(a.out, plan.String())
			fmt.Fprintf(a.out, "%d changes made.\n", applied)
			var problems []error
			if refused != nil {
				problems = append(problems, fmt.Errorf("the directory refused %s (marked \"! refused\"); everything else was written. "+
					"Correct them in the store (e.g. re-import the fixed rows), then run sync again:\n%s",
					plural(len(refused.Refused), "entry", "entries"), refusalLines(refused)))
			}
			if c := plan.Conflicts(); len(c) > 0 {
				problems = append(problems, fmt.Errorf("%d foreign entries are in the way (marked !); sesame left them alone", len(c)))
			}
			if len(problems) > 0 {
				return exitWith(1, errors.Join(problems...))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&structure, "structure", "", "Synchronise only this structure (its slug): its entry, groups and people.")
	return cmd
}

// progressLine returns a Progress callback that redraws "sync: DONE/TOTAL
// changes (P %)" on one line of w at most once per interval (and at the
// last change), and a function that ends the line once the sync returns.
// sync uses it only when standard error is a terminal; otherwise the plan
// and the count of changes made are the whole report.
func progressLine(w io.Writer, interval time.Duration) (func(done, total int), func()) {
	var (
		last  time.Time
		drawn bool
	)
	progress := func(done, total int) {
		if now := time.Now(); done == total || now.Sub(last) >= interval {
			last = now
			drawn = true
			fmt.Fprintf(w, "\rsync: %d/%d changes (%d %%)", done, total, done*100/max(total, 1))
		}
	}
	end := func() {
		if drawn {
			fmt.Fprintln(w)
		}
	}
	return progress, end
}

// ldapSyncer opens the store and the directory for a command.
func (a *app) ldapSyncer(cmd *cobra.Command) (*ldapsync.Syncer, func(), error) {
	conn, err := a.ldapConn()
	if err != nil {
		return nil, nil, err
	}
	st, err := a.store(cmd.Context())
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return ldapsync.New(conn, st, a.logger), func() { conn.Close() }, nil
}

// checkStructureFlag makes an unknown --structure a usage error (exit 2),
// as for every other command, rather than a failure or a difference (1).
func (a *app) checkStructureFlag(cmd *cobra.Command, slug string) error {
	if slug == "" {
		return nil
	}
	st, err := a.store(cmd.Context())
	if err != nil {
		return exitWith(1, err)
	}
	_, err = structureBySlug(cmd.Context(), st, slug)
	return err
}

// summary counts a plan's changes in words.
func summary(p ldapsync.Plan) string {
	c := p.Counts()
	s := fmt.Sprintf("the directory differs from the store: %d missing, %d to change, %d extra, %d conflicts",
		c[ldapsync.OpAdd], c[ldapsync.OpModify], c[ldapsync.OpDelete], c[ldapsync.OpConflict])
	if r := p.Refusals(); len(r) > 0 {
		s += fmt.Sprintf(", %d the directory will refuse:\n%s", len(r), refusalLines(&ldapsync.RefusedError{Refused: r}))
	}
	return s
}

// plural is n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// refusalLines lists refused entries, one per line: the person (email
// quoted so that invisible characters show) and the directory's reason.
func refusalLines(e *ldapsync.RefusedError) string {
	var b strings.Builder
	for _, c := range e.Refused {
		who := c.DN
		if c.Person != "" {
			who = c.Person
		}
		fmt.Fprintf(&b, "  %s: %s\n", who, c.Refused)
	}
	return strings.TrimRight(b.String(), "\n")
}

// registerLDAP registers the ldap.person and ldap.structure job handlers on
// m.Runner when a directory is configured. Without one, sesame runs without
// a directory: the store queues no LDAP job, and those an earlier
// configuration left pending are cleared (with a log line; `sesame ldap
// sync` catches up once LDAP is on). Nothing is dialled here: the
// connection is made by the first job, so the server starts while the
// directory is down. (Called from registerJobs.)
func (m *Main) registerLDAP() error {
	m.Store.SetDisabledJobSinks(disabledJobSinks(m.Config)...)
	if !m.Config.LDAPEnabled() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return clearDisabledJobs(ctx, m.Config, m.Store, m.Logger)
	}
	lc, err := ldapConfig(m.Config)
	if err != nil {
		return err
	}
	conn, err := ldapsync.NewConn(lc)
	if err != nil {
		return err
	}
	ldapsync.New(conn, m.Store, m.Logger.With("component", "ldapsync")).Register(m.Runner)
	return nil
}
