package idp

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/password"
)

// interleave runs n calls of one on workers goroutines and returns how
// long they took together.
func interleave(n, workers int, one func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				one(i)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// versusRaw interleaves rounds of 20 raw argon2id verifications of hash
// by h (GOMAXPROCS at a time, as many as the hash slots) with rounds of 20
// calls of one (twice as many at a time), b.N of each, so that the drift
// of a shared machine falls on both alike; one gets the call's number
// (0 to b.N-1). It returns the time each side took in all.
func versusRaw(b *testing.B, h *password.Hasher, hash string, one func(i int)) (raw, other time.Duration) {
	ctx := context.Background()
	const round = 20
	procs := runtime.GOMAXPROCS(0)
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		raw += interleave(n, procs, func(int) {
			if ok, err := h.Verify(ctx, hash, testPassword); !ok || err != nil {
				b.Error(ok, err)
			}
		})
		other += interleave(n, 2*procs, func(i int) { one(done + i) })
	}
	return raw, other
}

// wholeFlow runs one login of a fresh browser through the whole
// authorization code flow, as a relying party and its visitor do:
// /authorize with PKCE (the login form), the form posted, the code read
// from the redirect and exchanged at /token with the verifier.
func (f *fixture) wholeFlow(transport http.RoundTripper) error {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := randomID(32)
	h := sha256.Sum256([]byte(verifier))
	state := randomID(8)
	v := url.Values{"client_id": {f.gen.ClientID}, "redirect_uri": {genRedirect}, "response_type": {"code"},
		"scope": {"openid email profile offline_access"}, "state": {state}, "nonce": {randomID(8)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(h[:])}, "code_challenge_method": {"S256"}}
	resp, err := client.Get(f.issuer + "/authorize?" + v.Encode())
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := reqField.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("authorize: status %d, no login form", resp.StatusCode)
	}
	req := html.UnescapeString(string(m[1]))
	form := url.Values{"req": {req}, "username": {"alice.martin"}, "password": {testPassword}}
	resp, err = client.PostForm(f.issuer+"/login", form)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		msg := string(body)
		if i := strings.Index(msg, "<main"); i >= 0 {
			msg = msg[i:min(len(msg), i+600)]
		}
		return fmt.Errorf("login: status %d: %s", resp.StatusCode, msg)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != state {
		return fmt.Errorf("login: redirect %s", loc)
	}
	tr, _ := http.NewRequest(http.MethodPost, f.issuer+"/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {genRedirect}, "code_verifier": {verifier}}.Encode()))
	tr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tr.SetBasicAuth(f.gen.ClientID, secretGen)
	resp, err = (&http.Client{Transport: transport}).Do(tr)
	if err != nil {
		return err
	}
	var tok map[string]any
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || tok["id_token"] == nil || tok["refresh_token"] == nil {
		return fmt.Errorf("token: status %d %v", resp.StatusCode, err)
	}
	return nil
}

// BenchmarkFlowVsArgon2id interleaves, in one process, rounds of raw
// argon2id verifications (GOMAXPROCS at a time, as many as the hash slots)
// and rounds of whole logins (wholeFlow: authorize with PKCE, login form,
// code, token; twice as many browsers as hash slots), 20 of each per
// round, so that the drift of a shared machine falls on both alike. It
// reports both rates and their ratio; b.N is the number of logins (and of
// raw verifications).
func BenchmarkFlowVsArgon2id(b *testing.B) {
	f := realPasswordFixture(b)
	ctx := context.Background()
	hash, err := f.p.cfg.Hasher.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	raw, flow := versusRaw(b, f.p.cfg.Hasher, hash, func(int) {
		if err := f.wholeFlow(transport); err != nil {
			b.Error(err)
		}
	})
	b.ReportMetric(float64(b.N)/raw.Seconds(), "hashes/s")
	b.ReportMetric(float64(b.N)/flow.Seconds(), "logins/s")
	b.ReportMetric(raw.Seconds()/flow.Seconds(), "flow/raw")
}

// BenchmarkFlowOverhead measures what a whole login costs beside its
// password hash: rounds of whole logins (wholeFlow, 2 × GOMAXPROCS
// browsers) against a provider whose hasher is nearly free (1 MiB, one
// pass), interleaved with rounds of raw argon2id verifications at
// sesame's parameters (GOMAXPROCS at a time), 20 of each per round. It
// reports the time per login and per hash (wall time of a round over its
// count: the machine's throughput) and their ratio, overhead/hash: the
// whole flow reaches 1 / (1 + overhead/hash) of the raw hash rate, so the
// issue's aim of 0.9 needs it at or under 0.11.
func BenchmarkFlowOverhead(b *testing.B) {
	f := newFixture(b)
	h := password.NewHasher(password.DefaultParams(), 0)
	ctx := context.Background()
	hash, err := h.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	raw, flow := versusRaw(b, h, hash, func(int) {
		if err := f.wholeFlow(transport); err != nil {
			b.Error(err)
		}
	})
	b.ReportMetric(flow.Seconds()*1000/float64(b.N), "ms/login")
	b.ReportMetric(raw.Seconds()*1000/float64(b.N), "ms/hash")
	b.ReportMetric(flow.Seconds()/raw.Seconds(), "overhead/hash")
}

// BenchmarkRefreshVsCommit interleaves rounds of refresh grants over HTTP
// (client authentication, the token used, its family read, person and
// grant checked, the next token stored, access and ID tokens signed) with
// rounds of the store's raw single-row commit (one INSERT in a transaction
// of its own through the same database handle, queued on a mutex as the
// store queues SQLite's writers), 2 × GOMAXPROCS at a time each, 50 of
// each per round. It reports both rates and their ratio.
func BenchmarkRefreshVsCommit(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	h, ok := f.st.(interface{ SQL() *sql.DB })
	if !ok {
		b.Skip("store without an SQL handle")
	}
	db := h.SQL()
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench_commit (id TEXT PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	var writer sync.Mutex
	commit := func() error {
		writer.Lock()
		defer writer.Unlock()
		_, err := db.ExecContext(ctx, "INSERT INTO bench_commit (id, v) VALUES (?, ?)", randomID(16), "x")
		return err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: transport}
	post := func(form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest(http.MethodPost, f.issuer+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(f.gen.ClientID, secretGen)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var tok map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("token: status %d %v", resp.StatusCode, err)
		}
		return tok, nil
	}
	workers := 2 * runtime.GOMAXPROCS(0)
	// One refresh token chain per worker.
	chains := make([]string, workers)
	for i, code := range f.seedCodes(b, workers) {
		tok, err := post(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}})
		if err != nil {
			b.Fatal(err)
		}
		chains[i], _ = tok["refresh_token"].(string)
	}
	run := func(n int, one func(w int)) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					one(w)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	const round = 50
	var raw, refresh time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		raw += run(n, func(int) {
			if err := commit(); err != nil {
				b.Error(err)
			}
		})
		refresh += run(n, func(w int) {
			tok, err := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {chains[w]}})
			if err != nil {
				b.Error(err)
				return
			}
			chains[w], _ = tok["refresh_token"].(string)
		})
	}
	b.ReportMetric(float64(b.N)/raw.Seconds(), "commits/s")
	b.ReportMetric(float64(b.N)/refresh.Seconds(), "refreshes/s")
	b.ReportMetric(raw.Seconds()/refresh.Seconds(), "refresh/commit")
}
