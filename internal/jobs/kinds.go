package jobs

// The kinds of job, and their payloads: this is where feature packages meet.
// A producer (onboarding, web) enqueues them in the transaction of the
// change; a consumer (ldapsync, the mail handlers, provision) registers a
// handler for them. Payloads carry references, never secrets.
const (
	// KindLDAPPerson brings one person's directory entry, password hash and
	// group memberships to the store's state (create, update, disable).
	// Payload: PersonRef. Dedupe key: DedupeLDAPPerson(id).
	KindLDAPPerson = "ldap.person"
	// KindLDAPStructure brings a structure's entry and its service and role
	// groups to the store's state. Payload: StructureRef.
	KindLDAPStructure = "ldap.structure"

	// KindMailActivate sends the activation email. Payload: TokenMail.
	KindMailActivate = "mail.activate"
	// KindMailReset sends a password reset email. Payload: TokenMail.
	KindMailReset = "mail.reset"
	// KindMailAccess tells an existing person they were given access to a
	// structure or service. Payload: AccessMail.
	KindMailAccess = "mail.access"
	// KindMailPasswordChanged tells a person their password was changed.
	// Payload: PersonRef.
	KindMailPasswordChanged = "mail.password-changed"
	// KindMailMFAReset tells a person their second factor was reset by a
	// referent or an admin. Payload: PersonRef.
	KindMailMFAReset = "mail.mfa-reset"
	// KindMailRecoveryUsed tells a person one of their recovery codes was
	// used to log in. Payload: PersonRef.
	KindMailRecoveryUsed = "mail.recovery-used"
	// KindMailEmailChanged tells a person, at their former address, that
	// their account's email was changed. Payload: EmailChange.
	KindMailEmailChanged = "mail.email-changed"

	// KindOIDCBackchannelLogout tells one client that one of its sessions
	// ended (OpenID Connect Back-Channel Logout): the logout token is signed
	// when the job runs. Payload: BackchannelLogout.
	KindOIDCBackchannelLogout = "oidc.backchannel-logout"
	// KindOIDCEndSessions ends every single sign-on session of a person who
	// was disabled, revokes their tokens and queues the back-channel
	// logouts (the producer, e.g. an import, cannot reach the provider).
	// Payload: PersonRef. Dedupe key: DedupeOIDCEndSessions(id).
	KindOIDCEndSessions = "oidc.end-sessions"
)

// The sinks: the components jobs write to (the part of a kind before the
// dot, see Sink).
const (
	SinkLDAP = "ldap"
	SinkMail = "mail"
	SinkOIDC = "oidc"
)

// PersonRef names a person.
type PersonRef struct {
	PersonID string `json:"person_id"`
	// Gone, set when the person was deleted from the store, is what the
	// directory job needs to find and empty their entry then.
	Gone *GonePerson `json:"gone,omitempty"`
}

// GonePerson is what a job keeps of a person deleted from the store.
type GonePerson struct {
	Username    string `json:"username"`
	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
}

// EmailChange is the payload of KindMailEmailChanged: the person, and the
// address the notice goes to (the one they had).
type EmailChange struct {
	PersonID string `json:"person_id"`
	Former   string `json:"former"`
}

// StructureRef names a structure.
type StructureRef struct {
	StructureID string `json:"structure_id"`
}

// TokenMail is the payload of emails that carry a single-use link. Nonce is
// not the link's secret: the secret is derived from it with the server's
// token key (see onboarding.Tokens), so a re-run of the job sends the same
// link and the queue holds nothing that opens an account.
type TokenMail struct {
	PersonID    string `json:"person_id"`
	StructureID string `json:"structure_id,omitempty"` // the structure that invited them (activation)
	Nonce       string `json:"nonce"`
}

// AccessMail is the payload of "you now have access to ..." emails.
type AccessMail struct {
	PersonID    string   `json:"person_id"`
	StructureID string   `json:"structure_id"`
	ServiceIDs  []string `json:"service_ids"`
}

// BackchannelLogout is the payload of KindOIDCBackchannelLogout jobs: the
// client to tell, and the person and session id the logout token names.
type BackchannelLogout struct {
	ClientID string `json:"client_id"`
	PersonID string `json:"person_id"`
	SID      string `json:"sid"`
}

// DedupeLDAPPerson is the dedupe key of KindLDAPPerson jobs: while one is
// pending, another change to the same person needs no second job.
func DedupeLDAPPerson(personID string) string { return KindLDAPPerson + ":" + personID }

// DedupeOIDCEndSessions is the dedupe key of KindOIDCEndSessions jobs.
func DedupeOIDCEndSessions(personID string) string { return KindOIDCEndSessions + ":" + personID }

// DedupeLDAPStructure is the dedupe key of KindLDAPStructure jobs.
func DedupeLDAPStructure(structureID string) string { return KindLDAPStructure + ":" + structureID }
