package idp

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// backchannelJobs lists the queued back-channel logouts.
func (f *fixture) backchannelJobs(state store.JobState) []store.Job {
	f.t.Helper()
	js, err := f.st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindOIDCBackchannelLogout, State: state})
	if err != nil {
		f.t.Fatal(err)
	}
	return js
}

// A back-channel logout is a job queued with the session's end: it
// outlives the process that ended the session and a client that is down
// for a while, and a client that refuses it for good is not asked forever.
func TestBackchannelLogoutIsDurable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	// A login to the generic client (which registered a back-channel URI);
	// the session then ends while nothing runs the queue.
	f.loggedIn()
	if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	queued := f.backchannelJobs(store.JobPending)
	if len(queued) != 1 || len(f.bc.all()) != 0 {
		t.Fatalf("after the logout: %d queued, %d delivered; want 1 and 0", len(queued), len(f.bc.all()))
	}

	// Another process (a restart: a new provider and runner over the same
	// store) delivers it; the client answers 503, 502 and 400 first.
	p2, err := New(ctx, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r2 := jobs.NewRunner(f.st, jobs.Config{BackoffBase: 1, BackoffMax: 1}, f.cfg.Logger)
	p2.Register(r2)
	f.bc.mu.Lock()
	f.bc.refuse = []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusBadRequest}
	f.bc.mu.Unlock()
	if _, err := r2.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := f.bc.all()
	if len(got) != 1 || f.bc.posts != 4 {
		t.Fatalf("delivered %d tokens in %d posts; want 1 in 4", len(got), f.bc.posts)
	}
	if done := f.backchannelJobs(store.JobDone); len(done) != 1 || done[0].Attempts != 4 {
		t.Fatalf("done jobs: %+v", done)
	}
	// The token verifies with the provider's published keys and names the
	// person and the session.
	prov, err := oidc.NewProvider(ctx, f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := prov.Verifier(&oidc.Config{ClientID: f.gen.ClientID, Now: f.clock.Now}).Verify(ctx, got[0])
	if err != nil {
		t.Fatalf("the logout token does not verify: %v", err)
	}
	var c struct {
		SID    string         `json:"sid"`
		Events map[string]any `json:"events"`
	}
	if err := tok.Claims(&c); err != nil || tok.Subject != f.alice.ID || c.SID == "" ||
		c.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Errorf("logout token: sub %q claims %+v err %v", tok.Subject, c, err)
	}

	// A client answering 404 (a wrong URI) is not retried: the job is dead
	// with the reason, for the admins.
	f.loggedIn()
	f.bc.mu.Lock()
	f.bc.refuse = []int{http.StatusNotFound}
	posts := f.bc.posts
	f.bc.mu.Unlock()
	if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	dead := f.backchannelJobs(store.JobDead)
	if len(dead) != 1 || dead[0].Attempts != 1 || dead[0].LastError == "" || f.bc.posts != posts+1 {
		t.Fatalf("after a 404: dead %+v, posts %d (was %d)", dead, f.bc.posts, posts)
	}

	// A client that never answers is tried backchannelAttempts times.
	f.loggedIn()
	f.bc.mu.Lock()
	for range backchannelAttempts + 2 {
		f.bc.refuse = append(f.bc.refuse, http.StatusServiceUnavailable)
	}
	posts = f.bc.posts
	f.bc.mu.Unlock()
	if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if n := f.bc.posts - posts; n != backchannelAttempts || len(f.backchannelJobs(store.JobDead)) != 2 {
		t.Fatalf("a client that stays down got %d posts; want %d", n, backchannelAttempts)
	}
}

// A client without a back-channel URI gets no job at all.
func TestBackchannelLogoutOnlyForRegisteredClients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	b := f.browser()
	f.codeFor(b, f.wp, wpRedirect) // WordPress registered no back-channel URI
	if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if js := f.backchannelJobs(""); len(js) != 0 {
		t.Fatalf("jobs queued for a client without a back-channel URI: %+v", js)
	}
}

// A person disabled by an import (which queues oidc.end-sessions) loses
// their sessions and tokens, and the services are told; a person enabled
// again before the job runs keeps theirs.
func TestEndSessionsJob(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	queue := func() {
		t.Helper()
		b, _ := json.Marshal(jobs.PersonRef{PersonID: f.alice.ID})
		if _, err := f.st.EnqueueJob(ctx, &store.Job{Kind: jobs.KindOIDCEndSessions,
			DedupeKey: jobs.DedupeOIDCEndSessions(f.alice.ID), Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	setState := func(s store.PersonState) {
		t.Helper()
		if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.State = s; return nil }); err != nil {
			t.Fatal(err)
		}
	}

	// Still active when the job runs: nothing ends.
	b := f.loggedIn()
	queue()
	f.deliver()
	if res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); res.isLoginForm() {
		t.Fatal("the session of a person who is active again was ended")
	}

	// Disabled: the session is gone and the generic client is told.
	setState(store.StateDisabled)
	queue()
	f.deliver()
	setState(store.StateActive) // even enabled again, the old session stays ended
	if res := b.get(f.authURL(authParams(f.gen.ClientID, genRedirect))); !res.isLoginForm() {
		t.Fatalf("the disabled person's session survived: %d %v", res.status, res.location)
	}
	if got := f.bc.all(); len(got) != 1 {
		t.Fatalf("%d back-channel logouts, want 1", len(got))
	}
}
