package main

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"sesame/internal/config"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
		Long:  `Config groups the commands that inspect sesame's configuration without starting it.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Check the configuration and print a summary",
		Long: `Check reads the configuration (the --config file, then SESAME_* environment variables) and
validates every key. When it is valid, a short summary is printed and the exit status is 0;
settings that are valid but probably not meant (a loopback public_url that listen does not
serve: emailed links would point where sesame does not answer) are printed as warnings on
standard error, and the status stays 0. Otherwise every problem is printed, one per line and
naming its key, and the exit status is 1. Nothing is created or contacted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if ps := config.Problems(err); ps != nil {
				for _, p := range ps {
					fmt.Fprintln(a.errOut, p.String())
				}
				return exitWith(1, fmt.Errorf("the configuration has %d problem(s)", len(ps)))
			}
			if err != nil {
				return err
			}
			if ps := unreadableFiles(cfg); ps != nil {
				for _, p := range ps {
					fmt.Fprintln(a.errOut, p)
				}
				return exitWith(1, fmt.Errorf("the configuration has %d problem(s)", len(ps)))
			}
			fmt.Fprintln(a.out, "The configuration is valid.")
			fmt.Fprint(a.out, cfg.Summary())
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(a.errOut, "warning: "+w.String())
			}
			return nil
		},
	})
	return cmd
}

// unreadableFiles lists the files the configuration names that serve reads
// at start (the secret files, ldap.ca_file) and cannot be read now, one
// problem per key: serve would exit 1 on them.
func unreadableFiles(cfg *config.Config) []string {
	var ps []string
	check := func(key, path string) []byte {
		if path == "" {
			return nil
		}
		// Read, as serve does: a folder opens but does not read.
		b, err := os.ReadFile(path)
		if err != nil {
			ps = append(ps, fmt.Sprintf("%s: cannot be read: %v", key, err))
			return nil
		}
		return b
	}
	if cfg.Mail.Driver == "smtp" {
		check("mail.smtp.password_file", cfg.Mail.SMTP.PasswordFile)
	}
	if cfg.LDAPEnabled() {
		check("ldap.bind_password_file", cfg.LDAP.BindPasswordFile)
		// serve refuses a CA file without a certificate (ldapsync.NewConn).
		if b := check("ldap.ca_file", cfg.LDAP.CAFile); b != nil && !x509.NewCertPool().AppendCertsFromPEM(b) {
			ps = append(ps, fmt.Sprintf("ldap.ca_file: %s holds no PEM certificate", cfg.LDAP.CAFile))
		}
	}
	return ps
}
