package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/password"
	"sesame/internal/store"
)

// seedCodes stores n ready codes for the generic client and returns them.
func (f *fixture) seedCodes(tb testing.TB, n int) []string {
	ctx := context.Background()
	o := f.p.st
	codes := make([]string, n)
	for i := range codes {
		ar := store.AuthRequest{ID: randomID(32), ClientID: f.gen.ClientID, RedirectURI: genRedirect, Scopes: []string{"openid", "email", "profile"},
			ResponseType: "code", MaxAge: -1, PersonID: f.alice.ID, AuthTime: f.clock.Now(), SID: "bench", Done: true,
			ExpiresAt: f.clock.Now().Add(f.p.cfg.AuthRequestTTL)}
		if err := o.CreateAuthRequest(ctx, &ar); err != nil {
			tb.Fatal(err)
		}
		codes[i] = randomID(32)
		if err := o.CreateAuthCode(ctx, store.AuthCode{Hash: sha(codes[i]), AuthRequestID: ar.ID, ClientID: f.gen.ClientID,
			ExpiresAt: f.clock.Now().Add(f.p.cfg.CodeTTL)}); err != nil {
			tb.Fatal(err)
		}
	}
	return codes
}

// BenchmarkTokenEndpoint measures code exchanges over HTTP (client
// authentication, atomic consumption, family, refresh token, RS256 signing
// of the access and ID tokens).
func BenchmarkTokenEndpoint(b *testing.B) {
	f := newFixture(b)
	codes := f.seedCodes(b, b.N)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	var i int64
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			<-mu
			code := codes[i]
			i++
			mu <- struct{}{}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {genRedirect}}
			req, _ := http.NewRequest(http.MethodPost, f.issuer+"/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(f.gen.ClientID, secretGen)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// realPasswordFixture is a fixture whose hasher has sesame's real argon2id
// parameters (m=19 MiB, t=2, p=1) and slot count (one per CPU), with
// alice's password hashed by them.
func realPasswordFixture(b *testing.B) *fixture {
	// Throughput, not admission, is measured: a queued login waits for its
	// slot however loaded the machine (the defaults refuse after a second).
	h := password.NewHasher(password.DefaultParams(), 0)
	h.MaxWait = time.Minute
	f := newFixture(b, func(c *Config) { c.Hasher = h })
	ctx := context.Background()
	hash, err := f.p.cfg.Hasher.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.PasswordHash = hash; return nil }); err != nil {
		b.Fatal(err)
	}
	return f
}

// loginRequests stores n pending authorization requests of one browser, so
// that each can be answered by one password login.
func (f *fixture) loginRequests(b testing.TB, n int, browserID string) []string {
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ar := store.AuthRequest{ID: randomID(32), ClientID: f.gen.ClientID, RedirectURI: genRedirect, Scopes: []string{"openid"},
			ResponseType: "code", MaxAge: -1, BrowserHash: sha(browserID), ExpiresAt: f.clock.Now().Add(f.p.cfg.AuthRequestTTL)}
		if err := f.p.st.CreateAuthRequest(ctx, &ar); err != nil {
			b.Fatal(err)
		}
		ids[i] = ar.ID
	}
	return ids
}

// postLogin posts alice's login form for request id; the response's body
// is read and closed.
func (f *fixture) postLogin(client *http.Client, browserID, id string) (*http.Response, error) {
	form := url.Values{"req": {id}, "username": {"alice.martin"}, "password": {testPassword}}
	req, _ := http.NewRequest(http.MethodPost, f.issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: browserCookie, Value: browserID})
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

func noRedirectClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// BenchmarkLogin measures password logins over HTTP with sesame's real
// argon2id parameters: form post, lookup, verify, new SSO session, access
// check, code. Compare with BenchmarkArgon2idVerify. Twice as many clients
// as hash slots keep the slots busy while others wait on the store, as a
// server's many visitors do.
func BenchmarkLogin(b *testing.B) {
	f := realPasswordFixture(b)
	browserID := randomID(32)
	ids := f.loginRequests(b, b.N, browserID)
	client := noRedirectClient()
	var next atomic.Int64
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := f.postLogin(client, browserID, ids[next.Add(1)-1])
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != http.StatusSeeOther {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkLoginVsArgon2id interleaves, in one process, rounds of raw
// argon2id verifications (GOMAXPROCS at a time, as many as the hash slots)
// and rounds of password logins over HTTP (twice as many clients), 20 of
// each per round, so that the drift of a shared machine falls on both
// alike; it reports both rates and their ratio. b.N is the number of
// logins (and of raw verifications).
func BenchmarkLoginVsArgon2id(b *testing.B) {
	f := realPasswordFixture(b)
	ctx := context.Background()
	hash, err := f.p.cfg.Hasher.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	browserID := randomID(32)
	ids := f.loginRequests(b, b.N, browserID)
	client := noRedirectClient()
	raw, login := versusRaw(b, f.p.cfg.Hasher, hash, func(i int) {
		if resp, err := f.postLogin(client, browserID, ids[i]); err != nil || resp.StatusCode != http.StatusSeeOther {
			b.Error(resp, err)
		}
	})
	b.ReportMetric(float64(b.N)/raw.Seconds(), "hashes/s")
	b.ReportMetric(float64(b.N)/login.Seconds(), "logins/s")
	b.ReportMetric(raw.Seconds()/login.Seconds(), "login/raw")
}

// metadataClientEnv, when set ("ISSUER N FILE"), makes the test binary a
// client process: N alternating JWKS and discovery requests, one every
// 2 ms, their latencies written to FILE as JSON (see TestMain).
const metadataClientEnv = "SESAME_BENCH_METADATA_CLIENT"

func TestMain(m *testing.M) {
	if v := os.Getenv(metadataClientEnv); v != "" {
		if err := metadataClient(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func metadataClient(arg string) error {
	var issuer, file string
	var n int
	if _, err := fmt.Sscan(arg, &issuer, &n, &file); err != nil {
		return fmt.Errorf("%s=%q: %w", metadataClientEnv, arg, err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	paths := []string{issuer + "/jwks", issuer + "/.well-known/openid-configuration"}
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		resp, err := client.Get(paths[i%2])
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", paths[i%2], resp.StatusCode)
		}
		lat[i] = time.Since(start)
		time.Sleep(2 * time.Millisecond) // a visitor's pace: the phase spans many logins
	}
	b, err := json.Marshal(lat)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

// BenchmarkMetadataUnderLogins measures the latency of JWKS and discovery
// requests sent by another process (alternating, one every 2 ms) to an
// idle provider, then while password logins keep every core busy, in the
// same run; both documents are served from bytes prepared in memory.
// -benchtime 500x gives 500 requests per phase (over a second each).
func BenchmarkMetadataUnderLogins(b *testing.B) {
	f := realPasswordFixture(b)
	phase := func() []time.Duration {
		file := filepath.Join(b.TempDir(), "latencies.json")
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %s", metadataClientEnv, f.issuer, b.N, file))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("client process: %v\n%s", err, out)
		}
		var lat []time.Duration
		raw, err := os.ReadFile(file)
		if err == nil {
			err = json.Unmarshal(raw, &lat)
		}
		if err != nil || len(lat) != b.N {
			b.Fatalf("client process: %d latencies, %v", len(lat), err)
		}
		slices.Sort(lat)
		return lat
	}
	pct := func(lat []time.Duration, q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds())
	}
	b.ResetTimer()
	idle := phase()

	// Logins from 2 x GOMAXPROCS clients, until the loaded phase ends.
	browserID := randomID(32)
	b.StopTimer()
	ids := f.loginRequests(b, 4000, browserID)
	b.StartTimer()
	loginClient := noRedirectClient()
	var next, logins atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				resp, err := f.postLogin(loginClient, browserID, ids[i])
				if err != nil || resp.StatusCode != http.StatusSeeOther {
					b.Errorf("login: %v %v", resp, err)
					return
				}
				logins.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // every hash slot busy
	start, before := time.Now(), logins.Load()
	loaded := phase()
	rate := float64(logins.Load()-before) / time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if rate == 0 {
		b.Fatal("no login completed during the loaded phase")
	}
	b.ReportMetric(pct(idle, 0.5), "idle-p50-µs")
	b.ReportMetric(pct(idle, 0.99), "idle-p99-µs")
	b.ReportMetric(pct(loaded, 0.5), "loaded-p50-µs")
	b.ReportMetric(pct(loaded, 0.99), "loaded-p99-µs")
	b.ReportMetric(rate, "logins/s")
}

// BenchmarkArgon2idVerify is the raw hash rate on the same machine, with
// the same parallelism as BenchmarkLogin.
func BenchmarkArgon2idVerify(b *testing.B) {
	h := password.NewHasher(password.DefaultParams(), 0)
	ctx := context.Background()
	hash, err := h.Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(ctx, hash, testPassword); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkJWKS and BenchmarkDiscovery are served from memory.
func BenchmarkDiscovery(b *testing.B) {
	f := newFixture(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(f.issuer + "/.well-known/openid-configuration")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkLoginPage measures showing the login form: an authorization
// request stored, the service and its structure read, the page rendered in
// the shared layout.
// With passkeys on (an issuer named localhost) the page also carries a
// passkey prompt: a challenge made and sealed per view.
func BenchmarkLoginPage(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []func(*Config)
	}{{"passkeys-off", nil}, {"passkeys-on", []func(*Config){onLocalhost}}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, c.opts...)
			client := noRedirectClient()
			u := f.authURL(authParams(f.gen.ClientID, genRedirect))
			for b.Loop() {
				resp, err := client.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
