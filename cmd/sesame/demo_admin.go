package main

import (
	"context"
	"errors"
	"strings"

	"sesame/internal/manage"
	"sesame/internal/store"
	"sesame/web"
)

func init() { demoAdminLogin = demoAdmin }

// demoAdmin makes the demo's hoster admin, as "sesame admin add" does, and
// returns the link that opens the administration: the admin's activation
// link while no password is chosen (the email is written to the mail
// folder too), then the sign-in page that leads to /admin.
func demoAdmin(ctx context.Context, a *app, email string) (string, error) {
	cfg, err := a.config()
	if err != nil {
		return "", err
	}
	st, err := a.store(ctx)
	if err != nil {
		return "", err
	}
	p, err := st.GetPersonByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !p.Admin):
		tokens, err := a.tokens(cfg)
		if err != nil {
			return "", err
		}
		m := &manage.Manager{Store: st, Links: tokens}
		if _, err := m.AddAdmin(ctx, "demo", email); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	_, link, err := a.demoActivationLink(ctx, cfg, email)
	if err != nil || link != "" {
		return link, err
	}
	return strings.TrimRight(cfg.PublicURL, "/") + web.SignInURL("/signin", "/admin"), nil
}
