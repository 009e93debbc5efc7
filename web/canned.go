package web

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxCanned bounds the pages a CannedError keeps (one per language, path
// and format are expected: a handful).
const maxCanned = 32

// CannedError is one error answer that must stay cheap however often it is
// given: the refusal of a login when every password hash slot is taken,
// which a burst of thousands of requests receives at once. Its page is
// rendered once per language, path and format, then written as bytes; its
// log line is written at most once per LogEvery, with the number of
// answers given since the last one, instead of once per request.
//
// A request with a query string is answered by the ordinary renderer (its
// language links keep the query on a GET); so is one whose page would set
// a cookie.
type CannedError struct {
	rd       *Renderer
	err      *Error
	on       Onward
	LogEvery time.Duration // one log line at most this often; zero means a second

	mu    sync.Mutex
	pages map[cannedKey]cannedPage

	given   atomic.Int64 // answers since the last log line
	lastLog atomic.Int64 // unix nanoseconds of the last log line
}

type cannedKey struct {
	lang, path string
	json       bool
}

type cannedPage struct {
	header http.Header
	status int
	body   []byte
}

// Canned returns the canned answer for err (see CannedError).
func (rd *Renderer) Canned(err *Error, on Onward) *CannedError {
	return &CannedError{rd: rd, err: err, on: on, pages: map[cannedKey]cannedPage{}}
}

// Write answers r with the canned page.
func (c *CannedError) Write(w http.ResponseWriter, r *http.Request) {
	c.log(r)
	if r.URL.RawQuery != "" {
		c.rd.writeError(w, r, c.err, c.on)
		return
	}
	k := cannedKey{lang: Lang(r), path: r.URL.EscapedPath(), json: wantsJSON(r)}
	c.mu.Lock()
	p, ok := c.pages[k]
	c.mu.Unlock()
	if !ok {
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		c.rd.writeError(rec, r, c.err, c.on)
		p = cannedPage{header: rec.header, status: rec.status, body: rec.body.Bytes()}
		if _, cookie := p.header["Set-Cookie"]; !cookie {
			c.mu.Lock()
			if len(c.pages) < maxCanned {
				c.pages[k] = p
			}
			c.mu.Unlock()
		}
	}
	h := w.Header()
	for k, v := range p.header {
		h[k] = slices.Clone(v) // middleware may add to a header: never to the kept one
	}
	w.WriteHeader(p.status)
	_, _ = w.Write(p.body)
}

// log writes the error's line, as WriteErrorWith does, if none was
// written for LogEvery, with how many answers were given since the last.
func (c *CannedError) log(r *http.Request) {
	c.given.Add(1)
	every := c.LogEvery
	if every <= 0 {
		every = time.Second
	}
	now := time.Now().UnixNano()
	last := c.lastLog.Load()
	if now-last < int64(every) || !c.lastLog.CompareAndSwap(last, now) {
		return
	}
	c.rd.logError(r, c.err, "answers_since_last_line", c.given.Swap(0))
}

// recorder keeps what a handler writes, to be written again.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
