package onboarding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// Importer runs imports against a store.
type Importer struct {
	Store   store.Store
	Tokens  *Tokens // issues activation tokens for new people
	Options Options
	Now     func() time.Time
	Logger  *slog.Logger
	// MaxAttempts bounds the re-runs after a uniqueness conflict with a
	// concurrent import (a username or email taken meanwhile); 0 means 8.
	MaxAttempts int

	// afterPlan, when set (by tests), runs inside the transaction between
	// the plan and its application, to let a concurrent change in.
	afterPlan func(ctx context.Context)
}

// Request is one import.
type Request struct {
	Structure   string // slug
	FileName    string
	Data        []byte
	Mode        store.ImportMode // "" means add
	DryRun      bool
	SkipInvalid bool   // apply the valid rows even when others have errors
	Actor       string // "cli:root", "admin:alice"...
	// Hoster is set when the hoster imports (the CLI, a hoster admin in
	// the browser): only then may a row link an account that belongs to
	// no structure (but the structure's own former member, whom its
	// referents may re-add), and the preview names the accounts it links
	// (see ComputePlan).
	Hoster bool
	// Self is the id of the person who imports (the web's signed-in
	// person; "" for the CLI): their own row changes nothing of their
	// account nor of their rights, as the person page refuses it.
	Self string
	Lang string // language of the report: "fr" (default) or "en"
	// Expect, when set, is the Fingerprint of the plan a person saw in a
	// preview: the import is applied only if the plan computed in its own
	// transaction is still that one, and otherwise fails with
	// ErrPlanChanged, changing and recording nothing (someone imported or
	// edited people meanwhile: preview again).
	Expect string
	// Address chooses which address receives the link when the file has
	// a work and a personal column: AddressWork (default) or
	// AddressPersonal.
	Address Address
	// Mapping reads columns no alias recognises as fields (header ->
	// field), on top of the mapping remembered for the structure. When the
	// import is applied, it is remembered for the structure's next
	// imports (a dry run, a preview or a refused file remembers nothing).
	Mapping map[string]Field
}

// Result is what an import did.
type Result struct {
	ImportID string
	Status   string // "applied", "dry-run" or "rejected"
	Report   Report
	Plan     *Plan
	// Fingerprint identifies the plan (see Plan.Fingerprint), for a later
	// Request.Expect.
	Fingerprint string
}

// Import statuses.
const (
	StatusApplied  = "applied"
	StatusDryRun   = "dry-run"
	StatusRejected = "rejected"
)

// ErrUnknownStructure means the request names no known structure.
var ErrUnknownStructure = errors.New("onboarding: unknown structure")

// ErrBadRequest means the request itself is wrong (an unknown mode).
var ErrBadRequest = errors.New("onboarding: bad request")

// ErrPlanChanged means the plan of an import is no longer the one its
// preview showed (Request.Expect): nothing was applied.
var ErrPlanChanged = errors.New("onboarding: the data changed since the preview")

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now().UTC()
	}
	return time.Now().UTC()
}

func (im *Importer) logger() *slog.Logger {
	if im.Logger != nil {
		return im.Logger
	}
	return slog.Default()
}

// Import parses the file, plans it against the store and, unless it is a dry
// run or the plan has errors (and invalid rows are not skipped), applies it:
// all in one transaction, which also records the import and an audit entry,
// dry runs and rejected files included (the record keeps the bounded report;
// a dry run's keeps only its counts). The plan is computed again inside
// that transaction, so a stale preview cannot be applied. When a concurrent
// import takes a username or an email meanwhile, the whole transaction is
// run again.
func (im *Importer) Import(ctx context.Context, req Request) (*Result, error) {
	st, err := im.resolve(ctx, &req)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(req.Data)
	digest := hex.EncodeToString(sum[:])
	attempts := im.MaxAttempts
	if attempts <= 0 {
		attempts = 8
	}
	var res *Result
	for attempt := 1; ; attempt++ {
		res = &Result{}
		err = im.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			return im.importTx(ctx, tx, st, req, digest, res)
		})
		if errors.Is(err, store.ErrConflict) && attempt < attempts {
			im.logger().Info("onboarding: import conflicted with a concurrent change, retrying",
				"structure", st.Slug, "attempt", attempt)
			continue
		}
		break
	}
	if err != nil {
		return nil, fmt.Errorf("onboarding: import %s: %w", st.Slug, err)
	}
	im.logger().Info("onboarding: import", "structure", st.Slug, "status", res.Status, "actor", req.Actor,
		"digest", digest, "mode", req.Mode, "summary", res.Report.Summary)
	return res, nil
}

// plan reads the file and plans it as seen from tx, into res (Plan and
// Fingerprint): what Preview shows and Import applies.
func (im *Importer) plan(ctx context.Context, tx store.Tx, st store.Structure, req Request, res *Result) (Options, error) {
	services, err := tx.ListServices(ctx, st.ID)
	if err != nil {
		return Options{}, fmt.Errorf("list services: %w", err)
	}
	sh, opts, err := im.parse(ctx, tx, st, services, req)
	if err != nil {
		return Options{}, err
	}
	plan, err := ComputePlan(ctx, tx, st, sh, req.Mode, req.Hoster, req.Self)
	if err != nil {
		return Options{}, err
	}
	res.Plan, res.Fingerprint = plan, plan.Fingerprint()
	return opts, nil
}

func (im *Importer) importTx(ctx context.Context, tx store.Tx, st store.Structure, req Request, digest string, res *Result) error {
	opts, err := im.plan(ctx, tx, st, req, res)
	if err != nil {
		return err
	}
	plan := res.Plan
	if im.afterPlan != nil {
		im.afterPlan(ctx)
	}
	if req.Expect != "" && req.Expect != res.Fingerprint {
		return ErrPlanChanged
	}
	switch {
	case len(plan.FileErrors) > 0 || (plan.HasErrors() && !req.SkipInvalid):
		res.Status = StatusRejected
	case req.DryRun:
		res.Status = StatusDryRun
	default:
		res.Status = StatusApplied
		if err := im.apply(ctx, tx, plan, req.Actor); err != nil {
			return err
		}
		if len(req.Mapping) > 0 {
			if err := tx.SetImportMapping(ctx, st.ID, mappingStrings(opts.Mapping)); err != nil {
				return fmt.Errorf("remember mapping: %w", err)
			}
		}
	}
	if req.DryRun && res.Status == StatusRejected {
		res.Status = StatusDryRun
	}
	res.Report = plan.Report(req.Lang)
	// The record keeps a bounded report of what was applied or refused
	// (Report.Stored); a dry run keeps its counts only.
	kept := res.Report.Stored()
	if req.DryRun {
		kept = res.Report.SummaryOnly()
	}
	report, err := json.Marshal(kept)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	rec := &store.Import{StructureID: st.ID, Actor: req.Actor, FileName: req.FileName, FileDigest: digest,
		Mode: req.Mode, DryRun: req.DryRun, Status: res.Status, Counts: plan.Counts(), Report: report,
		CreatedAt: im.now()}
	if err := tx.CreateImport(ctx, rec); err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	res.ImportID = rec.ID
	action := "import." + res.Status
	if res.Status == StatusApplied {
		action = "import.apply"
	}
	if err := tx.AppendAudit(ctx, &store.AuditEntry{Time: im.now(), Actor: req.Actor, Action: action,
		Target: "structure:" + st.Slug, Details: map[string]any{
			"import_id": rec.ID, "file": req.FileName, "digest": digest, "mode": string(req.Mode),
			"dry_run": req.DryRun, "skip_invalid": req.SkipInvalid, "address": string(cmpAddress(req.Address)), "status": res.Status, "counts": plan.Counts(),
		}}); err != nil {
		return fmt.Errorf("audit import: %w", err)
	}
	return nil
}

// apply writes a plan in tx: people, memberships, grants, activation tokens
// and the jobs that bring the directory, applications and mailboxes to the
// new state. Rows in error and unchanged rows are left alone.
//
// The rows' writes go in bulk, by groups of applyGroup rows (see
// writes): a group's new people in one CreatePeople, then each row's
// updates and deletions (rare: a re-import that changes people, a sync
// that disables them), then the group's memberships, grants, tokens and
// jobs in one call each. Provisioning, which reads the grants just
// written, is queued last. All of it is in the caller's transaction: a
// failure anywhere leaves nothing.
func (im *Importer) apply(ctx context.Context, tx store.Tx, plan *Plan, actor string) error {
	st := plan.Structure
	services := map[string]store.Service{}
	provisioned := false // a service of this structure has credentials
	for _, svc := range plan.Services {
		services[svc.ID] = svc
		provisioned = provisioned || svc.ProvisioningSecret != nil
	}
	var rows []*PlannedRow
	for i := range plan.Rows {
		pr := &plan.Rows[i]
		switch pr.Action {
		case ActError, ActUnchanged:
			continue
		}
		rows = append(rows, pr)
	}
	if len(rows) == 0 {
		return nil
	}
	now := im.now()
	for lo := 0; lo < len(rows); lo += applyGroup {
		group := rows[lo:min(lo+applyGroup, len(rows))]
		var w writes
		for _, pr := range group {
			if pr.isNew {
				w.people = append(w.people, &pr.person)
			}
		}
		if err := tx.CreatePeople(ctx, w.people); err != nil {
			return fmt.Errorf("create people: %w", err)
		}
		for _, pr := range group {
			if err := im.applyRow(ctx, tx, st, pr, &w, now, actor); err != nil {
				return fmt.Errorf("row %d (%s): %w", pr.Row, pr.Email, err)
			}
		}
		if lo+applyGroup >= len(rows) {
			first, err := firstApply(ctx, tx, st.ID)
			if err != nil {
				return err
			}
			if first {
				payload, _ := json.Marshal(jobs.StructureRef{StructureID: st.ID})
				w.jobs = append(w.jobs, &store.Job{Kind: jobs.KindLDAPStructure,
					DedupeKey: jobs.DedupeLDAPStructure(st.ID), Payload: payload})
			}
		}
		if err := w.flush(ctx, tx); err != nil {
			return err
		}
	}
	for _, pr := range rows {
		// A disabled person's accounts in other structures' services go too.
		if !provisioned && pr.person.State != store.StateDisabled {
			continue
		}
		if err := queueProvisioning(ctx, tx, services, pr.person, pr.delGrants); err != nil {
			return fmt.Errorf("row %d (%s): %w", pr.Row, pr.Email, err)
		}
	}
	return nil
}

// applyGroup is how many rows apply writes together: the rows of a group
// go in one call per table, and groups follow each other so that the
// pages each one writes (its people, then their memberships, grants,
// tokens and jobs) are still in the engine's cache.
var applyGroup = 1000

// writes gathers the rows of an import that go to the store in bulk.
type writes struct {
	people  []*store.Person // new, written first (the others refer to them)
	members []store.Membership
	grants  []store.Grant
	tokens  []store.Token
	jobs    []*store.Job // in the order the rows queue them
}

// flush writes the memberships, grants, tokens and jobs gathered.
func (w *writes) flush(ctx context.Context, tx store.Tx) error {
	if err := tx.PutMemberships(ctx, w.members); err != nil {
		return fmt.Errorf("put memberships: %w", err)
	}
	if err := tx.PutGrants(ctx, w.grants); err != nil {
		return fmt.Errorf("put grants: %w", err)
	}
	if err := tx.IssueTokens(ctx, w.tokens); err != nil {
		return fmt.Errorf("issue tokens: %w", err)
	}
	if _, err := tx.EnqueueJobs(ctx, w.jobs); err != nil {
		return fmt.Errorf("enqueue jobs: %w", err)
	}
	return nil
}

// firstApply reports whether the structure has never had an import applied,
// in which case its LDAP groups may be missing.
func firstApply(ctx context.Context, tx store.Tx, structureID string) (bool, error) {
	ims, err := tx.ListImports(ctx, structureID)
	if err != nil {
		return false, fmt.Errorf("list imports: %w", err)
	}
	for _, x := range ims {
		if x.Status == StatusApplied {
			return false, nil
		}
	}
	return true, nil
}

// applyRow writes a row's updates and deletions in tx and gathers the rest
// in w. A new person is already stored (CreatePeople).
func (im *Importer) applyRow(ctx context.Context, tx store.Tx, st store.Structure, pr *PlannedRow, w *writes, now time.Time, actor string) error {
	p := &pr.person
	if !pr.isNew && pr.fields {
		want := *p
		disabled := false
		if _, err := tx.UpdatePerson(ctx, p.ID, func(x *store.Person) error {
			disabled = x.State != store.StateDisabled && want.State == store.StateDisabled
			x.GivenName, x.FamilyName, x.DisplayName = want.GivenName, want.FamilyName, want.DisplayName
			x.Language, x.Quota, x.State = want.Language, want.Quota, want.State
			return nil
		}); err != nil {
			return fmt.Errorf("update person: %w", err)
		}
		if disabled {
			// The links already emailed stop working (enabled again, they
			// need a new one: Resend, or "forgotten password").
			if _, err := tx.RevokeTokens(ctx, p.ID); err != nil {
				return fmt.Errorf("revoke links: %w", err)
			}
			// Their sessions end everywhere, and the services are told.
			payload, _ := json.Marshal(jobs.PersonRef{PersonID: p.ID})
			w.jobs = append(w.jobs, &store.Job{Kind: jobs.KindOIDCEndSessions,
				DedupeKey: jobs.DedupeOIDCEndSessions(p.ID), Payload: payload})
		}
	}
	if err := deleteGrants(ctx, tx, p.ID, pr.delGrants); err != nil {
		return err
	}
	if pr.leaves {
		if err := tx.DeleteMembership(ctx, p.ID, st.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete membership: %w", err)
		}
		w.jobs = append(w.jobs, ldapPersonJob(p.ID))
		return nil
	}
	if pr.isNew || pr.linked {
		w.members = append(w.members, store.Membership{PersonID: p.ID, StructureID: st.ID, CreatedAt: now})
	}
	if pr.linked {
		// The import's own entry counts rows; this one names the person,
		// so that their history says how they came into the structure.
		if err := tx.AppendAudit(ctx, &store.AuditEntry{Time: now, Actor: actor, Action: "person.link",
			Target: "person:" + p.ID, Details: map[string]any{"structure": st.Slug}}); err != nil {
			return fmt.Errorf("audit link: %w", err)
		}
	}
	for _, g := range pr.putGrants {
		g.PersonID, g.CreatedAt = p.ID, now
		w.grants = append(w.grants, g)
	}
	w.jobs = append(w.jobs, ldapPersonJob(p.ID))
	if pr.isNew {
		if im.Tokens == nil {
			return errors.New("no token issuer configured")
		}
		tok, job, err := im.Tokens.prepare(p.ID, st.ID, store.PurposeActivate, jobs.KindMailActivate)
		if err != nil {
			return err
		}
		w.tokens, w.jobs = append(w.tokens, tok), append(w.jobs, &job)
		return nil
	}
	// An existing person linked to the structure or given a new service is
	// told so, unless they have not activated their account yet and are
	// not new to the structure (their activation email, this structure's,
	// covers it). One linked while invited holds another structure's
	// activation email, which lists that structure's services only: the
	// access email tells them of these, and to activate first.
	if (pr.linked || len(pr.newAccess) > 0) && (p.State != store.StateInvited || pr.linked) {
		w.jobs = append(w.jobs, accessMailJob(p.ID, st.ID, pr.newAccess))
	}
	return nil
}

// writeGrants puts (adds or changes the role of) and deletes a person's
// grants in tx.
func writeGrants(ctx context.Context, tx store.Tx, personID string, put []store.Grant, del []string, now time.Time) error {
	for _, g := range put {
		g.PersonID, g.CreatedAt = personID, now
		if err := tx.PutGrant(ctx, g); err != nil {
			return fmt.Errorf("put grant: %w", err)
		}
	}
	return deleteGrants(ctx, tx, personID, del)
}

// deleteGrants deletes a person's grants on the services del in tx.
func deleteGrants(ctx context.Context, tx store.Tx, personID string, del []string) error {
	for _, sid := range del {
		if err := tx.DeleteGrant(ctx, personID, sid); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete grant: %w", err)
		}
	}
	return nil
}

// queueAccessMail queues the email that tells a person they were given
// access to the structure or to its services serviceIDs.
func queueAccessMail(ctx context.Context, tx store.Tx, personID, structureID string, serviceIDs []string) error {
	if _, err := tx.EnqueueJob(ctx, accessMailJob(personID, structureID, serviceIDs)); err != nil {
		return fmt.Errorf("enqueue %s: %w", jobs.KindMailAccess, err)
	}
	return nil
}

// queueProvisioning queues, in tx, the jobs that bring a changed person's
// accounts in the applications to the new state: on every service of the
// structure they hold a grant on, lost one on, or have an account recorded
// on; for a disabled person, on such services of every structure.
// jobs.QueueProvision skips services without provisioning credentials.
// services holds the structure's services, by id; lost, the ids of the
// services whose grant the person just lost.
func queueProvisioning(ctx context.Context, tx store.Tx, services map[string]store.Service, person store.Person, lost []string) error {
	everywhere := person.State == store.StateDisabled
	ids := map[string]bool{}
	for _, id := range lost {
		ids[id] = true
	}
	grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: person.ID})
	if err != nil {
		return fmt.Errorf("list grants: %w", err)
	}
	for _, g := range grants {
		ids[g.ServiceID] = true
	}
	recs, err := tx.ListProvisions(ctx, store.ProvisionFilter{PersonID: person.ID})
	if err != nil {
		return fmt.Errorf("list provisions: %w", err)
	}
	for _, r := range recs {
		ids[r.ServiceID] = true
	}
	for id := range ids {
		svc, ok := services[id]
		if !ok {
			if !everywhere {
				continue // another structure's service
			}
			if svc, err = tx.GetService(ctx, id); err != nil {
				return fmt.Errorf("get service: %w", err)
			}
		}
		if err := jobs.QueueProvision(ctx, tx, person.ID, svc); err != nil {
			return err
		}
	}
	return nil
}

// accessMailJob is the job of the email of queueAccessMail.
func accessMailJob(personID, structureID string, serviceIDs []string) *store.Job {
	if serviceIDs == nil {
		serviceIDs = []string{}
	}
	payload, _ := json.Marshal(jobs.AccessMail{PersonID: personID, StructureID: structureID, ServiceIDs: serviceIDs})
	return &store.Job{Kind: jobs.KindMailAccess, Payload: payload}
}

func enqueueLDAPPerson(ctx context.Context, tx store.Tx, personID string) error {
	if _, err := tx.EnqueueJob(ctx, ldapPersonJob(personID)); err != nil {
		return fmt.Errorf("enqueue %s: %w", jobs.KindLDAPPerson, err)
	}
	return nil
}

// ldapPersonJob is the job that writes a person's directory entry and
// groups.
func ldapPersonJob(personID string) *store.Job {
	payload, _ := json.Marshal(jobs.PersonRef{PersonID: personID})
	return &store.Job{Kind: jobs.KindLDAPPerson, DedupeKey: jobs.DedupeLDAPPerson(personID), Payload: payload}
}

// cmpAddress is the choice as it applies: work when empty.
func cmpAddress(a Address) Address {
	if a == "" {
		return AddressWork
	}
	return a
}

// parse reads the request's file with the structure's remembered column
// mapping and the request's own on top, and the address choice. It
// returns the options it used (their mapping is what an applied import
// remembers).
func (im *Importer) parse(ctx context.Context, tx store.Tx, st store.Structure, services []store.Service, req Request) (*Sheet, Options, error) {
	stored, err := tx.ImportMapping(ctx, st.ID)
	if err != nil {
		return nil, Options{}, fmt.Errorf("import mapping: %w", err)
	}
	opts := im.Options
	opts.Address = req.Address
	opts.Mapping = mergeMapping(stored, req.Mapping)
	return Parse(req.Data, services, opts), opts, nil
}

// checkChoices refuses an unknown address choice or mapping field.
func checkChoices(req Request) error {
	if !req.Address.Valid() {
		return fmt.Errorf("%w: address %q (work or personal)", ErrBadRequest, req.Address)
	}
	for h, f := range req.Mapping {
		if !slices.Contains(MappableFields, f) {
			return fmt.Errorf("%w: mapping of %q to unknown field %q", ErrBadRequest, h, f)
		}
	}
	return nil
}
