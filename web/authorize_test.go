package web_test

import (
	"errors"
	"testing"

	"sesame/internal/store"
	"sesame/web"
)

// TestAuthorize checks the one decision function on its own, including
// the rules the routes alone do not reach (an action without a rule, the
// portal's own account, a person who is an admin or shared).
func TestAuthorize(t *testing.T) {
	admin := web.Actor{Person: store.Person{ID: "a", Username: "root", Admin: true}}
	ref := web.Actor{Person: store.Person{ID: "r", Username: "ref"}, Referent: map[string]bool{"s1": true}}
	member := web.Actor{Person: store.Person{ID: "m", Username: "member"}}
	nobody := web.Actor{}
	code := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, web.ErrSignInRequired):
			return "signin"
		}
		return web.ErrorCode(err)
	}
	for _, c := range []struct {
		name   string
		actor  web.Actor
		action web.Action
		target web.Target
		want   string
	}{
		{"nobody", nobody, web.ActViewStructure, web.Target{StructureID: "s1"}, "signin"},
		{"nobody own account", nobody, web.ActOwnAccount, web.Target{}, "signin"},
		{"admin anything", admin, web.ActRemoveStructure, web.Target{StructureID: "s9"}, "ok"},
		{"admin unknown action", admin, web.Action("new.thing"), web.Target{}, "ok"},
		{"referent own structure", ref, web.ActImport, web.Target{StructureID: "s1"}, "ok"},
		{"referent other structure", ref, web.ActImport, web.Target{StructureID: "s2"}, web.ENotFound},
		{"referent unknown structure", ref, web.ActViewStructure, web.Target{}, web.ENotFound},
		{"referent creates", ref, web.ActCreateStructure, web.Target{}, web.EForbidden},
		{"referent action without a rule", ref, web.Action("new.thing"), web.Target{StructureID: "s1"}, web.EForbidden},
		{"referent touches an admin", ref, web.ActManagePerson, web.Target{StructureID: "s1", PersonAdmin: true}, web.EForbidden},
		{"referent touches a shared person", ref, web.ActManagePerson, web.Target{StructureID: "s1", PersonShared: true}, web.EForbidden},
		{"referent views a shared person", ref, web.ActViewPerson, web.Target{StructureID: "s1", PersonShared: true}, "ok"},
		{"referent manages themselves", ref, web.ActManagePerson, web.Target{StructureID: "s1", PersonID: "r"}, web.EForbidden},
		{"admin manages themselves", admin, web.ActManagePerson, web.Target{StructureID: "s1", PersonID: "a", PersonAdmin: true}, web.EForbidden},
		{"referent views themselves", ref, web.ActViewPerson, web.Target{StructureID: "s1", PersonID: "r"}, "ok"},
		{"referent manages another", ref, web.ActManagePerson, web.Target{StructureID: "s1", PersonID: "m"}, "ok"},
		{"member admin page", member, web.ActListStructures, web.Target{}, web.EForbidden},
		{"member own account", member, web.ActOwnAccount, web.Target{PersonID: "m"}, "ok"},
		{"member another account", member, web.ActOwnAccount, web.Target{PersonID: "r"}, web.EForbidden},
		{"admin another account", admin, web.ActOwnAccount, web.Target{PersonID: "r"}, web.EForbidden},
	} {
		if got := code(web.Authorize(c.actor, c.action, c.target)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
