package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sesame/internal/config"
	"sesame/internal/store"
	"sesame/onboarding"
)

func init() { commands = append(commands, newImportCmd) }

// cliActor names who runs a command in the audit trail: "cli:" and the
// operating system user.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return "cli:" + n
	}
	return "cli:unknown"
}

// tokens builds the issuer of emailed links from the configuration's
// master key.
func (a *app) tokens(cfg *config.Config) (*onboarding.Tokens, error) {
	master, err := a.masterKey(cfg)
	if err != nil {
		return nil, err
	}
	return &onboarding.Tokens{Key: onboarding.TokenKey(master), ActivateTTL: cfg.Tokens.ActivateTTL,
		ResetTTL: cfg.Tokens.ResetTTL}, nil
}

func newImportCmd(a *app) *cobra.Command {
	var mode, format, lang, address string
	var dryRun, skipInvalid bool
	var maps []string
	cmd := &cobra.Command{
		Use:   "import STRUCTURE FILE [--dry-run] [--mode add|sync] [--skip-invalid] [--address work|personal] [--map HEADER=FIELD]... [--format text|json]",
		Short: "Create and update a structure's accounts from a spreadsheet (CSV)",
		Long: `Import reads a CSV file of people and their rights (UTF-8, UTF-16 or Windows-1252; ";", ",",
tab or "|" separated; French or English headers) and brings the structure's accounts to it in one
transaction: new people are created and mailed an activation link, people already known are
linked or updated. Nothing is applied when a row has an error, unless --skip-invalid is given.
--dry-run shows what would happen without changing anything. --mode sync (explicit) also removes
the people missing from the file from the structure. User exports of Google Workspace and
Microsoft 365 are read as they come; when a file has both a work address (Google's "Email
Address [Required]", Microsoft's "User principal name") and a personal one ("Recovery Email",
"Alternate email address", "Email personnel"), --address chooses which one receives the link
and becomes the person's address. A column still not recognised can be mapped with --map
'HEADER=FIELD' (repeatable; fields: email, personal_email, given_name, family_name,
display_name, username, rights, language, quota, or ignore): once the import is applied, the
mapping is remembered for the structure's next imports. Every run is recorded (a dry run by its
counts only). The text report speaks one language (--lang, else the locale's when English, else
French); --format json keeps identifiers (create, grant:nextcloud...) with messages in that language.

Exit status: 0 when applied, or when a dry run found no error; 1 when rows have errors; 2 on a
usage error.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mode != string(store.ModeAdd) && mode != string(store.ModeSync) {
				return exitWith(2, fmt.Errorf("--mode must be add or sync, not %q", mode))
			}
			if err := checkFormat(format); err != nil {
				return err
			}
			if lang != "fr" && lang != "en" {
				return exitWith(2, fmt.Errorf("--lang must be fr or en, not %q", lang))
			}
			if !onboarding.Address(address).Valid() {
				return exitWith(2, fmt.Errorf("--address must be work or personal, not %q", address))
			}
			mapping, err := onboarding.ParseMapping(maps)
			if err != nil {
				return exitWith(2, fmt.Errorf("--map: %w", err))
			}
			if !cmd.Flags().Changed("lang") {
				lang = localeLang()
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			opts := onboarding.Options{MaxBytes: int64(cfg.Import.MaxBytes), MaxRows: cfg.Import.MaxRows}
			data, err := readLimited(args[1], opts.MaxBytes)
			if err != nil {
				return exitWith(2, err)
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			tokens, err := a.tokens(cfg)
			if err != nil {
				return err
			}
			im := &onboarding.Importer{Store: st, Tokens: tokens, Options: opts, Logger: a.logger}
			res, err := im.Import(ctx, onboarding.Request{Structure: args[0], FileName: filepath.Base(args[1]),
				Data: data, Mode: store.ImportMode(mode), DryRun: dryRun, SkipInvalid: skipInvalid,
				Actor: cliActor(), Hoster: true, Lang: lang, Address: onboarding.Address(address), Mapping: mapping})
			if errors.Is(err, onboarding.ErrUnknownStructure) {
				return exitWith(2, fmt.Errorf("no structure %q (see sesame structure list)", args[0]))
			}
			if err != nil {
				return err
			}
			if format == "json" {
				if _, err := a.out.Write(res.Report.JSON()); err != nil {
					return err
				}
			} else {
				if err := res.Report.WriteText(a.out, lang); err != nil {
					return err
				}
				fmt.Fprintln(a.out, statusLine(res, lang))
			}
			if res.Status == onboarding.StatusApplied || !res.Plan.HasErrors() {
				return nil
			}
			return exitWith(1, nil)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Show what would change, change nothing.")
	cmd.Flags().StringVar(&mode, "mode", "add", "add (never removes anyone) or sync (people missing from the file leave the structure).")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "Apply the valid rows even when others have errors.")
	cmd.Flags().StringVar(&format, "format", "text", "Report format: text or json.")
	cmd.Flags().StringArrayVar(&maps, "map", nil, "Read a column no alias recognises as a field, HEADER=FIELD (repeatable); remembered for the structure once applied.")
	cmd.Flags().StringVar(&address, "address", "work", "Which address receives the link when the file has a work and a personal one: work (the account's, going away with the old suite) or personal.")
	cmd.Flags().StringVar(&lang, "lang", "fr", "Language of the report: fr or en (default: en when the locale, LC_ALL, LC_MESSAGES or LANG, is English, else fr).")
	return cmd
}

// localeLang is the report's language when --lang is not given: English when
// the locale (LC_ALL, then LC_MESSAGES, then LANG, the first one set, as
// POSIX orders them) is English, French otherwise ("C" and "POSIX"
// included: sesame speaks French first).
func localeLang() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "en") {
				return "en"
			}
			return "fr"
		}
	}
	return "fr"
}

func statusLine(res *onboarding.Result, lang string) string {
	fr := map[string]string{
		onboarding.StatusApplied:  "Import appliqué.",
		onboarding.StatusDryRun:   "Simulation : rien n'a été modifié.",
		onboarding.StatusRejected: "Import refusé : corrigez les erreurs ou relancez avec --skip-invalid. Rien n'a été modifié.",
	}
	en := map[string]string{
		onboarding.StatusApplied:  "Import applied.",
		onboarding.StatusDryRun:   "Dry run: nothing was changed.",
		onboarding.StatusRejected: "Import refused: fix the errors or run again with --skip-invalid. Nothing was changed.",
	}
	if lang == "en" {
		return en[res.Status]
	}
	return fr[res.Status]
}

// readLimited reads a file, or standard input for "-", refusing more than
// max bytes (0: no limit here, the importer's default applies). A file over
// the limit is read only up to it, so the import reports it as too large.
func readLimited(path string, max int64) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	if max <= 0 {
		max = onboarding.DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}
