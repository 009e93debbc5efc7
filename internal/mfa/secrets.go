package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"sesame/internal/secretbox"
	"sesame/internal/store"
)

// ErrReplayed means a right code was used before (a TOTP code of a step
// already accepted, or a recovery code already spent).
var ErrReplayed = errors.New("mfa: code already used")

// ErrEnrolment means an enrolment form's hidden state is not this
// person's, is damaged, or has expired.
var ErrEnrolment = errors.New("mfa: enrolment expired or not yours")

// EnrolmentTTL is how long a QR code shown for enrolment stays good.
const EnrolmentTTL = 15 * time.Minute

// Secrets seals the TOTP secrets kept in the store, and the enrolment
// state a form carries between the QR code and the confirming code, under
// keys derived from the master key.
type Secrets struct {
	factors, enrol *secretbox.Box
	// recovery keys the hashes of recovery codes (HashRecoveryCode):
	// a copy of the database alone cannot check guesses offline.
	recovery []byte
}

// NewSecrets derives the boxes from the master key (32 bytes at least).
func NewSecrets(master []byte) (*Secrets, error) {
	f, err := secretbox.New(master, "second factor secrets v1")
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	e, err := secretbox.New(master, "second factor enrolment v1")
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("sesame recovery codes v1"))
	return &Secrets{factors: f, enrol: e, recovery: m.Sum(nil)}, nil
}

// HashRecoveryCode is what the store keeps of personID's recovery code:
// an HMAC under a key derived from the master key, bound to the person,
// of the code's normalised form. Without the master key a copy of the
// database does not tell a right guess from a wrong one, and one guess
// is never checked against every person's codes at once.
func (s *Secrets) HashRecoveryCode(personID, code string) []byte {
	m := hmac.New(sha256.New, s.recovery)
	m.Write([]byte(personID + "\x00" + strings.ToLower(NormalizeCode(code))))
	return m.Sum(nil)
}

// NewRecoveryCodes makes RecoveryCodes new codes for personID and their
// keyed hashes (see HashRecoveryCode).
func (s *Secrets) NewRecoveryCodes(personID string) (codes []string, hashes [][]byte) {
	codes, _ = NewRecoveryCodes()
	for _, c := range codes {
		hashes = append(hashes, s.HashRecoveryCode(personID, c))
	}
	return codes, hashes
}

// NewFactorID returns a random factor id: the sealed secret is bound to
// it, so it is chosen before the row is written.
func NewFactorID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func factorAD(personID, id string) string { return "factor:" + personID + ":" + id }

// NewTOTPFactor returns the factor to store for a confirmed TOTP secret.
func (s *Secrets) NewTOTPFactor(personID, name, secret string, step int64, now time.Time) (store.SecondFactor, error) {
	f := store.SecondFactor{ID: NewFactorID(), PersonID: personID, Kind: store.FactorTOTP, Name: name, Counter: step,
		LastUsedAt: now}
	sealed, err := s.factors.Seal(factorAD(personID, f.ID), []byte(secret))
	if err != nil {
		return f, fmt.Errorf("mfa: seal TOTP secret: %w", err)
	}
	f.Secret = sealed
	return f, nil
}

// totpSecret opens a TOTP factor's secret.
func (s *Secrets) totpSecret(f store.SecondFactor) (string, error) {
	plain, err := s.factors.Open(factorAD(f.PersonID, f.ID), f.Secret)
	if err != nil {
		return "", fmt.Errorf("mfa: TOTP factor %s: %w", f.ID, err)
	}
	return string(plain), nil
}

// Enrolment is a TOTP secret being enrolled, carried by the form that
// shows its QR code.
type Enrolment struct {
	PersonID string    `json:"p"`
	Secret   string    `json:"s"`
	Expires  time.Time `json:"e"`
}

// SealEnrolment turns e into the opaque text of the form's hidden field.
func (s *Secrets) SealEnrolment(e Enrolment) (string, error) {
	text, err := s.enrol.SealJSON("enrol:"+e.PersonID, e)
	if err != nil {
		return "", fmt.Errorf("mfa: seal enrolment: %w", err)
	}
	return text, nil
}

// OpenEnrolment reads what SealEnrolment made for personID, unless it
// expired at now: ErrEnrolment otherwise.
func (s *Secrets) OpenEnrolment(personID, text string, now time.Time) (Enrolment, error) {
	var e Enrolment
	if s.enrol.OpenJSON("enrol:"+personID, text, &e) != nil || e.PersonID != personID || !now.Before(e.Expires) {
		return Enrolment{}, ErrEnrolment
	}
	return e, nil
}

// Method says which kind of code proved the second factor.
type Method string

// The methods Verify tells apart.
const (
	MethodTOTP     Method = "totp"
	MethodRecovery Method = "recovery"
)

// Factors is what Verify reads and writes (a store.Tx or a store.Store).
type Factors interface {
	ListSecondFactors(ctx context.Context, personID string) ([]store.SecondFactor, error)
	UseSecondFactor(ctx context.Context, personID, id string, counter int64, now time.Time) error
	UseRecoveryCode(ctx context.Context, personID string, hash []byte, now time.Time) error
}

// Verify checks code, typed at the second step, against the person's TOTP
// factors, or as a recovery code when it has a recovery code's length,
// and records its use so that it cannot serve again. ErrWrongCode when it
// matches nothing, ErrReplayed when it matched a code already used.
func (s *Secrets) Verify(ctx context.Context, st Factors, personID, code string, now time.Time) (Method, error) {
	if LooksLikeRecoveryCode(code) {
		err := st.UseRecoveryCode(ctx, personID, s.HashRecoveryCode(personID, code), now)
		if errors.Is(err, store.ErrNotFound) {
			// A code stored before the hashes were keyed.
			err = st.UseRecoveryCode(ctx, personID, HashRecoveryCode(code), now)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			return MethodRecovery, ErrWrongCode
		case errors.Is(err, store.ErrTokenUsed):
			return MethodRecovery, ErrReplayed
		case err != nil:
			return MethodRecovery, fmt.Errorf("mfa: recovery code: %w", err)
		}
		return MethodRecovery, nil
	}
	factors, err := st.ListSecondFactors(ctx, personID)
	if err != nil {
		return MethodTOTP, fmt.Errorf("mfa: verify: %w", err)
	}
	for _, f := range factors {
		if f.Kind != store.FactorTOTP {
			continue
		}
		secret, err := s.totpSecret(f)
		if err != nil {
			return MethodTOTP, err
		}
		step, err := CheckTOTP(secret, code, now)
		if errors.Is(err, ErrWrongCode) {
			continue
		}
		if err != nil {
			return MethodTOTP, err
		}
		err = st.UseSecondFactor(ctx, personID, f.ID, step, now)
		switch {
		case errors.Is(err, store.ErrTokenUsed):
			return MethodTOTP, ErrReplayed
		case err != nil:
			return MethodTOTP, fmt.Errorf("mfa: verify: %w", err)
		}
		return MethodTOTP, nil
	}
	return MethodTOTP, ErrWrongCode
}
