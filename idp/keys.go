package idp

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"sesame/internal/store"
)

// The signing algorithms the provider offers.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Algorithms lists the signing algorithms, in the order discovery gives them.
var Algorithms = []string{AlgRS256, AlgES256}

// ErrNoKey means no signing key is active for an algorithm.
var ErrNoKey = errors.New("idp: no active signing key")

// keyCipher encrypts private keys at rest with AES-256-GCM under a key derived
// from the master key; the kid is the additional data, so a key row cannot be
// moved to another kid.
type keyCipher struct{ aead cipher.AEAD }

func newKeyCipher(master []byte) (*keyCipher, error) {
	if len(master) < 32 {
		return nil, errors.New("idp: the master key must be at least 32 bytes")
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("sesame idp signing key encryption v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("idp: key cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("idp: key cipher: %w", err)
	}
	return &keyCipher{aead: aead}, nil
}

func (c *keyCipher) seal(kid string, plain []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("idp: nonce: %w", err)
	}
	return c.aead.Seal(nonce, nonce, plain, []byte(kid)), nil
}

func (c *keyCipher) open(kid string, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("idp: sealed key too short")
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("idp: cannot decrypt signing key %s (wrong master key?): %w", kid, err)
	}
	return plain, nil
}

// signingKey is a decrypted key.
type signingKey struct {
	kid         string
	alg         string
	priv        crypto.Signer
	notBefore   time.Time
	retireAfter time.Time
	signer      jose.Signer // JWT
	logout      jose.Signer // logout+jwt
	access      jose.Signer // at+jwt
}

// keySet is the in-memory view of the store's keys: JWKS and signing are
// served from it, never from the store.
type keySet struct {
	mu   sync.RWMutex
	keys []*signingKey // by NotBefore
	jwks []byte
}

// generateKey makes a new private key for alg.
func generateKey(alg string, rsaBits int) (crypto.Signer, error) {
	switch alg {
	case AlgRS256:
		if rsaBits < 2048 {
			rsaBits = 2048
		}
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("idp: unknown signing algorithm %q", alg)
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("idp: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newStoredKey generates and encrypts a key starting at notBefore.
func newStoredKey(c *keyCipher, alg string, rsaBits int, notBefore time.Time) (store.SigningKey, error) {
	priv, err := generateKey(alg, rsaBits)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("idp: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("idp: encode key: %w", err)
	}
	kid := alg + "-" + randomID(12)
	sealed, err := c.seal(kid, der)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: kid, Alg: alg, PrivateKey: sealed, NotBefore: notBefore.UTC()}, nil
}

func decodeKey(c *keyCipher, k store.SigningKey) (*signingKey, error) {
	der, err := c.open(k.KID, k.PrivateKey)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("idp: parse key %s: %w", k.KID, err)
	}
	var priv crypto.Signer
	switch p := parsed.(type) {
	case *rsa.PrivateKey:
		if k.Alg != AlgRS256 || p.N.BitLen() < 2048 {
			return nil, fmt.Errorf("idp: key %s is not an RS256 key of at least 2048 bits", k.KID)
		}
		priv = p
	case *ecdsa.PrivateKey:
		if k.Alg != AlgES256 || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("idp: key %s is not an ES256 key", k.KID)
		}
		priv = p
	default:
		return nil, fmt.Errorf("idp: key %s has an unknown type %T", k.KID, parsed)
	}
	sk := &signingKey{kid: k.KID, alg: k.Alg, priv: priv, notBefore: k.NotBefore, retireAfter: k.RetireAfter}
	jwk := jose.JSONWebKey{Key: priv, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}
	for _, s := range []struct {
		dst *jose.Signer
		typ jose.ContentType
	}{{&sk.signer, "JWT"}, {&sk.logout, "logout+jwt"}, {&sk.access, "at+jwt"}} {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: jwk},
			(&jose.SignerOptions{}).WithType(s.typ))
		if err != nil {
			return nil, fmt.Errorf("idp: signer for %s: %w", k.KID, err)
		}
		*s.dst = signer
	}
	return sk, nil
}

// load replaces the set with the store's keys that are not retired at now.
func (ks *keySet) load(c *keyCipher, stored []store.SigningKey, now time.Time) error {
	var keys []*signingKey
	for _, k := range stored {
		if !k.RetireAfter.IsZero() && !now.Before(k.RetireAfter) {
			continue
		}
		sk, err := decodeKey(c, k)
		if err != nil {
			return err
		}
		keys = append(keys, sk)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].notBefore.Before(keys[j].notBefore) })
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("idp: marshal jwks: %w", err)
	}
	ks.mu.Lock()
	ks.keys, ks.jwks = keys, b
	ks.mu.Unlock()
	return nil
}

// active returns the key of alg that signs at now: the newest whose
// NotBefore has passed.
func (ks *keySet) active(alg string, now time.Time) (*signingKey, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	var best *signingKey
	for _, k := range ks.keys {
		if k.alg == alg && !now.Before(k.notBefore) && (k.retireAfter.IsZero() || now.Before(k.retireAfter)) {
			best = k
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoKey, alg)
	}
	return best, nil
}

// byKID returns a published key.
func (ks *keySet) byKID(kid string) *signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.kid == kid {
			return k
		}
	}
	return nil
}

func (ks *keySet) jwksJSON() []byte {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.jwks
}

// KeyManager creates, rotates and loads signing keys. The CLI uses it
// without a running provider.
type KeyManager struct {
	Store     store.Store
	MasterKey []byte
	Now       func() time.Time
	// RSABits is the size of new RSA keys; below 2048 means 2048.
	RSABits int
	// PublishDelay is how long a new key sits in the JWKS before it signs;
	// it must exceed the provider's reload interval. Default 10 minutes.
	PublishDelay time.Duration
	// KeepAfter is how long a replaced key stays in the JWKS once its
	// successor signs. Default 15 days: tokens live an hour, but WordPress
	// sends its login's ID token as the logout hint up to 14 days later
	// ("remember me"), and a hint sesame cannot verify is refused.
	KeepAfter time.Duration
}

// DefaultKeyKeep is KeyManager.KeepAfter's default.
const DefaultKeyKeep = 15 * 24 * time.Hour

func (m *KeyManager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Ensure creates a key for every algorithm that has none, active at once.
func (m *KeyManager) Ensure(ctx context.Context) error {
	c, err := newKeyCipher(m.MasterKey)
	if err != nil {
		return err
	}
	now := m.now()
	return m.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("idp: list keys: %w", err)
		}
		for _, alg := range Algorithms {
			if hasKey(keys, alg, now) {
				continue
			}
			k, err := newStoredKey(c, alg, m.RSABits, now)
			if err != nil {
				return err
			}
			if err := tx.CreateSigningKey(ctx, &k); err != nil {
				return fmt.Errorf("idp: store key: %w", err)
			}
		}
		return nil
	})
}

// Rotate creates, for every algorithm, a key that is published now and
// signs from now+PublishDelay; the keys it replaces retire KeepAfter after
// that. It returns the new keys' ids.
func (m *KeyManager) Rotate(ctx context.Context) ([]string, error) {
	c, err := newKeyCipher(m.MasterKey)
	if err != nil {
		return nil, err
	}
	delay, keep := m.PublishDelay, m.KeepAfter
	if delay <= 0 {
		delay = 10 * time.Minute
	}
	if keep <= 0 {
		keep = DefaultKeyKeep
	}
	now := m.now()
	start := now.Add(delay)
	var kids []string
	err = m.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		kids = nil
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("idp: list keys: %w", err)
		}
		for _, alg := range Algorithms {
			for _, k := range keys {
				if k.Alg == alg && k.RetireAfter.IsZero() {
					if err := tx.RetireSigningKey(ctx, k.KID, start.Add(keep)); err != nil {
						return fmt.Errorf("idp: retire key %s: %w", k.KID, err)
					}
				}
			}
			// With no key of alg yet, nothing signs in the meantime: the
			// new key starts at once.
			from := start
			if !hasKey(keys, alg, now) {
				from = now
			}
			k, err := newStoredKey(c, alg, m.RSABits, from)
			if err != nil {
				return err
			}
			if err := tx.CreateSigningKey(ctx, &k); err != nil {
				return fmt.Errorf("idp: store key: %w", err)
			}
			kids = append(kids, k.KID)
		}
		if _, err := tx.DeleteSigningKeysRetiredBefore(ctx, now); err != nil {
			return fmt.Errorf("idp: delete retired keys: %w", err)
		}
		return nil
	})
	return kids, err
}

// hasKey reports whether keys hold a key of alg not retired at now.
func hasKey(keys []store.SigningKey, alg string, now time.Time) bool {
	for _, k := range keys {
		if k.Alg == alg && (k.RetireAfter.IsZero() || now.Before(k.RetireAfter)) {
			return true
		}
	}
	return false
}
