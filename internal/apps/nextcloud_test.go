package apps_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/apps"
)

func ncConnector(t *testing.T, base string, mod func(*apps.Config)) *apps.Nextcloud {
	t.Helper()
	cfg := apps.Config{BaseURL: base, Credentials: apps.Credentials{Username: "root", Password: "app-pass"},
		Settings: map[string]string{"provider_id": "3"}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := apps.NewNextcloud(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ncReq is an expected OCS request: "METHOD path?query", and its form or
// JSON body (nil: none).
type ncReq struct {
	line string
	form map[string]string
	json map[string]any
}

func wantOCS(t *testing.T, got []recorded, want ...ncReq) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d:\n%s", len(got), len(want), lines(got))
	}
	for i, w := range want {
		g := got[i]
		if l := g.Method + " " + g.Path; l != w.line {
			t.Fatalf("request %d: %s, want %s", i, l, w.line)
		}
		if g.Header.Get("OCS-APIRequest") != "true" || g.Header.Get("Accept") != "application/json" ||
			g.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("root:app-pass")) {
			t.Fatalf("request %d headers: %v", i, g.Header)
		}
		switch {
		case w.json != nil:
			var body map[string]any
			if g.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(g.Body), &body) != nil {
				t.Fatalf("request %d: body %q (%s)", i, g.Body, g.Header.Get("Content-Type"))
			}
			if fmt.Sprint(body) != fmt.Sprint(w.json) {
				t.Fatalf("request %d: body %v, want %v", i, body, w.json)
			}
		case w.form != nil:
			f := form(t, g.Body)
			if g.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || len(f) != len(w.form) {
				t.Fatalf("request %d: form %v, want %v", i, f, w.form)
			}
			for k, v := range w.form {
				if f.Get(k) != v {
					t.Fatalf("request %d: %s=%q, want %q", i, k, f.Get(k), v)
				}
			}
		default:
			if g.Body != "" {
				t.Fatalf("request %d has a body %q", i, g.Body)
			}
		}
	}
}

const (
	ncUser   = "GET /ocs/v2.php/cloud/users/alice.martin?format=json"
	ncPrepro = "POST /ocs/v2.php/apps/user_oidc/api/v1/user?format=json"
	ncGroups = "POST /ocs/v2.php/cloud/users/alice.martin/groups?format=json"
	ncEdit   = "PUT /ocs/v2.php/cloud/users/alice.martin?format=json"
)

// TestNextcloudEnsure pre-provisions a user, adds it to its groups
// (creating a missing one), re-runs without writing, updates profile, quota
// and groups, disables and enables it, with every request checked.
func TestNextcloudEnsure(t *testing.T) {
	f := newFakeNextcloud(t)
	rec := newRecorder()
	c := ncConnector(t, f.srv.URL, func(c *apps.Config) {
		c.HTTPClient = rec.client()
		c.Settings["managed_groups"] = "benevoles, bureau"
	})
	ctx := context.Background()
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", GivenName: "Alice", FamilyName: "Martin",
		Role: "admin", Groups: []string{"benevoles"}, Quota: "5 GB", Language: "fr", Enabled: true}

	res, err := c.Ensure(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != apps.OutcomeCreated || res.RemoteID != "alice.martin" || !res.Owned || !res.Managed ||
		!slices.Equal(res.Changed, []string{"created", "+admin", "+benevoles", "language"}) {
		t.Fatalf("create: %+v", res)
	}
	wantOCS(t, rec.take(),
		ncReq{line: ncUser},
		ncReq{line: ncPrepro, json: map[string]any{"providerId": 3, "userId": "alice.martin", "displayName": "Alice Martin", "email": "alice@example.org", "quota": "5 GB"}},
		ncReq{line: ncGroups, form: map[string]string{"groupid": "admin"}},
		ncReq{line: ncGroups, form: map[string]string{"groupid": "benevoles"}}, // 102: no such group
		ncReq{line: "POST /ocs/v2.php/cloud/groups?format=json", form: map[string]string{"groupid": "benevoles"}},
		ncReq{line: ncGroups, form: map[string]string{"groupid": "benevoles"}},
		ncReq{line: ncEdit, form: map[string]string{"key": "language", "value": "fr"}})
	u := f.user("alice.martin")
	if u.Backend != "user_oidc" || u.DisplayName != "Alice Martin" || u.Email != "alice@example.org" || u.Quota != "5 GB" ||
		!slices.Equal(u.Groups, []string{"admin", "benevoles"}) || u.Language != "fr" || !u.Enabled {
		t.Fatalf("in Nextcloud: %+v", u)
	}
	a.RemoteID, a.Owned = res.RemoteID, res.Owned

	t.Run("nothing to change", func(t *testing.T) {
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || len(res.Changed) != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser})
	})
	t.Run("profile, quota, role and groups", func(t *testing.T) {
		b := a
		b.Role, b.DisplayName, b.Email, b.Quota, b.Groups = "user", "Alice M.", "alice.m@example.org", "10 GB", []string{"bureau"}
		f.add(fakeNCUser{ID: "group-holder", Backend: "Database", Groups: []string{"bureau"}})
		res, err := c.Ensure(ctx, b)
		if err != nil || res.Outcome != apps.OutcomeUpdated ||
			!slices.Equal(res.Changed, []string{"displayname", "email", "quota", "+bureau", "-admin", "-benevoles"}) {
			t.Fatalf("%+v %v", res, err)
		}
		wantOCS(t, rec.take(),
			ncReq{line: ncUser},
			ncReq{line: ncPrepro, json: map[string]any{"providerId": 3, "userId": "alice.martin", "displayName": "Alice M.", "email": "alice.m@example.org", "quota": "10 GB"}},
			ncReq{line: ncGroups, form: map[string]string{"groupid": "bureau"}},
			ncReq{line: "DELETE /ocs/v2.php/cloud/users/alice.martin/groups?groupid=admin&format=json"},
			ncReq{line: "DELETE /ocs/v2.php/cloud/users/alice.martin/groups?groupid=benevoles&format=json"})
		u := f.user("alice.martin")
		if u.DisplayName != "Alice M." || u.Email != "alice.m@example.org" || u.Quota != "10 GB" || !slices.Equal(u.Groups, []string{"bureau"}) {
			t.Fatalf("in Nextcloud: %+v", u)
		}
		a = b
	})
	t.Run("groups sesame does not manage stay", func(t *testing.T) {
		f.add(fakeNCUser{ID: "x", Backend: "Database", Groups: []string{"famille"}})
		f.mu.Lock()
		f.users["alice.martin"].Groups = append(f.users["alice.martin"].Groups, "famille")
		f.mu.Unlock()
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUnchanged {
			t.Fatalf("%+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser})
	})
	t.Run("disable and enable", func(t *testing.T) {
		res, err := c.Remove(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeDisabled {
			t.Fatalf("Remove: %+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser}, ncReq{line: "PUT /ocs/v2.php/cloud/users/alice.martin/disable?format=json", form: map[string]string{}})
		if f.user("alice.martin").Enabled {
			t.Fatal("still enabled")
		}
		off := a
		off.Enabled = false
		for _, call := range []func() (apps.Result, error){
			func() (apps.Result, error) { return c.Remove(ctx, a) },
			func() (apps.Result, error) { return c.Ensure(ctx, off) },
		} {
			if res, err := call(); err != nil || res.Outcome != apps.OutcomeUnchanged {
				t.Fatalf("again: %+v %v", res, err)
			}
			wantOCS(t, rec.take(), ncReq{line: ncUser})
		}
		res, err = c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || !slices.Equal(res.Changed, []string{"enabled"}) {
			t.Fatalf("Ensure: %+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser}, ncReq{line: "PUT /ocs/v2.php/cloud/users/alice.martin/enable?format=json", form: map[string]string{}})
		if res, err := c.Ensure(ctx, off); err != nil || res.Outcome != apps.OutcomeDisabled {
			t.Fatalf("Ensure disabled: %+v %v", res, err)
		}
		rec.take()
	})
	t.Run("absent", func(t *testing.T) {
		nobody := apps.Account{Username: "nobody", Email: "nobody@example.org"} // no role: none is needed to remove
		for _, call := range []func() (apps.Result, error){
			func() (apps.Result, error) { return c.Remove(ctx, nobody) },
			func() (apps.Result, error) { return c.Ensure(ctx, nobody) },
		} {
			if res, err := call(); err != nil || res.Outcome != apps.OutcomeAbsent {
				t.Fatalf("%+v %v", res, err)
			}
			wantOCS(t, rec.take(), ncReq{line: "GET /ocs/v2.php/cloud/users/nobody?format=json"})
		}
	})
	if n := f.createdCount(); n != 1 {
		t.Fatalf("%d users created", n)
	}
}

// TestNextcloudExisting: users of a backend sesame does not own are linked
// and left alone, or taken over when the service says so; users of an
// owned backend other than user_oidc keep the profile that backend holds.
func TestNextcloudExisting(t *testing.T) {
	ctx := context.Background()
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", DisplayName: "Alice Martin", Role: "admin", Quota: "1 GB", Enabled: true}

	t.Run("local account", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.add(fakeNCUser{ID: "alice.martin", Backend: "Database", DisplayName: "alice", Quota: "none", Enabled: true})
		rec := newRecorder()
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		for _, call := range []func() (apps.Result, error){
			func() (apps.Result, error) { return c.Ensure(ctx, a) },
			func() (apps.Result, error) { return c.Remove(ctx, a) },
		} {
			res, err := call()
			if err != nil || res.Outcome != apps.OutcomeLinked || res.Owned || res.Managed || res.RemoteID != "alice.martin" {
				t.Fatalf("%+v %v", res, err)
			}
			wantOCS(t, rec.take(), ncReq{line: ncUser})
		}
		to := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client(); c.TakeOver = true })
		res, err := to.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || res.Owned || !res.Managed {
			t.Fatalf("take-over: %+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser},
			ncReq{line: ncEdit, form: map[string]string{"key": "displayname", "value": "Alice Martin"}},
			ncReq{line: ncEdit, form: map[string]string{"key": "email", "value": "alice@example.org"}},
			ncReq{line: ncEdit, form: map[string]string{"key": "quota", "value": "1 GB"}},
			ncReq{line: ncGroups, form: map[string]string{"groupid": "admin"}})
		if f.createdCount() != 0 {
			t.Fatal("a user was pre-provisioned")
		}
	})

	t.Run("LDAP account", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.add(fakeNCUser{ID: "alice.martin", Backend: "LDAP", DisplayName: "Alice (LDAP)", Quota: "none", Enabled: true})
		rec := newRecorder()
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client(); c.Settings["owned_backends"] = "user_oidc,LDAP" })
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || !res.Owned || !slices.Equal(res.Changed, []string{"quota", "+admin"}) {
			t.Fatalf("%+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser},
			ncReq{line: ncEdit, form: map[string]string{"key": "quota", "value": "1 GB"}},
			ncReq{line: ncGroups, form: map[string]string{"groupid": "admin"}})
	})

	t.Run("logged in before provisioning", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.add(fakeNCUser{ID: "alice.martin", Backend: "user_oidc", DisplayName: "Alice Martin", Quota: "none", Enabled: true, Groups: []string{"admin"}})
		rec := newRecorder()
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || !res.Owned || !slices.Equal(res.Changed, []string{"email", "quota"}) {
			t.Fatalf("%+v %v", res, err)
		}
		wantOCS(t, rec.take(), ncReq{line: ncUser},
			ncReq{line: ncPrepro, json: map[string]any{"providerId": 3, "userId": "alice.martin", "displayName": "Alice Martin", "email": "alice@example.org", "quota": "1 GB"}})
		if f.createdCount() != 0 {
			t.Fatal("a second user was made")
		}
	})
}

// TestNextcloudErrors checks Nextcloud's refusals: 997, 104, a user_oidc
// that hashes ids or is missing, v1 status codes, invalid accounts.
func TestNextcloudErrors(t *testing.T) {
	ctx := context.Background()
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", DisplayName: "Alice Martin", Role: "admin", Enabled: true}

	t.Run("wrong app password", func(t *testing.T) {
		f := newFakeNextcloud(t)
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.Credentials.Password = "nope" })
		_, err := c.Ensure(ctx, a)
		e := appErr(t, err)
		if e.Reason != apps.ReasonCredentials || e.Retryable || e.Status != 401 || e.Code != "997" ||
			e.Message != "Current user is not logged in" || !strings.Contains(e.Hint.FR, "mot de passe d'application") {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("104: no privilege for the group", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.add(fakeNCUser{ID: "sub", Backend: "Database", Enabled: true, SubadminOf: []string{"benevoles"}, Groups: []string{"benevoles"}})
		f.passwords["sub"] = "sub-pass"
		f.add(fakeNCUser{ID: "alice.martin", Backend: "user_oidc", DisplayName: "Alice Martin", Email: "alice@example.org", Enabled: true, Groups: []string{"benevoles"}})
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.Credentials = apps.Credentials{Username: "sub", Password: "sub-pass"} })
		_, err := c.Ensure(ctx, a)
		e := appErr(t, err)
		if e.Reason != apps.ReasonPermission || e.Retryable || e.Status != 400 || e.Code != "104" {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("user_oidc hashes user ids", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.hashUIDs = true
		_, err := ncConnector(t, f.srv.URL, nil).Ensure(ctx, a)
		e := appErr(t, err)
		if e.Reason != apps.ReasonConfig || e.Retryable || !strings.Contains(e.Hint.EN, "--unique-uid=0") {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("user_oidc not enabled", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.apps = []string{"files"}
		_, err := ncConnector(t, f.srv.URL, nil).Ensure(ctx, a)
		e := appErr(t, err)
		if e.Reason != apps.ReasonConfig || e.Retryable || e.Status != 404 || !strings.Contains(e.Hint.FR, "user_oidc") {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("v1 status codes", func(t *testing.T) {
		f := newFakeNextcloud(t)
		f.successCode = 100
		res, err := ncConnector(t, f.srv.URL, nil).Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeCreated {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("answer lost after the create", func(t *testing.T) {
		f := newFakeNextcloud(t)
		px := newProxy(t, f.srv.URL)
		px.setOnly(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/ocs/v2.php/apps/user_oidc/") })
		px.set(modeLose)
		c := ncConnector(t, px.URL(), nil)
		_, err := c.Ensure(ctx, a)
		if e := appErr(t, err); !e.Retryable || !e.MayHaveCreated {
			t.Fatalf("%+v", e)
		}
		px.set(modePass)
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || !res.Owned || !slices.Equal(res.Changed, []string{"+admin"}) {
			t.Fatalf("%+v %v", res, err)
		}
		if f.createdCount() != 1 {
			t.Fatalf("%d users created", f.createdCount())
		}
	})
	t.Run("invalid account", func(t *testing.T) {
		f := newFakeNextcloud(t)
		rec := newRecorder()
		c := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		for _, acc := range []apps.Account{
			{Username: "x", Email: "x@example.org", Role: "boss", Enabled: true},
			{Username: "x", Email: "x@example.org", Role: "user", Quota: "lots", Enabled: true},
			{Username: "x", Email: "@example.org", Role: "user", Enabled: true},
		} {
			_, err := c.Ensure(ctx, acc)
			if e := appErr(t, err); e.Reason != apps.ReasonInvalid || e.Retryable {
				t.Errorf("%+v: %+v", acc, e)
			}
		}
		if n := len(rec.take()); n != 0 {
			t.Fatalf("%d requests sent", n)
		}
	})
}

// TestNextcloudCheck checks the credentials test.
func TestNextcloudCheck(t *testing.T) {
	ctx := context.Background()
	t.Run("fine", func(t *testing.T) {
		f := newFakeNextcloud(t)
		rec := newRecorder()
		if err := ncConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() }).Check(ctx); err != nil {
			t.Fatal(err)
		}
		wantOCS(t, rec.take(), ncReq{line: "GET /ocs/v2.php/cloud/user?format=json"}, ncReq{line: "GET /ocs/v2.php/cloud/apps?filter=enabled&format=json"})
	})
	for _, tc := range []struct {
		name   string
		setup  func(*fakeNextcloud, *apps.Config)
		reason apps.Reason
		hint   string
	}{
		{"wrong password", func(f *fakeNextcloud, c *apps.Config) { c.Credentials.Password = "x" }, apps.ReasonCredentials, "Appareils et sessions"},
		{"not an administrator", func(f *fakeNextcloud, c *apps.Config) {
			f.add(fakeNCUser{ID: "bob", Backend: "Database", Enabled: true})
			f.passwords["bob"] = "bob-pass"
			c.Credentials = apps.Credentials{Username: "bob", Password: "bob-pass"}
		}, apps.ReasonPermission, "n'est pas administrateur"},
		{"no user_oidc", func(f *fakeNextcloud, c *apps.Config) { f.apps = []string{"files"} }, apps.ReasonConfig, "user_oidc"},
		{"not a Nextcloud", func(f *fakeNextcloud, c *apps.Config) { c.BaseURL += "/wrong" }, apps.ReasonConfig, "pas d'API Nextcloud"},
		{"down", func(f *fakeNextcloud, c *apps.Config) { f.srv.Close() }, apps.ReasonUnavailable, "ne répond pas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNextcloud(t)
			cfg := apps.Config{BaseURL: f.srv.URL, Credentials: apps.Credentials{Username: "root", Password: "app-pass"},
				Settings: map[string]string{"provider_id": "3"}}
			tc.setup(f, &cfg)
			c, err := apps.NewNextcloud(cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := appErr(t, c.Check(ctx))
			if e.Reason != tc.reason || !strings.Contains(e.Hint.FR, tc.hint) || e.Hint.EN == "" {
				t.Fatalf("%+v", e)
			}
		})
	}
}

// TestNextcloudDown: Nextcloud unreachable (refused, 502, timeout) gives
// retryable errors; once back, the same calls converge with one user.
func TestNextcloudDown(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []proxyMode{modeDown, modeBadGateway, modeStall} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			f := newFakeNextcloud(t)
			px := newProxy(t, f.srv.URL)
			impatient := ncConnector(t, px.URL(), func(c *apps.Config) { c.Timeout = 200 * time.Millisecond })
			a := apps.Account{Username: "alice.martin", Email: "alice@example.org", Role: "admin", Enabled: true}
			px.set(mode)
			for range 3 {
				_, err := impatient.Ensure(ctx, a)
				if e := appErr(t, err); !e.Retryable || e.Reason != apps.ReasonUnavailable {
					t.Fatalf("%+v", e)
				}
			}
			px.set(modePass)
			c := ncConnector(t, px.URL(), nil)
			res, err := c.Ensure(ctx, a)
			if err != nil || res.Outcome != apps.OutcomeCreated {
				t.Fatalf("%+v %v", res, err)
			}
			a.RemoteID, a.Owned = res.RemoteID, res.Owned
			if res, err = c.Ensure(ctx, a); err != nil || res.Outcome != apps.OutcomeUnchanged {
				t.Fatalf("%+v %v", res, err)
			}
			if n := f.createdCount(); n != 1 {
				t.Fatalf("%d users created", n)
			}
		})
	}
}

// TestKeepAlive: a connector reuses one connection for its requests.
func TestKeepAlive(t *testing.T) {
	f := newFakeNextcloud(t)
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := ncConnector(t, srv.URL, nil)
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", Role: "admin", Groups: []string{"benevoles"}, Language: "fr", Enabled: true}
	for range 3 {
		if _, err := c.Ensure(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Fatalf("%d connections for 9 requests", conns)
	}
}
