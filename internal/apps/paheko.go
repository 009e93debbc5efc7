package apps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sesame/internal/store"
)

// pahekoKind is Paheko with its built-in OpenID Connect client
// (INTEGRATIONS.md). Its roles are the structure's member categories, named
// per service (Service.Roles, Service.RoleMapping to category ids).
var pahekoKind = Kind{
	Name:            KindPaheko,
	Title:           "Paheko",
	RolesPerService: true,
	Client: func(base string) Client {
		return Client{
			RedirectURIs: []string{base + "/admin/login.php?oidc"},
			RequirePKCE:  false, RefreshTokens: false, AuthMethod: "client_secret_post",
		}
	},
	// Paheko reads profile.name.
	ProfileClaim: true,
	// The role is a category name; the API wants its id.
	AccountRole: func(svc store.Service, role string) string {
		if id := svc.RoleMapping[role]; id != "" {
			return id
		}
		if digits.MatchString(role) {
			return role
		}
		return ""
	},
	comment: "//",
	setup: func(w io.Writer, issuer string, s store.Service, secret string) {
		fmt.Fprintf(w, `<?php
namespace Paheko;

// Paheko: this is the head of config.local.php, at the root of Paheko's installation (beside
// config.dist.php). The file must start with the two lines above: without "namespace Paheko;"
// Paheko silently ignores the constants. If the file exists, keep its head and add the
// constants below it.
const OIDC_CLIENT_URL = %s;
const OIDC_CLIENT_ID = %s;
const OIDC_CLIENT_SECRET = %s;
const OIDC_CLIENT_BUTTON = 'Se connecter avec sesame';
const OIDC_CLIENT_MATCH_EMAIL = true;
`, PHPString(issuer), PHPString(s.ClientID), PHPString(secret))
	},
	Credentials: `Paheko: Configuration > Fonctions avancées > API: create credentials with the "write" access level
(or "admin"); the user name is the API identifier.`,
	NewConnector: func(c Config) (Connector, error) { return NewPaheko(c) },
	ByEmail:      true,
}

// Paheko provisions members through Paheko's HTTP API (Basic
// authentication with API credentials made in Configuration → Fonctions
// avancées → API, access "Écriture"). The member routes (api/user/...)
// exist since Paheko 1.4.0.
//
// A member is looked up by the id of an earlier Result (GET api/user/{id}),
// then by email with a read-only SQL query (POST api/sql), compared exactly
// but for case as Paheko compares logins. A missing member is created with
// POST api/user/new (nom, email, id_category). Paheko answers 409 when a
// member with the same *name* exists (not the same email): the connector
// then looks the email up again, links the member if it is there, and
// otherwise creates a homonym with force_duplicate. Names and emails are
// updated with POST api/user/{id}.
//
// Paheko's API cannot change a member's category (nor create one in a
// category with access to the configuration): a category that differs, and
// every removal, come back as Result.Manual, a French and English text
// saying what the hoster must do by hand.
type Paheko struct {
	c          *client
	takeOver   bool
	emailField string
	nameField  string
	categories []string
}

// NewPaheko returns a Paheko connector. Settings:
//
//   - "email_field": the member field holding the email (default "email");
//   - "name_field": the member field holding the name (default "nom");
//   - "categories": the category ids sesame puts people in, comma-separated;
//     Check verifies them (optional).
func NewPaheko(cfg Config) (*Paheko, error) {
	if err := cfg.checkSettings(KindPaheko, "email_field", "name_field", "categories"); err != nil {
		return nil, err
	}
	base, err := cfg.baseURL(KindPaheko)
	if err != nil {
		return nil, err
	}
	p := &Paheko{takeOver: cfg.TakeOver, emailField: "email", nameField: "nom", categories: splitList(cfg.Settings["categories"])}
	if f := cfg.Settings["email_field"]; f != "" {
		p.emailField = f
	}
	if f := cfg.Settings["name_field"]; f != "" {
		p.nameField = f
	}
	for _, f := range []string{p.emailField, p.nameField} {
		if !sqlIdent.MatchString(f) {
			return nil, fmt.Errorf("apps: paheko: field name %q: use lower-case letters, digits and _", f)
		}
	}
	for _, id := range p.categories {
		if !digits.MatchString(id) {
			return nil, fmt.Errorf("apps: paheko: setting categories: %q is not a category id", id)
		}
	}
	p.c = newClient(KindPaheko, cfg, base, nil)
	return p, nil
}

var (
	sqlIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	digits   = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
)

// Kind returns "paheko".
func (p *Paheko) Kind() string { return KindPaheko }

// pahekoMember is the part of a member sesame reads.
type pahekoMember struct {
	ID       string
	Category string
	Number   string
	Name     string
	Email    string
}

// numberFR and numberEN are ", n° N" / ", no. N" when the member number is
// known.
func (m *pahekoMember) numberFR() string {
	if m.Number == "" {
		return ""
	}
	return ", n° " + m.Number
}

func (m *pahekoMember) numberEN() string {
	if m.Number == "" {
		return ""
	}
	return ", no. " + m.Number
}

// member reads a member from a JSON object (api/user/... or a row of
// api/sql), whose numbers may come as numbers or strings.
func (p *Paheko) member(raw map[string]any) (*pahekoMember, bool) {
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	m := &pahekoMember{ID: str("id"), Category: str("id_category"), Number: str("numero"), Name: str(p.nameField), Email: str(p.emailField)}
	return m, digits.MatchString(m.ID)
}

// fail turns an unexpected answer into an *Error with Paheko's message.
func (p *Paheko) fail(op string, r *response) *Error {
	var body struct {
		Error string `json:"error"`
	}
	if r.isJSON() {
		_ = json.Unmarshal(r.body, &body)
	}
	e := p.c.statusError(op, r, "", body.Error)
	switch {
	case r.status == http.StatusUnauthorized || body.Error == "Invalid username or password":
		e.Reason = ReasonCredentials
		e.Hint = Message{
			FR: "Paheko refuse l'identifiant ou le mot de passe d'API : créez-les dans Configuration → Fonctions avancées → API, avec l'accès « Écriture »",
			EN: "Paheko refuses the API identifier or password: create them in Configuration → Fonctions avancées → API, with \"Écriture\" (write) access",
		}
	case body.Error == "You do not have enough rights to make this request":
		e.Hint = Message{
			FR: "l'identifiant d'API de Paheko est en lecture seule : sesame a besoin de l'accès « Écriture »",
			EN: "Paheko's API identifier is read-only: sesame needs \"Écriture\" (write) access",
		}
	case r.status == http.StatusNotFound && !r.isJSON():
		e.Reason = ReasonConfig
		e.Hint = Message{
			FR: "pas d'API Paheko à cette adresse : donnez l'adresse de Paheko (sans /admin)",
			EN: "no Paheko API at this address: give Paheko's address (without /admin)",
		}
	case r.status == http.StatusNotFound && (body.Error == "Unknown user action" || body.Error == "Unknown path"):
		e.Reason = ReasonConfig
		e.Hint = Message{
			FR: "ce Paheko n'a pas l'API des membres (api/user/…), arrivée avec Paheko 1.4.0 : mettez Paheko à jour",
			EN: "this Paheko has no member API (api/user/...), which came with Paheko 1.4.0: upgrade Paheko",
		}
	}
	return e
}

// decodeMember reads a member from a 200 JSON answer.
func (p *Paheko) decodeMember(op string, r *response) (*pahekoMember, error) {
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.UseNumber()
	if !r.isJSON() || dec.Decode(&raw) != nil {
		return nil, p.c.protocolError(op, r, "expected a member as JSON")
	}
	m, ok := p.member(raw)
	if !ok {
		return nil, p.c.protocolError(op, r, "the member has no id")
	}
	return m, nil
}

// get fetches a member by id; nil when there is none.
func (p *Paheko) get(ctx context.Context, id string) (*pahekoMember, error) {
	op := "get member " + id
	if !digits.MatchString(id) {
		return nil, nil
	}
	r, err := p.c.call(ctx, op, http.MethodGet, "/api/user/"+id, "", nil)
	if err != nil {
		return nil, err
	}
	if r.status == http.StatusNotFound && r.isJSON() && strings.Contains(string(r.body), "does not exist") {
		return nil, nil
	}
	if r.status != http.StatusOK {
		return nil, p.fail(op, r)
	}
	return p.decodeMember(op, r)
}

// sqlString is s as an SQLite string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// query runs a read-only SQL query (POST api/sql) and returns its rows.
func (p *Paheko) query(ctx context.Context, op, sql string) ([]map[string]any, error) {
	r, err := p.c.callForm(ctx, op, http.MethodPost, "/api/sql", url.Values{"sql": {sql}})
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, p.fail(op, r)
	}
	var out struct {
		Results []map[string]any `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.UseNumber()
	if !r.isJSON() || dec.Decode(&out) != nil {
		return nil, p.c.protocolError(op, r, "expected {count, results} as JSON")
	}
	return out.Results, nil
}

// emailSQL is the query that finds members by email.
func (p *Paheko) emailSQL(email string) string {
	return fmt.Sprintf("SELECT id, id_category, %s, %s FROM users WHERE %s = %s COLLATE NOCASE LIMIT 2;",
		p.nameField, p.emailField, p.emailField, sqlString(strings.TrimSpace(email)))
}

// byEmail finds the member with this email.
func (p *Paheko) byEmail(ctx context.Context, email string) (*pahekoMember, error) {
	op := "find member " + email
	rows, err := p.query(ctx, op, p.emailSQL(email))
	if err != nil {
		return nil, err
	}
	switch len(rows) {
	case 0:
		return nil, nil
	case 1:
		m, ok := p.member(rows[0])
		if !ok {
			return nil, &Error{Kind: KindPaheko, Op: op, Reason: ReasonProtocol, Message: "the member found has no id"}
		}
		return m, nil
	}
	return nil, &Error{Kind: KindPaheko, Op: op, Reason: ReasonConflict, Message: "several members have this email",
		Hint: Message{
			FR: fmt.Sprintf("plusieurs membres de Paheko ont l'adresse %s : sesame ne sait pas lequel est la personne ; fusionnez-les ou corrigez l'adresse dans Paheko", email),
			EN: fmt.Sprintf("several Paheko members have the address %s: sesame cannot tell which one is the person; merge them or correct the address in Paheko", email),
		}}
}

// lookup finds the person's member: by the known id, then by email.
func (p *Paheko) lookup(ctx context.Context, a Account) (*pahekoMember, error) {
	if a.RemoteID != "" {
		m, err := p.get(ctx, a.RemoteID)
		if err != nil || m != nil {
			return m, err
		}
	}
	return p.byEmail(ctx, a.Email)
}

// ownership says whether sesame created m and whether it may change it.
func (p *Paheko) ownership(a Account, m *pahekoMember) (owned, managed bool) {
	owned = a.Owned && (a.RemoteID == "" || a.RemoteID == m.ID)
	return owned, owned || p.takeOver
}

// Ensure creates the person's member in the category a.Role names, or
// updates its name and email (see Connector). A category that differs is
// reported in Result.Manual: the API cannot change it.
func (p *Paheko) Ensure(ctx context.Context, a Account) (Result, error) {
	if err := p.validate("ensure", a); err != nil {
		return Result{}, err
	}
	a = knownID(a)
	m, err := p.lookup(ctx, a)
	if err != nil {
		return Result{}, err
	}
	if m == nil {
		if !a.Enabled {
			return Result{Outcome: OutcomeAbsent}, nil
		}
		created, found, err := p.create(ctx, a)
		if err != nil {
			return Result{}, err
		}
		if created != nil {
			return Result{Outcome: OutcomeCreated, RemoteID: created.ID, Owned: true, Managed: true, Changed: []string{"created"}}, nil
		}
		m = found
	}
	if !a.Enabled {
		return p.remove(a, m), nil
	}
	owned, managed := p.ownership(a, m)
	res := Result{RemoteID: m.ID, Owned: owned, Managed: managed}
	if !managed {
		res.Outcome = OutcomeLinked
		return res, nil
	}
	change := url.Values{}
	if m.Name != a.displayName() {
		change.Set(p.nameField, a.displayName())
	}
	if !strings.EqualFold(strings.TrimSpace(m.Email), strings.TrimSpace(a.Email)) {
		change.Set(p.emailField, a.Email)
	}
	res.Outcome = OutcomeUnchanged
	if len(change) > 0 {
		op := fmt.Sprintf("update member %s (%s)", a.Email, m.ID)
		r, err := p.c.callForm(ctx, op, http.MethodPost, "/api/user/"+m.ID, change)
		if err != nil {
			return Result{}, err
		}
		if r.status != http.StatusOK {
			return Result{}, p.fail(op, r)
		}
		if _, err := p.decodeMember(op, r); err != nil {
			return Result{}, err
		}
		res.Outcome = OutcomeUpdated
		for k := range change {
			res.Changed = append(res.Changed, k)
		}
		slices.Sort(res.Changed)
	}
	if a.Role != "" && m.Category != a.Role {
		res.Manual = &Message{
			FR: fmt.Sprintf("Paheko : placez le membre « %s » (%s%s) dans la catégorie n° %s au lieu de la n° %s (Membres → fiche du membre → Modifier) ; l'API de Paheko ne permet pas de changer la catégorie d'un membre.",
				m.Name, a.Email, m.numberFR(), a.Role, m.Category),
			EN: fmt.Sprintf("Paheko: move member %q (%s%s) to category %s instead of %s (Membres → the member's page → Modifier); Paheko's API cannot change a member's category.",
				m.Name, a.Email, m.numberEN(), a.Role, m.Category),
		}
	}
	return res, nil
}

// Remove cannot be done through Paheko's API (it cannot change a member's
// category): for a member sesame manages it returns OutcomeManual with what
// the hoster must do. Nothing is written.
func (p *Paheko) Remove(ctx context.Context, a Account) (Result, error) {
	if err := p.validate("remove", a); err != nil {
		return Result{}, err
	}
	a = knownID(a)
	m, err := p.lookup(ctx, a)
	if err != nil {
		return Result{}, err
	}
	if m == nil {
		return Result{Outcome: OutcomeAbsent}, nil
	}
	return p.remove(a, m), nil
}

func (p *Paheko) remove(a Account, m *pahekoMember) Result {
	owned, managed := p.ownership(a, m)
	res := Result{RemoteID: m.ID, Owned: owned, Managed: managed, Outcome: OutcomeLinked}
	if managed && p.movedAway(m) {
		res.Outcome = OutcomeUnchanged
		return res
	}
	if managed {
		res.Outcome = OutcomeManual
		res.Manual = &Message{
			FR: fmt.Sprintf("Paheko : « %s » (%s%s) n'a plus accès à Paheko. sesame ne lui ouvre plus la connexion unique, mais l'API de Paheko ne permet pas de changer sa catégorie : dans Paheko, placez ce membre dans une catégorie sans droit de connexion (par exemple « Anciens membres »), ou supprimez sa fiche si l'association le décide.",
				m.Name, a.Email, m.numberFR()),
			EN: fmt.Sprintf("Paheko: %q (%s%s) no longer has access to Paheko. sesame no longer lets them in through single sign-on, but Paheko's API cannot change their category: in Paheko, move this member to a category that may not log in (e.g. \"Anciens membres\"), or delete the member if the association so decides.",
				m.Name, a.Email, m.numberEN()),
		}
	}
	return res
}

// movedAway reports whether the member is in none of the categories sesame
// gives (setting "categories"): after a removal, the hoster already moved
// it, e.g. to "Anciens membres", and nothing remains to be done.
func (p *Paheko) movedAway(m *pahekoMember) bool {
	return len(p.categories) > 0 && !slices.Contains(p.categories, m.Category)
}

func (p *Paheko) validate(op string, a Account) error {
	if err := a.validate(KindPaheko, op+" "+a.Email); err != nil {
		return err
	}
	if op == "remove" || !a.Enabled {
		return nil // no role, quota or category is needed to take access away
	}
	if a.Role != "" && !digits.MatchString(a.Role) {
		return &Error{Kind: KindPaheko, Op: op + " " + a.Email, Reason: ReasonInvalid,
			Message: fmt.Sprintf("role %q is not a Paheko category id", a.Role)}
	}
	return nil
}

// create creates the member; it returns the new member, or the existing
// one Paheko's duplicate refusal pointed at.
func (p *Paheko) create(ctx context.Context, a Account) (created, existing *pahekoMember, err error) {
	op := "create member " + a.Email
	form := url.Values{p.nameField: {a.displayName()}, p.emailField: {a.Email}}
	if a.Role != "" {
		form.Set("id_category", a.Role)
	}
	for {
		r, err := p.c.callForm(ctx, op, http.MethodPost, "/api/user/new", form)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.MayHaveCreated = maySent(err)
			}
			return nil, nil, err
		}
		switch {
		case r.status == http.StatusOK:
			m, err := p.decodeMember(op, r)
			return m, nil, err
		case r.status == http.StatusConflict && form.Get("force_duplicate") == "":
			// A member with the same name exists: the person (a retry,
			// or a member entered by hand), or a homonym.
			m, err := p.byEmail(ctx, a.Email)
			if err != nil || m != nil {
				return nil, m, err
			}
			form.Set("force_duplicate", "1")
			continue
		case r.status == http.StatusForbidden && strings.Contains(string(r.body), "not allowed to create a user in this category"):
			e := p.fail(op, r)
			e.Hint = Message{
				FR: fmt.Sprintf("l'API de Paheko refuse de créer un membre dans la catégorie n° %s, qui donne accès à la configuration : choisissez une autre catégorie pour ce droit, ou créez ce membre à la main", a.Role),
				EN: fmt.Sprintf("Paheko's API refuses to create a member in category %s, which gives access to the configuration: choose another category for this right, or create the member by hand", a.Role),
			}
			return nil, nil, e
		}
		e := p.fail(op, r)
		e.MayHaveCreated = maySent(e)
		return nil, nil, e
	}
}

// Check lists the categories (credentials, member API present), checks the
// configured categories, and probes write access with an empty
// modification of an ordinary member, which Paheko accepts without writing.
func (p *Paheko) Check(ctx context.Context) error {
	op := "check credentials"
	r, err := p.c.call(ctx, op, http.MethodGet, "/api/user/categories", "", nil)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return p.fail(op, r)
	}
	var cats map[string]struct {
		ID         json.Number `json:"id"`
		Name       string      `json:"name"`
		PermConfig json.Number `json:"perm_config"`
		PermUsers  json.Number `json:"perm_users"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.UseNumber()
	if !r.isJSON() || dec.Decode(&cats) != nil {
		return p.c.protocolError(op, r, "expected the categories as a JSON object")
	}
	byID := map[string]string{}
	var ordinary []string
	for _, c := range cats {
		byID[c.ID.String()] = c.PermConfig.String()
		if c.PermConfig.String() == "0" && c.PermUsers.String() != "9" && digits.MatchString(c.ID.String()) {
			ordinary = append(ordinary, c.ID.String())
		}
	}
	for _, id := range p.categories {
		perm, ok := byID[id]
		switch {
		case !ok:
			return &Error{Kind: KindPaheko, Op: op, Reason: ReasonConfig, Message: "no category " + id,
				Hint: Message{
					FR: fmt.Sprintf("Paheko n'a pas de catégorie n° %s : corrigez la correspondance des droits du service", id),
					EN: fmt.Sprintf("Paheko has no category %s: correct the service's rights mapping", id),
				}}
		case perm != "0":
			return &Error{Kind: KindPaheko, Op: op, Reason: ReasonConfig, Message: "category " + id + " gives access to the configuration",
				Hint: Message{
					FR: fmt.Sprintf("la catégorie n° %s donne accès à la configuration : l'API de Paheko refuse d'y créer des membres", id),
					EN: fmt.Sprintf("category %s gives access to the configuration: Paheko's API refuses to create members in it", id),
				}}
		}
	}
	if len(ordinary) == 0 {
		return nil
	}
	slices.Sort(ordinary)
	rows, err := p.query(ctx, op, fmt.Sprintf("SELECT id FROM users WHERE id_category IN (%s) ORDER BY id LIMIT 1;", strings.Join(ordinary, ", ")))
	if err != nil || len(rows) == 0 {
		return err
	}
	m, ok := p.member(rows[0])
	if !ok {
		return nil
	}
	r, err = p.c.callForm(ctx, op, http.MethodPost, "/api/user/"+m.ID, url.Values{})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return p.fail(op, r)
	}
	return nil
}
