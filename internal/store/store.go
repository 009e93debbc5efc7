package store

import (
	"context"
	"strings"
	"time"
)

// Structures keeps structures.
type Structures interface {
	// CreateStructure inserts s, filling ID (when empty), CreatedAt and
	// UpdatedAt. A taken slug gives ErrConflict.
	CreateStructure(ctx context.Context, s *Structure) error
	GetStructure(ctx context.Context, id string) (Structure, error)
	GetStructureBySlug(ctx context.Context, slug string) (Structure, error)
	// ListStructures returns every structure ordered by slug.
	ListStructures(ctx context.Context) ([]Structure, error)
	// UpdateStructure reads the structure, hands it to fn and writes back
	// what fn left, atomically. An error from fn aborts and is returned.
	UpdateStructure(ctx context.Context, id string, fn func(*Structure) error) (Structure, error)
	// DeleteStructure removes a structure and, with it, its services,
	// memberships, the grants on its services and its imports. ErrNotFound
	// when there was none.
	DeleteStructure(ctx context.Context, id string) error
}

// Services keeps services (which are also OIDC clients).
type Services interface {
	// CreateService inserts s, filling ID (when empty) and timestamps. A
	// taken client id, or a slug taken within the structure, gives
	// ErrConflict; an unknown structure gives ErrNotFound.
	CreateService(ctx context.Context, s *Service) error
	GetService(ctx context.Context, id string) (Service, error)
	GetServiceByClientID(ctx context.Context, clientID string) (Service, error)
	// ListServices returns the services of a structure ordered by slug, or
	// of every structure when structureID is empty.
	ListServices(ctx context.Context, structureID string) ([]Service, error)
	UpdateService(ctx context.Context, id string, fn func(*Service) error) (Service, error)
	// DeleteService removes a service (its OIDC client stops working) with
	// its grants and provisioning records. ErrNotFound when there was none.
	DeleteService(ctx context.Context, id string) error
}

// PeopleFilter narrows ListPeople. Zero values match everything.
type PeopleFilter struct {
	StructureID string      // members of this structure
	State       PersonState // in this state
	Admin       bool        // hoster admins only
	// IDs, when not nil, keeps these people only (at most MaxFilterIDs).
	IDs []string
}

// MaxFilterIDs bounds the IDs of a filter: one query parameter each.
const MaxFilterIDs = 1000

// People keeps people.
type People interface {
	// CreatePerson inserts p, filling ID (when empty) and timestamps. A
	// taken username or case-folded email gives ErrConflict.
	CreatePerson(ctx context.Context, p *Person) error
	// CreatePeople inserts people as CreatePerson does, in a few
	// statements (a bulk import): all of them or none. A username or
	// case-folded email taken in the store, or twice in the batch, gives
	// ErrConflict and writes nothing; an invalid person gives ErrInvalid.
	// On success each Person gets its ID and timestamps.
	CreatePeople(ctx context.Context, people []*Person) error
	GetPerson(ctx context.Context, id string) (Person, error)
	// GetPersonByEmail looks up by case-folded email.
	GetPersonByEmail(ctx context.Context, email string) (Person, error)
	GetPersonByUsername(ctx context.Context, username string) (Person, error)
	// ListPeople returns people ordered by username.
	ListPeople(ctx context.Context, f PeopleFilter) ([]Person, error)
	// UsernamesWithPrefix returns every username that starts with prefix,
	// to find a free one among "jean.dupont", "jean.dupont2", ...
	UsernamesWithPrefix(ctx context.Context, prefix string) ([]string, error)
	// UpdatePerson reads the person, hands it to fn and writes back what fn
	// left, atomically. Changing Username or ID gives ErrInvalid.
	UpdatePerson(ctx context.Context, id string, fn func(*Person) error) (Person, error)
	// DeletePerson removes a person and, with them, their memberships,
	// grants, tokens and provisioning records. ErrNotFound when there was
	// none. (Their SSO sessions are the caller's to end first.)
	DeletePerson(ctx context.Context, id string) error
}

// MembershipFilter narrows ListMemberships. Zero values match everything.
type MembershipFilter struct {
	PersonID    string
	StructureID string
	// PersonIDs, when not nil, keeps these people's only (at most
	// MaxFilterIDs).
	PersonIDs []string
}

// Memberships keeps person x structure links.
type Memberships interface {
	// PutMembership inserts or updates (the referent flag) a membership.
	PutMembership(ctx context.Context, m Membership) error
	// PutMemberships puts every membership as PutMembership does, in a few
	// statements: all or none (an unknown person or structure gives
	// ErrNotFound and writes nothing). A membership given twice counts as
	// its last.
	PutMemberships(ctx context.Context, ms []Membership) error
	// PutMembership and PutMemberships also end the person's former
	// membership (see FormerMembership), if any.
	//
	// DeleteMembership removes it; ErrNotFound when there was none. When
	// the person is then in no structure and not a hoster admin, it
	// records the structure as their former membership (replacing any
	// older one). UpdatePerson making them a hoster admin, or
	// ending their admin role, ends it.
	DeleteMembership(ctx context.Context, personID, structureID string) error
	ListMemberships(ctx context.Context, f MembershipFilter) ([]Membership, error)
	// ListFormerMemberships returns the former memberships of a structure
	// (of every structure when structureID is empty), by person.
	ListFormerMemberships(ctx context.Context, structureID string) ([]FormerMembership, error)
}

// GrantFilter narrows ListGrants. Zero values match everything.
type GrantFilter struct {
	PersonID    string
	ServiceID   string
	StructureID string // grants on any service of this structure
	// PersonIDs, when not nil, keeps these people's only (at most
	// MaxFilterIDs).
	PersonIDs []string
}

// Grants keeps person x service roles.
type Grants interface {
	// PutGrant inserts a grant or changes its role.
	PutGrant(ctx context.Context, g Grant) error
	// PutGrants puts every grant as PutGrant does, in a few statements:
	// all or none (an unknown person or service gives ErrNotFound and
	// writes nothing). A grant given twice counts as its last.
	PutGrants(ctx context.Context, gs []Grant) error
	// DeleteGrant removes it; ErrNotFound when there was none.
	DeleteGrant(ctx context.Context, personID, serviceID string) error
	ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error)
}

// Tokens keeps single-use emailed tokens, by hash.
type Tokens interface {
	// IssueToken stores t and invalidates every other unused token of the
	// same person and purpose.
	IssueToken(ctx context.Context, t Token) error
	// IssueTokens issues every token as IssueToken does, in a few
	// statements: all or none. Of two tokens of the same person and
	// purpose in the batch the last is kept, as if issued in turn; a hash
	// given twice or already stored gives ErrConflict.
	IssueTokens(ctx context.Context, ts []Token) error
	// GetToken returns a token by hash, used or not (to show the right page).
	GetToken(ctx context.Context, hash []byte) (Token, error)
	// ConsumeToken marks the token used at now, atomically: of any number of
	// concurrent calls, exactly one succeeds. It gives ErrNotFound for an
	// unknown hash or another purpose, ErrTokenUsed, or ErrTokenExpired.
	ConsumeToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (Token, error)
	// RevokeTokens deletes every unused token of the person, whatever its
	// purpose, and returns how many: the links already emailed stop
	// working (after a change of email, a disable, a new password).
	RevokeTokens(ctx context.Context, personID string) (int, error)
}

// Imports keeps the record of CSV imports.
type Imports interface {
	CreateImport(ctx context.Context, im *Import) error
	GetImport(ctx context.Context, id string) (Import, error)
	// ListImports returns a structure's imports, newest first.
	ListImports(ctx context.Context, structureID string) ([]Import, error)
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	Target      string
	Action      string
	StructureID string
	PersonID    string
	Since       time.Time // entries at or after; zero means all
	Limit       int       // 0 means 100
}

// Audit keeps the audit trail.
type Audit interface {
	// AppendAudit inserts e, filling ID and (when zero) Time.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// LastMailsSent returns, by person id, when the newest email (audit
	// action "mail.sent") went to each member of a structure who was sent
	// one (to anybody when structureID is empty): one indexed query, for
	// pages that list thousands of people.
	LastMailsSent(ctx context.Context, structureID string) (map[string]time.Time, error)
}

// ClaimRequest says which jobs a worker wants.
type ClaimRequest struct {
	Kinds []string      // empty means any kind
	Limit int           // at most this many; 0 means 1
	Lease time.Duration // how long the claim holds before another may take it
}

// JobOutcome is the result of one run of a job, recorded by FinishJobs.
type JobOutcome struct {
	ID      int64
	LeaseID string // the claim that ran it
	// State is JobDone (completed), JobPending (retry at RunAfter) or
	// JobDead (buried).
	State     JobState
	RunAfter  time.Time // JobPending only
	LastError string    // JobPending and JobDead
	// Uncount (JobPending only) takes back the attempt the claim counted:
	// the job was given back without running, or the runner's stop cut
	// its run short, so that it still gets the runs it was allowed.
	Uncount bool
}

// JobFilter narrows ListJobs.
type JobFilter struct {
	State JobState
	Kind  string
	Sink  string // kinds of this sink (see JobSink), e.g. "ldap"
	Limit int    // 0 means 100
}

// JobSink is the component a job kind writes to: the part of the kind
// before its first dot ("ldap" for "ldap.person"), or the whole kind when
// it has no dot.
func JobSink(kind string) string {
	sink, _, _ := strings.Cut(kind, ".")
	return sink
}

// Jobs is the durable queue's storage. The scheduling policy (backoff,
// handlers, workers) lives in internal/jobs.
type Jobs interface {
	// EnqueueJob inserts j as pending, filling ID and timestamps; RunAfter
	// zero means now. It returns false, and inserts nothing, when a pending
	// job with the same non-empty DedupeKey exists, or when the kind's sink
	// is disabled (Store.SetDisabledJobSinks).
	EnqueueJob(ctx context.Context, j *Job) (bool, error)
	// EnqueueJobs enqueues every job as EnqueueJob would, one after the
	// other, in a few statements, and says for each whether it was
	// inserted: a job whose sink is disabled, or whose DedupeKey a pending
	// job (stored, or earlier in the batch) holds, is not. Inserted jobs
	// get their ID and timestamps. All or none: an invalid job gives
	// ErrInvalid and enqueues nothing.
	EnqueueJobs(ctx context.Context, js []*Job) ([]bool, error)
	// ClaimJobs atomically takes up to Limit jobs that are pending and due,
	// or running with an expired lease, marks them running with a new
	// LeaseID and LeaseUntil, and counts an attempt. Two concurrent callers
	// (even in two processes on PostgreSQL) never get the same job.
	ClaimJobs(ctx context.Context, r ClaimRequest) ([]Job, error)
	// CompleteJob marks the job done. ErrLeaseLost when leaseID is no longer
	// the job's current claim.
	CompleteJob(ctx context.Context, id int64, leaseID string) error
	// RetryJob puts the job back to pending until runAfter, keeping lastErr.
	RetryJob(ctx context.Context, id int64, leaseID string, runAfter time.Time, lastErr string) error
	// BuryJob marks the job dead, keeping lastErr.
	BuryJob(ctx context.Context, id int64, leaseID string, lastErr string) error
	// FinishJobs records the outcomes of jobs a worker ran, in one
	// transaction: each is fenced by its lease like CompleteJob, RetryJob
	// and BuryJob, and applied as they would be. It returns one error per
	// outcome (same index): nil when recorded, ErrLeaseLost when the lease
	// is no longer the job's claim, ErrNotFound for an unknown job,
	// ErrInvalid for an outcome whose State is not done, pending (a retry)
	// or dead. A job that cannot be recorded does not stop the others; the
	// second result is an error only when nothing could be recorded (the
	// database failed).
	FinishJobs(ctx context.Context, outs []JobOutcome) ([]error, error)
	// RequeueJob gives a dead job a fresh set of attempts, due now (an
	// admin's "try again" once the cause is fixed); it keeps the last
	// error until the next run. ErrNotFound for an unknown job,
	// ErrConflict for one that is not dead.
	RequeueJob(ctx context.Context, id int64) error
	GetJob(ctx context.Context, id int64) (Job, error)
	// ListJobs returns jobs by ascending ID.
	ListJobs(ctx context.Context, f JobFilter) ([]Job, error)
	// CountJobs counts jobs per state.
	CountJobs(ctx context.Context) (map[JobState]int, error)
	// ClearPendingJobs deletes the jobs of a sink that wait to run: the
	// pending ones, and the running ones whose lease expired (their worker
	// is gone). It returns how many it deleted. Dead jobs are kept (their
	// reasons are history), and so are jobs a worker holds now. ErrInvalid
	// for a sink that is empty, has a dot or is not ASCII.
	ClearPendingJobs(ctx context.Context, sink string) (int, error)
}

// ProvisionFilter narrows ListProvisions. Zero values match everything.
type ProvisionFilter struct {
	PersonID    string
	ServiceID   string
	StructureID string // provisions on any service of this structure
	Status      ProvisionStatus
}

// Provisions keeps the state of each person's account in each application.
type Provisions interface {
	// PutProvision inserts or replaces the record of p's person and
	// service, setting UpdatedAt. An unknown person or service gives
	// ErrNotFound.
	PutProvision(ctx context.Context, p Provision) error
	// GetProvision returns one record; ErrNotFound when there is none.
	GetProvision(ctx context.Context, personID, serviceID string) (Provision, error)
	// ListProvisions returns records by person, then service.
	ListProvisions(ctx context.Context, f ProvisionFilter) ([]Provision, error)
}

// Tx is everything the store keeps, seen from inside one transaction.
type Tx interface {
	Structures
	Services
	People
	Memberships
	Grants
	Provisions
	Tokens
	Imports
	Audit
	Jobs
	OIDC
	Settings
	Claims
	SecondFactors
}

// Limits keeps the token buckets of rate limits shared by every process
// on the same database (replicas behind a load balancer). Each call is one
// atomic statement outside any transaction: it never joins InTx, is never
// re-run on serialization failures, and concurrent calls on one key (in any
// number of processes) never spend the same token twice.
type Limits interface {
	// TakeToken refills key's bucket (burst tokens at most, one more every
	// per since its last take, measured at now) and, when at least one
	// token is left, spends spend of them (0 looks without spending and
	// writes nothing, 1 spends one) and returns true. Otherwise it spends nothing and returns
	// false and how long until a token is back. A key seen for the first
	// time starts full. burst below 1, per not positive, spend outside
	// [0, burst] or an empty key give ErrInvalid.
	TakeToken(ctx context.Context, key string, burst float64, per time.Duration, spend float64, now time.Time) (ok bool, wait time.Duration, err error)
	// SweepTokens forgets the buckets that are full again at now (they
	// behave exactly like a key never seen), and returns how many.
	SweepTokens(ctx context.Context, now time.Time) (int, error)
}

// PendingImports keeps the spreadsheet imports previewed in the browser
// until their confirmation, shared by every process on the same database
// (a confirmation may reach another replica than the upload). Data is
// whatever the caller gives (sesame seals the file before); the store
// never reads it. Each call runs in a transaction of its own, outside
// InTx.
type PendingImports interface {
	// PutPendingImport keeps p (ID, Session and StructureID set, ExpiresAt
	// after CreatedAt), first forgetting the expired ones. A session that
	// already has perSession previews loses its oldest ones (by CreatedAt)
	// until p fits; then, when max previews are kept in all, it refuses
	// with ErrFull (the session's oldest stay forgotten) rather than drop
	// another session's. An unknown structure gives ErrNotFound, an ID
	// already kept ErrConflict, bounds below 1 or missing fields
	// ErrInvalid.
	PutPendingImport(ctx context.Context, p PendingImport, max, perSession int) error
	// GetPendingImport returns the preview id of session unless it has
	// expired at now; ErrNotFound otherwise (another session's too).
	GetPendingImport(ctx context.Context, id, session string, now time.Time) (PendingImport, error)
	// DeletePendingImport forgets the preview id of session and reports
	// whether it was there: of two concurrent deletes, one only is true.
	DeletePendingImport(ctx context.Context, id, session string) (bool, error)
	// SweepPendingImports forgets the previews expired at now and returns
	// how many.
	SweepPendingImports(ctx context.Context, now time.Time) (int, error)
}

// Store is a backend. Its methods outside InTx each run in their own
// transaction.
type Store interface {
	Tx
	Limits
	PendingImports
	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back otherwise (the error is returned). Transactions are
	// serializable on every backend (SQLite: BEGIN IMMEDIATE; PostgreSQL:
	// SERIALIZABLE), and InTx re-runs fn by itself when PostgreSQL reports a
	// serialization failure or deadlock, so fn must have no effect outside
	// tx. ErrConflict from a unique index is returned as is.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Ping reports whether the backend answers (for /readyz).
	Ping(ctx context.Context) error
	// Backend names the backend: "sqlite" or "postgres".
	Backend() string
	// SetDisabledJobSinks names the sinks (see JobSink) whose components
	// are not configured, replacing any earlier list: EnqueueJob then
	// skips their jobs, in every transaction, so that no producer queues
	// work nobody will ever run. Call it right after opening.
	SetDisabledJobSinks(sinks ...string)
	Close() error
}
