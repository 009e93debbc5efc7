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
