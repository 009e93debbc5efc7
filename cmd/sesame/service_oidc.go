package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"sesame/idp"
	"sesame/internal/apps"
	"sesame/internal/store"
)

func init() {
	serviceSubcommands = append(serviceSubcommands, newServiceShowCmd)
	c := &clientFlags{}
	serviceAddHooks = append(serviceAddHooks, serviceAddHook{Flags: c.register, Prepare: c.prepare, Created: c.created})
}

// clientFlags are the OpenID Connect options of "sesame service add"; each
// overrides the kind's default (kindDefaults) when given.
type clientFlags struct {
	fs                   *pflag.FlagSet
	redirects, logouts   []string
	backchannel          string
	authMethod, alg      string
	requirePKCE, refresh bool
	secret               string // made by prepare, printed once by created
}

func (c *clientFlags) register(fs *pflag.FlagSet) {
	c.fs = fs
	fs.StringArrayVar(&c.redirects, "redirect-uri", nil, "OpenID Connect redirect URI, matched exactly (repeatable; default: the kind's).")
	fs.StringArrayVar(&c.logouts, "post-logout-uri", nil, "URI the service may send people back to after logout (repeatable; default: the kind's).")
	fs.StringVar(&c.backchannel, "backchannel-logout-uri", "", "Where sesame posts back-channel logout tokens (default: the kind's; \"none\" for none).")
	fs.StringVar(&c.authMethod, "auth-method", "", "Client authentication: client_secret_basic or client_secret_post (default: the kind's).")
	fs.StringVar(&c.alg, "signing-alg", "", "ID token signing algorithm: RS256 or ES256 (default RS256).")
	fs.BoolVar(&c.requirePKCE, "require-pkce", false, "Require PKCE (S256) from this client (default: the kind's).")
	fs.BoolVar(&c.refresh, "refresh-tokens", false, "Issue refresh tokens to this client (default: the kind's).")
}

// prepare applies the flags, checks every URI, and makes the client secret.
func (c *clientFlags) prepare(ctx context.Context, _ *app, s *store.Service) error {
	changed := func(name string) bool { return c.fs != nil && c.fs.Changed(name) }
	if changed("redirect-uri") {
		s.RedirectURIs = c.redirects
	}
	if changed("post-logout-uri") {
		s.PostLogoutURIs = c.logouts
	}
	if changed("backchannel-logout-uri") {
		s.BackchannelLogoutURI = c.backchannel
		if c.backchannel == "none" {
			s.BackchannelLogoutURI = ""
		}
	}
	if changed("auth-method") {
		if c.authMethod != "client_secret_basic" && c.authMethod != "client_secret_post" {
			return exitWith(2, fmt.Errorf("--auth-method %q: use client_secret_basic or client_secret_post", c.authMethod))
		}
		s.AuthMethod = c.authMethod
	}
	if changed("signing-alg") {
		if c.alg != idp.AlgRS256 && c.alg != idp.AlgES256 {
			return exitWith(2, fmt.Errorf("--signing-alg %q: use RS256 or ES256", c.alg))
		}
		s.SigningAlg = c.alg
	}
	if changed("require-pkce") {
		s.RequirePKCE = c.requirePKCE
	}
	if changed("refresh-tokens") {
		s.RefreshTokens = c.refresh
	}
	if err := checkClientURIs(*s); err != nil {
		return exitWith(2, err)
	}
	if s.BackchannelLogoutURI != "" {
		if err := idp.ValidateRedirectURI(s.BackchannelLogoutURI); err != nil {
			return exitWith(2, fmt.Errorf("--backchannel-logout-uri: %w", err))
		}
	}
	secret, hash, err := newClientSecret(ctx)
	if err != nil {
		return err
	}
	c.secret, s.ClientSecretHash = secret, hash
	return nil
}

// created prints the secret, once, inside the application's setup snippet.
func (c *clientFlags) created(_ context.Context, a *app, s store.Service) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Client secret (shown only now; \"sesame service show --new-secret\" replaces it): %s\n\n", c.secret)
	writeClientSetup(a.out, cfg.PublicURL, s, c.secret)
	if len(s.RedirectURIs) == 0 {
		fmt.Fprintln(a.out, "# No redirect URI yet: nobody can log into this service until one is registered.")
	}
	c.secret = ""
	return nil
}

// newClientSecret makes a client secret (256 random bits, base64url) and its
// argon2id hash; only the hash is stored, the secret is shown once.
func newClientSecret(context.Context) (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("client secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, idp.HashClientSecret(secret), nil
}

// checkClientURIs refuses redirect and post-logout URIs the provider would
// never accept.
func checkClientURIs(s store.Service) error {
	var errs []error
	for _, list := range []struct {
		flag string
		uris []string
	}{{"--redirect-uri", s.RedirectURIs}, {"--post-logout-uri", s.PostLogoutURIs}} {
		for _, u := range list.uris {
			if err := idp.ValidateRedirectURI(u); err != nil {
				errs = append(errs, fmt.Errorf("%s (set it with %s, or it is derived from --url): %w", list.flag, list.flag, err))
			}
		}
	}
	return errors.Join(errs...)
}

// writeClientSetup prints what the hoster pastes into the application to
// make s a client of sesame (apps.Kind.WriteSetup).
func writeClientSetup(w io.Writer, issuer string, s store.Service, secret string) {
	apps.Of(s).WriteSetup(w, issuer, s, secret)
}

func newServiceShowCmd(a *app) *cobra.Command {
	var newSecret bool
	cmd := &cobra.Command{
		Use:   "show STRUCTURE SERVICE [--new-secret]",
		Short: "Print a service's OpenID Connect setup for its application",
		Long: `Show prints what to paste into the application: the occ command for Nextcloud, the wp-config.php
constants for WordPress, the config.local.php constants for Paheko. The client secret is stored
hashed and cannot be shown again: the snippet says SECRET, unless --new-secret replaces the secret
(the old one stops working at once) and prints the new one.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			structure, err := structureBySlug(ctx, st, args[0])
			if err != nil {
				return err
			}
			services, err := st.ListServices(ctx, structure.ID)
			if err != nil {
				return fmt.Errorf("list services: %w", err)
			}
			var svc *store.Service
			for i := range services {
				if services[i].Slug == args[1] || services[i].ClientID == args[1] {
					svc = &services[i]
				}
			}
			if svc == nil {
				return exitWith(2, fmt.Errorf("the structure %s has no service %q (see sesame service list)", structure.Slug, args[1]))
			}
			secret := ""
			if newSecret {
				var hash string
				if secret, hash, err = newClientSecret(ctx); err != nil {
					return err
				}
				err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					if _, err := tx.UpdateService(ctx, svc.ID, func(s *store.Service) error { s.ClientSecretHash = hash; return nil }); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "service.secret.rotate",
						Target: "structure:" + structure.Slug, Details: map[string]any{"service": svc.Slug}})
				})
				if err != nil {
					return fmt.Errorf("replace client secret: %w", err)
				}
			}
			writeClientSetup(a.out, cfg.PublicURL, *svc, secret)
			return nil
		},
	}
	cmd.Flags().BoolVar(&newSecret, "new-secret", false, "Replace the client secret and print the new one.")
	return cmd
}
