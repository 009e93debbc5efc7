package apps

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// Every kind says all that sesame needs: roles (or per-service roles), a
// default role among them, aliases that name roles, client defaults, a
// setup snippet, and, when it provisions, the steps to make its API
// credentials.
func TestKindsComplete(t *testing.T) {
	if len(Kinds()) == 0 {
		t.Fatal("no kinds")
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if k.Name == "" || k.Title == "" {
			t.Errorf("%q: a kind needs a name and a title", k.Name)
		}
		if seen[k.Name] {
			t.Errorf("%s: listed twice", k.Name)
		}
		seen[k.Name] = true
		if got, ok := Lookup(k.Name); !ok || got.Name != k.Name {
			t.Errorf("Lookup(%q) = %q, %v", k.Name, got.Name, ok)
		}
		if k.RolesPerService {
			if len(k.Roles) != 0 || k.DefaultRole != "" {
				t.Errorf("%s: roles per service, yet built-in roles %v, default %q", k.Name, k.Roles, k.DefaultRole)
			}
		} else {
			if len(k.Roles) == 0 {
				t.Errorf("%s: no roles", k.Name)
			}
			if !slices.Contains(k.Roles, k.DefaultRole) {
				t.Errorf("%s: default role %q is not among %v", k.Name, k.DefaultRole, k.Roles)
			}
		}
		for _, r := range k.Roles {
			if c, ok := k.Role(r); !ok || c != r {
				t.Errorf("%s: role %q is not its own alias (%q, %v)", k.Name, r, c, ok)
			}
			if k.FrenchRoles[r] == "" {
				t.Errorf("%s: role %q has no French name", k.Name, r)
			}
		}
		for alias, c := range k.Aliases {
			if !slices.Contains(k.Roles, c) {
				t.Errorf("%s: alias %q names %q, not a role", k.Name, alias, c)
			}
			if alias != strings.ToLower(alias) || strings.ContainsFunc(alias, func(r rune) bool { return r > 0x7f }) {
				t.Errorf("%s: alias %q is not folded", k.Name, alias)
			}
		}
		if k.Client == nil {
			t.Errorf("%s: no client defaults", k.Name)
		}
		s := store.Service{Kind: store.ServiceKind(k.Name), ClientID: "s." + k.Name, BaseURL: "https://app.example.org"}
		k.ApplyClient(&s)
		if s.AuthMethod != "client_secret_basic" && s.AuthMethod != "client_secret_post" {
			t.Errorf("%s: auth method %q", k.Name, s.AuthMethod)
		}
		for _, u := range append(slices.Clone(s.RedirectURIs), s.PostLogoutURIs...) {
			if !strings.HasPrefix(u, "https://app.example.org/") {
				t.Errorf("%s: URI %q is not under the base URL", k.Name, u)
			}
		}
		var b strings.Builder
		k.WriteSetup(&b, "https://sso.example.org/", s, "")
		snip := b.String()
		if !strings.Contains(snip, "s."+k.Name) || !strings.Contains(snip, "SECRET") {
			t.Errorf("%s: the snippet lacks the client id or the secret placeholder:\n%s", k.Name, snip)
		}
		if (k.NewConnector != nil) != (k.Credentials != "") {
			t.Errorf("%s: a connector goes with credential steps, and only then", k.Name)
		}
		if k.NewConnector != nil {
			if !strings.Contains(snip, "credentials") || !strings.Contains(snip, k.Credentials[:20]) ||
				!strings.Contains(snip, "sesame service credentials") {
				t.Errorf("%s: provisions, yet its snippet does not say how to make credentials:\n%s", k.Name, snip)
			}
			if !slices.Contains(ConnectorKinds(), k.Name) {
				t.Errorf("%s: not among ConnectorKinds %v", k.Name, ConnectorKinds())
			}
		} else if strings.Contains(snip, "sesame service credentials") {
			t.Errorf("%s: no connector, yet the snippet asks for credentials", k.Name)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "Nextcloud", "joomla", "wordpress "} {
		if k, ok := Lookup(name); ok || k.Name != "" {
			t.Errorf("Lookup(%q) = %q, %v", name, k.Name, ok)
		}
	}
	k := Of(store.Service{Kind: "joomla"})
	if len(k.Roles) != 0 || k.NewConnector != nil || k.QuotaClaim || k.ProfileClaim || k.PostLogoutAllowed != nil {
		t.Errorf("an unknown kind has roles or quirks: %+v", k)
	}
	if _, err := New("joomla", Config{}); err == nil || !strings.Contains(err.Error(), `no connector for kind "joomla"`) {
		t.Errorf("New(joomla) = %v", err)
	}
	// An unknown kind still prints the standard client settings.
	var b strings.Builder
	k.WriteSetup(&b, "https://sso.example.org", store.Service{ClientID: "x.y"}, "")
	if !strings.Contains(b.String(), "client_id:     x.y") {
		t.Errorf("unknown kind's snippet:\n%s", b.String())
	}
}

// Each quirk belongs to its kind only.
func TestKindQuirks(t *testing.T) {
	const site = "https://wp.example/wp-login.php?loggedout=true&wp_lang="
	wp := Of(store.Service{Kind: store.KindWordPress})
	s := store.Service{Kind: store.KindWordPress, BaseURL: "https://wp.example"}
	wp.ApplyClient(&s)
	if !wp.PostLogoutAllowed(s.PostLogoutURIs, site+"de_DE") || wp.PostLogoutAllowed(s.PostLogoutURIs, site+"de_DE&x=1") {
		t.Errorf("WordPress wp_lang exception: registered %v", s.PostLogoutURIs)
	}
	if wp.StateTTL <= 0 || wp.StateTTL >= 180*time.Second || wp.LoginPath != "/wp-login.php" || !wp.SiteFormOrigin {
		t.Errorf("WordPress login quirks: %v %q %v", wp.StateTTL, wp.LoginPath, wp.SiteFormOrigin)
	}
	if s.RefreshTokens || s.RequirePKCE {
		t.Errorf("WordPress gets refresh tokens or PKCE: %+v", s)
	}
	for _, k := range Kinds() {
		if k.Name == KindWordPress {
			continue
		}
		if k.PostLogoutAllowed != nil || k.StateTTL != 0 || k.SiteFormOrigin {
			t.Errorf("%s has WordPress's quirks", k.Name)
		}
	}

	for _, k := range Kinds() {
		if k.QuotaClaim != (k.Name == KindNextcloud) || k.QuotaClaim != k.Quota {
			t.Errorf("%s: quota claim %v", k.Name, k.QuotaClaim)
		}
		if k.ProfileClaim != (k.Name == KindPaheko) {
			t.Errorf("%s: profile claim %v", k.Name, k.ProfileClaim)
		}
	}
	pk := Of(store.Service{Kind: store.KindPaheko})
	svc := store.Service{Kind: store.KindPaheko, RoleMapping: map[string]string{"Membre": "3"}}
	for role, want := range map[string]string{"Membre": "3", "7": "7", "Bureau": ""} {
		if got := pk.AccountRole(svc, role); got != want {
			t.Errorf("Paheko AccountRole(%q) = %q, want %q", role, got, want)
		}
	}
}

// The kinds are exactly the store's: every constant of type
// store.ServiceKind (read from its source) is a kind, and every kind is
// valid in the store.
func TestKindsMatchStore(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "store", "types.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "ServiceKind" {
			return true
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				consts = append(consts, s)
			}
		}
		return true
	})
	if len(consts) == 0 {
		t.Fatal("no store.ServiceKind constants found")
	}
	slices.Sort(consts)
	names := Names()
	slices.Sort(names)
	if !slices.Equal(consts, names) {
		t.Errorf("store.ServiceKind constants %v, apps kinds %v", consts, names)
	}
	for _, n := range Names() {
		if !store.ServiceKind(n).Valid() {
			t.Errorf("kind %q is not valid in the store", n)
		}
	}
	if store.ServiceKind("joomla").Valid() {
		t.Error("an unknown kind is valid in the store")
	}
}
