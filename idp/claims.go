package idp

import (
	"slices"
	"strings"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// userClaims are the claims about the person for one service, by scope: the
// ID token and userinfo carry the same (INTEGRATIONS.md: Nextcloud reads the
// ID token only).
func userClaims(person store.Person, svc store.Service, grant store.Grant, scopes []string) map[string]any {
	c := map[string]any{"sub": person.ID}
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if has("profile") {
		c["preferred_username"] = person.Username
		name := strings.TrimSpace(person.DisplayName)
		if name == "" {
			name = strings.TrimSpace(person.GivenName + " " + person.FamilyName)
		}
		if name != "" {
			c["name"] = name
		}
		if person.GivenName != "" {
			c["given_name"] = person.GivenName
		}
		if person.FamilyName != "" {
			c["family_name"] = person.FamilyName
		}
		if person.Language != "" {
			c["locale"] = person.Language
		}
	}
	if has("email") && person.Email != "" {
		c["email"] = person.Email
		// An active person proved the address by following the activation link.
		c["email_verified"] = person.State == store.StateActive
	}
	c["groups"] = []string{}
	if grant.Role != "" {
		c["groups"] = []string{grant.Role}
	}
	if k := apps.Of(svc); k.Claims != nil {
		k.Claims(c, person)
	}
	return c
}
