package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"sesame/internal/netguard"
)

// defaultTimeout bounds one HTTP request when Config.Timeout is zero.
const defaultTimeout = 30 * time.Second

// maxBody bounds an answer's body: no user, member or list sesame asks for
// comes near it.
const maxBody = 8 << 20

// client is the HTTP plumbing every connector shares: one http.Client (one
// pool of keep-alive connections) per connector, Basic authentication,
// a timeout per request, and errors as *Error.
type client struct {
	kind    string
	base    *url.URL
	creds   Credentials
	http    *http.Client
	timeout time.Duration
	header  http.Header // sent with every request
	now     func() time.Time
}

func newClient(kind string, cfg Config, base *url.URL, header http.Header) *client {
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          16,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	// Never follow a redirect: Go would turn a POST into a GET (creating
	// nothing, yet answering 200) and could carry the credentials elsewhere.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	h := http.Header{"Accept": {"application/json"}, "User-Agent": {"sesame"}}
	for k, v := range header {
		h[k] = v
	}
	return &client{kind: kind, base: base, creds: cfg.Credentials, http: &hc, timeout: timeout, header: h, now: time.Now}
}

// response is an answer, its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// isJSON reports whether the answer says it is JSON and its body looks so.
func (r *response) isJSON() bool {
	ct := strings.ToLower(r.header.Get("Content-Type"))
	b := bytes.TrimSpace(r.body)
	return strings.Contains(ct, "json") && len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// url returns the base URL with ref (an absolute path and query) appended.
func (c *client) url(ref string) string {
	return strings.TrimRight(c.base.String(), "/") + ref
}

// call sends one request to the base URL followed by ref. A body is sent
// with contentType. Any answer but a redirect is returned, whatever its
// status; no answer is an *Error (ReasonUnavailable, retryable).
func (c *client) call(ctx context.Context, op, method, ref, contentType string, body []byte) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(ref), rd)
	if err != nil {
		return nil, &Error{Kind: c.kind, Op: op, Reason: ReasonInvalid, Message: clip(err.Error())}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.SetBasicAuth(c.creds.Username, c.creds.Password)
	resp, err := c.http.Do(req)
	if errors.Is(err, netguard.ErrInternal) {
		// A referent's address that resolves to an internal network now
		// (a guarded client, see netguard): final until a hoster confirms it.
		return nil, &Error{Kind: c.kind, Op: op, Reason: ReasonConfig, Message: netguard.ErrInternal.Error(),
			Hint: Message{
				FR: fmt.Sprintf("l'adresse %s, donnée par un référent, mène à un réseau interne : un administrateur de l'hébergeur doit la confirmer (l'enregistrer de nouveau)", c.base.Redacted()),
				EN: fmt.Sprintf("the address %s, given by a referent, leads to an internal network: a hoster admin must confirm it (save it again)", c.base.Redacted()),
			}}
	}
	if err != nil {
		return nil, &Error{Kind: c.kind, Op: op, Reason: ReasonUnavailable, Retryable: true, Err: err,
			Hint: Message{
				FR: fmt.Sprintf("l'application ne répond pas à %s", c.base.Redacted()),
				EN: fmt.Sprintf("the application does not answer at %s", c.base.Redacted()),
			}}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &Error{Kind: c.kind, Op: op, Status: resp.StatusCode, Reason: ReasonUnavailable, Retryable: true, Err: err}
	}
	if len(b) > maxBody {
		return nil, &Error{Kind: c.kind, Op: op, Status: resp.StatusCode, Reason: ReasonProtocol,
			Message: fmt.Sprintf("answer larger than %d bytes", maxBody)}
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: b}
	if r.status >= 300 && r.status < 400 {
		loc := resp.Header.Get("Location")
		return nil, &Error{Kind: c.kind, Op: op, Status: r.status, Reason: ReasonConfig, Message: clip("redirect to " + loc),
			Hint: Message{
				FR: fmt.Sprintf("l'application redirige %s vers %s : donnez au service l'adresse exacte de l'application (https, www, sous-dossier)", c.url(ref), loc),
				EN: fmt.Sprintf("the application redirects %s to %s: give the service the application's exact address (https, www, subfolder)", c.url(ref), loc),
			}}
	}
	return r, nil
}

// callJSON sends v as a JSON body.
func (c *client) callJSON(ctx context.Context, op, method, ref string, v any) (*response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("apps: %s: %s: %w", c.kind, op, err)
	}
	return c.call(ctx, op, method, ref, "application/json", b)
}

// callForm sends form as an application/x-www-form-urlencoded body.
func (c *client) callForm(ctx context.Context, op, method, ref string, form url.Values) (*response, error) {
	return c.call(ctx, op, method, ref, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// statusError is the *Error for an answer the connector did not expect,
// keeping the application's code and message.
func (c *client) statusError(op string, r *response, code, message string) *Error {
	reason, retry := classify(r.status)
	if r.status >= 200 && r.status < 300 {
		reason, retry = ReasonProtocol, false
	}
	if message == "" && !r.isJSON() {
		message = snippet(r.body)
	}
	return &Error{Kind: c.kind, Op: op, Status: r.status, Code: clip(code), Message: clip(message),
		Reason: reason, Retryable: retry, RetryAfter: retryAfter(r.header, c.now())}
}

// protocolError is the *Error for an answer whose shape is wrong.
func (c *client) protocolError(op string, r *response, what string) *Error {
	return &Error{Kind: c.kind, Op: op, Status: r.status, Reason: ReasonProtocol,
		Message: clip(fmt.Sprintf("%s; the answer began with %q", what, snippet(r.body)))}
}

// snippet is the start of a body, for messages.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120]
	}
	return clip(s)
}

// maySent reports whether a request that failed with err may have reached
// the application: false only when the connection was never made.
func maySent(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests {
		// A proxy's 502/504 or the application's own 5xx: it may have
		// written before failing. A 429 has not, but costs nothing to
		// count as "maybe".
		return true
	}
	if e.Status != 0 || e.Err == nil {
		return false
	}
	if errors.Is(e.Err, syscall.ECONNREFUSED) {
		return false
	}
	var op *net.OpError
	if errors.As(e.Err, &op) && op.Op == "dial" {
		return false
	}
	return true
}
