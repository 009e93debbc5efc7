package idp

import (
	"net/http"
	"net/url"
	"testing"

	"sesame/internal/store"
)

// Nextcloud's user_oidc logs out by deleting its own OIDC session, then
// redirecting to end_session with client_id and id_token_hint
// (LoginController::singleLogoutService). A back-channel logout for that
// sid then finds nothing and user_oidc answers 400
// {"error":"invalid SID, SUB or ISS"} (getBackchannelLogoutErrorResponse).
// The client that initiated the logout with a valid hint must not be sent
// a back-channel logout: otherwise every Nextcloud logout is posted
// backchannelAttempts times over ~20 minutes and ends as a dead job.
func TestInitiatingClientGetsNoBackchannel(t *testing.T) {
	f := newFixture(t)
	b := f.loggedIn()
	code := f.codeFor(b, f.gen, genRedirect)
	st, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, body)
	}
	// The RP has already dropped its session: it answers 400 as user_oidc does.
	f.bc.mu.Lock()
	for range backchannelAttempts + 2 {
		f.bc.refuse = append(f.bc.refuse, http.StatusBadRequest)
	}
	f.bc.mu.Unlock()
	// user_oidc's request: raw post_logout_redirect_uri, client_id, id_token_hint.
	res := b.get(f.issuer + "/logout?client_id=" + url.QueryEscape(f.gen.ClientID) +
		"&id_token_hint=" + url.QueryEscape(body["id_token"].(string)))
	if res.status != http.StatusOK {
		t.Fatalf("logout: %d", res.status)
	}
	f.deliver()
	f.bc.mu.Lock()
	posts := f.bc.posts
	f.bc.mu.Unlock()
	if posts != 0 || len(f.backchannelJobs(store.JobDead)) != 0 {
		t.Fatalf("the client that initiated the logout got %d back-channel posts, %d dead jobs; want 0 and 0",
			posts, len(f.backchannelJobs(store.JobDead)))
	}
	// Another way of ending the session (no hint from this client) still notifies it.
	f.bc.mu.Lock()
	f.bc.refuse = nil
	f.bc.mu.Unlock()
	f.loggedIn()
	if err := f.p.EndAllSessions(t.Context(), f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if got := f.bc.all(); len(got) != 1 {
		t.Fatalf("EndAllSessions: %d tokens delivered; want 1", len(got))
	}
}

// A Nextcloud whose user_oidc sends no ID token hint at logout (its
// --send-id-token-hint off) cannot be told from any other page sending the
// person to sesame, so it is sent a back-channel logout for the session it
// has already ended, and answers 400 "No session was found": nothing is
// left to end, and the job is done at once instead of being retried for
// twenty minutes into the failed jobs. Its other refusals are retried.
func TestNextcloudWithoutTheSessionIsDone(t *testing.T) {
	f := newFixture(t)
	login := func() {
		t.Helper()
		v, ch := pkce()
		code := f.codeFor(f.browser(), f.nc, ncRedirect, "code_challenge", ch, "code_challenge_method", "S256")
		if st, body := f.exchange(f.nc, secretNC, code, ncRedirect, v); st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, body)
		}
	}
	refuse := func(n int, body string) int {
		f.bc.mu.Lock()
		defer f.bc.mu.Unlock()
		for range n {
			f.bc.refuse = append(f.bc.refuse, http.StatusBadRequest)
			f.bc.bodies = append(f.bc.bodies, body)
		}
		return f.bc.posts
	}
	posted := func(since int) int {
		f.bc.mu.Lock()
		defer f.bc.mu.Unlock()
		return f.bc.posts - since
	}

	login()
	before := refuse(backchannelAttempts+2, `{"error":"invalid SID, SUB or ISS","error_description":"No session was found for this (sid,sub,iss)"}`)
	if err := f.p.EndAllSessions(t.Context(), f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if n, dead := posted(before), f.backchannelJobs(store.JobDead); n != 1 || len(dead) != 0 || len(f.backchannelJobs(store.JobDone)) != 1 {
		t.Fatalf("no session at Nextcloud: %d posts, %d dead jobs; want 1 post and the job done", n, len(dead))
	}

	f.bc.mu.Lock()
	f.bc.refuse, f.bc.bodies = nil, nil
	f.bc.mu.Unlock()
	login()
	before = refuse(backchannelAttempts+2, `{"error":"invalid audience","error_description":"The audience of the logout token does not match the provider"}`)
	if err := f.p.EndAllSessions(t.Context(), f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if n := posted(before); n != backchannelAttempts || len(f.backchannelJobs(store.JobDead)) != 1 {
		t.Fatalf("a wrong audience: %d posts, %d dead; want %d and 1", n, len(f.backchannelJobs(store.JobDead)), backchannelAttempts)
	}
}
