package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"sesame/internal/store"
)

// nextcloudKind is Nextcloud with the app user_oidc (INTEGRATIONS.md).
var nextcloudKind = Kind{
	Name:  KindNextcloud,
	Title: "Nextcloud",
	Roles: []string{"user", "admin"},
	Aliases: map[string]string{
		"user": "user", "utilisateur": "user", "utilisatrice": "user", "membre": "user", "member": "user",
		"admin": "admin", "administrator": "admin", "administrateur": "admin", "administratrice": "admin",
	},
	FrenchRoles: map[string]string{"user": "utilisateur", "admin": "administrateur"},
	DefaultRole: "user",
	Client: func(base string) Client {
		return Client{
			RedirectURIs:         []string{base + "/index.php/apps/user_oidc/code"},
			PostLogoutURIs:       []string{base + "/"},
			BackchannelLogoutURI: base + "/index.php/apps/user_oidc/backchannel-logout/sesame",
			RequirePKCE:          true, RefreshTokens: true, AuthMethod: "client_secret_post",
		}
	},
	BackchannelNoSession: nextcloudNoSession,
	// user_oidc maps the quota claim (--mapping-quota defaults to "quota").
	QuotaClaim: true,
	Quota:      true,
	comment:    "#",
	setup: func(w io.Writer, issuer string, s store.Service, secret string) {
		fmt.Fprintf(w, `# Nextcloud (app user_oidc, installed and enabled): in Nextcloud's folder, as the web
# server's user (for example "sudo -u www-data php occ ..."):
occ user_oidc:provider sesame --clientid=%s --clientsecret=%s \
  --discoveryuri=%s \
  --scope="openid email profile" --unique-uid=0 --mapping-uid=preferred_username \
  --group-provisioning=1 --send-id-token-hint=1
`, ShellWord(s.ClientID), ShellWord(secret), ShellWord(issuer+"/.well-known/openid-configuration"))
		if s.BackchannelLogoutURI != "" {
			fmt.Fprintf(w, "# sesame sends back-channel logouts to %s\n", s.BackchannelLogoutURI)
		}
	},
	Credentials: `Nextcloud: log in as an administrator, Personal settings > Security > "Create new app password"
(name it sesame); the user name is that administrator's login. Also give --setting provider_id=ID,
the id that "occ user_oidc:provider" lists for sesame (required).`,
	NewConnector: func(c Config) (Connector, error) { return NewNextcloud(c) },
}

// nextcloudNoSession reads user_oidc's refusal of a back-channel logout
// (LoginController::backChannelLogout): 400 with {"error_description": "No
// session was found for this (sid,sub,iss)"} (or "(sid,iss)"), or "No
// session found with sub+iss" for a token without sid. Its other refusals
// (an unknown provider, a wrong audience, several sessions) are errors.
func nextcloudNoSession(status int, body []byte) bool {
	var e struct {
		Description string `json:"error_description"`
	}
	if status != http.StatusBadRequest || json.Unmarshal(body, &e) != nil {
		return false
	}
	return strings.HasPrefix(e.Description, "No session was found for this (") || e.Description == "No session found with sub+iss"
}

// Nextcloud provisions users with an administrator's app password (Basic
// authentication, header OCS-APIRequest: true, JSON answers).
//
// A new person is created with user_oidc's pre-provisioning endpoint
// (POST /ocs/v2.php/apps/user_oidc/api/v1/user, {providerId, userId,
// displayName, email, quota}), with sesame's username as user id: user_oidc
// maps preferred_username to it (provider registered with --unique-uid=0),
// so the first login lands in that very user, and no Nextcloud welcome mail
// is sent. Groups (the admin group for role "admin", plus Account.Groups),
// quota and enabled state then go through the OCS provisioning API
// (/ocs/v2.php/cloud/users/{id}), which acts on users of every backend.
//
// Every call first reads the user (GET /cloud/users/{id}). A user of a
// backend sesame does not own (by default: any but user_oidc, e.g. a local
// account with the same id) is linked and left alone unless the service
// takes accounts over. The pre-provisioning endpoint is itself
// create-or-update (user_oidc's getOrCreate), so a retried create never
// makes a second user; it is also how the display name of a user_oidc user
// is changed, since that backend cannot set names through OCS.
type Nextcloud struct {
	c             *client
	takeOver      bool
	providerID    int
	ownedBackends []string
	managedGroups []string
}

// NewNextcloud returns a Nextcloud connector. Settings:
//
//   - "provider_id": user_oidc's numeric id of sesame's provider (required;
//     `occ user_oidc:provider` lists it);
//   - "owned_backends": the user backends whose users sesame manages,
//     comma-separated (default "user_oidc"; add "LDAP" when Nextcloud reads
//     sesame's directory);
//   - "managed_groups": the groups sesame may take a person out of besides
//     "admin", comma-separated (default none: groups are only added).
func NewNextcloud(cfg Config) (*Nextcloud, error) {
	if err := cfg.checkSettings(KindNextcloud, "provider_id", "owned_backends", "managed_groups"); err != nil {
		return nil, err
	}
	base, err := cfg.baseURL(KindNextcloud)
	if err != nil {
		return nil, err
	}
	id, err := strconv.Atoi(cfg.Settings["provider_id"])
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("apps: nextcloud: setting provider_id=%q: give user_oidc's numeric provider id (occ user_oidc:provider)", cfg.Settings["provider_id"])
	}
	n := &Nextcloud{takeOver: cfg.TakeOver, providerID: id,
		ownedBackends: splitList(cfg.Settings["owned_backends"]), managedGroups: splitList(cfg.Settings["managed_groups"])}
	if _, ok := cfg.Settings["owned_backends"]; !ok {
		n.ownedBackends = []string{"user_oidc"}
	}
	n.c = newClient(KindNextcloud, cfg, base, http.Header{"Ocs-Apirequest": {"true"}})
	return n, nil
}

// Kind returns "nextcloud".
func (n *Nextcloud) Kind() string { return KindNextcloud }

// ocsMeta is the meta part of an OCS answer.
type ocsMeta struct {
	Status     string `json:"status"`
	StatusCode int    `json:"statuscode"`
	Message    string `json:"message"`
}

// ocsAnswer is an OCS answer: its envelope when it had one.
type ocsAnswer struct {
	r    *response
	meta ocsMeta
	data json.RawMessage
	ok   bool // an OCS envelope was read
}

// success reports an OCS success: HTTP 200 with status code 200 (v2) or
// 100 (v1).
func (a *ocsAnswer) success() bool {
	return a.ok && a.r.status == http.StatusOK && (a.meta.StatusCode == 200 || a.meta.StatusCode == 100)
}

// parseOCS reads an OCS envelope.
func parseOCS(r *response) *ocsAnswer {
	a := &ocsAnswer{r: r}
	var env struct {
		OCS *struct {
			Meta ocsMeta         `json:"meta"`
			Data json.RawMessage `json:"data"`
		} `json:"ocs"`
	}
	if r.isJSON() && json.Unmarshal(r.body, &env) == nil && env.OCS != nil {
		a.meta, a.data, a.ok = env.OCS.Meta, env.OCS.Data, true
	}
	return a
}

// ocs sends one OCS request with format=json added to ref's query.
func (n *Nextcloud) ocs(ctx context.Context, op, method, ref string, form url.Values, body any) (*ocsAnswer, error) {
	if strings.Contains(ref, "?") {
		ref += "&format=json"
	} else {
		ref += "?format=json"
	}
	var r *response
	var err error
	switch {
	case body != nil:
		r, err = n.c.callJSON(ctx, op, method, ref, body)
	case form != nil:
		r, err = n.c.callForm(ctx, op, method, ref, form)
	default:
		r, err = n.c.call(ctx, op, method, ref, "", nil)
	}
	if err != nil {
		return nil, err
	}
	return parseOCS(r), nil
}

var ncCredentialsHint = Message{
	FR: "Nextcloud refuse l'identifiant ou le mot de passe d'application : créez un mot de passe d'application pour un administrateur (Paramètres personnels → Sécurité → Appareils et sessions)",
	EN: "Nextcloud refuses the user name or app password: create an app password for an administrator (Personal settings → Security → Devices & sessions)",
}

// fail turns an unexpected OCS answer into an *Error with Nextcloud's
// status code and message.
func (n *Nextcloud) fail(op string, a *ocsAnswer) *Error {
	code := ""
	if a.ok {
		code = strconv.Itoa(a.meta.StatusCode)
	}
	e := n.c.statusError(op, a.r, code, a.meta.Message)
	switch {
	case a.r.status == http.StatusUnauthorized || a.meta.StatusCode == 997:
		e.Reason, e.Retryable, e.Hint = ReasonCredentials, false, ncCredentialsHint
	case a.r.status == http.StatusForbidden:
		e.Hint = Message{
			FR: "le compte Nextcloud utilisé par sesame doit être administrateur (groupe admin)",
			EN: "the Nextcloud account sesame uses must be an administrator (admin group)",
		}
	case a.r.status == http.StatusNotFound && !a.ok:
		e.Reason = ReasonConfig
		e.Hint = Message{
			FR: "pas d'API Nextcloud à cette adresse (ou l'application user_oidc est désactivée) : vérifiez l'adresse du service",
			EN: "no Nextcloud API at this address (or the user_oidc app is disabled): check the service's address",
		}
	case a.r.status >= 200 && a.r.status < 300 && !a.ok:
		e.Reason = ReasonProtocol
		e.Message = clip("no OCS envelope in the answer: " + snippet(a.r.body))
	}
	return e
}

// ncUser is a user as GET /cloud/users/{id} gives it.
type ncUser struct {
	ID          string          `json:"id"`
	Enabled     json.RawMessage `json:"enabled"`
	Backend     string          `json:"backend"`
	Email       *string         `json:"email"`
	DisplayName string          `json:"displayname"`
	Groups      []string        `json:"groups"`
	Quota       json.RawMessage `json:"quota"`
	Language    string          `json:"language"`
}

// enabled reads the enabled flag (a boolean, or "true"/"false" in older
// versions); an absent flag counts as enabled.
func (u *ncUser) enabled() bool {
	s := strings.Trim(string(bytes.TrimSpace(u.Enabled)), `"`)
	return s != "false" && s != "0"
}

func (u *ncUser) email() string {
	if u.Email == nil {
		return ""
	}
	return *u.Email
}

// quotaBytes reads data.quota.quota: bytes, or -3 for none/unlimited; ok
// is false when it is missing or unreadable.
func (u *ncUser) quotaBytes() (float64, bool) {
	var q struct {
		Quota any `json:"quota"`
	}
	if len(u.Quota) == 0 || json.Unmarshal(u.Quota, &q) != nil {
		return 0, false
	}
	switch v := q.Quota.(type) {
	case float64:
		if v < 0 {
			return -3, true
		}
		return v, true
	case string:
		if v == "none" {
			return -3, true
		}
		return computerFileSize(v)
	}
	return 0, false
}

// computerFileSize reads a size as Nextcloud's Util::computerFileSize does:
// "5 GB" is 5 × 1024³ bytes; "none" is unlimited (-3).
func computerFileSize(s string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "none" {
		return -3, true
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, true
	}
	num := s
	for len(num) > 0 && !strings.ContainsRune("0123456789.", rune(num[len(num)-1])) {
		num = num[:len(num)-1]
	}
	unit := strings.TrimSpace(s[len(num):])
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}[unit]
	if mult == 0 {
		return 0, false
	}
	return math.Round(v * mult), true
}

// getUser reads a user; nil when there is none.
func (n *Nextcloud) getUser(ctx context.Context, id string) (*ncUser, error) {
	op := "get user " + id
	a, err := n.ocs(ctx, op, http.MethodGet, "/ocs/v2.php/cloud/users/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, err
	}
	if a.ok && (a.r.status == http.StatusNotFound || a.meta.StatusCode == 998) {
		return nil, nil
	}
	if !a.success() {
		return nil, n.fail(op, a)
	}
	var u ncUser
	if json.Unmarshal(a.data, &u) != nil || u.ID == "" {
		return nil, n.c.protocolError(op, a.r, "expected a user")
	}
	return &u, nil
}

// desiredGroups are the groups the person must be in.
func (n *Nextcloud) desiredGroups(a Account) []string {
	var out []string
	if a.Role == "admin" {
		out = append(out, "admin")
	}
	for _, g := range a.Groups {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// removable reports whether sesame may take a person out of group g.
func (n *Nextcloud) removable(g string) bool {
	return g == "admin" || slices.Contains(n.managedGroups, g)
}

func (n *Nextcloud) validate(op string, a Account) error {
	if err := a.validate(KindNextcloud, op+" "+a.Username); err != nil {
		return err
	}
	if op == "remove" || !a.Enabled {
		return nil // no role, quota or category is needed to take access away
	}
	if a.Role != "user" && a.Role != "admin" {
		return &Error{Kind: KindNextcloud, Op: op + " " + a.Username, Reason: ReasonInvalid,
			Message: fmt.Sprintf("role %q is not a Nextcloud role (user, admin)", a.Role)}
	}
	if a.Quota != "" {
		if _, ok := computerFileSize(a.Quota); !ok {
			return &Error{Kind: KindNextcloud, Op: op + " " + a.Username, Reason: ReasonInvalid,
				Message: fmt.Sprintf("quota %q is not a size such as \"5 GB\"", a.Quota)}
		}
	}
	return nil
}

// Ensure creates the person's user through user_oidc's pre-provisioning, or
// brings its groups, profile, quota and enabled state to a (see Connector).
func (n *Nextcloud) Ensure(ctx context.Context, a Account) (Result, error) {
	if err := n.validate("ensure", a); err != nil {
		return Result{}, err
	}
	u, err := n.getUser(ctx, a.Username)
	if err != nil {
		return Result{}, err
	}
	if u == nil {
		if !a.Enabled {
			return Result{Outcome: OutcomeAbsent}, nil
		}
		return n.create(ctx, a)
	}
	managed := n.takeOver || slices.Contains(n.ownedBackends, u.Backend)
	res := Result{RemoteID: u.ID, Owned: slices.Contains(n.ownedBackends, u.Backend), Managed: managed}
	if !managed {
		res.Outcome = OutcomeLinked
		return res, nil
	}
	if !a.Enabled {
		return n.disable(ctx, u, res)
	}
	var changed []string
	// Profile: names and email belong to user_oidc (pre-provisioning) or to
	// the Database backend (OCS); another backend (LDAP) keeps its own.
	var profile []string
	if u.DisplayName != a.displayName() {
		profile = append(profile, "displayname")
	}
	if !strings.EqualFold(strings.TrimSpace(u.email()), strings.TrimSpace(a.Email)) {
		profile = append(profile, "email")
	}
	quotaDiffers := false
	if a.Quota != "" {
		want, _ := computerFileSize(a.Quota)
		have, ok := u.quotaBytes()
		quotaDiffers = !ok || have != want
	}
	switch {
	case u.Backend == "user_oidc" && (len(profile) > 0 || quotaDiffers):
		if _, err := n.preprovision(ctx, a); err != nil {
			return Result{}, err
		}
		changed = append(changed, profile...)
		if quotaDiffers {
			changed = append(changed, "quota")
		}
	default:
		var edits []string
		if u.Backend == "Database" {
			edits = profile
		}
		if quotaDiffers {
			edits = append(edits, "quota")
		}
		for _, key := range edits {
			value := map[string]string{"displayname": a.displayName(), "email": a.Email, "quota": a.Quota}[key]
			if err := n.edit(ctx, u.ID, key, value); err != nil {
				return Result{}, err
			}
			changed = append(changed, key)
		}
	}
	if !u.enabled() {
		if err := n.setEnabled(ctx, u.ID, true); err != nil {
			return Result{}, err
		}
		changed = append(changed, "enabled")
	}
	grp, err := n.syncGroups(ctx, u.ID, u.Groups, n.desiredGroups(a))
	if err != nil {
		return Result{}, err
	}
	changed = append(changed, grp...)
	res.Outcome, res.Changed = OutcomeUnchanged, changed
	if len(changed) > 0 {
		res.Outcome = OutcomeUpdated
	}
	return res, nil
}

// create pre-provisions the user, then sets its groups and language.
func (n *Nextcloud) create(ctx context.Context, a Account) (Result, error) {
	id, err := n.preprovision(ctx, a)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.MayHaveCreated = maySent(err)
		}
		return Result{}, err
	}
	res := Result{Outcome: OutcomeCreated, RemoteID: id, Owned: true, Managed: true, Changed: []string{"created"}}
	// The user exists now: a later step that fails says so, so that the
	// caller records the account as sesame's (and takes it away if the
	// grant ends before the retry).
	created := func(err error) error {
		if e, ok := err.(*Error); ok {
			e.MayHaveCreated = true
		}
		return err
	}
	grp, err := n.syncGroups(ctx, id, nil, n.desiredGroups(a))
	if err != nil {
		return Result{}, created(err)
	}
	res.Changed = append(res.Changed, grp...)
	if a.Language != "" {
		if err := n.edit(ctx, id, "language", strings.ToLower(a.Language)); err != nil {
			return Result{}, created(err)
		}
		res.Changed = append(res.Changed, "language")
	}
	return res, nil
}

// preprovision calls user_oidc's create-or-update endpoint and returns the
// user id it made.
func (n *Nextcloud) preprovision(ctx context.Context, a Account) (string, error) {
	op := "pre-provision user " + a.Username
	body := map[string]any{"providerId": n.providerID, "userId": a.Username, "displayName": a.displayName(), "email": a.Email}
	if a.Quota != "" {
		body["quota"] = a.Quota
	}
	ans, err := n.ocs(ctx, op, http.MethodPost, "/ocs/v2.php/apps/user_oidc/api/v1/user", nil, body)
	if err != nil {
		return "", err
	}
	if !ans.success() {
		e := n.fail(op, ans)
		e.MayHaveCreated = maySent(e)
		if ans.r.status == http.StatusNotFound {
			e.Reason = ReasonConfig
			e.Hint = Message{
				FR: "Nextcloud n'a pas le point de pré-création de comptes de user_oidc : activez l'application user_oidc (une version qui a l'API de provisionnement)",
				EN: "Nextcloud has no user_oidc pre-provisioning endpoint: enable the user_oidc app (a version with its provisioning API)",
			}
		}
		return "", e
	}
	var data struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(ans.data, &data) != nil || data.UserID == "" {
		return "", n.c.protocolError(op, ans.r, "expected {user_id}")
	}
	if data.UserID != a.Username {
		return "", &Error{Kind: KindNextcloud, Op: op, Status: ans.r.status, Reason: ReasonConfig,
			Message: fmt.Sprintf("user_oidc made user %q, not %q", data.UserID, a.Username),
			Hint: Message{
				FR: "user_oidc transforme les identifiants (--unique-uid=1) : enregistrez le fournisseur sesame avec --unique-uid=0 --mapping-uid=preferred_username, puis supprimez l'utilisateur créé en trop",
				EN: "user_oidc hashes user ids (--unique-uid=1): register sesame's provider with --unique-uid=0 --mapping-uid=preferred_username, then delete the extra user",
			}}
	}
	return data.UserID, nil
}

// edit sets one field through OCS (PUT /cloud/users/{id} key=value).
func (n *Nextcloud) edit(ctx context.Context, id, key, value string) error {
	op := fmt.Sprintf("set %s of user %s", key, id)
	ans, err := n.ocs(ctx, op, http.MethodPut, "/ocs/v2.php/cloud/users/"+url.PathEscape(id), url.Values{"key": {key}, "value": {value}}, nil)
	if err != nil {
		return err
	}
	if !ans.success() {
		return n.fail(op, ans)
	}
	return nil
}

// setEnabled enables or disables a user.
func (n *Nextcloud) setEnabled(ctx context.Context, id string, on bool) error {
	verb := "disable"
	if on {
		verb = "enable"
	}
	op := verb + " user " + id
	ans, err := n.ocs(ctx, op, http.MethodPut, "/ocs/v2.php/cloud/users/"+url.PathEscape(id)+"/"+verb, url.Values{}, nil)
	if err != nil {
		return err
	}
	if !ans.success() {
		return n.fail(op, ans)
	}
	return nil
}

// syncGroups adds the user to the desired groups it is not in, and takes
// it out of the removable groups it should not be in. It returns what it
// changed ("+group", "-group").
func (n *Nextcloud) syncGroups(ctx context.Context, id string, have, want []string) ([]string, error) {
	var changed []string
	for _, g := range want {
		if slices.Contains(have, g) {
			continue
		}
		if err := n.addToGroup(ctx, id, g); err != nil {
			return nil, err
		}
		changed = append(changed, "+"+g)
	}
	for _, g := range have {
		if slices.Contains(want, g) || !n.removable(g) {
			continue
		}
		op := fmt.Sprintf("remove user %s from group %s", id, g)
		ans, err := n.ocs(ctx, op, http.MethodDelete, "/ocs/v2.php/cloud/users/"+url.PathEscape(id)+"/groups?"+url.Values{"groupid": {g}}.Encode(), nil, nil)
		if err != nil {
			return nil, err
		}
		// 102: the group no longer exists; nothing to leave.
		if !ans.success() && ans.meta.StatusCode != 102 {
			return nil, n.fail(op, ans)
		}
		changed = append(changed, "-"+g)
	}
	return changed, nil
}

// addToGroup adds the user to group g, creating the group when Nextcloud
// says it does not exist (status 102 on this route; 104 here means the
// caller lacks privileges for the group).
func (n *Nextcloud) addToGroup(ctx context.Context, id, g string) error {
	op := fmt.Sprintf("add user %s to group %s", id, g)
	for attempt := 0; ; attempt++ {
		ans, err := n.ocs(ctx, op, http.MethodPost, "/ocs/v2.php/cloud/users/"+url.PathEscape(id)+"/groups", url.Values{"groupid": {g}}, nil)
		if err != nil {
			return err
		}
		if ans.success() {
			return nil
		}
		if ans.meta.StatusCode != 102 || attempt > 0 {
			e := n.fail(op, ans)
			if ans.meta.StatusCode == 104 {
				e.Reason = ReasonPermission
			}
			return e
		}
		cop := "create group " + g
		cg, err := n.ocs(ctx, cop, http.MethodPost, "/ocs/v2.php/cloud/groups", url.Values{"groupid": {g}}, nil)
		if err != nil {
			return err
		}
		// 102: it exists (made meanwhile).
		if !cg.success() && cg.meta.StatusCode != 102 {
			return n.fail(cop, cg)
		}
	}
}

// Remove disables the person's Nextcloud user (its files and shares stay).
func (n *Nextcloud) Remove(ctx context.Context, a Account) (Result, error) {
	if err := n.validate("remove", a); err != nil {
		return Result{}, err
	}
	u, err := n.getUser(ctx, a.Username)
	if err != nil {
		return Result{}, err
	}
	if u == nil {
		return Result{Outcome: OutcomeAbsent}, nil
	}
	owned := slices.Contains(n.ownedBackends, u.Backend)
	res := Result{RemoteID: u.ID, Owned: owned, Managed: owned || n.takeOver}
	if !res.Managed {
		res.Outcome = OutcomeLinked
		return res, nil
	}
	return n.disable(ctx, u, res)
}

func (n *Nextcloud) disable(ctx context.Context, u *ncUser, res Result) (Result, error) {
	if !u.enabled() {
		res.Outcome = OutcomeUnchanged
		return res, nil
	}
	if err := n.setEnabled(ctx, u.ID, false); err != nil {
		return Result{}, err
	}
	res.Outcome, res.Changed = OutcomeDisabled, []string{"enabled"}
	return res, nil
}

// Check reads the credentials' own user (accepted, in the admin group) and
// the enabled apps (user_oidc among them).
func (n *Nextcloud) Check(ctx context.Context) error {
	op := "check credentials"
	ans, err := n.ocs(ctx, op, http.MethodGet, "/ocs/v2.php/cloud/user", nil, nil)
	if err != nil {
		return err
	}
	if !ans.success() {
		return n.fail(op, ans)
	}
	var me struct {
		ID     string   `json:"id"`
		Groups []string `json:"groups"`
	}
	if json.Unmarshal(ans.data, &me) != nil || me.ID == "" {
		return n.c.protocolError(op, ans.r, "expected the current user")
	}
	if !slices.Contains(me.Groups, "admin") {
		return &Error{Kind: KindNextcloud, Op: op, Status: ans.r.status, Reason: ReasonPermission,
			Message: fmt.Sprintf("user %s is not in the admin group", me.ID),
			Hint: Message{
				FR: fmt.Sprintf("le compte Nextcloud « %s » n'est pas administrateur : utilisez le mot de passe d'application d'un membre du groupe admin", me.ID),
				EN: fmt.Sprintf("the Nextcloud account %q is not an administrator: use an app password of a member of the admin group", me.ID),
			}}
	}
	op = "list enabled apps"
	ans, err = n.ocs(ctx, op, http.MethodGet, "/ocs/v2.php/cloud/apps?filter=enabled", nil, nil)
	if err != nil {
		return err
	}
	if !ans.success() {
		return n.fail(op, ans)
	}
	var apps struct {
		Apps []string `json:"apps"`
	}
	if json.Unmarshal(ans.data, &apps) != nil {
		return n.c.protocolError(op, ans.r, "expected {apps}")
	}
	if !slices.Contains(apps.Apps, "user_oidc") {
		return &Error{Kind: KindNextcloud, Op: op, Status: ans.r.status, Reason: ReasonConfig,
			Message: "the user_oidc app is not enabled",
			Hint: Message{
				FR: "l'application user_oidc (OpenID Connect user backend) n'est pas activée dans Nextcloud : installez-la et enregistrez le fournisseur sesame",
				EN: "the user_oidc app (OpenID Connect user backend) is not enabled in Nextcloud: install it and register sesame's provider",
			}}
	}
	return nil
}
