package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sesame/internal/secretbox"
	"sesame/internal/store"
	"sesame/onboarding"
)

// pendingKeeper keeps the pending previews: pendingImports in this
// process's memory, storePending in the store (shared by replicas).
type pendingKeeper interface {
	put(ctx context.Context, p *pendingImport, now time.Time) error
	// get returns nil (and no error) when the preview is not there.
	get(ctx context.Context, id, session, structureID string, now time.Time) (*pendingImport, error)
	take(ctx context.Context, id, session string) (bool, error)
	replace(ctx context.Context, old string, p *pendingImport, now time.Time) (bool, error)
}

// errPendingFull refuses a preview when MaxPending previews are waiting.
var errPendingFull = errors.New("web: import: too many pending previews")

// pendingImport is an uploaded file and its plan, waiting for a
// confirmation or a cancellation. Its fields do not change once kept.
type pendingImport struct {
	id          string
	session     string // the uploader's: no other session sees it
	structureID string
	fileName    string
	data        []byte
	mode        store.ImportMode
	options     importOptions    // the address choice and the mapping it was planned with
	plan        *onboarding.Plan // nil when read from the store: planned again
	fingerprint string           // of the plan shown on the preview
	created     time.Time
	seq         uint64 // order of arrival in memory: clocks may tie
	changed     bool   // shown again because the accounts changed
}

// pendingImports keeps the previews in memory, bounded in number overall
// and per session, each for ttl.
type pendingImports struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	perKey  int
	seq     uint64 // the last preview's seq
	entries map[string]*pendingImport
}

func newPendingImports(ttl time.Duration, max, perKey int) *pendingImports {
	return &pendingImports{ttl: ttl, max: max, perKey: perKey, entries: map[string]*pendingImport{}}
}

// sweep forgets the expired previews; mu is held.
func (pi *pendingImports) sweep(now time.Time) {
	for id, p := range pi.entries {
		if !now.Before(p.created.Add(pi.ttl)) {
			delete(pi.entries, id)
		}
	}
}

// put keeps p. A session past its own bound loses its oldest preview (a
// person who uploads again has moved on); past the overall bound, put
// refuses with errPendingFull rather than drop someone else's.
func (pi *pendingImports) put(_ context.Context, p *pendingImport, now time.Time) error {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	pi.sweep(now)
	var mine []*pendingImport
	for _, x := range pi.entries {
		if x.session == p.session {
			mine = append(mine, x)
		}
	}
	for len(mine) >= pi.perKey {
		oldest := 0
		for i, x := range mine {
			if x.seq < mine[oldest].seq {
				oldest = i
			}
		}
		delete(pi.entries, mine[oldest].id)
		mine = append(mine[:oldest], mine[oldest+1:]...)
	}
	if len(pi.entries) >= pi.max {
		return errPendingFull
	}
	pi.seq++
	p.seq = pi.seq
	pi.entries[p.id] = p
	return nil
}

// get returns the preview id of session for the structure, unless it has
// expired; nil otherwise.
func (pi *pendingImports) get(_ context.Context, id, session, structureID string, now time.Time) (*pendingImport, error) {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	p, ok := pi.entries[id]
	switch {
	case !ok || p.session != session || p.structureID != structureID:
		return nil, nil
	case !now.Before(p.created.Add(pi.ttl)):
		delete(pi.entries, id)
		return nil, nil
	}
	return p, nil
}

// take forgets the preview id of session and reports whether it was there:
// of two confirmations, one only takes it.
func (pi *pendingImports) take(_ context.Context, id, session string) (bool, error) {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	p, ok := pi.entries[id]
	if !ok || p.session != session {
		return false, nil
	}
	delete(pi.entries, id)
	return true, nil
}

// replace swaps the preview old of session for p (its new plan, under a
// new id) and reports whether old was still there; nothing is kept
// otherwise. The number of previews does not change.
func (pi *pendingImports) replace(_ context.Context, old string, p *pendingImport, now time.Time) (bool, error) {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	pi.sweep(now)
	x, ok := pi.entries[old]
	if !ok || x.session != p.session || x.structureID != p.structureID {
		return false, nil
	}
	delete(pi.entries, old)
	pi.entries[p.id] = p
	return true, nil
}

// ImportBox is the box that seals the files of pending previews kept in
// the store (ImportPages.PendingBox), under a key derived from master.
func ImportBox(master []byte) (*secretbox.Box, error) {
	return secretbox.New(master, "web import previews v1")
}

// storePending keeps the previews in the store, shared by every replica:
// the file sealed by box (bound to the preview's id), the options as JSON,
// and no plan (the replica that reads it plans the file again).
type storePending struct {
	st          store.PendingImports
	box         *secretbox.Box
	ttl         time.Duration
	max, perKey int
}

// storedOptions is importOptions as the store keeps it.
type storedOptions struct {
	Address onboarding.Address          `json:"address,omitempty"`
	Mapping map[string]onboarding.Field `json:"mapping,omitempty"`
}

func (sp *storePending) put(ctx context.Context, p *pendingImport, now time.Time) error {
	sealed, err := sp.box.Seal(p.id, p.data)
	if err != nil {
		return err
	}
	opts, err := json.Marshal(storedOptions{Address: p.options.address, Mapping: p.options.mapping})
	if err != nil {
		return fmt.Errorf("web: import: options: %w", err)
	}
	err = sp.st.PutPendingImport(ctx, store.PendingImport{ID: p.id, Session: p.session, StructureID: p.structureID,
		FileName: p.fileName, Data: sealed, Mode: p.mode, Options: opts, Fingerprint: p.fingerprint,
		Changed: p.changed, CreatedAt: now, ExpiresAt: now.Add(sp.ttl)}, sp.max, sp.perKey)
	if errors.Is(err, store.ErrFull) {
		return errPendingFull
	}
	return err
}

func (sp *storePending) get(ctx context.Context, id, session, structureID string, now time.Time) (*pendingImport, error) {
	v, err := sp.st.GetPendingImport(ctx, id, session, now)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.StructureID != structureID) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := sp.box.Open(v.ID, v.Data)
	if err != nil {
		return nil, fmt.Errorf("web: import: preview %s: %w", v.ID, err)
	}
	var o storedOptions
	if err := json.Unmarshal(v.Options, &o); err != nil {
		return nil, fmt.Errorf("web: import: preview %s: options: %w", v.ID, err)
	}
	return &pendingImport{id: v.ID, session: v.Session, structureID: v.StructureID, fileName: v.FileName,
		data: data, mode: v.Mode, options: importOptions{address: o.Address, mapping: o.Mapping},
		fingerprint: v.Fingerprint, created: v.CreatedAt, changed: v.Changed}, nil
}

func (sp *storePending) take(ctx context.Context, id, session string) (bool, error) {
	return sp.st.DeletePendingImport(ctx, id, session)
}

// replace forgets old and keeps p: two statements, so another session's
// upload in between may take the freed place (p is then refused as full).
func (sp *storePending) replace(ctx context.Context, old string, p *pendingImport, now time.Time) (bool, error) {
	x, err := sp.st.GetPendingImport(ctx, old, p.session, now)
	if errors.Is(err, store.ErrNotFound) || (err == nil && x.StructureID != p.structureID) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ok, err := sp.st.DeletePendingImport(ctx, old, p.session); !ok || err != nil {
		return false, err
	}
	if err := sp.put(ctx, p, now); err != nil {
		return false, err
	}
	return true, nil
}

// SweepPendingImports forgets the expired pending previews of the store
// every period until ctx ends (every replica may sweep: the statement is
// idempotent); puts sweep too, so this only bounds how long an expired
// file stays in the database when nobody uploads.
func SweepPendingImports(ctx context.Context, st store.PendingImports, every time.Duration, logger *slog.Logger) {
	sweepEvery(ctx, every, logger, "sweep pending import previews", st.SweepPendingImports)
}
