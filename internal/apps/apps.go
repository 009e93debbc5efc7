package apps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Connector provisions accounts in one application instance.
type Connector interface {
	// Kind is the application kind, e.g. "wordpress".
	Kind() string
	// Ensure brings the person's account to a: created when missing (unless
	// a.Enabled is false), changed where it differs, left alone when it was
	// not created by sesame and the service does not take accounts over.
	// An account with a.Enabled false gets Remove's treatment.
	Ensure(ctx context.Context, a Account) (Result, error)
	// Remove takes the person's access to the application away, keeping
	// the account (see the package documentation for each kind).
	Remove(ctx context.Context, a Account) (Result, error)
	// Check tests the credentials and the application's settings; its error
	// is an *Error whose Hint says in plain words what is wrong.
	Check(ctx context.Context) error
}

// Account is the desired state of one person's account in one application.
type Account struct {
	// Username is sesame's username: the WordPress login, the Nextcloud
	// user id (user_oidc maps preferred_username to it).
	Username string
	Email    string
	// GivenName, FamilyName and DisplayName are the person's names; an empty
	// DisplayName means "GivenName FamilyName".
	GivenName   string
	FamilyName  string
	DisplayName string
	// Role is the kind's role string: a WordPress role (subscriber ...
	// administrator), Nextcloud "user" or "admin", a Paheko category id
	// ("" for the default category).
	Role string
	// Groups are Nextcloud groups the person belongs to besides the admin
	// group that Role "admin" gives.
	Groups []string
	// Quota is the Nextcloud quota, e.g. "5 GB"; empty leaves it alone.
	Quota string
	// Language is "fr" or "en"; it is set when the account is created only
	// (the person may change it in the application afterwards).
	Language string
	// Enabled is false for a person who may no longer use the application.
	Enabled bool

	// RemoteID is the application's id of the account from an earlier
	// Result, "" when unknown.
	RemoteID string
	// Owned records that sesame created this account: an earlier
	// Result.Owned, or an Error.MayHaveCreated of a create.
	Owned bool
}

// displayName is the name shown in the application.
func (a Account) displayName() string {
	if n := strings.TrimSpace(a.DisplayName); n != "" {
		return n
	}
	if n := strings.TrimSpace(a.GivenName + " " + a.FamilyName); n != "" {
		return n
	}
	return a.Username
}

// validate rejects an account no application would take.
func (a Account) validate(kind, op string) error {
	bad := func(msg string) error {
		return &Error{Kind: kind, Op: op, Reason: ReasonInvalid, Message: msg}
	}
	if strings.TrimSpace(a.Username) == "" {
		return bad("the account has no username")
	}
	if at := strings.IndexByte(a.Email, '@'); at <= 0 || at == len(a.Email)-1 {
		return bad(fmt.Sprintf("the account's email %q is not an address", a.Email))
	}
	for _, s := range []string{a.Username, a.Email, a.GivenName, a.FamilyName, a.DisplayName, a.Role, a.Quota, a.Language, a.RemoteID} {
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return bad("the account holds a control character")
		}
	}
	return nil
}

// knownID drops a RemoteID that cannot be a numeric WordPress or Paheko
// id (it came from elsewhere): the account is then found by email.
func knownID(a Account) Account {
	if !digits.MatchString(a.RemoteID) {
		a.RemoteID = ""
	}
	return a
}

// Outcome says what a call did.
type Outcome string

// The outcomes of Ensure and Remove.
const (
	// OutcomeCreated: the account did not exist and was created.
	OutcomeCreated Outcome = "created"
	// OutcomeUpdated: the account existed and the fields in Result.Changed
	// were written.
	OutcomeUpdated Outcome = "updated"
	// OutcomeUnchanged: the account was already as desired; nothing was
	// written.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeLinked: an account that sesame did not create was found and
	// linked; nothing was written to it (the service does not take over
	// accounts).
	OutcomeLinked Outcome = "linked-unmanaged"
	// OutcomeDisabled: the Nextcloud account was disabled.
	OutcomeDisabled Outcome = "disabled"
	// OutcomeRolesRemoved: the WordPress account lost every role; it stays,
	// with its content.
	OutcomeRolesRemoved Outcome = "roles-removed"
	// OutcomeAbsent: there is no account and none was needed.
	OutcomeAbsent Outcome = "absent"
	// OutcomeManual: the API cannot do what is needed; Result.Manual says
	// what the hoster must do by hand.
	OutcomeManual Outcome = "manual-action-needed"
)

// Result is what Ensure or Remove did.
type Result struct {
	Outcome Outcome
	// RemoteID is the application's id of the account ("" when absent): the
	// WordPress or Paheko numeric id, the Nextcloud user id.
	RemoteID string
	// Owned is true when sesame created the account (now or earlier); the
	// caller records it and gives it back in Account.Owned.
	Owned bool
	// Managed is true when sesame may change the account: it created it, or
	// the service takes accounts over.
	Managed bool
	// Changed lists what was written, e.g. ["email", "roles"]; empty when
	// nothing was.
	Changed []string
	// Manual, when not nil, is an action only the hoster can take, in
	// French and English (also set by Ensure when the account is otherwise
	// as desired).
	Manual *Message
}

// Message is a text for people, in French and in English.
type Message struct {
	FR string
	EN string
}

// IsZero reports whether m holds no text.
func (m Message) IsZero() bool { return m.FR == "" && m.EN == "" }

// String is the French text, then the English one.
func (m Message) String() string {
	switch {
	case m.FR == "":
		return m.EN
	case m.EN == "":
		return m.FR
	}
	return m.FR + "\n" + m.EN
}

// Credentials are an application's API credentials: the WordPress user and
// application password, the Nextcloud administrator and app password, the
// Paheko API identifier and password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Config configures a connector.
type Config struct {
	// BaseURL is the application's address, e.g. https://cloud.example.org
	// (Nextcloud's root, WordPress's site address, Paheko's root, without
	// /admin).
	BaseURL     string
	Credentials Credentials
	// TakeOver lets sesame change accounts it did not create (rename, change
	// roles, demote, disable). Off by default: such accounts are linked and
	// left as they are.
	TakeOver bool
	// Settings are the kind's own settings, documented on its constructor
	// (NewNextcloud, NewWordPress, NewPaheko). Unknown keys are errors.
	Settings map[string]string
	// Timeout bounds each HTTP request; zero means 30 seconds.
	Timeout time.Duration
	// HTTPClient, when set, is used instead of a client of the connector's
	// own (its redirect policy is replaced: redirects are never followed).
	HTTPClient *http.Client
	// Rand is the source of the random passwords given to new WordPress
	// accounts (never used: people log in through sesame); nil means
	// crypto/rand.
	Rand io.Reader
}

// checkSettings rejects keys a kind does not know.
func (c Config) checkSettings(kind string, known ...string) error {
	for k := range c.Settings {
		if !slices.Contains(known, k) {
			return fmt.Errorf("apps: %s: unknown setting %q (known: %s)", kind, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// baseURL parses and checks the application's address.
func (c Config) baseURL(kind string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(c.BaseURL), "/"))
	if err != nil {
		return nil, fmt.Errorf("apps: %s: base URL: %w", kind, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("apps: %s: base URL %q must be http(s)://host[/path], without credentials, query or fragment", kind, c.BaseURL)
	}
	if c.Credentials.Username == "" || c.Credentials.Password == "" {
		return nil, fmt.Errorf("apps: %s: credentials are missing", kind)
	}
	return u, nil
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
