package apps

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"sesame/internal/store"
)

// The names of the kinds, as store.ServiceKind spells them.
const (
	KindNextcloud = "nextcloud"
	KindWordPress = "wordpress"
	KindPaheko    = "paheko"
	KindGeneric   = "generic"
)

// kinds is the one list of application kinds, in the order they are
// offered: adding an application means adding its file (which defines its
// Kind) and its line here, and its constant in store.ServiceKind (the
// store validates what it persists without importing this package;
// TestKindsMatchStore catches a miss).
var kinds = []Kind{nextcloudKind, wordpressKind, pahekoKind, genericKind}

// Kind is everything sesame knows about one kind of application: its
// roles, the OpenID Connect client defaults, the quirks of its login,
// logout and claims, the setup snippet, and its provisioning connector.
// A nil hook means the kind has no such quirk.
type Kind struct {
	// Name is the kind as store.ServiceKind spells it, e.g. "wordpress".
	Name string
	// Title is the application's name for people, e.g. "WordPress".
	Title string

	// Roles are the kind's built-in roles in canonical form, used when a
	// service lists none of its own. Empty when RolesPerService.
	Roles []string
	// RolesPerService is true when every service names its own roles (a
	// Paheko service's roles are the structure's member categories) and the
	// kind has no built-in one.
	RolesPerService bool
	// Aliases maps each accepted spelling of a role, folded (lower case,
	// without accents, words separated by one space), English and French,
	// to its canonical role; every role's own name is among them.
	Aliases map[string]string
	// FrenchRoles names the roles in French, for reports; each name is
	// also an alias.
	FrenchRoles map[string]string
	// DefaultRole is the role of a right that names none, when the service
	// sets no default ("" when there is none: RolesPerService).
	DefaultRole string

	// Client gives the OpenID Connect client settings a new service of this
	// kind needs, from the application's base URL (without trailing slash).
	Client func(base string) Client

	// QuotaClaim is true when the application reads the person's storage
	// quota from a "quota" claim, in the ID token and at userinfo alike.
	QuotaClaim bool
	// ProfileClaim is true when the application reads the person's name
	// from a "profile" object at userinfo ({"name": ...}; the standard
	// profile claim is a URL string, which typed clients such as go-oidc
	// require, so it is given only to the kinds that want it, and only at
	// userinfo).
	ProfileClaim bool

	// StateTTL, when not zero, is how long the application keeps the state
	// of a login it started (less a margin): a login resumed later cannot
	// succeed, and the person is sent to LoginPath under the base URL, where
	// the application starts a fresh request.
	StateTTL  time.Duration
	LoginPath string
	// SiteFormOrigin is true when the login form may also be answered to
	// the service's base URL (the detour past StateTTL goes there).
	SiteFormOrigin bool
	// BackchannelNoSession, when not nil, reads a refused back-channel
	// logout (its status and the start of its body): true when the
	// application says it holds no session for the token, so nothing is
	// left to end (it ended the session itself before sending the person
	// to sesame without an ID token hint, or an earlier delivery whose
	// answer was lost did). The job is then done, not retried.
	BackchannelNoSession func(status int, body []byte) bool
	// PostLogoutAllowed, when not nil, accepts post-logout URIs besides the
	// exactly registered ones (WordPress's wp_lang locale).
	PostLogoutAllowed func(registered []string, uri string) bool

	// comment starts a comment line in the setup snippet ("#" or "//").
	comment string
	// setup writes the kind's own part of the setup snippet.
	setup func(w io.Writer, issuer string, s store.Service, secret string)
	// Credentials says which API credentials to create in the application
	// for provisioning, and how ("" when the kind has no connector).
	Credentials string

	// AccountRole, when not nil, turns a granted role into what the
	// connector wants in Account.Role (a Paheko category id).
	AccountRole func(svc store.Service, role string) string
	// Quota is true when the application takes a storage quota.
	Quota bool

	// NewConnector makes the kind's provisioning connector; nil when the
	// kind has none.
	NewConnector func(Config) (Connector, error)
	// ByEmail is true when the connector finds an account it knows no id
	// of by its email too, not only by its username (WordPress, Paheko).
	ByEmail bool
}

// Client are the OpenID Connect client settings of a new service.
type Client struct {
	RedirectURIs         []string
	PostLogoutURIs       []string
	BackchannelLogoutURI string
	RequirePKCE          bool
	RefreshTokens        bool
	// AuthMethod is client_secret_basic or client_secret_post.
	AuthMethod string
}

// Kinds returns every application kind, in the order they are offered.
func Kinds() []Kind { return slices.Clone(kinds) }

// Names returns the names of every kind, in the order of Kinds.
func Names() []string {
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k.Name)
	}
	return out
}

// Lookup returns the kind named name.
func Lookup(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Of returns svc's kind; an unknown kind gives a Kind with no roles, no
// quirk and no connector.
func Of(svc store.Service) Kind {
	k, _ := Lookup(string(svc.Kind))
	return k
}

// ConnectorKinds returns the names of the kinds that have a connector,
// sorted.
func ConnectorKinds() []string {
	var out []string
	for _, k := range kinds {
		if k.NewConnector != nil {
			out = append(out, k.Name)
		}
	}
	slices.Sort(out)
	return out
}

// New returns the connector of kind configured by cfg.
func New(kind string, cfg Config) (Connector, error) {
	k, ok := Lookup(kind)
	if !ok || k.NewConnector == nil {
		return nil, fmt.Errorf("apps: no connector for kind %q (kinds: %s)", kind, strings.Join(ConnectorKinds(), ", "))
	}
	return k.NewConnector(cfg)
}

// Role returns the canonical role a folded spelling names (see Aliases).
func (k Kind) Role(folded string) (string, bool) {
	r, ok := k.Aliases[folded]
	return r, ok
}

// ApplyClient sets s's OpenID Connect client settings to the kind's
// defaults for s.BaseURL, with RS256 signatures.
func (k Kind) ApplyClient(s *store.Service) {
	c := Client{RequirePKCE: true, RefreshTokens: true, AuthMethod: "client_secret_basic"}
	if k.Client != nil {
		c = k.Client(strings.TrimRight(s.BaseURL, "/"))
	}
	s.SigningAlg = "RS256"
	s.RedirectURIs = c.RedirectURIs
	s.PostLogoutURIs = c.PostLogoutURIs
	s.BackchannelLogoutURI = c.BackchannelLogoutURI
	s.RequirePKCE, s.RefreshTokens, s.AuthMethod = c.RequirePKCE, c.RefreshTokens, c.AuthMethod
}

// WriteSetup prints what the hoster pastes into the application to make s
// a client of sesame (issuer is sesame's public URL), each block in the
// syntax of where it goes, then its redirect and post-logout URIs and, when
// the kind provisions, the steps to create the API credentials. secret
// empty prints a placeholder (the secret is only known when created).
func (k Kind) WriteSetup(w io.Writer, issuer string, s store.Service, secret string) {
	issuer = strings.TrimRight(issuer, "/")
	if secret == "" {
		secret = "SECRET"
	}
	setup, comment := k.setup, k.comment
	if setup == nil {
		setup, comment = genericKind.setup, genericKind.comment
	}
	setup(w, issuer, s, secret)
	fmt.Fprintf(w, "%s redirect URIs: %s\n", comment, strings.Join(s.RedirectURIs, " "))
	if len(s.PostLogoutURIs) > 0 {
		fmt.Fprintf(w, "%s post-logout URIs: %s\n", comment, strings.Join(s.PostLogoutURIs, " "))
	}
	if k.NewConnector != nil && k.Credentials != "" {
		fmt.Fprintf(w, "%s\n%s Provisioning (accounts and roles made before the first login) needs API credentials.\n", comment, comment)
		for _, line := range strings.Split(k.Credentials, "\n") {
			fmt.Fprintf(w, "%s %s\n", comment, line)
		}
		fmt.Fprintf(w, "%s Then give them to sesame: sesame service credentials STRUCTURE SERVICE; check: sesame service test STRUCTURE SERVICE\n", comment)
	}
}

// PHPString writes s as a PHP single-quoted string literal: inside one,
// only a backslash and a quote need escaping.
func PHPString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ShellWord writes s as one shell word: as it is when it holds only
// characters no shell treats specially, else in single quotes.
func ShellWord(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/@%+=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
