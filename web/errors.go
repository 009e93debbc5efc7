package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/password"
	"sesame/internal/store"
)

// Application error codes. Each maps to one HTTP status in HTTPStatus and to
// a title and a sentence of the catalogue (errorTexts).
const (
	EInvalid     = "invalid"      // 400: the request is malformed
	EForbidden   = "forbidden"    // 403: refused (cross-origin form post, ...)
	ENotFound    = "not_found"    // 404
	EConflict    = "conflict"     // 409
	ETooLarge    = "too_large"    // 413: a form over MaxFormBytes
	EURITooLong  = "uri_too_long" // 414: a query over MaxFormBytes
	ETooMany     = "too_many"     // 429: a rate limit was hit
	EUnavailable = "unavailable"  // 503: overloaded (no hashing slot, ...)
	EInternal    = "internal"     // 500: anything else; details only in the log
)

// errorTexts are the title and the sentence of each code's page.
var errorTexts = map[string]struct{ title, message i18n.Key }{
	EInvalid:     {i18n.ErrorTitle, i18n.ErrorInvalid},
	EForbidden:   {i18n.ErrorTitle, i18n.ErrorForbidden},
	ENotFound:    {i18n.ErrorNotFoundTitle, i18n.ErrorNotFound},
	EConflict:    {i18n.ErrorTitle, i18n.ErrorConflict},
	ETooLarge:    {i18n.ErrorTooLargeTitle, i18n.ErrorTooLarge},
	EURITooLong:  {i18n.ErrorTooLargeTitle, i18n.ErrorURITooLong},
	ETooMany:     {i18n.ErrorTooManyTitle, i18n.ErrorTooMany},
	EUnavailable: {i18n.ErrorTitle, i18n.ErrorUnavailable},
	EInternal:    {i18n.ErrorTitle, i18n.ErrorInternal},
}

// Error is an application error: a code that decides the status and the
// message shown, and the underlying error, which is logged and never shown.
type Error struct {
	Code string
	Err  error
	// RetryAfter, for ETooMany and EUnavailable, says when to try again.
	RetryAfter time.Duration
	// Title and Message, when set, replace the code's title and sentence
	// on the page (and the sentence in JSON): the provider says which
	// request failed and why. They never carry the logged details.
	Title   i18n.Key
	Message i18n.Message
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "web: " + e.Code
	}
	return "web: " + e.Code + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted (logged-only) detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// ErrorCode returns the application code of err: the code of an *Error in
// its chain, else the code matching a store or password sentinel, else
// EInternal.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, store.ErrNotFound):
		return ENotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrTokenUsed):
		return EConflict
	case errors.Is(err, store.ErrInvalid):
		return EInvalid
	case errors.Is(err, password.ErrBusy):
		return EUnavailable
	case errors.Is(err, ErrFormTooLarge):
		return ETooLarge
	case errors.Is(err, ErrQueryTooLong):
		return EURITooLong
	}
	return EInternal
}

// HTTPStatus maps an application error code to its HTTP status.
func HTTPStatus(code string) int {
	switch code {
	case EInvalid:
		return http.StatusBadRequest
	case EForbidden:
		return http.StatusForbidden
	case ENotFound:
		return http.StatusNotFound
	case EConflict:
		return http.StatusConflict
	case ETooLarge:
		return http.StatusRequestEntityTooLarge
	case EURITooLong:
		return http.StatusRequestURITooLong
	case ETooMany:
		return http.StatusTooManyRequests
	case EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// wantsJSON reports whether the client prefers JSON to HTML.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return true
		case "text/html", "application/xhtml+xml":
			return false
		}
	}
	return false
}

// WriteError is the one function that turns an error into an HTTP response:
// the status comes from the error's code, the details are logged (at error
// level for 5xx, debug otherwise) and never shown, and the body is the
// error page or, when the client prefers it, {"error":{"code","message"}}.
func (rd *Renderer) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	rd.WriteErrorWith(w, r, err, Onward{})
}

// WriteErrorWith is WriteError for a page that knows where the person came
// from: the error page then offers on's ways onward (back to the service,
// another account, the structure's contact) before sesame's own, and shows
// the structure's name in the header bar.
func (rd *Renderer) WriteErrorWith(w http.ResponseWriter, r *http.Request, err error, on Onward) {
	rd.logError(r, err)
	rd.writeError(w, r, err, on)
}

// logError logs err, answered to r: a failure (5xx) as an error, a refusal
// at debug level; extra are more attributes.
func (rd *Renderer) logError(r *http.Request, err error, extra ...any) {
	code := ErrorCode(err)
	attrs := append([]any{"code", code, "method", r.Method, "path", RedactPath(r.URL.Path), "err", err}, extra...)
	if HTTPStatus(code) >= 500 && !errors.Is(err, context.Canceled) {
		rd.logger().ErrorContext(r.Context(), "request failed", attrs...)
	} else {
		rd.logger().DebugContext(r.Context(), "request refused", attrs...)
	}
}

// writeError is WriteErrorWith without the log line.
func (rd *Renderer) writeError(w http.ResponseWriter, r *http.Request, err error, on Onward) {
	code := ErrorCode(err)
	status := HTTPStatus(code)
	var retry time.Duration
	texts := errorTexts[code]
	title, msg := texts.title, i18n.M(texts.message)
	if e, ok := errors.AsType[*Error](err); ok {
		retry = e.RetryAfter
		if !e.Title.IsZero() {
			title = e.Title
		}
		if !e.Message.IsZero() {
			msg = e.Message
		}
	}
	if code == ETooMany && msg.Key == i18n.ErrorTooMany {
		msg = i18n.M(i18n.ErrorTooMany, i18n.Minutes(int(math.Ceil(retry.Minutes()))))
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg.In(Lang(r))}})
		return
	}
	rd.Render(w, r, status, "error", &Page{Title: title, Structure: on.Structure,
		Data: errorView{Code: code, Message: msg, Onward: on}})
}

// errorView is the data of error.html.
type errorView struct {
	Code    string
	Message i18n.Message
	Onward  Onward
}
