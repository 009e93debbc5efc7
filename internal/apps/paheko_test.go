package apps_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/apps"
)

func pahekoConnector(t *testing.T, base string, mod func(*apps.Config)) *apps.Paheko {
	t.Helper()
	cfg := apps.Config{BaseURL: base, Credentials: apps.Credentials{Username: "sesame", Password: "secret"}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := apps.NewPaheko(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantRequests compares recorded requests with "METHOD path" and their form
// bodies.
func wantRequests(t *testing.T, got []recorded, want ...struct {
	line string
	form map[string]string
}) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d:\n%s", len(got), len(want), lines(got))
	}
	for i, w := range want {
		if g := got[i].Method + " " + got[i].Path; g != w.line {
			t.Fatalf("request %d: %s, want %s", i, g, w.line)
		}
		if w.form == nil {
			if got[i].Body != "" {
				t.Fatalf("request %d (%s) has a body: %q", i, w.line, got[i].Body)
			}
			continue
		}
		f := form(t, got[i].Body)
		if len(f) != len(w.form) {
			t.Fatalf("request %d (%s): form %v, want %v", i, w.line, f, w.form)
		}
		for k, v := range w.form {
			if f.Get(k) != v {
				t.Fatalf("request %d (%s): %s=%q, want %q", i, w.line, k, f.Get(k), v)
			}
		}
		if ct := got[i].Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Fatalf("request %d: Content-Type %q", i, ct)
		}
	}
}

type req = struct {
	line string
	form map[string]string
}

// TestPahekoEnsure creates a member, re-runs with nothing to change,
// updates its name and email, reports a category change and a removal as
// manual actions, and checks every request sent.
func TestPahekoEnsure(t *testing.T) {
	f := newFakePaheko(t)
	rec := newRecorder()
	c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
	ctx := context.Background()
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", GivenName: "Alice", FamilyName: "Martin", Role: "1", Enabled: true}

	res, err := c.Ensure(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != apps.OutcomeCreated || res.RemoteID != "1" || !res.Owned || !res.Managed || res.Manual != nil {
		t.Fatalf("create: %+v", res)
	}
	got := rec.take()
	wantRequests(t, got,
		req{"POST /api/sql", map[string]string{"sql": sqlFor("alice@example.org")}},
		req{"POST /api/user/new", map[string]string{"nom": "Alice Martin", "email": "alice@example.org", "id_category": "1"}})
	for _, r := range got {
		if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("sesame:secret")) ||
			r.Header.Get("Accept") != "application/json" {
			t.Fatalf("headers %v", r.Header)
		}
	}
	if m := f.member(1); m.Name != "Alice Martin" || m.Email != "alice@example.org" || m.Category != 1 {
		t.Fatalf("member %+v", m)
	}
	a.RemoteID, a.Owned = res.RemoteID, res.Owned

	t.Run("nothing to change", func(t *testing.T) {
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || res.Manual != nil {
			t.Fatalf("%+v %v", res, err)
		}
		wantRequests(t, rec.take(), req{"GET /api/user/1", nil})
	})
	t.Run("name and email", func(t *testing.T) {
		b := a
		b.DisplayName, b.Email = "Alice Martin-Durand", "alice.md@example.org"
		res, err := c.Ensure(ctx, b)
		if err != nil || res.Outcome != apps.OutcomeUpdated || !slices.Equal(res.Changed, []string{"email", "nom"}) {
			t.Fatalf("%+v %v", res, err)
		}
		wantRequests(t, rec.take(), req{"GET /api/user/1", nil},
			req{"POST /api/user/1", map[string]string{"nom": "Alice Martin-Durand", "email": "alice.md@example.org"}})
		if m := f.member(1); m.Name != "Alice Martin-Durand" || m.Email != "alice.md@example.org" {
			t.Fatalf("member %+v", m)
		}
		a = b
	})
	t.Run("category differs", func(t *testing.T) {
		b := a
		b.Role = "2"
		res, err := c.Ensure(ctx, b)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || res.Manual == nil ||
			!strings.Contains(res.Manual.FR, "catégorie n° 2 au lieu de la n° 1") || !strings.Contains(res.Manual.EN, "to category 2 instead of 1") ||
			!strings.Contains(res.Manual.FR, "n° 1") {
			t.Fatalf("%+v %v", res, err)
		}
		if writes(rec.take()) != 0 {
			t.Fatal("a write was sent")
		}
	})
	t.Run("remove", func(t *testing.T) {
		for _, call := range []func() (apps.Result, error){
			func() (apps.Result, error) { return c.Remove(ctx, a) },
			func() (apps.Result, error) { b := a; b.Enabled = false; return c.Ensure(ctx, b) },
		} {
			res, err := call()
			if err != nil || res.Outcome != apps.OutcomeManual || res.Manual == nil ||
				!strings.Contains(res.Manual.FR, "alice.md@example.org") || !strings.Contains(res.Manual.FR, "Anciens membres") ||
				!strings.Contains(res.Manual.EN, "cannot change their category") {
				t.Fatalf("%+v %v", res, err)
			}
			wantRequests(t, rec.take(), req{"GET /api/user/1", nil})
		}
	})
	t.Run("removal done by hand", func(t *testing.T) {
		// The hoster moved the member to "Anciens membres" (2), which is
		// not among the categories sesame gives: nothing left to ask.
		f.mu.Lock()
		f.members[1].Category = 2
		f.mu.Unlock()
		wc := pahekoConnector(t, f.srv.URL, func(c *apps.Config) {
			c.HTTPClient = rec.client()
			c.Settings = map[string]string{"categories": "1,4"}
		})
		res, err := wc.Remove(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || res.Manual != nil {
			t.Fatalf("%+v %v", res, err)
		}
		wantRequests(t, rec.take(), req{"GET /api/user/1", nil})
		// Granted again: back to category 1, by hand too.
		res, err = wc.Ensure(ctx, a)
		if err != nil || res.Manual == nil || !strings.Contains(res.Manual.EN, "to category 1 instead of 2") {
			t.Fatalf("%+v %v", res, err)
		}
		rec.take()
	})
	t.Run("absent", func(t *testing.T) {
		for _, call := range []func() (apps.Result, error){
			func() (apps.Result, error) {
				return c.Remove(ctx, apps.Account{Username: "nobody", Email: "nobody@example.org"})
			},
			func() (apps.Result, error) {
				return c.Ensure(ctx, apps.Account{Username: "nobody", Email: "nobody@example.org", Enabled: false})
			},
		} {
			res, err := call()
			if err != nil || res.Outcome != apps.OutcomeAbsent {
				t.Fatalf("%+v %v", res, err)
			}
			wantRequests(t, rec.take(), req{"POST /api/sql", map[string]string{"sql": sqlFor("nobody@example.org")}})
		}
	})
	if _, creates, _ := f.counts(); creates != 1 {
		t.Fatalf("%d creates", creates)
	}
}

// TestPahekoExisting covers members sesame did not create and Paheko's 409:
// a member entered by hand is linked and left alone (taken over only when
// the service says so), a homonym gets a member of its own, and a member
// that appears between the look-up and the create is linked.
func TestPahekoExisting(t *testing.T) {
	ctx := context.Background()
	a := apps.Account{Username: "alice.martin", Email: "alice@example.org", GivenName: "Alice", FamilyName: "Martin", Role: "1", Enabled: true}

	t.Run("entered by hand", func(t *testing.T) {
		f := newFakePaheko(t)
		f.add("MARTIN Alice", "Alice@Example.org", 1)
		rec := newRecorder()
		c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeLinked || res.Owned || res.Managed || res.RemoteID != "1" {
			t.Fatalf("Ensure: %+v %v", res, err)
		}
		a := a
		a.RemoteID = res.RemoteID
		if res, err = c.Remove(ctx, a); err != nil || res.Outcome != apps.OutcomeLinked || res.Manual != nil {
			t.Fatalf("Remove: %+v %v", res, err)
		}
		wantRequests(t, rec.take(),
			req{"POST /api/sql", map[string]string{"sql": sqlFor("alice@example.org")}},
			req{"GET /api/user/1", nil})
		if _, creates, modified := f.counts(); creates != 0 || modified != 0 {
			t.Fatalf("creates %d, modified %d", creates, modified)
		}
		to := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.TakeOver = true })
		res, err = to.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || res.Owned || !res.Managed || !slices.Equal(res.Changed, []string{"nom"}) {
			t.Fatalf("take-over: %+v %v", res, err)
		}
		if m := f.member(1); m.Name != "Alice Martin" {
			t.Fatalf("member %+v", m)
		}
	})

	t.Run("homonym", func(t *testing.T) {
		f := newFakePaheko(t)
		f.add("Alice Martin", "alice.other@example.org", 1)
		rec := newRecorder()
		c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeCreated || res.RemoteID != "2" {
			t.Fatalf("%+v %v", res, err)
		}
		create := map[string]string{"nom": "Alice Martin", "email": "alice@example.org", "id_category": "1"}
		forced := map[string]string{"nom": "Alice Martin", "email": "alice@example.org", "id_category": "1", "force_duplicate": "1"}
		wantRequests(t, rec.take(),
			req{"POST /api/sql", map[string]string{"sql": sqlFor("alice@example.org")}},
			req{"POST /api/user/new", create},
			req{"POST /api/sql", map[string]string{"sql": sqlFor("alice@example.org")}},
			req{"POST /api/user/new", forced})
		if m := f.member(1); m.Email != "alice.other@example.org" {
			t.Fatalf("the homonym was changed: %+v", m)
		}
	})

	t.Run("made meanwhile", func(t *testing.T) {
		f := newFakePaheko(t)
		px := newProxy(t, f.srv.URL)
		rec := newRecorder()
		c := pahekoConnector(t, px.URL(), func(c *apps.Config) { c.HTTPClient = rec.client() })
		// The create is made but its answer is lost: the error says the
		// member may exist, the caller records it, the retry finds it.
		px.setOnly(func(r *http.Request) bool { return r.URL.Path == "/api/user/new" })
		px.set(modeLose)
		_, err := c.Ensure(ctx, a)
		e := appErr(t, err)
		if !e.Retryable || !e.MayHaveCreated || e.Status != http.StatusBadGateway {
			t.Fatalf("error %+v", e)
		}
		px.set(modePass)
		b := a
		b.Owned = e.MayHaveCreated
		res, err := c.Ensure(ctx, b)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || !res.Owned || res.RemoteID != "1" {
			t.Fatalf("retry: %+v %v", res, err)
		}
		// And when it appears between the look-up and the create (another
		// administrator at work): 409, looked up again, linked.
		f.mu.Lock()
		f.beforeCreate = func(f *fakePaheko) {
			f.beforeCreate = nil
			f.members[f.nextID] = &fakeMember{ID: f.nextID, Number: f.nextNum, Name: "Bruno Roux", Email: "bruno@example.org", Category: 1}
			f.nextID++
			f.nextNum++
		}
		f.mu.Unlock()
		rec.take()
		res, err = c.Ensure(ctx, apps.Account{Username: "bruno", Email: "bruno@example.org", DisplayName: "Bruno Roux", Enabled: true})
		if err != nil || res.Outcome != apps.OutcomeLinked || res.Managed || res.RemoteID != "2" {
			t.Fatalf("race: %+v %v", res, err)
		}
		wantRequests(t, rec.take(),
			req{"POST /api/sql", map[string]string{"sql": sqlFor("bruno@example.org")}},
			req{"POST /api/user/new", map[string]string{"nom": "Bruno Roux", "email": "bruno@example.org"}},
			req{"POST /api/sql", map[string]string{"sql": sqlFor("bruno@example.org")}})
		if _, creates, _ := f.counts(); creates != 1 {
			t.Fatalf("%d creates", creates)
		}
	})
}

// TestPahekoErrors checks each refusal Paheko gives: its message is kept,
// the reason says what to fix, and nothing is retried that cannot succeed.
func TestPahekoErrors(t *testing.T) {
	ctx := context.Background()
	a := apps.Account{Username: "alice", Email: "alice@example.org", DisplayName: "Alice", Role: "1", Enabled: true}
	cases := []struct {
		name    string
		setup   func(*fakePaheko, *apps.Config, *apps.Account)
		reason  apps.Reason
		status  int
		message string
		hint    string
	}{
		{"wrong password", func(f *fakePaheko, c *apps.Config, a *apps.Account) { c.Credentials.Password = "nope" },
			apps.ReasonCredentials, 403, "Invalid username or password", "Fonctions avancées → API"},
		{"read-only key", func(f *fakePaheko, c *apps.Config, a *apps.Account) { f.level = 1 },
			apps.ReasonPermission, 403, "You do not have enough rights to make this request", "lecture seule"},
		{"category with configuration access", func(f *fakePaheko, c *apps.Config, a *apps.Account) { a.Role = "3" },
			apps.ReasonPermission, 403, "You are not allowed to create a user in this category", "catégorie n° 3"},
		{"Paheko 1.3", func(f *fakePaheko, c *apps.Config, a *apps.Account) { f.old = true },
			apps.ReasonConfig, 404, "Unknown user action", "1.4.0"},
		{"address of the admin pages", func(f *fakePaheko, c *apps.Config, a *apps.Account) { c.BaseURL += "/admin" },
			apps.ReasonConfig, 404, "", "sans /admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePaheko(t)
			cfg := apps.Config{BaseURL: f.srv.URL, Credentials: apps.Credentials{Username: "sesame", Password: "secret"}}
			acc := a
			tc.setup(f, &cfg, &acc)
			c, err := apps.NewPaheko(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Ensure(ctx, acc)
			e := appErr(t, err)
			if e.Reason != tc.reason || e.Retryable || e.Status != tc.status || e.MayHaveCreated ||
				(tc.message != "" && e.Message != tc.message) || !strings.Contains(e.Hint.FR, tc.hint) || e.Hint.EN == "" {
				t.Fatalf("error %+v", e)
			}
			if _, creates, _ := f.counts(); creates != 0 {
				t.Fatal("a member was created")
			}
		})
	}

	t.Run("email used by another member", func(t *testing.T) {
		f := newFakePaheko(t)
		f.add("Bruno", "bruno@example.org", 1)
		c := pahekoConnector(t, f.srv.URL, nil)
		res, err := c.Ensure(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		b := a
		b.RemoteID, b.Owned, b.Email = res.RemoteID, true, "bruno@example.org"
		// The look-up by id finds Alice; her new address is Bruno's.
		_, err = c.Ensure(ctx, b)
		e := appErr(t, err)
		if e.Reason != apps.ReasonInvalid || e.Retryable || e.Status != 400 || !strings.Contains(e.Message, "déjà utilisé par un autre membre") {
			t.Fatalf("error %+v", e)
		}
	})

	t.Run("invalid account", func(t *testing.T) {
		f := newFakePaheko(t)
		rec := newRecorder()
		c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		for _, acc := range []apps.Account{
			{Username: "x", Email: "x@example.org", Role: "membres", Enabled: true},
			{Username: "x", Email: "x@", Role: "1", Enabled: true},
			{Username: "x", Email: "x@example.org", DisplayName: "A\x00B", Role: "1", Enabled: true},
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

	t.Run("an email with a quote", func(t *testing.T) {
		f := newFakePaheko(t)
		rec := newRecorder()
		c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) { c.HTTPClient = rec.client() })
		res, err := c.Ensure(ctx, apps.Account{Username: "o", Email: "o'brien@example.org", DisplayName: "O'Brien", Enabled: true})
		if err != nil || res.Outcome != apps.OutcomeCreated {
			t.Fatalf("%+v %v", res, err)
		}
		got := rec.take()
		if f := form(t, got[0].Body).Get("sql"); f != "SELECT id, id_category, nom, email FROM users WHERE email = 'o''brien@example.org' COLLATE NOCASE LIMIT 2;" {
			t.Fatalf("sql %q", f)
		}
	})
}

// TestPahekoCheck checks the credentials test: categories listed, the
// configured categories usable, write access probed by an empty
// modification that writes nothing.
func TestPahekoCheck(t *testing.T) {
	ctx := context.Background()
	t.Run("fine", func(t *testing.T) {
		f := newFakePaheko(t)
		f.add("Admin", "admin@example.org", 3)
		f.add("Membre", "membre@example.org", 1)
		rec := newRecorder()
		c := pahekoConnector(t, f.srv.URL, func(c *apps.Config) {
			c.HTTPClient = rec.client()
			c.Settings = map[string]string{"categories": "1, 2"}
		})
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
		wantRequests(t, rec.take(),
			req{"GET /api/user/categories", nil},
			req{"POST /api/sql", map[string]string{"sql": "SELECT id FROM users WHERE id_category IN (1, 2) ORDER BY id LIMIT 1;"}},
			req{"POST /api/user/2", map[string]string{}})
		if _, _, modified := f.counts(); modified != 0 {
			t.Fatal("Check modified a member")
		}
	})
	for _, tc := range []struct {
		name   string
		setup  func(*fakePaheko, *apps.Config)
		reason apps.Reason
		hint   string
	}{
		{"read-only key", func(f *fakePaheko, c *apps.Config) { f.level = 1 }, apps.ReasonPermission, "Écriture"},
		{"wrong password", func(f *fakePaheko, c *apps.Config) { c.Credentials.Password = "x" }, apps.ReasonCredentials, "Configuration → Fonctions avancées → API"},
		{"category with configuration access", func(f *fakePaheko, c *apps.Config) { c.Settings = map[string]string{"categories": "1,3"} }, apps.ReasonConfig, "catégorie n° 3 donne accès à la configuration"},
		{"no such category", func(f *fakePaheko, c *apps.Config) { c.Settings = map[string]string{"categories": "7"} }, apps.ReasonConfig, "pas de catégorie n° 7"},
		{"Paheko 1.3", func(f *fakePaheko, c *apps.Config) { f.old = true }, apps.ReasonConfig, "1.4.0"},
		{"down", func(f *fakePaheko, c *apps.Config) { f.srv.Close() }, apps.ReasonUnavailable, "ne répond pas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePaheko(t)
			f.add("Membre", "membre@example.org", 1)
			cfg := apps.Config{BaseURL: f.srv.URL, Credentials: apps.Credentials{Username: "sesame", Password: "secret"}}
			tc.setup(f, &cfg)
			c, err := apps.NewPaheko(cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := appErr(t, c.Check(ctx))
			if e.Reason != tc.reason || !strings.Contains(e.Hint.FR, tc.hint) || e.Hint.EN == "" {
				t.Fatalf("error %+v", e)
			}
		})
	}
}

// TestPahekoDown: Paheko unreachable (refused, 502, timeout) gives
// retryable errors; once back, the same calls converge with one member.
func TestPahekoDown(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []proxyMode{modeDown, modeBadGateway, modeStall} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			f := newFakePaheko(t)
			px := newProxy(t, f.srv.URL)
			impatient := pahekoConnector(t, px.URL(), func(c *apps.Config) { c.Timeout = 200 * time.Millisecond })
			a := apps.Account{Username: "alice", Email: "alice@example.org", DisplayName: "Alice", Role: "1", Enabled: true}
			px.set(mode)
			for range 3 {
				_, err := impatient.Ensure(ctx, a)
				if e := appErr(t, err); !e.Retryable || e.Reason != apps.ReasonUnavailable {
					t.Fatalf("error %+v", e)
				}
			}
			px.set(modePass)
			c := pahekoConnector(t, px.URL(), nil)
			res, err := c.Ensure(ctx, a)
			if err != nil || res.Outcome != apps.OutcomeCreated {
				t.Fatalf("%+v %v", res, err)
			}
			a.RemoteID, a.Owned = res.RemoteID, res.Owned
			if res, err = c.Ensure(ctx, a); err != nil || res.Outcome != apps.OutcomeUnchanged {
				t.Fatalf("%+v %v", res, err)
			}
			if members, creates, _ := f.counts(); members != 1 || creates != 1 {
				t.Fatalf("%d members, %d creates", members, creates)
			}
		})
	}
}
