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
