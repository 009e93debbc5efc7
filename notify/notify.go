package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/onboarding"
)

// Config is what the Notifier needs besides the store and the sender.
type Config struct {
	// PublicURL is sesame's public address (https://sso.example.org, no
	// query); every link in every email starts with it.
	PublicURL string
	// From is the sender, "Name <address>" or "address".
	From string
	// Tokens derives link secrets from job nonces (its Key is required).
	Tokens *onboarding.Tokens
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone dates are written in; nil means
	// Europe/Paris.
	Location *time.Location
}

// Notifier renders and sends sesame's emails as job handlers.
type Notifier struct {
	st        store.Store
	sender    mail.Sender
	cfg       Config
	publicURL string // without a trailing slash
	host      string // for Message-IDs
	loc       *time.Location
	tmpl      *emailTemplates
	log       *slog.Logger
}

// ErrConfig means the Notifier's configuration cannot work.
var ErrConfig = errors.New("notify: invalid configuration")

// New checks cfg and parses every template; a missing or broken template,
// or an invalid configuration, is an error.
func New(st store.Store, sender mail.Sender, cfg Config, logger *slog.Logger) (*Notifier, error) {
	if st == nil || sender == nil {
		return nil, fmt.Errorf("%w: a store and a sender are required", ErrConfig)
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: public URL %q must be an http(s) URL without query or fragment", ErrConfig, cfg.PublicURL)
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil || strings.ContainsAny(cfg.From, "\r\n") {
		return nil, fmt.Errorf("%w: from address %q: %v", ErrConfig, cfg.From, err)
	}
	if cfg.Tokens == nil || len(cfg.Tokens.Key) < 32 {
		return nil, fmt.Errorf("%w: a token key of at least 32 bytes is required", ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	loc := cfg.Location
	if loc == nil {
		if loc, err = time.LoadLocation("Europe/Paris"); err != nil {
			return nil, fmt.Errorf("notify: time zone: %w", err)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Notifier{
		st: st, sender: sender, cfg: cfg, loc: loc, tmpl: t, log: logger,
		publicURL: strings.TrimRight(u.String(), "/"), host: u.Hostname(),
	}, nil
}

// MaxBatch is how many emails of one kind a mail worker takes at once: it
// loads them in one read transaction, sends them over one SMTP connection
// and records them in one write transaction.
const MaxBatch = 50

// Register adds the handlers of the mail job kinds to r: every per-person
// email as a batch handler, the digest one at a time.
func (n *Notifier) Register(r *jobs.Runner) {
	r.HandleBatch(jobs.KindMailActivate, MaxBatch, n.batch(n.loadToken(store.PurposeActivate, emailActivate)))
	r.HandleBatch(jobs.KindMailReset, MaxBatch, n.batch(n.loadToken(store.PurposeReset, emailReset)))
	r.HandleBatch(jobs.KindMailAccess, MaxBatch, n.batch(n.loadAccess))
	r.HandleBatch(jobs.KindMailPasswordChanged, MaxBatch, n.batch(n.loadSecurityNotice(emailPasswordChanged)))
	r.HandleBatch(jobs.KindMailMFAReset, MaxBatch, n.batch(n.loadSecurityNotice(emailMFAReset)))
	r.HandleBatch(jobs.KindMailRecoveryUsed, MaxBatch, n.batch(n.loadSecurityNotice(emailRecoveryUsed)))
	r.HandleBatch(jobs.KindMailEmailChanged, MaxBatch, n.batch(n.loadEmailChanged))
	r.HandleBatch(jobs.KindMailReminder, MaxBatch, n.batch(n.loadToken(store.PurposeActivate, emailReminder)))
	r.Handle(jobs.KindMailDigest, n.handleDigest)
}

// loadFunc loads, in a read transaction, what a job's email needs into
// out, or sets out.skip.
type loadFunc func(ctx context.Context, tx store.Tx, out *outgoing) error

// loader checks a job's payload and returns its loadFunc; an error is
// permanent (the payload will not change).
type loader func(job store.Job) (loadFunc, error)

// single is the one-job handler of a kind.
func (n *Notifier) single(ld loader) func(context.Context, store.Job) error {
	return func(ctx context.Context, job store.Job) error {
		load, err := ld(job)
		if err != nil {
			return err
		}
		return n.prepare(ctx, job, load)
	}
}

// emailData is what every template sees. Every string is plain text; the
// HTML templates escape it.
type emailData struct {
	Lang      string
	Name      string // how to greet the person
	Username  string
	Structure string
	Contact   string
	// ReplyTo is where a reply goes (the Reply-To header): the
	// structure's contact when it is one address, except on the digest,
	// which goes to that contact. The footers say so; empty: do not reply.
	ReplyTo      string
	Services     []serviceView
	ServiceNames string
	Link         string // an emailed-link, under PublicURL
	Expiry       string
	When         string
	Invited      bool
	PublicURL    string
	ForgotLink   string
	NewEmail     string // the account's address now (mail.email-changed)
	// The weekly digest: who has not activated (at most digestMax),
	// how many more, how many in all and how many links expired.
	People  []pendingView
	More    int
	Pending int
	Expired int
}

type serviceView struct{ Name, URL string }

// outgoing is what a handler found in the store: the email to send, or
// why there is none.
type outgoing struct {
	person store.Person
	email  string // template name
	data   emailData
	skip   string // not empty: do not send, for this reason
	sent   bool   // an earlier attempt's message was accepted already
}

// prepare runs load in one read transaction (a consistent view, and one
// transaction rather than one per lookup), then checks whether this job's
// message already went out, and sends it unless it did or must not.
func (n *Notifier) prepare(ctx context.Context, job store.Job, load loadFunc) error {
	var out outgoing
	err := n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		out = outgoing{}
		return n.load(ctx, tx, job, load, &out)
	})
	if err != nil {
		return err
	}
	if !n.toSend(job, out) {
		return nil
	}
	return n.deliver(ctx, job, out.person, out.email, out.data)
}

// load runs load for job inside tx, then checks whether this job's message
// already went out (unless this is the job's first run).
func (n *Notifier) load(ctx context.Context, tx store.Tx, job store.Job, load loadFunc, out *outgoing) error {
	if err := load(ctx, tx, out); err != nil || out.skip != "" {
		return err
	}
	if job.Attempts <= 1 && job.LastError == "" {
		// The job's first run: no earlier attempt can have sent its
		// message (a retry, a reclaim after an expired lease and a requeue
		// of a dead job all come with more attempts or a last error).
		return nil
	}
	prev, err := tx.ListAudit(ctx, store.AuditFilter{Target: auditTargetPfx + n.messageID(job), Action: auditMailSent, Limit: 1})
	if err != nil {
		return fmt.Errorf("notify: job %d: check earlier sending: %w", job.ID, err)
	}
	out.sent = len(prev) > 0
	return nil
}

// toSend reports whether out is to be sent, logging why not.
func (n *Notifier) toSend(job store.Job, out outgoing) bool {
	switch {
	case out.skip != "":
		n.log.Info("notify: email not sent", "job", job.ID, "kind", job.Kind, "person", out.person.ID, "reason", out.skip)
		return false
	case out.sent:
		n.log.Info("notify: email already sent by an earlier attempt", "job", job.ID, "kind", job.Kind, "message_id", n.messageID(job))
		return false
	}
	return true
}

func (n *Notifier) handleToken(purpose store.TokenPurpose) func(context.Context, store.Job) error {
	email := emailActivate
	if purpose == store.PurposeReset {
		email = emailReset
	}
	return n.single(n.loadToken(purpose, email))
}

// handleTokenMail sends a link of the purpose with the email template.
func (n *Notifier) handleTokenMail(purpose store.TokenPurpose, email string) func(context.Context, store.Job) error {
	return n.single(n.loadToken(purpose, email))
}

// loadToken loads a link of the purpose for the email template.
func (n *Notifier) loadToken(purpose store.TokenPurpose, email string) loader {
	path := "/activate/"
	if purpose == store.PurposeReset {
		path = "/reset/"
	}
	return func(job store.Job) (loadFunc, error) {
		var p jobs.TokenMail
		if err := json.Unmarshal(job.Payload, &p); err != nil || p.PersonID == "" || p.Nonce == "" {
			return nil, jobs.Permanent(fmt.Errorf("notify: job %d: payload is not a token mail: %q", job.ID, job.Payload))
		}
		secret := n.cfg.Tokens.Secret(p.Nonce)
		return func(ctx context.Context, tx store.Tx, out *outgoing) error {
			if err := n.person(ctx, tx, job, p.PersonID, out); err != nil || out.skip != "" {
				return err
			}
			tok, err := tx.GetToken(ctx, onboarding.Hash(secret))
			switch {
			case errors.Is(err, store.ErrNotFound):
				out.skip = "the link's token was replaced or removed"
				return nil
			case err != nil:
				return fmt.Errorf("notify: job %d: token: %w", job.ID, err)
			case tok.PersonID != out.person.ID || tok.Purpose != purpose:
				return jobs.Permanent(fmt.Errorf("notify: job %d: token belongs to another person or purpose", job.ID))
			case !tok.UsedAt.IsZero():
				out.skip = "the link was already used"
				return nil
			case !n.cfg.Now().Before(tok.ExpiresAt):
				out.skip = "the link has expired"
				return nil
			}
			st, err := n.structureOf(ctx, tx, out.person.ID, p.StructureID)
			if err != nil {
				return err
			}
			out.email, out.data = email, n.baseData(out.person, st)
			out.data.Link = n.publicURL + path + secret
			out.data.Expiry = i18n.DateTime(tok.ExpiresAt, n.loc, out.data.Lang)
			if purpose == store.PurposeActivate && st.ID != "" && email != emailReset {
				if out.data.Services, err = n.services(ctx, tx, out.person.ID, st.ID, nil); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
}

func (n *Notifier) handleAccess(ctx context.Context, job store.Job) error {
	return n.single(n.loadAccess)(ctx, job)
}

func (n *Notifier) loadAccess(job store.Job) (loadFunc, error) {
	var p jobs.AccessMail
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.PersonID == "" || p.StructureID == "" {
		return nil, jobs.Permanent(fmt.Errorf("notify: job %d: payload is not an access mail: %q", job.ID, job.Payload))
	}
	return func(ctx context.Context, tx store.Tx, out *outgoing) error {
		if err := n.person(ctx, tx, job, p.PersonID, out); err != nil || out.skip != "" {
			return err
		}
		st, err := n.structureOf(ctx, tx, out.person.ID, p.StructureID)
		if err != nil {
			return err
		}
		if st.ID == "" {
			out.skip = "the structure no longer exists"
			return nil
		}
		svcs, err := n.services(ctx, tx, out.person.ID, st.ID, p.ServiceIDs)
		if err != nil {
			return err
		}
		if len(svcs) == 0 {
			out.skip = "the person no longer has any of these services"
			return nil
		}
		out.email, out.data = emailAccess, n.baseData(out.person, st)
		out.data.Services = svcs
		return nil
	}, nil
}

func (n *Notifier) handlePasswordChanged(ctx context.Context, job store.Job) error {
	return n.single(n.loadSecurityNotice(emailPasswordChanged))(ctx, job)
}

// loadSecurityNotice loads a notice of a change to a person's
// credentials (email: their password changed, their second factor was
// reset): when, and whom of their structures' contacts to tell if it was
// not them.
func (n *Notifier) loadSecurityNotice(email string) loader {
	return func(job store.Job) (loadFunc, error) { return n.loadNotice(job, email) }
}

// loadEmailChanged tells a person, at the address they had, that their
// account's email changed, and to what: if it was not them, whoever has the
// new address can reset the password from then on, so they are to warn the
// structure's contact at once.
func (n *Notifier) loadEmailChanged(job store.Job) (loadFunc, error) {
	var c jobs.EmailChange
	if err := json.Unmarshal(job.Payload, &c); err != nil || c.PersonID == "" || c.Former == "" {
		return nil, jobs.Permanent(fmt.Errorf("notify: job %d: payload is not an email change: %q", job.ID, job.Payload))
	}
	// Sent even when the account is disabled now: whoever has the new
	// address can reset the password once it is enabled again, and a
	// disable around the change must not keep the owner from knowing.
	load, err := n.loadNoticeTo(job, emailEmailChanged, true)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx store.Tx, out *outgoing) error {
		if err := load(ctx, tx, out); err != nil || out.skip != "" {
			return err
		}
		if strings.EqualFold(strings.TrimSpace(out.person.Email), strings.TrimSpace(c.Former)) {
			// Changed back before this job ran (a typo corrected).
			out.skip = "the account's address is the former one again"
			return nil
		}
		out.data.NewEmail, out.person.Email = out.person.Email, c.Former
		return nil
	}, nil
}

func (n *Notifier) loadNotice(job store.Job, email string) (loadFunc, error) {
	return n.loadNoticeTo(job, email, false)
}

// loadNoticeTo is loadNotice; evenDisabled sends it to a disabled person too.
func (n *Notifier) loadNoticeTo(job store.Job, email string, evenDisabled bool) (loadFunc, error) {
	var p jobs.PersonRef
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.PersonID == "" {
		return nil, jobs.Permanent(fmt.Errorf("notify: job %d: payload is not a person: %q", job.ID, job.Payload))
	}
	return func(ctx context.Context, tx store.Tx, out *outgoing) error {
		if err := n.person(ctx, tx, job, p.PersonID, out); err != nil {
			return err
		}
		if evenDisabled && out.skip == skipDisabled {
			out.skip = ""
		}
		if out.skip != "" {
			return nil
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: out.person.ID})
		if err != nil {
			return fmt.Errorf("notify: job %d: memberships: %w", job.ID, err)
		}
		var contacts []string
		for _, m := range ms {
			s, err := tx.GetStructure(ctx, m.StructureID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("notify: job %d: structure: %w", job.ID, err)
			}
			if c := oneLine(s.Contact); c != "" && !slices.Contains(contacts, c) {
				contacts = append(contacts, c)
			}
		}
		out.email, out.data = email, n.baseData(out.person, store.Structure{})
		or := " ou "
		if out.data.Lang == "en" {
			or = " or "
		}
		out.data.Contact = strings.Join(contacts, or)
		when := out.person.PasswordChangedAt
		if when.IsZero() || email != emailPasswordChanged {
			when = job.CreatedAt
		}
		out.data.When = i18n.DateTime(when, n.loc, out.data.Lang)
		return nil
	}, nil
}

// afterSend is the context of the store calls that record messages the
// server accepted: they outlive a cancelled handler (a stop, the lease's
// deadline), or the retry would send the messages again.
func afterSend(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// skipDisabled is why an email to a disabled person is not sent.
const skipDisabled = "the person is disabled"

// person loads the job's person into out, or sets out.skip when there is
// nobody to write to (gone, disabled, no address).
func (n *Notifier) person(ctx context.Context, tx store.Tx, job store.Job, id string, out *outgoing) error {
	p, err := tx.GetPerson(ctx, id)
	out.person = p
	switch {
	case errors.Is(err, store.ErrNotFound):
		out.person.ID, out.skip = id, "the person no longer exists"
	case err != nil:
		return fmt.Errorf("notify: job %d: person: %w", job.ID, err)
	case p.State == store.StateDisabled:
		out.skip = skipDisabled
	case p.Email == "":
		out.skip = "the person has no email address"
	}
	return nil
}

// structureOf returns the structure id names, or the person's first
// structure when id is empty; a zero Structure when there is none.
func (n *Notifier) structureOf(ctx context.Context, tx store.Tx, personID, id string) (store.Structure, error) {
	if id == "" {
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: personID})
		if err != nil {
			return store.Structure{}, fmt.Errorf("notify: memberships: %w", err)
		}
		if len(ms) == 0 {
			return store.Structure{}, nil
		}
		id = ms[0].StructureID
	}
	s, err := tx.GetStructure(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Structure{}, nil
	}
	if err != nil {
		return store.Structure{}, fmt.Errorf("notify: structure: %w", err)
	}
	return s, nil
}

// services lists the services of the structure the person holds a grant
// on, restricted to only when it is not empty, ordered by name.
func (n *Notifier) services(ctx context.Context, tx store.Tx, personID, structureID string, only []string) ([]serviceView, error) {
	grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: personID, StructureID: structureID})
	if err != nil {
		return nil, fmt.Errorf("notify: grants: %w", err)
	}
	var out []serviceView
	for _, g := range grants {
		if len(only) > 0 && !slices.Contains(only, g.ServiceID) {
			continue
		}
		s, err := tx.GetService(ctx, g.ServiceID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notify: service: %w", err)
		}
		out = append(out, serviceView{Name: oneLine(s.Name), URL: displayURL(s.BaseURL)})
	}
	slices.SortFunc(out, func(a, b serviceView) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

func (n *Notifier) baseData(p store.Person, s store.Structure) emailData {
	lang := "fr"
	if strings.EqualFold(strings.TrimSpace(p.Language), "en") {
		lang = "en"
	}
	name := cmp.Or(oneLine(p.GivenName), oneLine(p.DisplayName), oneLine(p.Username))
	return emailData{
		Lang: lang, Name: name, Username: oneLine(p.Username),
		Structure: oneLine(s.Name), Contact: oneLine(s.Contact),
		Invited:   p.State == store.StateInvited,
		PublicURL: n.publicURL, ForgotLink: n.publicURL + "/forgot",
	}
}

// messageID is the stable Message-ID of a job's email.
func (n *Notifier) messageID(job store.Job) string {
	return fmt.Sprintf("<job-%d.%s@%s>", job.ID, job.Kind, n.host)
}

// Audit vocabulary of sent emails.
const (
	auditActor     = "notify"
	auditMailSent  = "mail.sent"
	auditTargetPfx = "mail:"
)

// maybeDeliveredNote marks the error of an attempt whose message may have
// reached the server (its data was sent, the answer was lost). The runner
// keeps the error as the job's last error, where the next attempt finds it.
const maybeDeliveredNote = "the SMTP server may have accepted the message before the connection dropped"

// deliver renders the email, sends it and records that it was sent.
//
// Two windows can make a person receive the same email twice (same link,
// same Message-ID), and each is logged as a warning when the retry runs:
// a crash between the server's acceptance and the mail.sent audit record
// (the earlier attempt left no error), and a reply lost after the message's
// data was sent (the earlier attempt's error carries maybeDeliveredNote).
func (n *Notifier) deliver(ctx context.Context, job store.Job, p store.Person, email string, data emailData) error {
	msg, err := n.compose(job, p, email, data)
	if err != nil {
		return err
	}
	if err := n.sendResult(job, n.sender.Send(ctx, msg)); err != nil {
		return err
	}
	actx, cancel := afterSend(ctx)
	defer cancel()
	if err := n.st.AppendAudit(actx, n.sentEntry(job, p, data)); err != nil {
		// The message is out but not recorded: this retry will send it again
		// (the documented window).
		return fmt.Errorf("notify: job %d: sent, but recording it failed: %w", job.ID, err)
	}
	n.log.Info("notify: email sent", "job", job.ID, "kind", job.Kind, "person", p.ID, "message_id", n.messageID(job))
	return nil
}

// compose warns of a possible duplicate when an earlier attempt may have
// sent the message, then renders it.
func (n *Notifier) compose(job store.Job, p store.Person, email string, data emailData) (mail.Message, error) {
	id := n.messageID(job)
	if job.Attempts > 1 && job.LastError == "" {
		n.log.Warn("notify: an earlier attempt stopped without a result; the person may receive this email twice",
			"job", job.ID, "kind", job.Kind, "message_id", id, "attempts", job.Attempts)
	}
	if strings.Contains(job.LastError, maybeDeliveredNote) {
		n.log.Warn("notify: an earlier attempt's message may have been delivered (its data was sent, the server's answer was lost); the person may receive this email twice",
			"job", job.ID, "kind", job.Kind, "message_id", id, "attempts", job.Attempts)
	}
	data.ServiceNames = serviceNames(data.Services, data.Lang)
	// A reply reaches the structure's contact, when it is one address (the
	// digest goes to that contact: no Reply-To there).
	if email != emailDigest && data.Contact != "" {
		if a, err := netmail.ParseAddress(data.Contact); err == nil {
			data.ReplyTo = a.Address
		}
	}
	r, err := n.tmpl.render(data.Lang, email, data)
	if err != nil {
		return mail.Message{}, jobs.Permanent(err)
	}
	toName := cmp.Or(oneLine(p.DisplayName), oneLine(strings.TrimSpace(p.GivenName+" "+p.FamilyName)))
	headers := map[string]string{"X-Auto-Response-Suppress": "All"}
	if data.ReplyTo != "" {
		headers["Reply-To"] = data.ReplyTo
	}
	return mail.Message{
		MessageID: id, From: n.cfg.From, To: p.Email, ToName: toName,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Date: n.cfg.Now(),
		Headers: headers,
	}, nil
}

// sendResult turns the sender's result for job's message into the job's.
func (n *Notifier) sendResult(job store.Job, err error) error {
	if err == nil {
		return nil
	}
	if mail.MaybeDelivered(err) || strings.Contains(job.LastError, maybeDeliveredNote) {
		// Keep the mark until an attempt succeeds, so that the attempt
		// which finally sends still warns.
		err = fmt.Errorf("%s: %w", maybeDeliveredNote, err)
	}
	if mail.IsPermanent(err) {
		return jobs.Permanent(fmt.Errorf("notify: job %d: %w", job.ID, err))
	}
	return fmt.Errorf("notify: job %d: %w", job.ID, err)
}

// sentEntry is the audit record of job's message having been sent.
func (n *Notifier) sentEntry(job store.Job, p store.Person, data emailData) *store.AuditEntry {
	return &store.AuditEntry{
		Time: n.cfg.Now(), Actor: auditActor, Action: auditMailSent, Target: auditTargetPfx + n.messageID(job),
		Details: map[string]any{"job_id": job.ID, "kind": job.Kind, "person_id": p.ID, "lang": data.Lang},
	}
}

// batch is the batch handler of a kind: it loads every job's email in one
// read transaction, sends those to send over one connection (see
// mail.SendEach), and records the sent ones in one write transaction. Each
// job gets the result a lone run would have given it: exactly-once per
// email rests on the same audit record and Message-ID.
func (n *Notifier) batch(ld loader) jobs.BatchHandler {
	return func(ctx context.Context, js []store.Job) []error {
		errs := make([]error, len(js))
		loads := make([]loadFunc, len(js))
		for i, j := range js {
			loads[i], errs[i] = ld(j)
		}
		outs := make([]outgoing, len(js))
		loadErrs := make([]error, len(js))
		err := n.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			tx = &cachedTx{Tx: tx, structures: map[string]store.Structure{}, services: map[string]store.Service{}}
			for i, j := range js {
				outs[i], loadErrs[i] = outgoing{}, nil
				if errs[i] == nil {
					loadErrs[i] = n.load(ctx, tx, j, loads[i], &outs[i])
				}
			}
			return nil
		})
		var (
			msgs []mail.Message
			idx  []int
		)
		for i, j := range js {
			switch {
			case errs[i] != nil:
				continue
			case err != nil:
				errs[i] = err
				continue
			case loadErrs[i] != nil:
				errs[i] = loadErrs[i]
				continue
			case !n.toSend(j, outs[i]):
				continue
			}
			m, err := n.compose(j, outs[i].person, outs[i].email, outs[i].data)
			if err != nil {
				errs[i] = err
				continue
			}
			msgs = append(msgs, m)
			idx = append(idx, i)
		}
		if len(msgs) == 0 {
			return errs
		}
		var sent []int
		for k, serr := range mail.SendEach(ctx, n.sender, msgs) {
			i := idx[k]
			if errs[i] = n.sendResult(js[i], serr); errs[i] == nil {
				sent = append(sent, i)
			}
		}
		if len(sent) == 0 {
			return errs
		}
		actx, cancel := afterSend(ctx)
		defer cancel()
		err = n.st.InTx(actx, func(ctx context.Context, tx store.Tx) error {
			for _, i := range sent {
				if err := tx.AppendAudit(ctx, n.sentEntry(js[i], outs[i].person, outs[i].data)); err != nil {
					return err
				}
			}
			return nil
		})
		for _, i := range sent {
			if err != nil {
				// The messages are out but not recorded: their retries will
				// send them again (the documented window).
				errs[i] = fmt.Errorf("notify: job %d: sent, but recording it failed: %w", js[i].ID, err)
				continue
			}
			n.log.Info("notify: email sent", "job", js[i].ID, "kind", js[i].Kind, "person", outs[i].person.ID, "message_id", n.messageID(js[i]))
		}
		return errs
	}
}

// cachedTx remembers the structures and services read through it: the
// emails of a batch mostly name the same few, read once per batch.
type cachedTx struct {
	store.Tx
	structures map[string]store.Structure
	services   map[string]store.Service
}

func (c *cachedTx) GetStructure(ctx context.Context, id string) (store.Structure, error) {
	if s, ok := c.structures[id]; ok {
		return s, nil
	}
	s, err := c.Tx.GetStructure(ctx, id)
	if err == nil {
		c.structures[id] = s
	}
	return s, err
}

func (c *cachedTx) GetService(ctx context.Context, id string) (store.Service, error) {
	if s, ok := c.services[id]; ok {
		return s, nil
	}
	s, err := c.Tx.GetService(ctx, id)
	if err == nil {
		c.services[id] = s
	}
	return s, err
}

// serviceNames joins names the way a sentence lists them.
func serviceNames(s []serviceView, lang string) string {
	and := " et "
	if lang == "en" {
		and = " and "
	}
	names := make([]string, len(s))
	for i, v := range s {
		names[i] = v.Name
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + and + names[len(names)-1]
}

// oneLine flattens line breaks and control characters into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029
	}), " ")
}

// displayURL returns an http(s) URL worth showing as text, or "".
func displayURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}
