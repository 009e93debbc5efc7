package idp

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// The claims' wire form, exactly: what a scope adds, what an empty field
// leaves out, and each kind's own claims.
func TestClaimsJSON(t *testing.T) {
	alice := store.Person{ID: "p1", Username: "alice.martin", GivenName: "Alice", FamilyName: "Martin",
		Email: "alice@example.org", Language: "fr", Quota: "5 GB", State: store.StateActive}
	pending := alice
	pending.State, pending.GivenName, pending.Quota = store.StateInvited, "", ""
	nc := store.Service{Kind: store.KindNextcloud}
	gen := store.Service{Kind: store.KindGeneric}
	all := []string{"openid", "profile", "email"}
	for _, c := range []struct {
		name   string
		person store.Person
		svc    store.Service
		role   string
		scopes []string
		want   string
	}{
		{"openid only", alice, gen, "", []string{"openid"}, `{"sub":"p1","groups":[]}`},
		{"all scopes, a role", alice, gen, "editor", all,
			`{"sub":"p1","preferred_username":"alice.martin","name":"Alice Martin","given_name":"Alice","family_name":"Martin","locale":"fr","email":"alice@example.org","email_verified":true,"groups":["editor"]}`},
		{"Nextcloud's quota, whatever the scope", alice, nc, "user", []string{"openid"}, `{"sub":"p1","groups":["user"],"quota":"5 GB"}`},
		{"not yet activated, no quota", pending, nc, "", all,
			`{"sub":"p1","preferred_username":"alice.martin","name":"Martin","family_name":"Martin","locale":"fr","email":"alice@example.org","email_verified":false,"groups":[]}`},
	} {
		b, err := json.Marshal(claimsFor(c.person, c.svc, store.Grant{Role: c.role}, c.scopes))
		if err != nil || string(b) != c.want {
			t.Errorf("%s:\n got %s %v\nwant %s", c.name, b, err, c.want)
		}
	}
	id := idTokenClaims{Issuer: "https://sso.example", Audience: "c1", AuthorizedParty: "c1", IssuedAt: 1, Expiry: 2,
		AuthTime: 1, AccessTokenHash: "h", AMR: []string{"pwd"}, ACR: ACRPassword,
		userClaims: claimsFor(alice, gen, store.Grant{}, []string{"openid"})}
	b, _ := json.Marshal(id)
	want := `{"iss":"https://sso.example","aud":"c1","azp":"c1","iat":1,"exp":2,"auth_time":1,"at_hash":"h","amr":["pwd"],"acr":"` +
		ACRPassword + `","sub":"p1","groups":[]}`
	if string(b) != want {
		t.Errorf("ID token, no nonce nor sid:\n got %s\nwant %s", b, want)
	}
}

// What sesame reads back from its own tokens: aud as a string or a list,
// and anything else refused.
func TestReadClaims(t *testing.T) {
	for in, want := range map[string][]string{
		`{"aud":"c1"}`:        {"c1"},
		`{"aud":["c1","c2"]}`: {"c1", "c2"},
		`{"sub":"p1"}`:        nil,
		`{"aud":[]}`:          {},
	} {
		var c readClaims
		if err := json.Unmarshal([]byte(in), &c); err != nil || !slices.Equal(c.Audience, want) {
			t.Errorf("%s: aud %q, %v; want %q", in, c.Audience, err, want)
		}
	}
	for _, in := range []string{`{"aud":3}`, `{"aud":["c1",3]}`, `{"exp":"soon"}`} {
		var c readClaims
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	now := time.Unix(1000, 0)
	for exp, want := range map[int64]bool{0: false, 999: false, 1000: false, 1001: true} {
		if got := (&readClaims{Expiry: exp}).fresh(now); got != want {
			t.Errorf("exp %d at 1000: fresh %v", exp, got)
		}
	}
}

// Discovery's claims_supported names every claim the ID token and userinfo
// may carry (but Paheko's profile object, which is not the standard claim).
func TestClaimsSupported(t *testing.T) {
	supported := (&Provider{}).discovery().ClaimsSupported
	for _, typ := range []reflect.Type{reflect.TypeFor[userClaims](), reflect.TypeFor[idTokenClaims]()} {
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "profile" || name == "at_hash" || name == "azp" {
				continue // embedded, or not a claim about the person or the login
			}
			if !slices.Contains(supported, name) {
				t.Errorf("claims_supported lacks %q", name)
			}
		}
	}
}
