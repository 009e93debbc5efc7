package ldapsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// HandlePerson is the handler of jobs.KindLDAPPerson: it brings the person's
// entry, password hash and group memberships to the store's state. An
// unreachable directory gives an ErrUnavailable error (to retry); a payload,
// person or entry that cannot be written gives ErrRejected.
func (s *Syncer) HandlePerson(ctx context.Context, j store.Job) error {
	var ref jobs.PersonRef
	if err := json.Unmarshal(j.Payload, &ref); err != nil || ref.PersonID == "" {
		return fmt.Errorf("%w: job %d: bad %s payload %q", ErrRejected, j.ID, j.Kind, j.Payload)
	}
	if ref.Gone != nil {
		return s.ConvergeGone(ctx, *ref.Gone)
	}
	return s.SyncPerson(ctx, ref.PersonID)
}

// HandleStructure is the handler of jobs.KindLDAPStructure: it brings the
// structure's entry, its groups and their members, and its people's entries
// to the store's state.
func (s *Syncer) HandleStructure(ctx context.Context, j store.Job) error {
	var ref jobs.StructureRef
	if err := json.Unmarshal(j.Payload, &ref); err != nil || ref.StructureID == "" {
		return fmt.Errorf("%w: job %d: bad %s payload %q", ErrRejected, j.ID, j.Kind, j.Payload)
	}
	return s.SyncStructure(ctx, ref.StructureID)
}

// Register registers the ldap.person (batch: HandlePersonBatch) and
// ldap.structure handlers on r.
// Errors marked ErrRejected (a bad payload, a person or structure missing
// from the store, a foreign entry in the way, a hash that is not argon2id)
// are permanent: the job is buried with its reason for an administrator.
// Everything else, an unreachable directory first, is retried with backoff.
func (s *Syncer) Register(r *jobs.Runner) {
	wrap := func(h jobs.Handler) jobs.Handler {
		return func(ctx context.Context, j store.Job) error {
			err := h(ctx, j)
			if errors.Is(err, ErrRejected) {
				return jobs.Permanent(err)
			}
			return err
		}
	}
	// ldap.person jobs go in batches: their entries are read and written
	// together and their group changes gathered per group (one modify per
	// group and batch, not one per person). The next batches' store reads
	// overlap the running ones' directory writes.
	r.HandleBatchPrepared(jobs.KindLDAPPerson, PersonBatch, s.PreparePersonBatch)
	r.Handle(jobs.KindLDAPStructure, wrap(s.HandleStructure))
}
