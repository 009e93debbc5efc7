package store

import (
	"strings"
	"time"
)

// Structure is an association (or any organisation) hosted by the hoster.
type Structure struct {
	ID      string // random, stable
	Slug    string // unique, [a-z0-9-], used in URLs and LDAP DNs (o=SLUG)
	Name    string // display name, e.g. "Le Bêta"
	Contact string // the referent's email, shown on "no access" pages
	// MFAPolicy says whether its people may or must use a second factor.
	MFAPolicy MFAPolicy
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ServiceKind is the kind of application a service is.
type ServiceKind string

// The kinds of service sesame knows.
const (
	KindNextcloud ServiceKind = "nextcloud"
	KindWordPress ServiceKind = "wordpress"
	KindPaheko    ServiceKind = "paheko"
	KindGeneric   ServiceKind = "generic"
)

// Valid reports whether k is one of the known kinds.
func (k ServiceKind) Valid() bool {
	switch k {
	case KindNextcloud, KindWordPress, KindPaheko, KindGeneric:
		return true
	}
	return false
}

// ServiceSlugsClash reports whether two services of one structure may not
// have slugs a and b: equal, or one the other followed by "-" (the
// directory names a service's groups SLUG and SLUG-ROLE, so "nextcloud-admin"
// beside "nextcloud" would be both a service group and the other's admin
// role group, and the first's people would join the second's admins).
func ServiceSlugsClash(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"-") || strings.HasPrefix(b, a+"-")
}

// Service is one application instance of a structure (its Nextcloud, its
// WordPress...). Each service is also an OpenID Connect client.
type Service struct {
	ID          string
	StructureID string
	Kind        ServiceKind
	// Slug is unique within the structure ([a-z0-9-]); it names the LDAP
	// groups (cn=SLUG, cn=SLUG-ROLE) and is what a CSV column or rights item
	// may use besides Name and Kind.
	Slug    string
	Name    string // display name, e.g. "Nextcloud"
	BaseURL string
	// ReferentAddress is set when BaseURL was given by a structure referent
	// and no hoster (a hoster admin, the CLI) has given it since: sesame
	// then refuses to connect to an internal address for this service
	// (netguard), whatever the name resolves to when it connects.
	ReferentAddress bool
	DefaultRole     string // role given when a rights item names no role
	// Roles lists the roles this service accepts, in canonical form (for
	// Paheko: the names of the structure's categories). Empty means the
	// kind's built-in roles.
	Roles []string
	// RoleMapping maps a role to a service-specific value (for Paheko: role
	// name -> category id). Optional.
	RoleMapping map[string]string

	// OpenID Connect client registration.
	ClientID             string // unique across all services
	ClientSecretHash     string // PHC string; the secret is shown once
	RedirectURIs         []string
	PostLogoutURIs       []string
	BackchannelLogoutURI string
	RequirePKCE          bool
	RefreshTokens        bool
	// RequireMFA gives this client codes only for sessions opened with two
	// factors, whatever the acr_values it sends.
	RequireMFA bool
	SigningAlg string // "RS256" or "ES256"
	AuthMethod string // "client_secret_basic" or "client_secret_post"

	// ProvisioningSecret holds the application's API credentials, encrypted
	// at rest by the caller. Nil when the service is not provisioned.
	ProvisioningSecret []byte
	// ProvisionTakeOver lets provisioning demote, disable or rename accounts
	// of the application that sesame did not create (found by email). Off,
	// they are only linked.
	ProvisionTakeOver bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// PersonState is the life-cycle state of a person.
type PersonState string

// The states of a person.
const (
	StateInvited  PersonState = "invited"  // created, no password yet
	StateActive   PersonState = "active"   // has set a password
	StateDisabled PersonState = "disabled" // may not log in; left every group
)

// Person is one human, with one account and one password, possibly a member
// of several structures.
type Person struct {
	ID           string // stable; the OIDC subject
	Username     string // unique, immutable once created, [a-z0-9.-]
	Email        string // unique case-folded (see FoldEmail)
	GivenName    string
	FamilyName   string
	DisplayName  string
	Language     string // "fr" or "en"
	Quota        string // e.g. "5 GB"; empty means the service default
	State        PersonState
	PasswordHash string // argon2id PHC string; empty until activation
	// PasswordChangedAt is zero until a password was set.
	PasswordChangedAt time.Time
	// Admin marks a hoster admin, who may manage every structure. Being
	// one is not a membership: a sync import never disables an admin.
	Admin bool
	// MFAGraceUntil is when a person required to enrol a second factor
	// may no longer put it off: set at the first login that asked them.
	// Zero until then.
	MFAGraceUntil time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// FoldEmail is the form under which emails are compared and kept unique.
func FoldEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Membership links a person to a structure.
type Membership struct {
	PersonID    string
	StructureID string
	Referent    bool // may manage the structure's people
	CreatedAt   time.Time
}

// FormerMembership is, for a person who belongs to no structure, the
// structure whose removal of them left them in none (a sync that left them
// out), and when. It lasts while they stay in no structure: any new
// membership ends it, and so does being a hoster admin (a hoster admin
// leaves none: no structure held them alone).
type FormerMembership struct {
	PersonID    string
	StructureID string
	LeftAt      time.Time
}

// Grant gives a person one role on one service. There is at most one grant
// per person and service.
type Grant struct {
	PersonID  string
	ServiceID string
	Role      string
	CreatedAt time.Time
}

// TokenPurpose says what a single-use emailed token is for.
type TokenPurpose string

// The purposes of tokens.
const (
	PurposeActivate TokenPurpose = "activate"
	PurposeReset    TokenPurpose = "reset"
)

// Token is a single-use secret sent by email. Only the SHA-256 of the secret
// is stored.
type Token struct {
	Hash      []byte // SHA-256 of the secret, 32 bytes
	PersonID  string
	Purpose   TokenPurpose
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
	CreatedAt time.Time
}

// ImportMode says whether an import may remove people.
type ImportMode string

// The import modes.
const (
	ModeAdd  ImportMode = "add"  // never removes anyone (default)
	ModeSync ImportMode = "sync" // people missing from the file leave the structure
)

// PendingImport is a spreadsheet previewed in the browser, waiting for
// its confirmation (see PendingImports).
type PendingImport struct {
	ID          string // unguessable: the preview's address
	Session     string // the uploader's
	StructureID string
	FileName    string
	Data        []byte // the file, sealed by the caller
	Mode        ImportMode
	Options     []byte // the caller's choices, JSON
	Fingerprint string // of the plan shown
	Changed     bool   // shown again because the accounts changed
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Import records one CSV import, dry runs included.
type Import struct {
	ID          string
	StructureID string
	Actor       string // who ran it ("cli:root", "admin:alice", ...)
	FileName    string
	FileDigest  string // hex SHA-256 of the uploaded bytes
	Mode        ImportMode
	DryRun      bool
	Status      string // "applied", "dry-run", "rejected"
	// Counts per action: create, update, unchanged, disable, error, warning.
	Counts    map[string]int
	Report    []byte // the JSON report
	CreatedAt time.Time
}

// AuditEntry records who did what to what.
type AuditEntry struct {
	ID      int64
	Time    time.Time
	Actor   string
	Action  string // e.g. "import.apply", "person.password.set"
	Target  string // e.g. "structure:le-beta", "person:ID"
	Details map[string]any
	// StructureID and PersonID are what the entry concerns, for the audit
	// views' filters. Left empty, AppendAudit derives them from a
	// "structure:SLUG" or "person:ID" target and a "person_id" detail.
	StructureID string
	PersonID    string
	// IP is where the action came from (the client's address for a web
	// request; empty on the command line and for background work).
	IP string
}

// JobState is the state of a durable job.
type JobState string

// The states of a job.
const (
	JobPending JobState = "pending" // waiting for RunAfter
	JobRunning JobState = "running" // claimed; lease until LeaseUntil
	JobDone    JobState = "done"
	JobDead    JobState = "dead" // gave up after MaxAttempts; kept for admins
)

// Job is a durable unit of work, enqueued in the transaction of the change
// that needs it and executed by a worker.
type Job struct {
	ID int64
	// Kind selects the handler, e.g. "ldap.person", "mail.activate".
	Kind string
	// DedupeKey, when not empty, makes Enqueue a no-op while another pending
	// job has the same key (a running one does not count: a change made
	// while a job runs needs a new run).
	DedupeKey   string
	Payload     []byte // JSON, handler-defined; never a secret
	State       JobState
	Attempts    int // claims so far
	MaxAttempts int // 0 means the queue's default
	RunAfter    time.Time
	LeaseUntil  time.Time // while running
	LeaseID     string    // fences completion to the current claim
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ProvisionStatus says where one person's account in one application
// stands.
type ProvisionStatus string

// The provisioning statuses.
const (
	// ProvisionPending: a job will bring the account to the store's state.
	ProvisionPending ProvisionStatus = "pending"
	// ProvisionDone: the account matches the store's state (or was removed).
	ProvisionDone ProvisionStatus = "done"
	// ProvisionFailed: the application refused; Message says why, in its own
	// words. Retrying will not help until someone fixes the cause.
	ProvisionFailed ProvisionStatus = "failed"
	// ProvisionManual: the application cannot do what is needed through its
	// API; Message says what the hoster must do by hand.
	ProvisionManual ProvisionStatus = "manual"
)

// Provision records one person's account in one service's application, as
// sesame last left it. It outlives the grant: a person whose grant ended
// keeps the record, so that the account can be demoted or disabled.
type Provision struct {
	PersonID  string
	ServiceID string
	Status    ProvisionStatus
	// RemoteID is the application's own id for the account ("42", "jean.dupont").
	RemoteID string
	// Owned is true when sesame created the account. An account sesame
	// found (by email) but did not create is linked, and never demoted,
	// disabled or renamed unless the service takes such accounts over.
	Owned bool
	// Role is the role last written to the application ("" when removed).
	Role string
	// Message is the application's message for a failure, or the manual
	// step to take.
	Message   string
	UpdatedAt time.Time
}
