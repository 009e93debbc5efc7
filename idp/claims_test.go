package idp

import (
	"encoding/json"
	"testing"

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
