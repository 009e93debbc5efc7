package idp

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"sesame/internal/netguard"
	"sesame/internal/store"
)

// rebound makes dial connect to *to (the test's back-channel server on
// 127.0.0.1) when asked for host: what a name a referent gave does once its
// DNS answer has changed.
func rebound(host string, to *string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, _, err := net.SplitHostPort(addr); err == nil && h == host {
			addr = *to
		}
		return dial(ctx, network, addr)
	}
}

// DNS rebinding: a referent gave a name that resolved to a public address
// then (the administration checked it); it resolves to 127.0.0.1 when
// sesame posts the logout. For a service whose address a referent gave,
// the connection is refused after resolution, the job fails at once with
// a reason the failed-jobs page shows, and the local server receives
// nothing. Once a hoster vouches for the address, the same logout reaches
// 127.0.0.1.
func TestBackchannelToAReferentsAddressRefusesInternalNetworks(t *testing.T) {
	ctx := context.Background()
	const name = "logout.referent.example"
	var local string
	f := newFixture(t, func(c *Config) {
		// Both clients find the name at the local server; the guarded one
		// dials with its own dialer, Control included.
		guarded := netguard.Transport()
		guarded.DialContext = rebound(name, &local, guarded.DialContext)
		c.GuardedHTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: guarded}
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: rebound(name, &local, (&net.Dialer{}).DialContext)}}
	})
	local = strings.TrimPrefix(f.bcSrv.URL, "http://")
	_, port, _ := net.SplitHostPort(local)
	uri := "http://" + name + ":" + port + "/app/backchannel"
	mark := func(referent bool) {
		t.Helper()
		var err error
		f.gen, err = f.st.UpdateService(ctx, f.gen.ID, func(s *store.Service) error {
			s.BaseURL, s.BackchannelLogoutURI, s.ReferentAddress = "http://"+name+":"+port, uri, referent
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	logout := func() {
		t.Helper()
		f.loggedIn()
		if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
			t.Fatal(err)
		}
		f.deliver()
	}

	mark(true)
	logout()
	dead := f.backchannelJobs(store.JobDead)
	if len(dead) != 1 || dead[0].Attempts != 1 ||
		!strings.Contains(dead[0].LastError, "address resolves to an internal network; a hoster admin must confirm this address") ||
		!strings.Contains(dead[0].LastError, uri) {
		t.Fatalf("a referent's address rebound to 127.0.0.1: dead jobs %+v", dead)
	}
	if f.bc.posts != 0 || len(f.bc.all()) != 0 {
		t.Fatalf("the local server received %d posts", f.bc.posts)
	}

	// The hoster vouches for the address: the same name, the same server.
	mark(false)
	logout()
	if got := f.bc.all(); len(got) != 1 || f.bc.posts != 1 || len(f.backchannelJobs(store.JobDone)) != 1 {
		t.Fatalf("the hoster's address: %d tokens in %d posts", len(got), f.bc.posts)
	}
}

// The default clients: the guarded one refuses loopback even through a
// proxy set in the environment (it uses none), and neither follows a
// redirect.
func TestProviderGuardedClientDefault(t *testing.T) {
	f := newFixture(t)
	g := f.p.cfg.GuardedHTTPClient
	if g == nil || g.Timeout != f.p.cfg.HTTPClient.Timeout || g.CheckRedirect == nil {
		t.Fatalf("guarded client %+v", g)
	}
	tr, ok := g.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Fatalf("guarded transport %+v", g.Transport)
	}
	resp, err := g.Post(f.bcSrv.URL+"/app/backchannel", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
	if !strings.Contains(err.Error(), netguard.ErrInternal.Error()) || f.bc.posts != 0 {
		t.Fatalf("guarded post to 127.0.0.1: %v, %d posts", err, f.bc.posts)
	}
}
