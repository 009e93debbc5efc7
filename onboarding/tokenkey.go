package onboarding

import (
	"crypto/hmac"
	"crypto/sha256"
)

// TokenKey derives the key of Tokens from the server's master key
// (config.LoadOrCreateKey): HMAC-SHA256(master, "sesame tokens"). Every
// process that issues or checks emailed links (the CLI import, the web
// server, the mail handlers) must derive it this way.
func TokenKey(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("sesame tokens"))
	return m.Sum(nil)
}
