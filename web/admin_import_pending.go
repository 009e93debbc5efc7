package web

import (
	"errors"
	"sync"
	"time"

	"sesame/internal/store"
	"sesame/onboarding"
)

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
	options     importOptions // the address choice and the mapping it was planned with
	plan        *onboarding.Plan
	fingerprint string
	created     time.Time
	changed     bool // shown again because the accounts changed
}

// pendingImports keeps the previews in memory, bounded in number overall
// and per session, each for ttl.
type pendingImports struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	perKey  int
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
func (pi *pendingImports) put(p *pendingImport, now time.Time) error {
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
			if x.created.Before(mine[oldest].created) {
				oldest = i
			}
		}
		delete(pi.entries, mine[oldest].id)
		mine = append(mine[:oldest], mine[oldest+1:]...)
	}
	if len(pi.entries) >= pi.max {
		return errPendingFull
	}
	pi.entries[p.id] = p
	return nil
}

// get returns the preview id of session for the structure, unless it has
// expired; nil otherwise.
func (pi *pendingImports) get(id, session, structureID string, now time.Time) *pendingImport {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	p, ok := pi.entries[id]
	switch {
	case !ok || p.session != session || p.structureID != structureID:
		return nil
	case !now.Before(p.created.Add(pi.ttl)):
		delete(pi.entries, id)
		return nil
	}
	return p
}

// take forgets the preview id of session and reports whether it was there:
// of two confirmations, one only takes it.
func (pi *pendingImports) take(id, session string) bool {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	p, ok := pi.entries[id]
	if !ok || p.session != session {
		return false
	}
	delete(pi.entries, id)
	return true
}

// replace swaps the preview old of session for p (its new plan, under a
// new id) and reports whether old was still there; nothing is kept
// otherwise. The number of previews does not change.
func (pi *pendingImports) replace(old string, p *pendingImport, now time.Time) bool {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	pi.sweep(now)
	x, ok := pi.entries[old]
	if !ok || x.session != p.session || x.structureID != p.structureID {
		return false
	}
	delete(pi.entries, old)
	pi.entries[p.id] = p
	return true
}
