package provision

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// A service whose address a referent gave, and that now resolves to this
// machine (DNS rebinding, here 127.0.0.1 itself), gets no provisioning
// request: the jobs fail for good with the reason, and the application's
// server receives nothing. The hoster's service at the same address is
// provisioned.
func TestProvisioningRefusesAReferentsInternalAddress(t *testing.T) {
	for _, referent := range []bool{true, false} {
		ctx := context.Background()
		st := openStore(t)
		nc := &fakeNC{enabled: map[string]bool{"alice": true}}
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); nc.ServeHTTP(w, r) }))
		t.Cleanup(srv.Close)
		svc := goneService(t, st, store.Service{Kind: store.KindNextcloud, Slug: "cloud", BaseURL: srv.URL, DefaultRole: "user",
			ReferentAddress: referent}, map[string]string{"provider_id": "1"})
		deletedBeforeItsJobs(t, st, svc, store.Person{Username: "alice", Email: "alice@le-beta.org"}, "user", "alice")
		p, err := New(st, master, Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		js, err := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindProvisionAccount, State: store.JobPending})
		if err != nil || len(js) == 0 {
			t.Fatalf("jobs %d: %v", len(js), err)
		}
		refused := 0
		for _, j := range js {
			err := p.HandleAccount(ctx, j)
			switch {
			case err == nil:
			case referent && jobs.IsPermanent(err) &&
				strings.Contains(err.Error(), "address resolves to an internal network; a hoster admin must confirm this address"):
				refused++
			default:
				t.Fatalf("referent %v: %v (permanent %v)", referent, err, jobs.IsPermanent(err))
			}
		}
		if referent && refused == 0 {
			t.Fatal("a referent's address on 127.0.0.1: no job refused")
		}
		if referent && (hits.Load() != 0 || !nc.enabled["alice"]) {
			t.Fatalf("a referent's address: the server received %d requests", hits.Load())
		}
		if !referent && (hits.Load() == 0 || nc.enabled["alice"]) {
			t.Fatalf("the hoster's address: %d requests, alice enabled %v", hits.Load(), nc.enabled["alice"])
		}
	}
}
