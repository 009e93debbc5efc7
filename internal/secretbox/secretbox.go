// Package secretbox encrypts small secrets at rest (application API
// credentials, second-factor secrets) under a key derived from sesame's
// master key, so that a database dump alone reveals none of them.
//
// Each Box serves one purpose: its key is HMAC-SHA256(master, purpose), so a
// value sealed for one purpose cannot be opened as another. The additional
// data given to Seal and Open (a row's id) binds a sealed value to its row:
// copied to another row, it no longer opens.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrOpen means a sealed value could not be decrypted: another master key,
// another purpose or row, or damaged data.
var ErrOpen = errors.New("secretbox: cannot decrypt (wrong master key, or the value was moved or damaged)")

// version prefixes every sealed value, so the format can change later.
const version = 1

// Box seals and opens values for one purpose with AES-256-GCM.
type Box struct {
	aead    cipher.AEAD
	purpose string
}

// New returns a Box for purpose (e.g. "service provisioning credentials v1")
// under master, which must be at least 32 bytes.
func New(master []byte, purpose string) (*Box, error) {
	if len(master) < 32 {
		return nil, errors.New("secretbox: the master key must be at least 32 bytes")
	}
	if purpose == "" {
		return nil, errors.New("secretbox: empty purpose")
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("sesame secretbox: " + purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead, purpose: purpose}, nil
}

// Seal encrypts plain, bound to ad (for example the row's id).
func (b *Box) Seal(ad string, plain []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plain, []byte(ad)), nil
}

// Open decrypts what Seal made with the same ad; ErrOpen otherwise.
func (b *Box) Open(ad string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, fmt.Errorf("%w: %s", ErrOpen, b.purpose)
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrOpen, b.purpose)
	}
	return plain, nil
}

// SealJSON seals the JSON of v, bound to ad, as URL-safe text: the value
// of a cookie or of a form's hidden field that the browser carries and
// only sesame can read.
func (b *Box) SealJSON(ad string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("secretbox: %w", err)
	}
	sealed, err := b.Seal(ad, plain)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenJSON reads into v what SealJSON made with the same ad; ErrOpen when
// the text is not such a value (damaged, another ad, another key).
func (b *Box) OpenJSON(ad, text string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrOpen, b.purpose)
	}
	plain, err := b.Open(ad, raw)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%w: %s", ErrOpen, b.purpose)
	}
	return nil
}
