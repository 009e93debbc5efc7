package ldapsync

import (
	"context"
	"slices"
	"testing"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// kindSource is an in-memory Source: one structure, its services, no
// people.
type kindSource struct {
	st       store.Structure
	services []store.Service
}

func (k kindSource) GetPerson(context.Context, string) (store.Person, error) {
	return store.Person{}, store.ErrNotFound
}
func (k kindSource) GetPersonByUsername(context.Context, string) (store.Person, error) {
	return store.Person{}, store.ErrNotFound
}
func (k kindSource) GetStructure(context.Context, string) (store.Structure, error) { return k.st, nil }
func (k kindSource) GetStructureBySlug(context.Context, string) (store.Structure, error) {
	return k.st, nil
}
func (k kindSource) GetService(_ context.Context, id string) (store.Service, error) {
	for _, s := range k.services {
		if s.ID == id {
			return s, nil
		}
	}
	return store.Service{}, store.ErrNotFound
}
func (k kindSource) ListStructures(context.Context) ([]store.Structure, error) {
	return []store.Structure{k.st}, nil
}
func (k kindSource) ListServices(context.Context, string) ([]store.Service, error) {
	return k.services, nil
}
func (k kindSource) ListPeople(context.Context, store.PeopleFilter) ([]store.Person, error) {
	return nil, nil
}
func (k kindSource) ListMemberships(context.Context, store.MembershipFilter) ([]store.Membership, error) {
	return nil, nil
}
func (k kindSource) ListGrants(context.Context, store.GrantFilter) ([]store.Grant, error) {
	return nil, nil
}

// A service that lists no roles of its own gets one group per role of its
// kind (apps.Kind.Roles), for every kind, and a service with its own roles
// (Paheko categories) gets those.
func TestServiceGroupsComeFromTheKind(t *testing.T) {
	src := kindSource{st: store.Structure{ID: "st1", Slug: "le-beta", Name: "Le Bêta"}}
	want := map[string][]string{}
	for _, k := range apps.Kinds() {
		svc := store.Service{ID: "svc-" + k.Name, StructureID: "st1", Kind: store.ServiceKind(k.Name), Slug: k.Name, Name: k.Title}
		roles := slices.Clone(k.Roles)
		if k.RolesPerService {
			svc.Roles = []string{"Membre", "Bureau"}
			roles = slices.Clone(svc.Roles)
		}
		slices.Sort(roles)
		want[k.Name] = append([]string{""}, roles...)
		src.services = append(src.services, svc)
	}
	state, err := LoadState(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Structures) != 1 {
		t.Fatalf("structures: %+v", state.Structures)
	}
	got := map[string][]string{}
	for _, g := range state.Structures[0].Groups {
		got[g.Service] = append(got[g.Service], g.Role)
	}
	for name, roles := range want {
		if !slices.Equal(got[name], roles) {
			t.Errorf("%s: groups for roles %q, want %q (the kind's)", name, got[name], roles)
		}
	}
	if len(want["nextcloud"]) < 3 || len(want["generic"]) != 2 {
		t.Errorf("the kinds lost their roles: %v", want)
	}
}
