package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"sesame/internal/certs"
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
// at start and would refuse now, one problem per key, read by serve's own
// code: the secret files (Config.SMTPPassword, Config.LDAPBindPassword) and
// the CA files (certs.ReadCA, as the SMTP and LDAP clients read them), and
// an existing master key (config.LoadKey, as serve reads it).
func unreadableFiles(cfg *config.Config) []string {
	var ps []string
	// The master key: serve creates it when it is missing, but refuses one
	// it cannot read, of the wrong size, or that others may read (0640
	// like the configuration beside it).
	if _, err := config.LoadKey(cfg.Secrets.KeyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		ps = append(ps, "secrets.key_file: "+err.Error())
	}
	if cfg.Mail.Driver == "smtp" {
		if _, err := cfg.SMTPPassword(); err != nil {
			ps = append(ps, err.Error())
		}
		if cfg.Mail.SMTP.CAFile != "" {
			if _, err := certs.ReadCA(cfg.Mail.SMTP.CAFile); err != nil {
				ps = append(ps, "mail.smtp.ca_file: "+err.Error())
			}
		}
	}
	if cfg.LDAPEnabled() {
		if _, err := cfg.LDAPBindPassword(); err != nil {
			ps = append(ps, err.Error())
		}
		if cfg.LDAP.CAFile != "" {
			if _, err := certs.ReadCA(cfg.LDAP.CAFile); err != nil {
				ps = append(ps, "ldap.ca_file: "+err.Error())
			}
		}
	}
	return ps
}
