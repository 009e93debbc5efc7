package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// Source is the part of the store ldapsync reads the desired state from.
// store.Store and store.Tx satisfy it.
type Source interface {
	GetPerson(ctx context.Context, id string) (store.Person, error)
	GetPersonByUsername(ctx context.Context, username string) (store.Person, error)
	GetStructure(ctx context.Context, id string) (store.Structure, error)
	GetStructureBySlug(ctx context.Context, slug string) (store.Structure, error)
	GetService(ctx context.Context, id string) (store.Service, error)
	ListStructures(ctx context.Context) ([]store.Structure, error)
	ListServices(ctx context.Context, structureID string) ([]store.Service, error)
	ListPeople(ctx context.Context, f store.PeopleFilter) ([]store.Person, error)
	ListMemberships(ctx context.Context, f store.MembershipFilter) ([]store.Membership, error)
	ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error)
}

var _ Source = (store.Store)(nil)

// serviceRoles are the roles that get a group: the service's own list (or
// its kind's, apps.Kind.Roles), its default role, and every role actually
// granted.
func serviceRoles(svc store.Service, granted []string) []string {
	roles := slices.Clone(svc.Roles)
	if len(roles) == 0 {
		roles = slices.Clone(apps.Of(svc).Roles)
	}
	if svc.DefaultRole != "" {
		roles = append(roles, svc.DefaultRole)
	}
	roles = append(roles, granted...)
	slices.Sort(roles)
	return slices.Compact(roles)
}

func serviceGroup(st store.Structure, svc store.Service, role string) Group {
	return Group{Structure: st.Slug, StructureName: st.Name, Service: svc.Slug, ServiceName: svc.Name, Role: role}
}

// personFromStore is the directory's view of p, given the groups it is in.
func personFromStore(p store.Person, groups []Group) Person {
	out := Person{
		Username:     p.Username,
		GivenName:    p.GivenName,
		FamilyName:   p.FamilyName,
		DisplayName:  p.DisplayName,
		Email:        p.Email,
		PasswordHash: p.PasswordHash,
		Disabled:     p.State == store.StateDisabled,
	}
	if out.Disabled {
		out.PasswordHash = ""
		return out
	}
	out.Groups = groups
	return out
}

// LoadState reads the desired state from the store: everything, or the
// structure whose slug is scope. A grant counts only while the person is a
// member of the service's structure and is not disabled.
func LoadState(ctx context.Context, src Source, scope string) (State, error) {
	st, _, err := loadState(ctx, src, scope, nil)
	return st, err
}

// loadState is LoadState, with the store ID of each person of the state (at
// the same index); ids, when not nil, reads those people only (a batch of
// jobs), not the whole store: their structures' groups in the state then
// list only the roles those people hold.
func loadState(ctx context.Context, src Source, scope string, ids []string) (State, []string, error) {
	var (
		structs []store.Structure
		stID    string
	)
	if scope != "" {
		st, err := src.GetStructureBySlug(ctx, scope)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return State{}, nil, fmt.Errorf("%w: no structure %q in the store", ErrRejected, scope)
			}
			return State{}, nil, fmt.Errorf("ldapsync: load structure %q: %w", scope, err)
		}
		structs, stID = []store.Structure{st}, st.ID
	} else {
		var err error
		if structs, err = src.ListStructures(ctx); err != nil {
			return State{}, nil, fmt.Errorf("ldapsync: list structures: %w", err)
		}
	}
	services, err := src.ListServices(ctx, stID)
	if err != nil {
		return State{}, nil, fmt.Errorf("ldapsync: list services: %w", err)
	}
	people, err := src.ListPeople(ctx, store.PeopleFilter{StructureID: stID, IDs: ids})
	if err != nil {
		return State{}, nil, fmt.Errorf("ldapsync: list people: %w", err)
	}
	members, err := src.ListMemberships(ctx, store.MembershipFilter{StructureID: stID, PersonIDs: ids})
	if err != nil {
		return State{}, nil, fmt.Errorf("ldapsync: list memberships: %w", err)
	}
	grants, err := src.ListGrants(ctx, store.GrantFilter{StructureID: stID, PersonIDs: ids})
	if err != nil {
		return State{}, nil, fmt.Errorf("ldapsync: list grants: %w", err)
	}

	structByID := map[string]store.Structure{}
	for _, st := range structs {
		structByID[st.ID] = st
	}
	svcByID := map[string]store.Service{}
	for _, svc := range services {
		if _, ok := structByID[svc.StructureID]; ok {
			svcByID[svc.ID] = svc
		}
	}
	type pair struct{ person, structure string }
	isMember := map[pair]bool{}
	for _, m := range members {
		isMember[pair{m.PersonID, m.StructureID}] = true
	}
	groupsOf := map[string][]Group{}
	granted := map[string][]string{}
	for _, g := range grants {
		svc, ok := svcByID[g.ServiceID]
		if !ok || !isMember[pair{g.PersonID, svc.StructureID}] {
			continue
		}
		st := structByID[svc.StructureID]
		groupsOf[g.PersonID] = append(groupsOf[g.PersonID], serviceGroup(st, svc, ""))
		if g.Role != "" {
			groupsOf[g.PersonID] = append(groupsOf[g.PersonID], serviceGroup(st, svc, g.Role))
			granted[svc.ID] = append(granted[svc.ID], g.Role)
		}
	}

	state := State{Scope: scope}
	for _, st := range structs {
		s := Structure{Slug: st.Slug, Name: st.Name}
		for _, svc := range services {
			if svc.StructureID != st.ID {
				continue
			}
			s.Groups = append(s.Groups, serviceGroup(st, svc, ""))
			for _, role := range serviceRoles(svc, granted[svc.ID]) {
				s.Groups = append(s.Groups, serviceGroup(st, svc, role))
			}
		}
		state.Structures = append(state.Structures, s)
	}
	pids := make([]string, 0, len(people))
	for _, p := range people {
		state.People = append(state.People, personFromStore(p, groupsOf[p.ID]))
		pids = append(pids, p.ID)
	}
	return state, pids, nil
}

// LoadPerson reads one person's desired state from the store, with every
// group of every structure they are a member of.
func LoadPerson(ctx context.Context, src Source, personID string) (Person, error) {
	p, err := src.GetPerson(ctx, personID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Person{}, fmt.Errorf("%w: no person %q in the store", ErrRejected, personID)
		}
		return Person{}, fmt.Errorf("ldapsync: load person %s: %w", personID, err)
	}
	if p.State == store.StateDisabled {
		return personFromStore(p, nil), nil
	}
	members, err := src.ListMemberships(ctx, store.MembershipFilter{PersonID: personID})
	if err != nil {
		return Person{}, fmt.Errorf("ldapsync: list memberships of %s: %w", personID, err)
	}
	isMember := map[string]bool{}
	for _, m := range members {
		isMember[m.StructureID] = true
	}
	grants, err := src.ListGrants(ctx, store.GrantFilter{PersonID: personID})
	if err != nil {
		return Person{}, fmt.Errorf("ldapsync: list grants of %s: %w", personID, err)
	}
	structs := map[string]store.Structure{}
	var groups []Group
	for _, g := range grants {
		svc, err := src.GetService(ctx, g.ServiceID)
		if err != nil {
			return Person{}, fmt.Errorf("ldapsync: load service %s: %w", g.ServiceID, err)
		}
		if !isMember[svc.StructureID] {
			continue
		}
		st, ok := structs[svc.StructureID]
		if !ok {
			if st, err = src.GetStructure(ctx, svc.StructureID); err != nil {
				return Person{}, fmt.Errorf("ldapsync: load structure %s: %w", svc.StructureID, err)
			}
			structs[svc.StructureID] = st
		}
		groups = append(groups, serviceGroup(st, svc, ""))
		if g.Role != "" {
			groups = append(groups, serviceGroup(st, svc, g.Role))
		}
	}
	return personFromStore(p, groups), nil
}
