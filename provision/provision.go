package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"sesame/internal/apps"
	"sesame/internal/jobs"
	"sesame/internal/netguard"
	"sesame/internal/secretbox"
	"sesame/internal/store"
)

// Store is what provisioning needs of the store.
type Store interface {
	GetService(ctx context.Context, id string) (store.Service, error)
	GetPerson(ctx context.Context, id string) (store.Person, error)
	GetPersonByUsername(ctx context.Context, username string) (store.Person, error)
	GetPersonByEmail(ctx context.Context, email string) (store.Person, error)
	ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error)
	GetProvision(ctx context.Context, personID, serviceID string) (store.Provision, error)
	PutProvision(ctx context.Context, p store.Provision) error
	AppendAudit(ctx context.Context, e *store.AuditEntry) error
}

// Config configures a Provisioner.
type Config struct {
	// Timeout bounds each request to an application; zero means the
	// connectors' default (30 s).
	Timeout time.Duration
	// HTTPClient, when set, is the transport of every connector (tests).
	HTTPClient *http.Client
	// GuardedHTTPClient is the transport of the connectors of a service
	// whose address a referent gave (store.Service.ReferentAddress): it
	// refuses to connect to an internal network, after resolution, and
	// uses no proxy. Default: netguard.Client.
	GuardedHTTPClient *http.Client
}

// Provisioner runs the provisioning jobs.
type Provisioner struct {
	st  Store
	box *secretbox.Box
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	conns map[string]cachedConnector // by service id
}

// cachedConnector is a connector (and its connection pool) kept while its
// service is unchanged.
type cachedConnector struct {
	updated time.Time
	conn    apps.Connector
}

// New returns a Provisioner over st; master is sesame's master key.
func New(st Store, master []byte, cfg Config, logger *slog.Logger) (*Provisioner, error) {
	box, err := Box(master)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.GuardedHTTPClient == nil {
		cfg.GuardedHTTPClient = netguard.Client(0) // one pool for every such service
	}
	return &Provisioner{st: st, box: box, cfg: cfg, log: logger, conns: map[string]cachedConnector{}}, nil
}

// Register makes r run the provisioning jobs.
func (p *Provisioner) Register(r *jobs.Runner) {
	r.Handle(jobs.KindProvisionAccount, p.HandleAccount)
}

// connector returns svc's connector, reusing the one made for the same
// version of the service (so its keep-alive connections are reused).
func (p *Provisioner) connector(svc store.Service) (apps.Connector, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[svc.ID]; ok && c.updated.Equal(svc.UpdatedAt) {
		return c.conn, nil
	}
	hc := p.cfg.HTTPClient
	if svc.ReferentAddress {
		hc = p.cfg.GuardedHTTPClient
	}
	conn, err := Connector(p.box, svc, apps.Config{Timeout: p.cfg.Timeout, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	p.conns[svc.ID] = cachedConnector{updated: svc.UpdatedAt, conn: conn}
	return conn, nil
}

// account is the desired state of person's account in svc's application.
func account(person store.Person, svc store.Service, role string, enabled bool, prev store.Provision) apps.Account {
	a := apps.Account{
		Username: person.Username, Email: person.Email,
		GivenName: person.GivenName, FamilyName: person.FamilyName, DisplayName: person.DisplayName,
		Quota: person.Quota, Language: person.Language, Enabled: enabled,
		RemoteID: prev.RemoteID, Owned: prev.Owned,
		Role: role,
	}
	kind := apps.Of(svc)
	if kind.AccountRole != nil {
		// E.g. Paheko: the role is a category name; the application wants its id.
		a.Role = kind.AccountRole(svc, role)
	}
	if !kind.Quota {
		a.Quota = ""
	}
	return a
}

// HandleAccount is the handler of jobs.KindProvisionAccount.
func (p *Provisioner) HandleAccount(ctx context.Context, j store.Job) error {
	var ref jobs.ProvisionRef
	if err := json.Unmarshal(j.Payload, &ref); err != nil || ref.PersonID == "" || ref.ServiceID == "" {
		return jobs.Permanent(fmt.Errorf("provision: bad payload %q", j.Payload))
	}
	svc, err := p.st.GetService(ctx, ref.ServiceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the service was removed: nothing to converge
	}
	if err != nil {
		return err
	}
	if svc.ProvisioningSecret == nil {
		return nil // credentials removed since: nothing to converge
	}
	person, err := p.st.GetPerson(ctx, ref.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		if ref.Gone != nil {
			return p.removeGone(ctx, ref.PersonID, svc, *ref.Gone)
		}
		return nil // deleted: the job queued at the deletion sees to it
	}
	if err != nil {
		return err
	}
	prev, err := p.st.GetProvision(ctx, person.ID, svc.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// An account sesame may have made (a create with no clear answer
	// records Owned without an id) counts as known: it must be looked up
	// and have its access taken away once the grant ends.
	known := err == nil && (prev.RemoteID != "" || prev.Owned)
	grants, err := p.st.ListGrants(ctx, store.GrantFilter{PersonID: person.ID, ServiceID: svc.ID})
	if err != nil {
		return err
	}
	enabled := len(grants) == 1 && person.State != store.StateDisabled
	// Removal names the role last written (connectors check it is one of
	// the kind's), or the service's default.
	role := prev.Role
	if len(grants) == 1 {
		role = grants[0].Role
	}
	if role == "" {
		role = svc.DefaultRole
	}
	if !enabled && !known {
		// No grant and no account sesame knows of: nothing to take away.
		return p.record(ctx, store.Provision{PersonID: person.ID, ServiceID: svc.ID, Status: store.ProvisionDone,
			Owned: prev.Owned})
	}
	conn, err := p.connector(svc)
	if err != nil {
		_ = p.record(ctx, store.Provision{PersonID: person.ID, ServiceID: svc.ID, Status: store.ProvisionFailed,
			RemoteID: prev.RemoteID, Owned: prev.Owned, Role: prev.Role, Message: err.Error()})
		return jobs.Permanent(err)
	}
	a := account(person, svc, role, enabled, prev)
	var res apps.Result
	if enabled {
		res, err = conn.Ensure(ctx, a)
	} else {
		res, err = conn.Remove(ctx, a)
	}
	if err != nil {
		return p.failed(ctx, person, svc, prev, err)
	}
	rec := store.Provision{PersonID: person.ID, ServiceID: svc.ID, Status: store.ProvisionDone,
		RemoteID: res.RemoteID, Owned: res.Owned}
	if rec.RemoteID == "" {
		rec.RemoteID = prev.RemoteID
	}
	if enabled {
		rec.Role = role
	}
	if res.Outcome == apps.OutcomeLinked {
		rec.Message = "linked-unmanaged"
	}
	if res.Manual != nil {
		rec.Status, rec.Message = store.ProvisionManual, res.Manual.String()
	}
	if err := p.record(ctx, rec); err != nil {
		return err
	}
	switch res.Outcome {
	case apps.OutcomeUnchanged, apps.OutcomeAbsent:
	default:
		_ = p.st.AppendAudit(ctx, &store.AuditEntry{Actor: "provision", Action: "provision." + string(res.Outcome),
			Target: "person:" + person.ID, Details: map[string]any{"service": svc.ID, "kind": string(svc.Kind),
				"remote_id": rec.RemoteID, "changed": res.Changed}})
	}
	return nil
}

// removeGone takes access away from the account of a person deleted from
// the store (the job manage queues at the deletion), as a disable does:
// the account stays, disabled or without roles, or, for Paheko, the step
// left to a person is written to the audit log (their provisioning record
// went with them). If the account is someone else's now (deleted, then
// imported anew before this job ran: see reused), their own job converges
// it, and this one leaves it alone.
func (p *Provisioner) removeGone(ctx context.Context, personID string, svc store.Service, g jobs.GoneAccount) error {
	if g.Username == "" {
		return jobs.Permanent(fmt.Errorf("provision: a deleted person without a username (job for %s)", personID))
	}
	if taken, err := p.reused(ctx, svc, g.GonePerson); err != nil || taken {
		if taken {
			p.log.Info("provision: a deleted person's username or email is someone's again; the account is left to them",
				"service", svc.Slug, "username", g.Username)
		}
		return err
	}
	role := g.Role
	if role == "" {
		role = svc.DefaultRole
	}
	person := store.Person{ID: personID, Username: g.Username, Email: g.Email, GivenName: g.GivenName,
		FamilyName: g.FamilyName, DisplayName: g.DisplayName, State: store.StateDisabled}
	prev := store.Provision{RemoteID: g.RemoteID, Owned: g.Owned, Role: g.Role}
	auditGone := func(action string, details map[string]any) {
		details["service"], details["kind"], details["username"] = svc.ID, string(svc.Kind), g.Username
		_ = p.st.AppendAudit(ctx, &store.AuditEntry{Actor: "provision", Action: action,
			Target: "person:" + personID, Details: details})
	}
	conn, err := p.connector(svc)
	if err != nil {
		auditGone("provision.failed", map[string]any{"error": err.Error()})
		return jobs.Permanent(err)
	}
	res, err := conn.Remove(ctx, account(person, svc, role, false, prev))
	if err != nil {
		if !apps.IsRetryable(err) {
			auditGone("provision.failed", map[string]any{"error": describe(err)})
			err = jobs.Permanent(err)
		}
		p.log.Warn("provision: could not take a deleted person's access away", "service", svc.Slug,
			"kind", svc.Kind, "username", g.Username, "retry", !jobs.IsPermanent(err), "err", err)
		return err
	}
	switch {
	case res.Manual != nil:
		auditGone("provision."+string(res.Outcome), map[string]any{"remote_id": res.RemoteID, "manual": res.Manual.String()})
		p.log.Warn("provision: a deleted person's account needs a hand in the application", "service", svc.Slug,
			"username", g.Username, "todo", res.Manual.EN)
	case res.Outcome == apps.OutcomeUnchanged, res.Outcome == apps.OutcomeAbsent:
	default:
		auditGone("provision."+string(res.Outcome), map[string]any{"remote_id": res.RemoteID, "changed": res.Changed})
	}
	return nil
}

// reused reports whether the account svc's application holds for g is
// someone else's now: a person of the store with g's username (or, where
// the connector finds accounts by email too, g's email) whose own job
// converges it, since they have a grant or a record on svc. A person with
// neither has no job that would ever touch it.
func (p *Provisioner) reused(ctx context.Context, svc store.Service, g jobs.GonePerson) (bool, error) {
	q, err := p.st.GetPersonByUsername(ctx, g.Username)
	if errors.Is(err, store.ErrNotFound) && g.Email != "" && apps.Of(svc).ByEmail {
		q, err = p.st.GetPersonByEmail(ctx, g.Email)
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	gs, err := p.st.ListGrants(ctx, store.GrantFilter{PersonID: q.ID, ServiceID: svc.ID})
	if err != nil || len(gs) > 0 {
		return len(gs) > 0, err
	}
	_, err = p.st.GetProvision(ctx, q.ID, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// failed records a failed call: retryable ones stay pending (the runner
// retries with backoff), others are final until someone acts.
func (p *Provisioner) failed(ctx context.Context, person store.Person, svc store.Service, prev store.Provision, err error) error {
	rec := store.Provision{PersonID: person.ID, ServiceID: svc.ID, Status: store.ProvisionPending,
		RemoteID: prev.RemoteID, Owned: prev.Owned, Role: prev.Role, Message: describe(err)}
	var ae *apps.Error
	if errors.As(err, &ae) && ae.MayHaveCreated {
		// The create may have happened: the account found next time is ours.
		rec.Owned = true
	}
	if !apps.IsRetryable(err) {
		rec.Status = store.ProvisionFailed
		err = jobs.Permanent(err)
	}
	if rerr := p.record(ctx, rec); rerr != nil {
		return errors.Join(err, rerr)
	}
	p.log.Warn("provision: application refused or did not answer", "service", svc.Slug, "kind", svc.Kind,
		"person", person.ID, "retry", rec.Status == store.ProvisionPending, "err", err)
	return err
}

// describe is the message recorded for a failure: the application's own
// words and, when the connector knows, what to do.
func describe(err error) string {
	var ae *apps.Error
	if !errors.As(err, &ae) {
		return err.Error()
	}
	msg := ae.Error()
	if !ae.Hint.IsZero() {
		msg += "\n" + ae.Hint.String()
	}
	return strings.TrimSpace(msg)
}

func (p *Provisioner) record(ctx context.Context, rec store.Provision) error {
	if err := p.st.PutProvision(ctx, rec); err != nil {
		return fmt.Errorf("provision: record state: %w", err)
	}
	return nil
}
