package jobs

import (
	"context"
	"errors"
	"fmt"

	"sesame/internal/store"
)

// KindProvisionAccount brings one person's account in one service's
// application (Nextcloud, WordPress, Paheko) to the store's state: created
// with the granted role, updated, or demoted/disabled when the grant or the
// person is gone. Payload: ProvisionRef. Dedupe key: DedupeProvision.
const KindProvisionAccount = "provision.account"

// ProvisionRef names one person's account in one service.
type ProvisionRef struct {
	PersonID  string `json:"person_id"`
	ServiceID string `json:"service_id"`
	// Gone, set when the person was deleted from the store, is what the
	// job needs to find their account in the application and take its
	// access away then (QueueProvisionGone).
	Gone *GoneAccount `json:"gone,omitempty"`
}

// GoneAccount is what a provisioning job keeps of a person deleted from
// the store and of what sesame knew of their account in one application.
type GoneAccount struct {
	GonePerson
	RemoteID string `json:"remote_id,omitempty"`
	Owned    bool   `json:"owned,omitempty"`
	Role     string `json:"role,omitempty"`
}

// DedupeProvision is the dedupe key of KindProvisionAccount jobs.
func DedupeProvision(personID, serviceID string) string {
	return KindProvisionAccount + ":" + personID + ":" + serviceID
}

// QueueProvision queues, in tx, the job that brings personID's account in
// svc's application to the store's state, and marks it pending. It does
// nothing for a service without provisioning credentials: there is no sink
// to converge, and `sesame service credentials` queues every grant of the
// service when they are given.
func QueueProvision(ctx context.Context, tx store.Tx, personID string, svc store.Service) error {
	if svc.ProvisioningSecret == nil {
		return nil
	}
	queued, err := Enqueue(ctx, tx, KindProvisionAccount, DedupeProvision(personID, svc.ID),
		ProvisionRef{PersonID: personID, ServiceID: svc.ID})
	if err != nil {
		return err
	}
	if !queued {
		return nil // a pending job will read the latest state
	}
	prev, err := tx.GetProvision(ctx, personID, svc.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("jobs: provision of %s on %s: %w", personID, svc.ID, err)
	}
	prev.PersonID, prev.ServiceID, prev.Status = personID, svc.ID, store.ProvisionPending
	if err := tx.PutProvision(ctx, prev); err != nil {
		return fmt.Errorf("jobs: mark provision pending: %w", err)
	}
	return nil
}

// QueueProvisionGone queues, in tx, the job that takes access away from the
// account in svc's application of a person being deleted: the
// disable's own job may not have run yet (an application down, a quick
// hand), and once the person is gone from the store that job finds nobody
// and does nothing. The payload carries what the job needs to find the
// account. It has no dedupe key, so that no pending job for the person
// absorbs it; it does nothing for a service without provisioning
// credentials.
func QueueProvisionGone(ctx context.Context, tx store.Tx, personID string, svc store.Service, gone GoneAccount) error {
	if svc.ProvisioningSecret == nil {
		return nil
	}
	if _, err := Enqueue(ctx, tx, KindProvisionAccount, "",
		ProvisionRef{PersonID: personID, ServiceID: svc.ID, Gone: &gone}); err != nil {
		return fmt.Errorf("jobs: queue removal of %s on %s: %w", personID, svc.ID, err)
	}
	return nil
}
