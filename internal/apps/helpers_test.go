package apps_test

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"sesame/internal/apps"
)

// setOnly limits the modes to the requests match accepts.
func (p *proxy) setOnly(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.only = match
}

// proxyMode is how the proxy in front of an application behaves.
type proxyMode int

const (
	modePass       proxyMode = iota // forward
	modeBadGateway                  // answer 502 without forwarding (the application is down behind it)
	modeStall                       // answer nothing until the client gives up (a timeout)
	modeLose                        // forward, then answer 502: the request was done, the answer lost
	modeDown                        // no listener: connections are refused
)

// proxy stands between a connector and an application (real or fake) and
// makes the application look down in the ways that happen in production.
type proxy struct {
	t      *testing.T
	addr   string
	target *url.URL
	rp     *httputil.ReverseProxy

	mu   sync.Mutex
	mode proxyMode
	only func(*http.Request) bool // when set, the mode applies to these requests only
	srv  *http.Server
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: u, rp: httputil.NewSingleHostReverseProxy(u)}
	d := p.rp.Director
	p.rp.Director = func(r *http.Request) { d(r); r.Host = u.Host }
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.srv != nil {
			p.srv.Close()
		}
	})
	return p
}

// URL is the proxy's address, to give connectors as the base URL.
func (p *proxy) URL() string { return "http://" + p.addr }

func (p *proxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle)}
	p.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

// set changes the mode; modeDown closes the listener and every connection,
// leaving it closes down mode by listening again on the same address.
func (p *proxy) set(m proxyMode) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if m == modeDown && p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
	if m != modeDown && p.srv == nil {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
		}
		p.serve(ln)
	}
	p.mode = m
}

func (p *proxy) handle(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	m := p.mode
	if p.only != nil && !p.only(r) {
		m = modePass
	}
	p.mu.Unlock()
	switch m {
	case modeBadGateway:
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
	case modeStall:
		<-r.Context().Done()
	case modeLose:
		rec := &discard{header: http.Header{}}
		p.rp.ServeHTTP(rec, r)
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// discard is a ResponseWriter that drops the answer.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// recorded is one request a connector sent.
type recorded struct {
	Method string
	Path   string // path and query, as sent
	Header http.Header
	Body   string
}

// recorder is an http.RoundTripper that records every request and counts
// them per method, then sends them on.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	next http.RoundTripper
}

func newRecorder() *recorder { return &recorder{next: http.DefaultTransport.(*http.Transport).Clone()} }

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
	rc.mu.Unlock()
	return rc.next.RoundTrip(r)
}

// client is an http.Client sending through the recorder.
func (rc *recorder) client() *http.Client { return &http.Client{Transport: rc} }

// take returns the requests recorded since the last take.
func (rc *recorder) take() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.reqs
	rc.reqs = nil
	return out
}

// count returns how many requests of each method were recorded since the
// last take, without taking them.
func (rc *recorder) count() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := map[string]int{}
	for _, r := range rc.reqs {
		n[r.Method]++
	}
	return n
}

// writes counts the requests that are not GET.
func writes(reqs []recorded) int {
	n := 0
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// lines renders requests as "METHOD path" lines, for failure messages.
func lines(reqs []recorded) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Method + " " + r.Path + "\n")
	}
	return b.String()
}

// appErr returns err as an *apps.Error, failing the test otherwise.
func appErr(t *testing.T, err error) *apps.Error {
	t.Helper()
	var e *apps.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *apps.Error", err, err)
	}
	return e
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
