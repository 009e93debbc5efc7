package onboarding

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// Default lifetimes of emailed links.
const (
	DefaultActivateTTL = 7 * 24 * time.Hour
	DefaultResetTTL    = time.Hour
)

// Tokens issues the single-use secrets behind activation and reset links.
//
// A link's secret is HMAC-SHA256(Key, nonce), 256 bits. The store keeps only
// SHA-256(secret); the mail job carries only the nonce, from which the mail
// handler derives the same secret again. So a retried job sends the same
// link, and neither the store nor the queue holds anything that opens an
// account without the server's key.
type Tokens struct {
	Key         []byte // at least 32 bytes, from the configuration
	Now         func() time.Time
	ActivateTTL time.Duration
	ResetTTL    time.Duration
}

// ErrShortKey means the token key is too short to be safe.
var ErrShortKey = errors.New("onboarding: token key must be at least 32 bytes")

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// ActivateDays is how many whole days an activation link lasts (at least
// one), for the pages that tell people.
func (t *Tokens) ActivateDays() int {
	return max(1, int(t.ttl(store.PurposeActivate)/(24*time.Hour)))
}

func (t *Tokens) ttl(p store.TokenPurpose) time.Duration {
	switch {
	case p == store.PurposeActivate && t.ActivateTTL > 0:
		return t.ActivateTTL
	case p == store.PurposeActivate:
		return DefaultActivateTTL
	case t.ResetTTL > 0:
		return t.ResetTTL
	default:
		return DefaultResetTTL
	}
}

// Secret derives a link's secret (URL-safe base64, no padding) from a nonce.
func (t *Tokens) Secret(nonce string) string {
	m := hmac.New(sha256.New, t.Key)
	m.Write([]byte("sesame token v1\x00"))
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Hash is what the store keeps of a secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Issue stores a new token of the purpose for the person in tx (which
// invalidates the person's older ones of that purpose) and enqueues the
// email that carries its link: KindMailActivate or KindMailReset. It
// returns the expiry.
func (t *Tokens) Issue(ctx context.Context, tx store.Tx, personID, structureID string, purpose store.TokenPurpose) (time.Time, error) {
	kind := jobs.KindMailActivate
	if purpose == store.PurposeReset {
		kind = jobs.KindMailReset
	}
	return t.IssueWith(ctx, tx, personID, structureID, purpose, kind)
}

// IssueWith is Issue with the kind of the email that carries the link
// (its payload is a jobs.TokenMail): jobs.KindMailReminder sends a new
// activation link as a reminder.
func (t *Tokens) IssueWith(ctx context.Context, tx store.Tx, personID, structureID string, purpose store.TokenPurpose, kind string) (time.Time, error) {
	tok, job, err := t.prepare(personID, structureID, purpose, kind)
	if err != nil {
		return time.Time{}, err
	}
	if err := tx.IssueToken(ctx, tok); err != nil {
		return time.Time{}, fmt.Errorf("onboarding: issue token: %w", err)
	}
	if _, err := tx.EnqueueJob(ctx, &job); err != nil {
		return time.Time{}, fmt.Errorf("onboarding: enqueue %s: %w", kind, err)
	}
	return tok.ExpiresAt, nil
}

// prepare makes a new token of the purpose for the person and the job of
// the email that carries its link, without writing them (IssueWith writes
// one; an import writes them all with IssueTokens and EnqueueJobs).
func (t *Tokens) prepare(personID, structureID string, purpose store.TokenPurpose, kind string) (store.Token, store.Job, error) {
	if len(t.Key) < 32 {
		return store.Token{}, store.Job{}, ErrShortKey
	}
	var n [24]byte
	if _, err := rand.Read(n[:]); err != nil {
		return store.Token{}, store.Job{}, fmt.Errorf("onboarding: token nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(n[:])
	now := t.now()
	tok := store.Token{Hash: Hash(t.Secret(nonce)), PersonID: personID, Purpose: purpose,
		ExpiresAt: now.Add(t.ttl(purpose)), CreatedAt: now}
	payload, _ := json.Marshal(jobs.TokenMail{PersonID: personID, StructureID: structureID, Nonce: nonce})
	return tok, store.Job{Kind: kind, Payload: payload}, nil
}
