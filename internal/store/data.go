package store

import (
	"context"
	"time"
)

// Activation is a person's newest activation token, as the reminders and
// the export see it.
type Activation struct {
	PersonID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// Settings keeps what a structure's referents set for the data side.
type Settings interface {
	// ImportMapping returns the column mapping remembered for a
	// structure's imports (header as written -> field), empty when none.
	ImportMapping(ctx context.Context, structureID string) (map[string]string, error)
	// SetImportMapping replaces it; an empty map forgets it. An unknown
	// structure gives ErrNotFound.
	SetImportMapping(ctx context.Context, structureID string, m map[string]string) error
	// RemindersEnabled reports whether a structure's people get automatic
	// reminders and its referents the weekly digest (on by default).
	RemindersEnabled(ctx context.Context, structureID string) (bool, error)
	// SetRemindersEnabled turns them on or off. An unknown structure gives
	// ErrNotFound.
	SetRemindersEnabled(ctx context.Context, structureID string, on bool) error
}

// Claims records the things done once across every replica.
type Claims interface {
	// Claim records key at now and reports true, or reports false when key
	// was claimed before (by this process or another). Called in the
	// transaction that does the work (enqueues the email), it makes the
	// work happen once: of two concurrent transactions claiming the same
	// key, one commits and the other sees the claim (or is re-run by InTx
	// and then sees it).
	Claim(ctx context.Context, key string, now time.Time) (bool, error)
	// LatestActivations returns the newest activation token of each member
	// of a structure who has one (of everybody when structureID is empty),
	// by person id.
	LatestActivations(ctx context.Context, structureID string) (map[string]Activation, error)
}
