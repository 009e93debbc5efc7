package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// clientSecretPrefix marks a client secret stored as its SHA-256.
const clientSecretPrefix = "$sha256$"

// HashClientSecret is how a client secret is stored. Secrets are 256 random
// bits made by sesame, so a fast hash is enough to keep a database dump from
// revealing them (RFC 6819, 5.1.4.1.3), and checking one costs no argon2id
// slot: the token endpoint, open to anyone, cannot then starve the password
// logins that share the hasher.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return clientSecretPrefix + base64.RawStdEncoding.EncodeToString(sum[:])
}

// fastClientSecret reports whether stored is a HashClientSecret value, and
// whether secret matches it, in constant time.
func fastClientSecret(stored, secret string) (fast, ok bool) {
	if !strings.HasPrefix(stored, clientSecretPrefix) {
		return false, false
	}
	want := HashClientSecret(secret)
	return true, subtle.ConstantTimeCompare([]byte(stored), []byte(want)) == 1
}
