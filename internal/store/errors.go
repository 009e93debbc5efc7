package store

import "errors"

// Sentinel errors returned (possibly wrapped) by every backend. Callers test
// them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule was violated (slug, username,
	// case-folded email, client id, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrTokenUsed means a single-use token was already consumed.
	ErrTokenUsed = errors.New("store: token already used")
	// ErrTokenExpired means a token is past its expiry.
	ErrTokenExpired = errors.New("store: token expired")
	// ErrLeaseLost means a job's lease was taken over by another worker
	// (it expired and the job was claimed again), so this worker's result is
	// discarded.
	ErrLeaseLost = errors.New("store: job lease lost")
	// ErrInvalid means the value handed to the store breaks a rule of the
	// domain (an empty slug, an unknown kind, ...).
	ErrInvalid = errors.New("store: invalid value")
	// ErrSchemaTooNew means the database's schema was written by a newer
	// sesame: this binary does not know its latest migrations and must not
	// run on it.
	ErrSchemaTooNew = errors.New("store: schema newer than this binary")
	// ErrFull means a bounded table holds as many rows as it may (the
	// pending import previews).
	ErrFull = errors.New("store: full")
)
