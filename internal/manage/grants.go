package manage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sesame/internal/store"
	"sesame/onboarding"
)

// ErrBadRole: a role the service does not know, or a service that is not
// the structure's.
var ErrBadRole = fmt.Errorf("%w: a role the service does not know", store.ErrInvalid)

// GrantChange is one change of a person's rights that SetGrants made:
// From is "" for a right added, To "" for one removed.
type GrantChange struct {
	Service store.Service
	From    string
	To      string
}

// SetGrants sets a person's rights on a structure's services: rights maps
// a service id to a role (canonical, or any name the spreadsheet's rights
// column accepts, French included) or to "" for no access; the
// structure's services the map does not name keep their right. The person
// must be a member of the structure (ErrNotMember); a service that is not
// the structure's or a role it does not know gives ErrBadRole and changes
// nothing.
//
// In one transaction, with its audit entry (person.grants, recorded as the
// structure's), it writes the grants and queues what an import queues for
// a person whose rights changed (onboarding.ApplyRights): the directory
// entry, an email to an active person given a new service, the
// provisioning of the accounts gained, changed or lost. It returns the
// changes, none when the rights were already those.
func (m *Manager) SetGrants(ctx context.Context, actor, structureID, personID string, rights map[string]string) ([]GrantChange, error) {
	ctx = WithStructure(ctx, structureID)
	var changes []GrantChange
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		changes = nil
		st, err := tx.GetStructure(ctx, structureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		p, err := tx.GetPerson(ctx, personID)
		if err != nil {
			return fmt.Errorf("manage: get person: %w", err)
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID, StructureID: st.ID})
		if err != nil {
			return fmt.Errorf("manage: list memberships: %w", err)
		}
		if len(ms) == 0 {
			return ErrNotMember
		}
		list, err := tx.ListServices(ctx, st.ID)
		if err != nil {
			return fmt.Errorf("manage: list services: %w", err)
		}
		services := map[string]store.Service{}
		for _, s := range list {
			services[s.ID] = s
		}
		grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: p.ID, StructureID: st.ID})
		if err != nil {
			return fmt.Errorf("manage: list grants: %w", err)
		}
		cur := map[string]string{}
		for _, g := range grants {
			cur[g.ServiceID] = g.Role
		}
		var rc onboarding.RightsChange
		ids := make([]string, 0, len(rights))
		for id := range rights {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(services[a].Slug, services[b].Slug) })
		for _, id := range ids {
			svc, ok := services[id]
			if !ok {
				return fmt.Errorf("%w: no service %q in structure %s", ErrBadRole, id, st.Slug)
			}
			want := strings.TrimSpace(rights[id])
			if want != "" {
				role, ok := onboarding.ResolveRole(svc, want)
				if !ok {
					return fmt.Errorf("%w: %q on %s (%s)", ErrBadRole, want, svc.Slug, strings.Join(onboarding.ServiceRoles(svc), ", "))
				}
				want = role
			}
			old, had := cur[id]
			switch {
			case want == "" && had:
				rc.Delete = append(rc.Delete, id)
			case want == "" || (had && old == want):
				continue
			default:
				rc.Put = append(rc.Put, store.Grant{PersonID: p.ID, ServiceID: id, Role: want})
				if !had {
					rc.NewAccess = append(rc.NewAccess, id)
				}
			}
			changes = append(changes, GrantChange{Service: svc, From: old, To: want})
		}
		if len(changes) == 0 {
			return nil
		}
		if err := onboarding.ApplyRights(ctx, tx, st, services, p, rc, m.now()); err != nil {
			return fmt.Errorf("manage: apply rights: %w", err)
		}
		details := make([]map[string]string, 0, len(changes))
		for _, c := range changes {
			details = append(details, map[string]string{"service": c.Service.Slug, "from": c.From, "to": c.To})
		}
		return audit(ctx, tx, actor, "person.grants", "person:"+p.ID, map[string]any{"grants": details})
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}
