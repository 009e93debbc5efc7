package apps

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/store"
)

// wordpressKind is WordPress with the plugin OpenID Connect Generic
// (daggerhart), INTEGRATIONS.md.
var wordpressKind = Kind{
	Name:  KindWordPress,
	Title: "WordPress",
	Roles: []string{"subscriber", "contributor", "author", "editor", "administrator"},
	Aliases: map[string]string{
		"subscriber": "subscriber", "abonne": "subscriber", "abonnee": "subscriber",
		"contributor": "contributor", "contributeur": "contributor", "contributrice": "contributor",
		"author": "author", "auteur": "author", "autrice": "author", "auteure": "author",
		"editor": "editor", "editeur": "editor", "editrice": "editor",
		"administrator": "administrator", "admin": "administrator", "administrateur": "administrator", "administratrice": "administrator",
	},
	FrenchRoles: map[string]string{"subscriber": "abonné", "contributor": "contributeur", "author": "auteur",
		"editor": "éditeur", "administrator": "administrateur"},
	DefaultRole: "subscriber",
	// No refresh tokens and no PKCE: the plugin uses neither. It returns
	// people after logout with their own locale (PostLogoutAllowed).
	Client: func(base string) Client {
		return Client{
			RedirectURIs: []string{base + "/wp-admin/admin-ajax.php?action=openid-connect-authorize"},
			PostLogoutURIs: []string{base + "/wp-login.php?loggedout=true&wp_lang=fr_FR",
				base + "/wp-login.php?loggedout=true&wp_lang=en_US"},
			RequirePKCE: false, RefreshTokens: false, AuthMethod: "client_secret_post",
		}
	},
	// The plugin forgets its state after 180 s: resuming would show
	// "Invalid state". Its own login page starts a fresh request, which
	// the new session answers at once.
	StateTTL:          wordPressStateTTL,
	LoginPath:         "/wp-login.php",
	SiteFormOrigin:    true,
	PostLogoutAllowed: WordPressLogoutURI,
	comment:           "//",
	setup: func(w io.Writer, issuer string, s store.Service, secret string) {
		fmt.Fprintf(w, `// WordPress: the plugin "OpenID Connect Generic" (by daggerhart) must be installed and
// activated first (Plugins > Add New). Then add these lines to wp-config.php, at the root of
// WordPress's installation, above the line "/* That's all, stop editing! */":
define('OIDC_LOGIN_TYPE', 'button');
define('OIDC_CLIENT_ID', %s);
define('OIDC_CLIENT_SECRET', %s);
define('OIDC_CLIENT_SCOPE', 'openid email profile');
define('OIDC_ENDPOINT_LOGIN_URL', %s);
define('OIDC_ENDPOINT_USERINFO_URL', %s);
define('OIDC_ENDPOINT_TOKEN_URL', %s);
define('OIDC_ENDPOINT_LOGOUT_URL', %s);
define('OIDC_LINK_EXISTING_USERS', true);
define('OIDC_CREATE_IF_DOES_NOT_EXIST', true);
`, PHPString(s.ClientID), PHPString(secret), PHPString(issuer+"/authorize"), PHPString(issuer+"/userinfo"),
			PHPString(issuer+"/token"), PHPString(issuer+"/logout"))
	},
	Credentials: `WordPress: as an administrator, Users > Profile > "Application Passwords", add one named sesame
(WordPress needs HTTPS for this); the user name is that administrator's login.`,
	NewConnector: func(c Config) (Connector, error) { return NewWordPress(c) },
	ByEmail:      true,
}

// wordPressStateTTL is how long the WordPress plugin keeps its state (180 s),
// less a margin for the round trip.
const wordPressStateTTL = 170 * time.Second

// wpLogoutMarker ends the part of the WordPress plugin's return address
// that comes before the locale: "{site}/wp-login.php?loggedout=true&wp_lang=".
const wpLogoutMarker = "/wp-login.php?loggedout=true&wp_lang="

// wpLangRe matches a WordPress locale as wp_lang carries it: a language of two
// or three letters, then optionally a country and a variant (de_DE, pt_BR,
// ary, de_DE_formal, pt_PT_ao90, art_xemoji).
var wpLangRe = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?(_[A-Za-z0-9]{1,12})?$`)

// WordPressLogoutURI is the one deliberate exception to exact matching of
// post-logout URIs (DESIGN.md): WordPress returns people to
// "{site}/wp-login.php?loggedout=true&wp_lang=LOCALE" with the logged-out
// person's own locale, any of some two hundred. uri is accepted when one
// registered URI has that very form and uri differs from it only by
// another well-formed locale: same scheme, host, path and parameters in
// the same order, byte for byte, and nothing after the locale.
func WordPressLogoutURI(registered []string, uri string) bool {
	prefix, locale, ok := strings.Cut(uri, wpLogoutMarker)
	if !ok || !wpLangRe.MatchString(locale) {
		return false
	}
	for _, reg := range registered {
		if rp, rl, ok := strings.Cut(reg, wpLogoutMarker); ok && rp == prefix && wpLangRe.MatchString(rl) {
			return true
		}
	}
	return false
}

// WordPress provisions users through WordPress's REST API
// (WP_REST_Users_Controller) with an administrator's application password
// over Basic authentication.
//
// Routes are reached with ?rest_route= by default, which works whatever the
// permalink setting; with pretty permalinks off, /wp-json/... answers a
// create with 200 and an empty body and creates nothing. Every answer is
// checked anyway: a create must answer 201 with the user as JSON.
//
// An account is looked up by the id of an earlier Result, then by email
// (WordPress's search is a case-insensitive substring match: the email is
// compared exactly here). A person without a known id is created directly:
// WordPress refuses a second account with the same login or email (HTTP 500
// existing_user_login / existing_user_email), and the connector then looks
// the account up and links it, so a retried create never duplicates and a
// new person costs one request.
type WordPress struct {
	c        *client
	pretty   bool
	takeOver bool
	rand     io.Reader
}

// NewWordPress returns a WordPress connector. Settings:
//
//   - "permalinks": "query" (default: ?rest_route=, works with any
//     permalink setting) or "pretty" (/wp-json/, needs pretty permalinks).
func NewWordPress(cfg Config) (*WordPress, error) {
	if err := cfg.checkSettings(KindWordPress, "permalinks"); err != nil {
		return nil, err
	}
	base, err := cfg.baseURL(KindWordPress)
	if err != nil {
		return nil, err
	}
	w := &WordPress{takeOver: cfg.TakeOver, rand: cfg.Rand}
	switch p := cfg.Settings["permalinks"]; p {
	case "", "query":
	case "pretty":
		w.pretty = true
	default:
		return nil, fmt.Errorf("apps: wordpress: setting permalinks=%q: use query or pretty", p)
	}
	if w.rand == nil {
		w.rand = rand.Reader
	}
	w.c = newClient(KindWordPress, cfg, base, nil)
	return w, nil
}

// Kind returns "wordpress".
func (w *WordPress) Kind() string { return KindWordPress }

// wpRoles are WordPress's built-in roles.
var wpRoles = []string{"subscriber", "contributor", "author", "editor", "administrator"}

// wpUser is a user in the REST API's edit context.
type wpUser struct {
	ID        int      `json:"id"`
	Username  string   `json:"username"`
	Name      string   `json:"name"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Roles     []string `json:"roles"`
	Locale    string   `json:"locale"`
	// Capabilities are the user's capabilities (role capabilities
	// included), an object; read by Check only.
	Capabilities json.RawMessage `json:"capabilities"`
}

// wpError is the REST API's error body.
type wpError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// route returns the reference of a REST route with query parameters.
func (w *WordPress) route(route string, q url.Values) string {
	if w.pretty {
		ref := "/wp-json" + route
		if len(q) > 0 {
			ref += "?" + q.Encode()
		}
		return ref
	}
	all := url.Values{"rest_route": {route}}
	for k, v := range q {
		all[k] = v
	}
	return "/?" + all.Encode()
}

// call is client.call, with the pretty-permalinks hint on a redirect under
// /wp-json/ (WordPress redirects /wp-json/... to a trailing slash when
// pretty permalinks are off).
func (w *WordPress) call(ctx context.Context, op, method, ref, contentType string, body []byte) (*response, error) {
	r, err := w.c.call(ctx, op, method, ref, contentType, body)
	return r, w.redirectHint(err)
}

func (w *WordPress) callJSON(ctx context.Context, op, method, ref string, v any) (*response, error) {
	r, err := w.c.callJSON(ctx, op, method, ref, v)
	return r, w.redirectHint(err)
}

func (w *WordPress) redirectHint(err error) error {
	if e, ok := err.(*Error); ok && w.pretty && e.Status >= 300 && e.Status < 400 {
		e.Hint = wpRESTUnreachable(true)
	}
	return err
}

// fail turns an unexpected answer into an *Error with WordPress's code and
// message.
func (w *WordPress) fail(op string, r *response) *Error {
	var e wpError
	if r.isJSON() {
		_ = json.Unmarshal(r.body, &e)
	}
	err := w.c.statusError(op, r, e.Code, e.Message)
	if r.status >= 200 && r.status < 300 && !r.isJSON() {
		err.Reason = ReasonConfig
		err.Message = clip(fmt.Sprintf("no JSON body (%q)", snippet(r.body)))
		err.Hint = wpRESTUnreachable(w.pretty)
	}
	if r.status == http.StatusUnauthorized {
		err.Hint = wpCredentialsHint
	}
	return err
}

// wpRESTUnreachable explains a REST answer that is not JSON.
func wpRESTUnreachable(pretty bool) Message {
	if pretty {
		return Message{
			FR: "l'API REST de WordPress ne répond pas sous /wp-json/ : les permaliens « jolis » sont désactivés (Réglages → Permaliens) ; activez-les, ou utilisez le réglage permalinks=query du service",
			EN: "WordPress's REST API does not answer under /wp-json/: pretty permalinks are off (Settings → Permalinks); turn them on, or use the service's permalinks=query setting",
		}
	}
	return Message{
		FR: "l'API REST de WordPress ne répond pas (?rest_route=) : vérifiez l'adresse du site, et qu'aucune extension ne désactive l'API REST",
		EN: "WordPress's REST API does not answer (?rest_route=): check the site's address, and that no plugin switches the REST API off",
	}
}

var wpCredentialsHint = Message{
	FR: "WordPress refuse l'identifiant ou le mot de passe d'application : créez-en un pour un administrateur (Comptes → Profil → Mots de passe d'application) ; WordPress n'accepte les mots de passe d'application qu'en HTTPS",
	EN: "WordPress refuses the user name or application password: create one for an administrator (Users → Profile → Application Passwords); WordPress accepts application passwords over HTTPS only",
}

// decodeUser reads a user from a 200/201 JSON answer.
func (w *WordPress) decodeUser(op string, r *response) (*wpUser, error) {
	var u wpUser
	if !r.isJSON() || json.Unmarshal(r.body, &u) != nil || u.ID <= 0 {
		e := w.fail(op, r)
		if e.Reason != ReasonConfig {
			e = w.c.protocolError(op, r, "expected a user as JSON")
		}
		return nil, e
	}
	return &u, nil
}

// get fetches a user by id; nil when there is none.
func (w *WordPress) get(ctx context.Context, id string) (*wpUser, error) {
	op := "get user " + id
	r, err := w.call(ctx, op, http.MethodGet, w.route("/wp/v2/users/"+url.PathEscape(id), url.Values{"context": {"edit"}}), "", nil)
	if err != nil {
		return nil, err
	}
	if r.status == http.StatusNotFound {
		var e wpError
		if r.isJSON() && json.Unmarshal(r.body, &e) == nil && e.Code == "rest_user_invalid_id" {
			return nil, nil
		}
	}
	if r.status != http.StatusOK {
		return nil, w.fail(op, r)
	}
	return w.decodeUser(op, r)
}

// search returns the users whose search columns contain term, every page.
func (w *WordPress) search(ctx context.Context, term string) ([]wpUser, error) {
	op := "search users " + term
	var all []wpUser
	for page := 1; ; page++ {
		q := url.Values{"search": {term}, "context": {"edit"}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}
		r, err := w.call(ctx, op, http.MethodGet, w.route("/wp/v2/users", q), "", nil)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK {
			return nil, w.fail(op, r)
		}
		var list []wpUser
		if !r.isJSON() || json.Unmarshal(r.body, &list) != nil {
			e := w.fail(op, r)
			if e.Reason != ReasonConfig {
				e = w.c.protocolError(op, r, "expected a list of users as JSON")
			}
			return nil, e
		}
		all = append(all, list...)
		pages, _ := strconv.Atoi(r.header.Get("X-WP-TotalPages"))
		if page >= pages || len(list) == 0 || page >= 50 {
			return all, nil
		}
	}
}

// byEmail finds the user whose email is email (compared case-insensitively,
// as WordPress does when it refuses a duplicate).
func (w *WordPress) byEmail(ctx context.Context, email string) (*wpUser, error) {
	list, err := w.search(ctx, email)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if strings.EqualFold(strings.TrimSpace(list[i].Email), strings.TrimSpace(email)) {
			return &list[i], nil
		}
	}
	return nil, nil
}

// byLogin finds the user whose login is login.
func (w *WordPress) byLogin(ctx context.Context, login string) (*wpUser, error) {
	list, err := w.search(ctx, login)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if strings.EqualFold(list[i].Username, login) {
			return &list[i], nil
		}
	}
	return nil, nil
}

// lookup finds the person's account: by the known id, then by email.
func (w *WordPress) lookup(ctx context.Context, a Account) (*wpUser, error) {
	if a.RemoteID != "" {
		u, err := w.get(ctx, a.RemoteID)
		if err != nil || u != nil {
			return u, err
		}
	}
	return w.byEmail(ctx, a.Email)
}

// ownership says whether sesame created u and whether it may change it.
func (w *WordPress) ownership(a Account, u *wpUser) (owned, managed bool) {
	owned = a.Owned && strings.EqualFold(u.Username, a.Username) &&
		(a.RemoteID == "" || a.RemoteID == strconv.Itoa(u.ID))
	return owned, owned || w.takeOver
}

// locale is the WordPress locale of a language.
func wpLocale(lang string) string {
	switch strings.ToLower(lang) {
	case "fr":
		return "fr_FR"
	case "en":
		return "en_US"
	}
	return ""
}

// Ensure creates or updates the person's WordPress user with the granted
// role (see Connector).
func (w *WordPress) Ensure(ctx context.Context, a Account) (Result, error) {
	if err := w.validate("ensure", a); err != nil {
		return Result{}, err
	}
	a = knownID(a)
	var u *wpUser
	// Look up first only when sesame may have made the account before; a
	// person never seen is created directly (see the type's comment). A
	// disabled person is only looked up, never created.
	if a.RemoteID != "" || a.Owned || !a.Enabled {
		var err error
		if u, err = w.lookup(ctx, a); err != nil {
			return Result{}, err
		}
	}
	if u == nil {
		if !a.Enabled {
			return Result{Outcome: OutcomeAbsent}, nil
		}
		created, found, err := w.create(ctx, a)
		if err != nil {
			return Result{}, err
		}
		if created != nil {
			id := strconv.Itoa(created.ID)
			return Result{Outcome: OutcomeCreated, RemoteID: id, Owned: true, Managed: true, Changed: []string{"created"}}, nil
		}
		u = found
	}
	if !a.Enabled {
		return w.remove(ctx, a, u)
	}
	owned, managed := w.ownership(a, u)
	res := Result{RemoteID: strconv.Itoa(u.ID), Owned: owned, Managed: managed}
	if !managed {
		res.Outcome = OutcomeLinked
		return res, nil
	}
	change := map[string]any{}
	if !strings.EqualFold(strings.TrimSpace(u.Email), strings.TrimSpace(a.Email)) {
		change["email"] = a.Email
	}
	if u.Name != a.displayName() {
		change["name"] = a.displayName()
	}
	if u.FirstName != a.GivenName {
		change["first_name"] = a.GivenName
	}
	if u.LastName != a.FamilyName {
		change["last_name"] = a.FamilyName
	}
	if len(u.Roles) != 1 || u.Roles[0] != a.Role {
		change["roles"] = []string{a.Role}
	}
	if len(change) == 0 {
		res.Outcome = OutcomeUnchanged
		return res, nil
	}
	if err := w.update(ctx, u, change); err != nil {
		return Result{}, err
	}
	res.Outcome = OutcomeUpdated
	for k := range change {
		res.Changed = append(res.Changed, k)
	}
	slices.Sort(res.Changed)
	return res, nil
}

// Remove takes every role away from the person's WordPress user: the
// account stays, so its posts keep their author, but it can do nothing.
func (w *WordPress) Remove(ctx context.Context, a Account) (Result, error) {
	if err := w.validate("remove", a); err != nil {
		return Result{}, err
	}
	a = knownID(a)
	u, err := w.lookup(ctx, a)
	if err != nil {
		return Result{}, err
	}
	if u == nil {
		return Result{Outcome: OutcomeAbsent}, nil
	}
	return w.remove(ctx, a, u)
}

func (w *WordPress) remove(ctx context.Context, a Account, u *wpUser) (Result, error) {
	owned, managed := w.ownership(a, u)
	res := Result{RemoteID: strconv.Itoa(u.ID), Owned: owned, Managed: managed}
	switch {
	case !managed:
		res.Outcome = OutcomeLinked
	case len(u.Roles) == 0:
		res.Outcome = OutcomeUnchanged
	default:
		if err := w.update(ctx, u, map[string]any{"roles": []string{}}); err != nil {
			return Result{}, err
		}
		res.Outcome, res.Changed = OutcomeRolesRemoved, []string{"roles"}
	}
	return res, nil
}

func (w *WordPress) validate(op string, a Account) error {
	if err := a.validate(KindWordPress, op+" "+a.Username); err != nil {
		return err
	}
	if op == "remove" || !a.Enabled {
		return nil // no role, quota or category is needed to take access away
	}
	if !slices.Contains(wpRoles, a.Role) {
		return &Error{Kind: KindWordPress, Op: op + " " + a.Username, Reason: ReasonInvalid,
			Message: fmt.Sprintf("role %q is not a WordPress role (%s)", a.Role, strings.Join(wpRoles, ", "))}
	}
	return nil
}

// password is a random password for a new account: nobody knows it,
// people log in through sesame.
func (w *WordPress) password() (string, error) {
	b := make([]byte, 24)
	if _, err := io.ReadFull(w.rand, b); err != nil {
		return "", fmt.Errorf("apps: wordpress: random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create creates the user. It returns the created user, or the existing
// account that WordPress's duplicate refusal pointed at.
func (w *WordPress) create(ctx context.Context, a Account) (created, existing *wpUser, err error) {
	op := "create user " + a.Username
	pw, err := w.password()
	if err != nil {
		return nil, nil, err
	}
	body := map[string]any{
		"username": a.Username, "email": a.Email, "password": pw,
		"name": a.displayName(), "first_name": a.GivenName, "last_name": a.FamilyName,
		"roles": []string{a.Role},
	}
	if l := wpLocale(a.Language); l != "" {
		body["locale"] = l
	}
	for {
		r, err := w.callJSON(ctx, op, http.MethodPost, w.route("/wp/v2/users", nil), body)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.MayHaveCreated = maySent(err)
			}
			return nil, nil, err
		}
		if r.status == http.StatusCreated {
			u, err := w.decodeUser(op, r)
			return u, nil, err
		}
		var e wpError
		if r.isJSON() {
			_ = json.Unmarshal(r.body, &e)
		}
		switch {
		case e.Code == "existing_user_email" || e.Code == "existing_user_login":
			return w.afterDuplicate(ctx, a, e)
		case r.status == http.StatusBadRequest && e.Code == "rest_invalid_param" && body["locale"] != nil && strings.Contains(string(e.Data), "locale"):
			// The language is not installed on this site: its default then.
			delete(body, "locale")
			continue
		}
		fe := w.fail(op, r)
		fe.MayHaveCreated = maySent(fe)
		return nil, nil, fe
	}
}

// afterDuplicate finds the account WordPress says is in the way.
func (w *WordPress) afterDuplicate(ctx context.Context, a Account, dup wpError) (created, existing *wpUser, err error) {
	u, err := w.byEmail(ctx, a.Email)
	if err != nil || u != nil {
		return nil, u, err
	}
	if dup.Code == "existing_user_login" {
		// The login is taken by an account with another email: sesame's own
		// account whose email changed, or somebody else's.
		u, err := w.byLogin(ctx, a.Username)
		if err != nil {
			return nil, nil, err
		}
		if u != nil && (a.Owned || w.takeOver) {
			return nil, u, nil
		}
		other := ""
		if u != nil {
			other = " (" + u.Email + ")"
		}
		return nil, nil, &Error{Kind: KindWordPress, Op: "create user " + a.Username, Status: http.StatusInternalServerError,
			Code: dup.Code, Message: clip(dup.Message), Reason: ReasonConflict,
			Hint: Message{
				FR: fmt.Sprintf("WordPress a déjà un compte « %s »%s avec une autre adresse, que sesame n'a pas créé : renommez ou supprimez ce compte dans WordPress, ou autorisez le service à reprendre les comptes existants", a.Username, other),
				EN: fmt.Sprintf("WordPress already has an account %q%s with another email, not created by sesame: rename or delete it in WordPress, or let the service take over existing accounts", a.Username, other),
			}}
	}
	// existing_user_email, yet no user with that email is listed: the
	// search and the refusal disagree for a moment (a concurrent change).
	return nil, nil, &Error{Kind: KindWordPress, Op: "create user " + a.Username, Status: http.StatusInternalServerError,
		Code: dup.Code, Message: clip(dup.Message), Reason: ReasonConflict, Retryable: true}
}

// update writes the changed fields of u.
func (w *WordPress) update(ctx context.Context, u *wpUser, change map[string]any) error {
	op := fmt.Sprintf("update user %s (%d)", u.Username, u.ID)
	r, err := w.callJSON(ctx, op, http.MethodPost, w.route("/wp/v2/users/"+strconv.Itoa(u.ID), nil), change)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		e := w.fail(op, r)
		if e.Code == "rest_user_invalid_email" {
			e.Reason = ReasonConflict
			e.Hint = Message{
				FR: fmt.Sprintf("un autre compte WordPress utilise déjà l'adresse %v", change["email"]),
				EN: fmt.Sprintf("another WordPress account already uses the address %v", change["email"]),
			}
		}
		return e
	}
	_, err = w.decodeUser(op, r)
	return err
}

// wpNeeded are the capabilities the connector uses.
var wpNeeded = []string{"list_users", "create_users", "edit_users", "promote_users"}

// Check reads the credentials' own user and checks that it may list,
// create, edit and promote users.
func (w *WordPress) Check(ctx context.Context) error {
	op := "check credentials"
	r, err := w.call(ctx, op, http.MethodGet, w.route("/wp/v2/users/me", url.Values{"context": {"edit"}}), "", nil)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		e := w.fail(op, r)
		if r.status == http.StatusNotFound {
			e.Reason = ReasonConfig
			e.Hint = wpRESTUnreachable(w.pretty)
		}
		return e
	}
	u, err := w.decodeUser(op, r)
	if err != nil {
		return err
	}
	var caps map[string]bool
	_ = json.Unmarshal(u.Capabilities, &caps)
	var missing []string
	for _, c := range wpNeeded {
		if !caps[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return &Error{Kind: KindWordPress, Op: op, Status: r.status, Reason: ReasonPermission,
			Message: "missing capabilities: " + strings.Join(missing, ", "),
			Hint: Message{
				FR: fmt.Sprintf("le compte WordPress « %s » n'a pas le droit de gérer les comptes (%s) : utilisez le mot de passe d'application d'un administrateur", u.Username, strings.Join(missing, ", ")),
				EN: fmt.Sprintf("the WordPress account %q may not manage users (%s): use an administrator's application password", u.Username, strings.Join(missing, ", ")),
			}}
	}
	return nil
}
