package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxFormBytes bounds every form sesame reads: the body of a POST (account
// pages, login form, authorization, token, userinfo and logout endpoints)
// and the query of a GET. The largest legitimate one, a token request
// carrying a refresh token, is a few kilobytes; without a bound, Go's
// ParseForm reads 10 MB.
const MaxFormBytes = 64 << 10

// Errors of ParseForm and ReadForm for forms over MaxFormBytes. Answer
// ErrFormTooLarge with 413 and ErrQueryTooLong with 414 (ErrorCode maps
// both to ETooLarge, FormStatus gives the status).
var (
	ErrFormTooLarge = errors.New("web: form body larger than 64 KiB")
	ErrQueryTooLong = errors.New("web: query string longer than 64 KiB")
)

// ParseForm parses r's query and, for a urlencoded POST, PUT or PATCH, its
// body, as r.ParseForm does but reading at most MaxFormBytes of either.
// Past the bound it parses nothing and returns an error wrapping
// ErrFormTooLarge (body) or ErrQueryTooLong (query): the handler must
// answer without acting on the request.
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	if len(r.URL.RawQuery) > MaxFormBytes {
		return fmt.Errorf("%w (%d bytes)", ErrQueryTooLong, len(r.URL.RawQuery))
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	}
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fmt.Errorf("%w: %w", ErrFormTooLarge, err)
		}
		return fmt.Errorf("web: parse form: %w", err)
	}
	return nil
}

// ReadForm returns r's body, at most MaxFormBytes of it, for handlers that
// parse the form themselves (the logout endpoint reads unencoded values).
// A longer body gives an error wrapping ErrFormTooLarge.
func ReadForm(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFormBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, fmt.Errorf("%w: %w", ErrFormTooLarge, err)
		}
		return nil, fmt.Errorf("web: read form: %w", err)
	}
	return b, nil
}

// FormStatus is the HTTP status that answers an error of ParseForm or
// ReadForm: 413 for a body over MaxFormBytes, 414 for a query over it, 400
// for anything else (a malformed form).
func FormStatus(err error) int {
	switch {
	case errors.Is(err, ErrFormTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrQueryTooLong):
		return http.StatusRequestURITooLong
	}
	return http.StatusBadRequest
}

// formError is the application error of a form ParseForm refused:
// ETooLarge past MaxFormBytes, else EInvalid.
func formError(err error) *Error {
	if code := ErrorCode(err); code == ETooLarge {
		return &Error{Code: code, Err: err}
	}
	return &Error{Code: EInvalid, Err: err}
}
