package store

import (
	"context"
	"time"
)

// FactorKind is the kind of a second factor.
type FactorKind string

// The kinds of second factor.
const (
	// FactorTOTP is a time-based one-time password app (RFC 6238).
	FactorTOTP FactorKind = "totp"
	// FactorPasskey is a WebAuthn credential.
	FactorPasskey FactorKind = "passkey"
)

// Valid reports whether k is one of the known kinds.
func (k FactorKind) Valid() bool { return k == FactorTOTP || k == FactorPasskey }

// MFAPolicy says whether a structure's people may, or must, use a second
// factor.
type MFAPolicy string

// The second-factor policies, weakest first. The zero value is the
// default: offered to members, required of referents.
const (
	MFADefault  MFAPolicy = ""
	MFAOff      MFAPolicy = "off"      // not offered (a factor already enrolled is still asked)
	MFAOffered  MFAPolicy = "offered"  // anyone may enrol one from the portal
	MFARequired MFAPolicy = "required" // asked to enrol at login, then always asked
)

// Valid reports whether p is one of the known policies (the default
// included).
func (p MFAPolicy) Valid() bool {
	switch p {
	case MFADefault, MFAOff, MFAOffered, MFARequired:
		return true
	}
	return false
}

// SecondFactor is one second factor a person enrolled: a TOTP app or a
// passkey. A person may have several.
type SecondFactor struct {
	ID       string // random; filled by CreateSecondFactor when empty
	PersonID string
	Kind     FactorKind
	Name     string // the person's own name for it ("Téléphone")
	// Secret is the TOTP secret or the passkey's credential (JSON), sealed
	// by the caller: the store never sees it in clear.
	Secret []byte
	// CredentialID is a passkey's credential id (unique across people);
	// nil for TOTP.
	CredentialID []byte
	// Counter is, for TOTP, the last time step accepted (a code of that
	// step or an earlier one is refused: no replay); for a passkey, its
	// last signature counter.
	Counter    int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// SecondFactors keeps people's second factors and recovery codes.
type SecondFactors interface {
	// CreateSecondFactor inserts f, filling ID (when empty) and CreatedAt.
	// An unknown person gives ErrNotFound, a taken id or credential id
	// ErrConflict, an unknown kind or no secret ErrInvalid.
	CreateSecondFactor(ctx context.Context, f *SecondFactor) error
	// ListSecondFactors returns a person's factors, oldest first.
	ListSecondFactors(ctx context.Context, personID string) ([]SecondFactor, error)
	// GetSecondFactorByCredential returns the passkey of a credential id;
	// ErrNotFound when none.
	GetSecondFactorByCredential(ctx context.Context, credentialID []byte) (SecondFactor, error)
	// UseSecondFactor records a use of the person's factor id at now with
	// counter, in one conditional write: only when counter is above the
	// stored one, so that of two concurrent uses of the same TOTP code one
	// only succeeds. A counter not above gives ErrTokenUsed; an unknown
	// factor (or another person's) ErrNotFound.
	UseSecondFactor(ctx context.Context, personID, id string, counter int64, now time.Time) error
	// DeleteSecondFactor removes one factor of the person; ErrNotFound
	// when absent.
	DeleteSecondFactor(ctx context.Context, personID, id string) error
	// DeleteSecondFactors removes every factor and recovery code of the
	// person (a reset) and returns how many factors went.
	DeleteSecondFactors(ctx context.Context, personID string) (int, error)
	// SetRecoveryCodes replaces the person's recovery codes by hashes
	// (SHA-256 of each code, 32 bytes). An unknown person gives
	// ErrNotFound.
	SetRecoveryCodes(ctx context.Context, personID string, hashes [][]byte, now time.Time) error
	// UseRecoveryCode marks the person's code of hash used at now, in one
	// conditional write: of any number of concurrent uses one succeeds. A
	// code used before gives ErrTokenUsed, an unknown one ErrNotFound.
	UseRecoveryCode(ctx context.Context, personID string, hash []byte, now time.Time) error
	// CountRecoveryCodes returns how many of the person's codes are unused.
	CountRecoveryCodes(ctx context.Context, personID string) (int, error)
}
