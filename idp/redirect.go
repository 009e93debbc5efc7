package idp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadRedirectURI means a redirect URI cannot be registered.
var ErrBadRedirectURI = errors.New("idp: unacceptable redirect URI")

// ValidateRedirectURI checks a redirect or post-logout URI for registration:
// absolute https (or http on a loopback host), no user info, no fragment, no
// encoded or dotted path tricks. Registered URIs are then matched byte for
// byte, so what is accepted here is exactly what may receive codes.
func ValidateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrBadRedirectURI, raw, err)
	}
	host := u.Hostname()
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%w: %q: the scheme must be https", ErrBadRedirectURI, raw)
	case u.Scheme == "http" && host != "localhost" && host != "127.0.0.1" && host != "::1":
		return fmt.Errorf("%w: %q: plain http only on a loopback host", ErrBadRedirectURI, raw)
	case u.Opaque != "" || host == "":
		return fmt.Errorf("%w: %q: no host", ErrBadRedirectURI, raw)
	case u.User != nil || strings.Contains(u.Host, "@"):
		return fmt.Errorf("%w: %q: user info is not allowed", ErrBadRedirectURI, raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%w: %q: a fragment is not allowed", ErrBadRedirectURI, raw)
	case strings.Contains(raw, "\\") || strings.ContainsAny(raw, " \t\r\n\"<>"):
		return fmt.Errorf("%w: %q: forbidden characters", ErrBadRedirectURI, raw)
	}
	p := u.EscapedPath()
	lp := strings.ToLower(p)
	if strings.Contains(lp, "%2e") || strings.Contains(lp, "%2f") || strings.Contains(lp, "%5c") || strings.Contains(lp, "%25") {
		return fmt.Errorf("%w: %q: encoded dots, slashes or percents in the path", ErrBadRedirectURI, raw)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q: dot segments in the path", ErrBadRedirectURI, raw)
		}
	}
	return nil
}
