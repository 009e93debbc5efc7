package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"sesame/idp"
	"sesame/internal/config"
	"sesame/internal/mail"
	"sesame/internal/manage"
	"sesame/internal/metrics"
	"sesame/internal/mfa"
	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/notify"
	"sesame/onboarding"
	"sesame/web"
)

// wireHandlers builds what the account pages, the provider and the mail
// handlers share (one password hasher, so the bound on concurrent hashes
// holds for the whole process; one token issuer), then mounts the HTTP
// handlers and registers the mail job handlers.
func (m *Main) wireHandlers() error {
	cfg := m.Config
	m.hasher = password.NewHasher(password.DefaultParams(), cfg.Password.MaxConcurrentHashes)
	m.metrics.WatchHashes(func() metrics.HashStats { // nil-safe: off without metrics.listen
		s := m.hasher.Stats()
		return metrics.HashStats{Slots: int64(s.Slots), InFlight: s.InFlight, Waiting: s.Waiting, Waited: s.Waited, Refused: s.Refused}
	})
	tokens := &onboarding.Tokens{Key: onboarding.TokenKey(m.MasterKey),
		ActivateTTL: cfg.Tokens.ActivateTTL, ResetTTL: cfg.Tokens.ResetTTL}

	// Per-IP limits and request logs name the client, read from
	// X-Forwarded-For when the peer is a trusted reverse proxy.
	proxies, err := cfg.TrustedProxies()
	if err != nil {
		return err
	}
	m.clientIP = web.ClientIPFrom(proxies)

	// One renderer for the account pages and the provider's: one layout,
	// catalogue, language switch and error page.
	rd, err := web.NewRenderer(nil, m.Logger)
	if err != nil {
		return err
	}
	// One set of secrets and of passkeys for the provider's login and the
	// portal. Passkeys need public_url to name a host (config check says
	// so when they are on with an IP address).
	mfaSecrets, err := mfa.NewSecrets(m.MasterKey)
	if err != nil {
		return err
	}
	var passkeys *mfa.Passkeys
	if cfg.MFA.Passkeys != "off" {
		passkeys, err = mfa.NewPasskeys(cfg.PublicURL, "sesame", m.MasterKey)
		if errors.Is(err, mfa.ErrPasskeysOff) {
			m.Logger.Info("passkeys are off: " + err.Error())
		} else if err != nil {
			return err
		}
	}
	// Ten failed passwords per client address and per account, then one a
	// minute; the portal's password form spends the same account buckets.
	loginLimiter := m.limiter("login", 10, time.Minute)
	p, err := idp.New(context.Background(), idp.Config{
		Issuer:       cfg.PublicURL,
		Store:        m.Store,
		Hasher:       m.hasher,
		MasterKey:    m.MasterKey,
		Logger:       m.Logger.With("component", "idp"),
		KeyReload:    cfg.Replicas.KeyReload,
		LoginLimiter: loginLimiter,
		// 120 at once, then two a second: thirty members behind one NAT
		// opening three services each on training day stay well inside.
		AuthorizeLimiter: m.limiter("authorize", 120, 500*time.Millisecond),
		ClientIP:         m.clientIP,
		Renderer:         rd,
		AdminMFAPolicy:   store.MFAPolicy(cfg.MFA.Admins),
		MFAGrace:         cfg.MFA.Grace,
		MFA:              mfaSecrets,
		Passkeys:         passkeys,
	})
	if err != nil {
		return err
	}
	m.idp = p
	p.Mount(m.Mux)
	p.Register(m.Runner) // back-channel logouts

	policy := password.Policy{MinLength: cfg.Password.MinLength, MinScore: password.DefaultMinScore}
	webLog := m.Logger.With("component", "web")
	// The portal at / and the administration pages know who is there from
	// the provider's SSO session, and send nobody to its /signin.
	portal := &web.Portal{Store: m.Store, Renderer: rd, Sessions: p, Hasher: m.hasher, Policy: policy,
		PublicURL: cfg.PublicURL, Logger: webLog, ClientIP: m.clientIP,
		IPLimit:       m.limiter("portal", web.FormLimitRate.Burst, web.FormLimitRate.Per),
		PasswordLimit: loginLimiter,
		MFA:           mfaSecrets, AdminMFAPolicy: store.MFAPolicy(cfg.MFA.Admins), Passkeys: passkeys}
	portal.Mount(m.Mux)
	// The spreadsheet import runs the CLI's plan and apply (same limits),
	// behind the administration's guard (ActImport).
	importer := &onboarding.Importer{Store: m.Store, Tokens: tokens, Logger: webLog,
		Options: onboarding.Options{MaxBytes: int64(cfg.Import.MaxBytes), MaxRows: cfg.Import.MaxRows}}
	// Its pending previews live in the store (the file sealed under a key
	// derived from the master key), so that a confirmation may reach
	// another replica than the upload.
	importBox, err := web.ImportBox(m.MasterKey)
	if err != nil {
		return err
	}
	(&web.Admin{Store: m.Store, Renderer: rd, Sessions: p, PublicURL: cfg.PublicURL, Logger: webLog,
		IPLimit:  m.limiter("admin", web.AdminFormLimitRate.Burst, web.AdminFormLimitRate.Per),
		Manager:  &manage.Manager{Store: m.Store, Links: tokens, ClientSecretHash: idp.HashClientSecret},
		ClientIP: m.clientIP, Imports: &web.ImportPages{Store: m.Store, Importer: importer, Renderer: rd, Logger: webLog,
			Pending: m.Store, PendingBox: importBox},
	}).Mount(m.Mux)
	(&web.Account{
		Store: m.Store, Tokens: tokens, Hasher: m.hasher, Renderer: rd,
		Policy: policy,
		// Every form post per client address; link requests (activation
		// resend, password reset: emails) per email or username.
		IPLimit:   m.limiter("account", web.FormLimitRate.Burst, web.FormLimitRate.Per),
		KeyLimit:  m.limiter("links", web.LinkLimitRate.Burst, web.LinkLimitRate.Per),
		Sessions:  p, // activation and reset end every SSO session of the person
		PublicURL: cfg.PublicURL, Logger: webLog,
		ClientIP: m.clientIP,
		Home:     portal.Home(),
	}).Mount(m.Mux)
	web.StaticHandler{}.Mount(m.Mux)

	sender, err := mailSender(cfg, m.Logger.With("component", "mail"))
	if err != nil {
		return err
	}
	sender = m.metrics.Sender(sender) // counts sent and failed emails (nil-safe)
	n, err := notify.New(m.Store, sender, notify.Config{PublicURL: cfg.PublicURL, From: cfg.Mail.From, Tokens: tokens},
		m.Logger.With("component", "notify"))
	if err != nil {
		return err
	}
	n.Register(m.Runner)
	// Reminders and weekly digests (exactly once across replicas: see
	// notify.Scheduler).
	m.scheduler = &notify.Scheduler{Store: m.Store, Tokens: tokens, Logger: m.Logger.With("component", "reminders")}
	return nil
}

// limiter returns a rate limit of burst requests at once per key, then
// one every per: kept in the store under name, shared by every replica,
// when replicas.shared_limits says so (PostgreSQL by default), else in
// this process.
func (m *Main) limiter(name string, burst int, per time.Duration) web.Limiter {
	if m.Config.SharedLimitsEnabled() {
		return web.NewSharedLimiter(m.Store, name, burst, per, m.Logger.With("component", "ratelimit"))
	}
	return web.NewRateLimiter(burst, per, nil)
}

// mailSender maps the configuration onto the mail transport: SMTP, or
// .eml files in the data directory (the embedded default, so a newcomer
// can open the links without a mail server; the log names each file, never
// its links).
func mailSender(cfg *config.Config, logger *slog.Logger) (mail.Sender, error) {
	if cfg.Mail.Driver != "smtp" {
		if err := os.MkdirAll(cfg.Mail.FileDir, 0o700); err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		return mail.NewFileSender(cfg.Mail.FileDir, logger), nil
	}
	pw, err := cfg.SMTPPassword()
	if err != nil {
		return nil, err
	}
	return mail.NewSMTP(mail.SMTPConfig{Host: cfg.Mail.SMTP.Host, Port: cfg.Mail.SMTP.Port,
		TLS: cfg.Mail.SMTP.TLS, Username: cfg.Mail.SMTP.Username, Password: pw, CAFile: cfg.Mail.SMTP.CAFile})
}
