package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/apps"
	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/onboarding"
	"sesame/web/demorp"
)

func init() { commands = append(commands, newDemoCmd) }

// The demo's structure, its people and its relying party's service.
const (
	demoStructure  = "demo"
	demoPersonMail = "camille.martin@demo.example" // the person whose activation link is printed
	demoAdminMail  = "admin@demo.example"          // given to demoAdminLogin
	demoRPSlug     = "demo"
	demoCSVName    = "personnes.csv"
)

//go:embed demodata/personnes.csv
var demoCSV []byte

// demoAdminLogin, when set, makes the demo's hoster admin (email is
// demoAdminMail) and returns the link that opens the administration as
// that admin, which the demo then prints with the others. It is left nil
// until hoster admins ("sesame admin add") exist; whoever adds them sets it
// in an init function of their own file, e.g.
//
//	func init() { demoAdminLogin = func(ctx context.Context, a *app, email string) (string, error) { ... } }
//
// It runs at every start of the demo, after the demo's data is in place
// (a.config() and a.store(ctx) return the demo's configuration and store,
// its public_url is the demo's address) and before the server listens: on
// a folder kept from an earlier run (--dir) the admin already exists, and
// it must then only return a fresh link. An error stops the demo.
var demoAdminLogin func(ctx context.Context, a *app, email string) (link string, err error)

// demoSetup lists the commands that build the demo's data in a new folder,
// as a hoster would type them; base is the demo's public URL, csv the path
// of the spreadsheet written into the folder.
func demoSetup(base, csv string) [][]string {
	return [][]string{
		{"structure", "add", demoStructure, "--name", "Association Démo", "--contact", "referente@demo.example"},
		{"service", "add", demoStructure, "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.demo.example"},
		{"service", "add", demoStructure, "wordpress", "--name", "Site web", "--url", "https://www.demo.example"},
		{"service", "add", demoStructure, "paheko", "--name", "Paheko", "--url", "https://gestion.demo.example",
			"--paheko-category", "Membres", "--paheko-category", "Bureau"},
		{"service", "add", demoStructure, "generic", "--name", "Démo", "--slug", demoRPSlug,
			"--url", base + strings.TrimSuffix(demorp.Path, "/"),
			"--redirect-uri", base + demorp.Path + "callback", "--post-logout-uri", base + demorp.Path},
		{"import", demoStructure, csv},
	}
}

func newDemoCmd(a *app) *cobra.Command {
	var listen, dir string
	cmd := &cobra.Command{
		Use:   "demo [--listen ADDR] [--dir DIR]",
		Short: "Run a demonstration: a structure, its people and a demo application, ready to try",
		Long: `Demo starts sesame on the built-in defaults (SQLite, emails written as files, no LDAP) in a new
temporary folder, with a demonstration structure, its Nextcloud, WordPress and Paheko services,
a spreadsheet of five people imported, and a demonstration application mounted at /demo/: an
OpenID Connect client of sesame that shows what it learns of the person who logs in. It prints
the address, one person's activation link and the demo application's address, then serves until
Ctrl-C, which stops it and removes the folder.

--dir keeps the data in DIR instead (created when missing, kept on exit); run the demo again with
the same DIR to find it as it was left. The demo ignores --config and the SESAME_* variables: it
always runs on the built-in defaults. It serves plain http, which OpenID Connect allows only on a
loopback address: --listen takes 127.0.0.1, localhost or ::1 (0.0.0.0 serves every interface),
and port 0 picks a free port. Links name localhost rather than 127.0.0.1, as passkeys (which
browsers refuse for an IP address) need.

The commands that built the data, with their output (client secrets included), are in the
folder's setup.txt.

Exit status: 0 when stopped by Ctrl-C (or SIGTERM); 1 when the demo cannot start (the port is
taken, DIR holds other data) or the server fails; 2 on a usage error (a --listen that is not a
loopback address).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDemo(cmd.Context(), listen, dir)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "Address to listen on (a loopback address; port 0 picks a free one).")
	cmd.Flags().StringVar(&dir, "dir", "", "Keep the demo's data in this folder (default: a temporary folder, removed on exit).")
	return cmd
}

// runDemo is "sesame demo": see its help.
func (a *app) runDemo(ctx context.Context, listen, dir string) (err error) {
	listen, base, err := demoAddress(listen)
	if err != nil {
		return exitWith(exitUsage, err)
	}
	keep := dir != ""
	if keep {
		if dir, err = filepath.Abs(dir); err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
	} else {
		dir, err = os.MkdirTemp("", "sesame-demo-")
	}
	if err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	if !keep {
		defer func() {
			_ = a.close() // before the files go
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("remove the demo folder: %w", rerr)
			}
		}()
	}

	cfg := config.Default()
	cfg.DataDir, cfg.Listen, cfg.PublicURL = dir, listen, base
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return err
	}
	a.cfg, a.logger = cfg, newLogger(a.errOut, cfg.Log, a.verbose)
	a.creates, a.serving = true, true
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	if a.newStore {
		if err := a.demoSetup(ctx, dir, base); err != nil {
			return err
		}
	}
	rp, err := demoRelyingParty(ctx, st, base)
	if err != nil {
		return err
	}
	rp.Logger = a.logger.With("component", "demorp")
	person, link, err := a.demoActivationLink(ctx, cfg, demoPersonMail)
	if err != nil {
		return err
	}
	adminLink := ""
	if demoAdminLogin != nil {
		if adminLink, err = demoAdminLogin(ctx, a, demoAdminMail); err != nil {
			return fmt.Errorf("demo admin: %w", err)
		}
	}

	m, err := NewMain(cfg, a.logger, st)
	if err != nil {
		return err
	}
	rp.Mount(m.Mux)
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return err
	}
	writeDemoBanner(a.out, demoBanner{Base: base, Dir: dir, Keep: keep, MailDir: cfg.Mail.FileDir,
		Person: person, Link: link, RP: base + demorp.Path, AdminLink: adminLink})
	select {
	case <-ctx.Done():
	case err = <-m.Err():
		a.logger.Error("stopping: the server failed", "err", err)
	}
	if cerr := m.Close(); cerr != nil && err == nil {
		err = cerr
	}
	writeDemoStopped(a.out, dir, keep)
	return err
}

// demoAddress checks the --listen address and returns the address to
// listen on (a free port chosen for port 0) and the public URL.
func demoAddress(listen string) (addr, base string, err error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	// Links name localhost rather than 127.0.0.1: browsers refuse
	// passkeys for an IP address.
	public := host
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.IsUnspecified()) || (ip != nil && ip.To4() != nil && ip.IsLoopback()):
		public = "localhost"
	case host == "localhost" || (ip != nil && ip.IsLoopback()):
	default:
		return "", "", fmt.Errorf("--listen %q: the demo serves plain http, which OpenID Connect allows only on a loopback address (127.0.0.1, localhost, ::1)", listen)
	}
	if port == "0" {
		// The server listens itself, later: take a free port now and give
		// it back (another process could take it in between; the server
		// would then say so).
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return "", "", fmt.Errorf("--listen %q: %w", listen, err)
		}
		_, port, _ = net.SplitHostPort(l.Addr().String())
		_ = l.Close()
	}
	return net.JoinHostPort(host, port), "http://" + net.JoinHostPort(public, port), nil
}

// demoSetup runs the commands of demoSetup in this process, on a's store,
// as a hoster would type them, and writes them and their output to
// dir/setup.txt.
func (a *app) demoSetup(ctx context.Context, dir, base string) error {
	csv := filepath.Join(dir, demoCSVName)
	if err := os.WriteFile(csv, demoCSV, 0o600); err != nil {
		return fmt.Errorf("demo spreadsheet: %w", err)
	}
	var transcript bytes.Buffer
	defer func() { _ = os.WriteFile(filepath.Join(dir, "setup.txt"), transcript.Bytes(), 0o600) }()
	for _, args := range demoSetup(base, csv) {
		fmt.Fprintf(&transcript, "$ sesame %s\n", strings.Join(quoteWords(args), " "))
		// A command tree of its own, on the demo's configuration and store
		// (the app is not closed: the store stays a's).
		sub := &app{out: &transcript, errOut: &transcript, cfg: a.cfg, logger: a.logger, st: a.st,
			creates: true, serving: true}
		root := newRootCmd(sub)
		root.SetArgs(args)
		root.SetOut(&transcript)
		root.SetErr(&transcript)
		if err := root.ExecuteContext(ctx); err != nil {
			return fmt.Errorf("demo: sesame %s: %w\n%s", strings.Join(args, " "), err, transcript.String())
		}
		transcript.WriteString("\n")
	}
	transcript.WriteString("# The client secret of the demo application (service demo) is replaced at every start of the demo.\n")
	return nil
}

// quoteWords quotes the words a shell would split or expand.
func quoteWords(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = apps.ShellWord(w)
	}
	return out
}

// demoRelyingParty gives the demo's relying party a new client secret (only
// its hash is stored, so a kept folder needs a new one at each start) and
// the redirect URIs of this run's address, and returns it.
func demoRelyingParty(ctx context.Context, st store.Store, base string) (*demorp.RP, error) {
	structure, err := st.GetStructureBySlug(ctx, demoStructure)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New(`this folder holds sesame data that "sesame demo" did not make (no structure demo): give --dir a new folder, or one an earlier demo used`)
	}
	if err != nil {
		return nil, fmt.Errorf("demo structure: %w", err)
	}
	services, err := st.ListServices(ctx, structure.ID)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var svc *store.Service
	for i := range services {
		if services[i].Slug == demoRPSlug {
			svc = &services[i]
		}
	}
	if svc == nil {
		return nil, fmt.Errorf(`the demo structure has no service %q: give --dir a new folder, or one an earlier demo used`, demoRPSlug)
	}
	secret, hash, err := newClientSecret(ctx)
	if err != nil {
		return nil, err
	}
	rp := &demorp.RP{Issuer: base, BaseURL: base + strings.TrimSuffix(demorp.Path, "/"),
		ClientID: svc.ClientID, ClientSecret: secret}
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.UpdateService(ctx, svc.ID, func(s *store.Service) error {
			s.ClientSecretHash = hash
			s.BaseURL = rp.BaseURL
			s.RedirectURIs = []string{rp.RedirectURI()}
			s.PostLogoutURIs = []string{rp.PostLogoutURI()}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("demo client: %w", err)
	}
	return rp, nil
}

// demoActivationLink returns the name of the person with email and the
// link of their latest activation email, the one the import queued (the emails are
// written as files too: the link printed is the one in the email). When
// that link can no longer be used (a folder kept from an earlier run), it
// issues a new one as "sesame user resend" does, whose email is queued
// too. A person who has activated their account gets no link: link is
// then empty.
func (a *app) demoActivationLink(ctx context.Context, cfg *config.Config, email string) (name, link string, err error) {
	st := a.st
	tokens, err := a.tokens(cfg)
	if err != nil {
		return "", "", err
	}
	p, err := st.GetPersonByEmail(ctx, email)
	if err != nil {
		return "", "", fmt.Errorf("demo person %s: %w", email, err)
	}
	name = p.DisplayName
	if p.State != store.StateInvited {
		return name, "", nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		if secret, ok, err := latestActivation(ctx, st, tokens, p.ID); err != nil {
			return "", "", err
		} else if ok {
			return name, strings.TrimRight(cfg.PublicURL, "/") + "/activate/" + secret, nil
		}
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
			if err != nil {
				return fmt.Errorf("list memberships: %w", err)
			}
			structureID := ""
			if len(ms) > 0 {
				structureID = ms[0].StructureID
			}
			if _, err := tokens.Issue(ctx, tx, p.ID, structureID, store.PurposeActivate); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &store.AuditEntry{Actor: "demo", Action: "person.link." + string(store.PurposeActivate),
				Target: "person:" + p.ID})
		})
		if err != nil {
			return "", "", fmt.Errorf("demo activation link: %w", err)
		}
	}
	return "", "", errors.New("demo activation link: the link just issued is not usable")
}

// latestActivation returns the secret of the person's latest activation
// email job, when its token is still unused and unexpired.
func latestActivation(ctx context.Context, st store.Store, tokens *onboarding.Tokens, personID string) (string, bool, error) {
	list, err := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindMailActivate, Limit: 10000})
	if err != nil {
		return "", false, fmt.Errorf("list jobs: %w", err)
	}
	for i := len(list) - 1; i >= 0; i-- {
		var m jobs.TokenMail
		if json.Unmarshal(list[i].Payload, &m) != nil || m.PersonID != personID || m.Nonce == "" {
			continue
		}
		secret := tokens.Secret(m.Nonce)
		tok, err := st.GetToken(ctx, onboarding.Hash(secret))
		if errors.Is(err, store.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("token: %w", err)
		}
		usable := tok.UsedAt.IsZero() && tok.ExpiresAt.After(time.Now())
		return secret, usable, nil
	}
	return "", false, nil
}
