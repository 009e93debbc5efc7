package apps

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Reason classifies a failure.
type Reason string

// The reasons of an *Error.
const (
	// ReasonUnavailable: no answer (refused, reset, timed out) or an answer
	// saying "later" (408, 429, 5xx, maintenance). Retryable.
	ReasonUnavailable Reason = "unavailable"
	// ReasonCredentials: the application refuses the credentials.
	ReasonCredentials Reason = "credentials"
	// ReasonPermission: the credentials are accepted but may not do this.
	ReasonPermission Reason = "permission"
	// ReasonInvalid: the application refuses the input (400), or the
	// account given to the connector is not valid.
	ReasonInvalid Reason = "invalid"
	// ReasonConflict: another account is in the way (a username or email
	// taken by an account sesame may not take).
	ReasonConflict Reason = "conflict"
	// ReasonNotFound: the address or object does not exist.
	ReasonNotFound Reason = "not-found"
	// ReasonConfig: the application or the service's settings must be
	// changed (an API switched off, pretty permalinks off, a redirect, a
	// missing app).
	ReasonConfig Reason = "config"
	// ReasonProtocol: an answer sesame does not understand.
	ReasonProtocol Reason = "protocol"
)

// Error is a failed call to an application.
type Error struct {
	Kind string // application kind, e.g. "wordpress"
	Op   string // what sesame was doing, e.g. "create user alice"
	// Status is the HTTP status of the answer; 0 when none came.
	Status int
	// Code is the application's error code when it gave one
	// ("existing_user_login", "rest_cannot_create_user", an OCS status
	// code such as "997").
	Code string
	// Message is the application's own message, as it gave it (bounded).
	Message string
	Reason  Reason
	// Retryable says whether the same call may succeed later unchanged.
	Retryable bool
	// RetryAfter is the application's Retry-After, when it sent one.
	RetryAfter time.Duration
	// MayHaveCreated is true when a create request was sent and no clear
	// answer came back: the account may exist now. The caller should then
	// record the account as sesame's (Account.Owned) before retrying.
	MayHaveCreated bool
	// Hint says in plain words what is wrong and what to do, when the
	// connector knows.
	Hint Message
	// Err is the transport error when no answer came.
	Err error
}

// Error describes the failure in English, with the application's words.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apps: %s", e.Kind)
	if e.Op != "" {
		fmt.Fprintf(&b, ": %s", e.Op)
	}
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
	case e.Err != nil:
		fmt.Fprintf(&b, ": no answer: %v", e.Err)
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint.EN != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint.EN)
	}
	return b.String()
}

// Unwrap returns the transport error.
func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying unchanged later: an
// *Error marked Retryable (no answer, 408, 429, 5xx). Any other error
// (including nil) is not.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// ReasonOf returns the Reason of an *Error in err's chain, "" if none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// maxMessage bounds the application's message kept in an Error.
const maxMessage = 500

// clip bounds an application's message and drops control characters, so a
// hostile or broken application cannot flood logs or the jobs list.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// classify fills Reason and Retryable from an HTTP status.
func classify(status int) (Reason, bool) {
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return ReasonUnavailable, true
	case status == http.StatusUnauthorized:
		return ReasonCredentials, false
	case status == http.StatusForbidden:
		return ReasonPermission, false
	case status == http.StatusNotFound || status == http.StatusGone:
		return ReasonNotFound, false
	case status == http.StatusConflict:
		return ReasonConflict, false
	case status >= 300 && status < 400:
		return ReasonConfig, false
	case status >= 400:
		return ReasonInvalid, false
	default:
		return ReasonProtocol, false
	}
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
