package idp

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/password"
	"sesame/internal/store"
)

// TestLoginOverload: 500 concurrent password logins with the real argon2id
// parameters against a hasher bounded to two hashes at once, with the
// hasher's defaults otherwise (its wait queue and wait bound). The excess
// is refused with 503 and Retry-After at once, instead of queueing; the
// heap stays far below 256 MiB.
func TestLoginOverload(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	hasher := password.NewHasher(password.DefaultParams(), 2)
	f := newFixture(t, func(c *Config) { c.Hasher = hasher })
	ctx := context.Background()
	hash, err := hasher.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	const n = 500
	browserID := randomID(32)
	ids := f.loginRequests(t, n, browserID)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var mu sync.Mutex
	counts := map[int]int{}
	var refusals []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			resp, err := f.postLogin(client, browserID, id)
			took := time.Since(sent)
			if err != nil {
				t.Error(err)
				return
			}
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			mu.Lock()
			counts[resp.StatusCode]++
			if resp.StatusCode == http.StatusServiceUnavailable {
				refusals = append(refusals, took)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	slices.Sort(refusals)
	var p50, p99 time.Duration
	if len(refusals) > 0 {
		p50, p99 = refusals[len(refusals)/2], refusals[len(refusals)*99/100]
	}
	t.Logf("500 concurrent logins in %v: %v; 503 p50 %v p99 %v; peak heap in use %d MiB; hasher %+v",
		elapsed, counts, p50, p99, peak.Load()>>20, hasher.Stats())
	// The 503s are the hasher's refusals (no slot free, the short queue
	// full or its wait over) and the forms refused before reading because
	// it was saturated or too many were in progress; nobody still waits.
	if st := hasher.Stats(); st.Refused > int64(counts[http.StatusServiceUnavailable]) || st.Waiting != 0 || len(f.p.logins) != 0 {
		t.Errorf("hasher %+v after %v", st, counts)
	}
	if counts[http.StatusSeeOther] == 0 || counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusSeeOther]+counts[http.StatusServiceUnavailable] != n {
		t.Errorf("statuses %v: want some logins and the excess refused with 503", counts)
	}
	if peak.Load() > 256<<20 {
		t.Errorf("peak heap %d MiB", peak.Load()>>20)
	}
}

// TestLoginRefusedBeforeReading: with MaxLoginsInProgress password forms
// in progress, or the hasher saturated, the login and sign-in forms are
// answered 503 with Retry-After before the form or the store is read; a
// slot freed lets the next one through.
func TestLoginRefusedBeforeReading(t *testing.T) {
	hasher := password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1}, 1)
	hasher.MaxQueue = -1
	f := newFixture(t, func(c *Config) { c.Hasher, c.MaxLoginsInProgress = hasher, 2 })
	ctx := context.Background()
	hash, err := hasher.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	browserID := randomID(32)
	ids := f.loginRequests(t, 3, browserID)
	client := noRedirectClient()
	post := func(path, id string) *http.Response {
		t.Helper()
		if path == "/login" {
			resp, err := f.postLogin(client, browserID, id)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		resp, err := client.PostForm(f.issuer+path, map[string][]string{"username": {"alice.martin"}, "password": {testPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Two forms in progress: the gate is full.
	f.p.logins <- struct{}{}
	f.p.logins <- struct{}{}
	for _, path := range []string{"/login", "/signin"} {
		if resp := post(path, ids[0]); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s with the gate full: %d, Retry-After %q", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	<-f.p.logins
	<-f.p.logins
	// The hasher saturated (its only slot taken by verifications one
	// after the other, no queue): logins are refused too.
	hold := make(chan struct{})
	started, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		close(started)
		for {
			select {
			case <-hold:
				return
			default:
				_ = hasher.Dummy(ctx)
			}
		}
	}()
	<-started
	refused := 0
	for range 50 {
		if resp := post("/login", ids[1]); resp.StatusCode == http.StatusServiceUnavailable {
			refused++
		}
	}
	close(hold)
	<-stopped
	if refused == 0 {
		t.Fatal("no login refused while the hasher was saturated")
	}
	// Nothing held: a login goes through, and the gate is empty again.
	if resp := post("/login", ids[2]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login once free: %d", resp.StatusCode)
	}
	if n := len(f.p.logins); n != 0 {
		t.Fatalf("%d gate tokens still held", n)
	}
}
