package onboarding

import (
	"context"
	"time"

	"sesame/internal/store"
)

// RightsChange is a change of one person's rights on one structure's
// services, as an import applies it to a changed person.
type RightsChange struct {
	// Put are the grants added or whose role changes (PersonID is the
	// person's).
	Put []store.Grant
	// Delete are the ids of the services whose grant goes.
	Delete []string
	// NewAccess are the ids of the services newly granted (the person is
	// told by email).
	NewAccess []string
}

// ApplyRights writes a change of person's rights on the services of
// structure st in tx, and queues what an import queues for a person whose
// rights changed: their directory entry and groups (ldap.person), the
// email telling an active person of their new access (an invited person's
// activation email covers it; a disabled one is told nothing), and the
// provisioning of their accounts on the services gained, changed or lost
// (only services with provisioning credentials; for a disabled person,
// on those of every structure). services are the structure's, by id.
func ApplyRights(ctx context.Context, tx store.Tx, st store.Structure, services map[string]store.Service,
	person store.Person, c RightsChange, now time.Time) error {
	if err := writeGrants(ctx, tx, person.ID, c.Put, c.Delete, now); err != nil {
		return err
	}
	if err := enqueueLDAPPerson(ctx, tx, person.ID); err != nil {
		return err
	}
	if len(c.NewAccess) > 0 && person.State == store.StateActive {
		if err := queueAccessMail(ctx, tx, person.ID, st.ID, c.NewAccess); err != nil {
			return err
		}
	}
	return queueProvisioning(ctx, tx, services, person, c.Delete)
}
