package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// RecoveryCodes is how many recovery codes a person receives at once.
const RecoveryCodes = 10

// recoveryAlphabet has no letters that read alike (0/o, 1/l/i) in either
// case: codes are copied by hand from paper.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRecoveryCodes makes RecoveryCodes single-use codes of 12 characters
// in three groups ("7kd4-m2xq-9fhw", about 59 bits each) and their
// unkeyed hashes (see HashRecoveryCode). What the store keeps is
// Secrets.NewRecoveryCodes' keyed hashes: the codes are shown once.
func NewRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodes {
		var b strings.Builder
		for i := range 12 {
			if i > 0 && i%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[randIndex(len(recoveryAlphabet))])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, HashRecoveryCode(b.String()))
	}
	return codes, hashes
}

// randIndex returns a uniform random index below n (n < 256).
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:]) // never fails (crypto/rand panics rather)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// HashRecoveryCode is the unkeyed SHA-256 of a code's normalised form
// (lower case, without spaces or dashes), which the store kept before
// the keyed Secrets.HashRecoveryCode: still accepted for those codes
// only. Unkeyed and the same for everyone, a copy of the database checks
// guesses offline against every person's codes at once, so new codes are
// never stored this way.
func HashRecoveryCode(code string) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(NormalizeCode(code))))
	return sum[:]
}

// LooksLikeRecoveryCode tells a recovery code from a TOTP code in the one
// field of the second step.
func LooksLikeRecoveryCode(code string) bool {
	return len(NormalizeCode(code)) == 12
}
