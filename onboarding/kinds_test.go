package onboarding

import (
	"slices"
	"testing"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// The rights column accepts, for a service of every kind, each alias of
// the kind and the French name a report shows, and an empty role gives the
// kind's default: the roles come from apps, nowhere else.
func TestRolesComeFromTheKind(t *testing.T) {
	for _, k := range apps.Kinds() {
		svc := store.Service{Kind: store.ServiceKind(k.Name)}
		if k.RolesPerService {
			svc.Roles = []string{"Membre", "Bureau"}
		}
		want := k.Roles
		if k.RolesPerService {
			want = svc.Roles
		}
		if got := ServiceRoles(svc); !slices.Equal(got, want) {
			t.Errorf("%s: ServiceRoles = %v, want %v", k.Name, got, want)
		}
		if d, ok := ResolveRole(svc, ""); ok != (k.DefaultRole != "") || d != k.DefaultRole {
			t.Errorf("%s: default role %q, %v; want %q", k.Name, d, ok, k.DefaultRole)
		}
		for alias, role := range k.Aliases {
			if got, ok := ResolveRole(svc, alias); !ok || got != role {
				t.Errorf("%s: %q resolves to %q, %v; want %q", k.Name, alias, got, ok, role)
			}
		}
		for role, fr := range k.FrenchRoles {
			if got, ok := ResolveRole(svc, fr); !ok || got != role {
				t.Errorf("%s: the French name %q resolves to %q, %v; want %q", k.Name, fr, got, ok, role)
			}
		}
	}
}
