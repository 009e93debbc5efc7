package mfa

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters every authenticator app understands: 30-second
// steps, six digits, HMAC-SHA1 (Google Authenticator ignores any other
// algorithm and would show wrong codes).
const (
	Period = 30 * time.Second
	Digits = 6
	// Skew is how many steps before and after the current one a code may
	// be of: a phone's clock a little off, or a code typed as it changed.
	Skew = 1
)

// ErrWrongCode means a code matched no step of the window.
var ErrWrongCode = errors.New("mfa: wrong code")

// NewTOTPSecret makes a random 160-bit TOTP secret (base32, as apps
// take it).
func NewTOTPSecret() (string, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "sesame", AccountName: "x", SecretSize: 20})
	if err != nil {
		return "", fmt.Errorf("mfa: new TOTP secret: %w", err)
	}
	return k.Secret(), nil
}

// KeyURI is the otpauth:// URI of secret, the QR code's content: the app
// shows the account as "issuer (account)".
func KeyURI(issuer, account, secret string) string {
	v := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {strconv.Itoa(Digits)}, "period": {strconv.Itoa(int(Period / time.Second))}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// IssuerName is the name an authenticator app shows for the sesame at
// publicURL: its host.
func IssuerName(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "sesame"
}

// NormalizeCode removes the spaces and dashes people type or paste in a
// code ("123 456").
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// CheckTOTP finds the step, within Skew of now's, whose code is code, and
// returns it: the caller stores it so that no code of that step or an
// earlier one is accepted again. ErrWrongCode when none matches (or the
// code is not six digits).
func CheckTOTP(secret, code string, now time.Time) (int64, error) {
	code = NormalizeCode(code)
	if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
		return 0, ErrWrongCode
	}
	cur := Step(now)
	found := int64(-1)
	// Every step of the window is computed, matched or not, so the time
	// taken says nothing about which one matched.
	for s := cur - Skew; s <= cur+Skew; s++ {
		want, err := CodeAt(secret, s)
		if err != nil {
			return 0, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found < 0 {
			found = s
		}
	}
	if found < 0 {
		return 0, ErrWrongCode
	}
	return found, nil
}

// CodeAt is the code of step (for tests and for the apps' own check).
func CodeAt(secret string, step int64) (string, error) {
	code, err := totp.GenerateCodeCustom(secret, time.Unix(step*int64(Period/time.Second), 0),
		totp.ValidateOpts{Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", fmt.Errorf("mfa: TOTP code: %w", err)
	}
	return code, nil
}
