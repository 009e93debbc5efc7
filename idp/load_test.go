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
	// Every 503 is the hasher's refusal (no slot free, the short queue
	// full or its wait over), none a store failure.
	if st := hasher.Stats(); st.Refused != int64(counts[http.StatusServiceUnavailable]) || st.Waiting != 0 {
		t.Errorf("hasher %+v after %v", st, counts)
	}
	if counts[http.StatusSeeOther] == 0 || counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusSeeOther]+counts[http.StatusServiceUnavailable] != n {
		t.Errorf("statuses %v: want some logins and the excess refused with 503", counts)
	}
	if peak.Load() > 256<<20 {
		t.Errorf("peak heap %d MiB", peak.Load()>>20)
	}
}
