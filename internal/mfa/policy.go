package mfa

import (
	"context"
	"fmt"

	"sesame/internal/store"
)

// rank orders the policies, weakest first.
func rank(p store.MFAPolicy) int {
	switch p {
	case store.MFAOff:
		return 0
	case store.MFARequired:
		return 2
	default:
		return 1
	}
}

// Stricter returns the stricter of a and b.
func Stricter(a, b store.MFAPolicy) store.MFAPolicy {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// ForMember is the policy a structure's policy sets for one of its
// people: the default is offered to members and required of referents.
func ForMember(p store.MFAPolicy, referent bool) store.MFAPolicy {
	if p != store.MFADefault {
		return p
	}
	if referent {
		return store.MFARequired
	}
	return store.MFAOffered
}

// Reader is what PolicyOf reads (a store.Tx or a store.Store).
type Reader interface {
	ListMemberships(ctx context.Context, f store.MembershipFilter) ([]store.Membership, error)
	GetStructure(ctx context.Context, id string) (store.Structure, error)
}

// PolicyOf is the strictest policy among those that apply to person: each
// of their structures' (ForMember) and, for a hoster admin, admins (the
// configuration's; its default is required). Someone in no structure who
// is not an admin is offered one. The result is never MFADefault.
func PolicyOf(ctx context.Context, st Reader, person store.Person, admins store.MFAPolicy) (store.MFAPolicy, error) {
	ms, err := st.ListMemberships(ctx, store.MembershipFilter{PersonID: person.ID})
	if err != nil {
		return "", fmt.Errorf("mfa: policy: %w", err)
	}
	p := store.MFAOff
	if person.Admin {
		p = Stricter(p, AdminPolicy(admins))
	}
	if len(ms) == 0 && !person.Admin {
		p = store.MFAOffered
	}
	for _, m := range ms {
		s, err := st.GetStructure(ctx, m.StructureID)
		if err != nil {
			return "", fmt.Errorf("mfa: policy: %w", err)
		}
		p = Stricter(p, ForMember(s.MFAPolicy, m.Referent))
	}
	return p, nil
}

// AdminPolicy is the hoster admins' policy as configured: required unless
// set otherwise.
func AdminPolicy(configured store.MFAPolicy) store.MFAPolicy {
	if configured == store.MFADefault {
		return store.MFARequired
	}
	return configured
}
