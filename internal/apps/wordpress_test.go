package apps_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sesame/internal/apps"
	"sesame/internal/testenv"
)

// wpUser is a user as the test reads it back from WordPress.
type wpUser struct {
	ID        int      `json:"id"`
	Username  string   `json:"username"`
	Name      string   `json:"name"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Roles     []string `json:"roles"`
}

// wpRead reads a user back from the real WordPress, as the administrator.
func wpRead(t *testing.T, wp *testenv.WordPressSite, id string) wpUser {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, wp.URL+"/?rest_route=/wp/v2/users/"+id+"&context=edit", nil)
	req.SetBasicAuth(wp.Admin, wp.AppPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var u wpUser
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &u) != nil {
		t.Fatalf("read user %s: %d %.300s", id, resp.StatusCode, b)
	}
	return u
}

func wpConnector(t *testing.T, base string, creds apps.Credentials, mod func(*apps.Config)) *apps.WordPress {
	t.Helper()
	cfg := apps.Config{BaseURL: base, Credentials: creds}
	if mod != nil {
		mod(&cfg)
	}
	c, err := apps.NewWordPress(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWordPressConnector drives the connector against a real WordPress:
// create, re-run without writes, update of role and names, demotion,
// linking of accounts sesame did not make, duplicates, retries.
func TestWordPressConnector(t *testing.T) {
	wp := testenv.WordPress(t)
	ctx := context.Background()
	admin := apps.Credentials{Username: wp.Admin, Password: wp.AppPassword}
	rec := newRecorder()
	c := wpConnector(t, wp.URL, admin, func(c *apps.Config) { c.HTTPClient = rec.client() })

	alice := apps.Account{Username: "alice.martin", Email: "Alice.Martin@example.org", GivenName: "Alice", FamilyName: "Martin",
		Role: "editor", Language: "fr", Enabled: true}

	t.Run("create", func(t *testing.T) {
		before := wp.UserCount()
		rec.take()
		res, err := c.Ensure(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != apps.OutcomeCreated || !res.Owned || !res.Managed || res.RemoteID == "" {
			t.Fatalf("result %+v", res)
		}
		// One create; the site has no fr_FR, so WordPress refuses the
		// locale once and the connector sends the create again without it.
		reqs := rec.take()
		if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[1].Method != http.MethodPost ||
			!strings.Contains(reqs[0].Body, `"locale":"fr_FR"`) || strings.Contains(reqs[1].Body, "locale") {
			t.Fatalf("requests:\n%s", lines(reqs))
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(reqs[1].Body), &body); err != nil {
			t.Fatal(err)
		}
		if body["username"] != "alice.martin" || body["email"] != "Alice.Martin@example.org" || body["name"] != "Alice Martin" ||
			body["first_name"] != "Alice" || body["last_name"] != "Martin" || fmt.Sprint(body["roles"]) != "[editor]" ||
			len(fmt.Sprint(body["password"])) < 30 {
			t.Fatalf("create body %s", reqs[1].Body)
		}
		if got := reqs[1].Path; !strings.HasPrefix(got, "/?rest_route=%2Fwp%2Fv2%2Fusers") {
			t.Fatalf("create path %s", got)
		}
		if h := reqs[1].Header; h.Get("Content-Type") != "application/json" || !strings.HasPrefix(h.Get("Authorization"), "Basic ") {
			t.Fatalf("create headers %v", h)
		}
		if wp.UserCount() != before+1 {
			t.Fatalf("%d users, want %d", wp.UserCount(), before+1)
		}
		u := wpRead(t, wp, res.RemoteID)
		if u.Username != "alice.martin" || u.Name != "Alice Martin" || u.FirstName != "Alice" || u.LastName != "Martin" ||
			!slices.Equal(u.Roles, []string{"editor"}) {
			t.Fatalf("in WordPress: %+v", u)
		}
		alice.RemoteID, alice.Owned = res.RemoteID, res.Owned
	})

	t.Run("second ensure sends no write", func(t *testing.T) {
		rec.take()
		res, err := c.Ensure(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		reqs := rec.take()
		if res.Outcome != apps.OutcomeUnchanged || writes(reqs) != 0 || len(reqs) != 1 {
			t.Fatalf("result %+v, requests:\n%s", res, lines(reqs))
		}
	})

	t.Run("an id that is not WordPress's is ignored", func(t *testing.T) {
		a := alice
		a.RemoteID = "2/../1"
		rec.take()
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || res.RemoteID != alice.RemoteID {
			t.Fatalf("%+v %v", res, err)
		}
		if reqs := rec.take(); len(reqs) != 1 || !strings.Contains(reqs[0].Path, "search=Alice.Martin%40example.org") {
			t.Fatalf("requests:\n%s", lines(reqs))
		}
	})

	t.Run("update role and names", func(t *testing.T) {
		a := alice
		a.Role, a.GivenName, a.Email = "author", "Alicia", "alicia.martin@example.org"
		res, err := c.Ensure(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != apps.OutcomeUpdated || !slices.Equal(res.Changed, []string{"email", "first_name", "name", "roles"}) {
			t.Fatalf("result %+v", res)
		}
		u := wpRead(t, wp, res.RemoteID)
		if u.FirstName != "Alicia" || u.Name != "Alicia Martin" || u.Email != "alicia.martin@example.org" || !slices.Equal(u.Roles, []string{"author"}) {
			t.Fatalf("in WordPress: %+v", u)
		}
		alice = a
	})

	t.Run("demote", func(t *testing.T) {
		gone := alice
		gone.Role = "" // a removal needs no role
		res, err := c.Remove(ctx, gone)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != apps.OutcomeRolesRemoved {
			t.Fatalf("result %+v", res)
		}
		if u := wpRead(t, wp, alice.RemoteID); len(u.Roles) != 0 {
			t.Fatalf("roles left: %v", u.Roles)
		}
		rec.take()
		res, err = c.Remove(ctx, alice)
		if err != nil || res.Outcome != apps.OutcomeUnchanged || writes(rec.take()) != 0 {
			t.Fatalf("second Remove: %+v %v", res, err)
		}
		// Ensure of a disabled person is a removal too.
		off := alice
		off.Enabled = false
		if res, err = c.Ensure(ctx, off); err != nil || res.Outcome != apps.OutcomeUnchanged {
			t.Fatalf("Ensure disabled: %+v %v", res, err)
		}
		// Granted again: the role comes back.
		if res, err = c.Ensure(ctx, alice); err != nil || res.Outcome != apps.OutcomeUpdated {
			t.Fatalf("Ensure again: %+v %v", res, err)
		}
		if u := wpRead(t, wp, alice.RemoteID); !slices.Equal(u.Roles, []string{"author"}) {
			t.Fatalf("roles after re-grant: %v", u.Roles)
		}
	})

	t.Run("link the administrator made at install time", func(t *testing.T) {
		before := wp.UserCount()
		a := apps.Account{Username: "admin.personne", Email: "ADMIN@example.org", GivenName: "Ad", FamilyName: "Min", Role: "subscriber", Enabled: true}
		rec.take()
		res, err := c.Ensure(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != apps.OutcomeLinked || res.Owned || res.Managed || res.RemoteID != "1" {
			t.Fatalf("result %+v", res)
		}
		// The create was refused (existing_user_email); nothing else was written.
		if reqs := rec.take(); writes(reqs) != 1 {
			t.Fatalf("requests:\n%s", lines(reqs))
		}
		a.RemoteID = res.RemoteID
		if res, err = c.Remove(ctx, a); err != nil || res.Outcome != apps.OutcomeLinked {
			t.Fatalf("Remove: %+v %v", res, err)
		}
		if reqs := rec.take(); writes(reqs) != 0 {
			t.Fatalf("Remove wrote:\n%s", lines(reqs))
		}
		u := wpRead(t, wp, "1")
		if !slices.Equal(u.Roles, []string{"administrator"}) || u.Username != "admin" || u.Name != "admin" || wp.UserCount() != before {
			t.Fatalf("the administrator was touched: %+v", u)
		}
	})

	t.Run("take over an account made by hand", func(t *testing.T) {
		wp.CreateUser("hand", "hand@example.org", "contributor")
		a := apps.Account{Username: "hand.made", Email: "hand@example.org", GivenName: "Hand", FamilyName: "Made", Role: "author", Enabled: true}
		res, err := c.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeLinked {
			t.Fatalf("without take-over: %+v %v", res, err)
		}
		to := wpConnector(t, wp.URL, admin, func(c *apps.Config) { c.TakeOver = true })
		res, err = to.Ensure(ctx, a)
		if err != nil || res.Outcome != apps.OutcomeUpdated || res.Owned || !res.Managed {
			t.Fatalf("with take-over: %+v %v", res, err)
		}
		if u := wpRead(t, wp, res.RemoteID); !slices.Equal(u.Roles, []string{"author"}) || u.Name != "Hand Made" {
			t.Fatalf("in WordPress: %+v", u)
		}
	})

	t.Run("username taken by another account", func(t *testing.T) {
		wp.CreateUser("bob", "bob.other@example.org", "subscriber")
		before := wp.UserCount()
		_, err := c.Ensure(ctx, apps.Account{Username: "bob", Email: "bob@example.org", Role: "editor", Enabled: true})
		e := appErr(t, err)
		if e.Reason != apps.ReasonConflict || e.Retryable || e.Code != "existing_user_login" || e.Status != 500 ||
			!strings.Contains(e.Hint.FR, "bob.other@example.org") || e.Message != "Sorry, that username already exists!" {
			t.Fatalf("error %+v", e)
		}
		if wp.UserCount() != before {
			t.Fatal("a user was created")
		}
	})

	t.Run("invalid account", func(t *testing.T) {
		for _, a := range []apps.Account{
			{Username: "x", Email: "x@example.org", Role: "boss", Enabled: true},
			{Username: "", Email: "x@example.org", Role: "editor", Enabled: true},
			{Username: "x", Email: "not-an-email", Role: "editor", Enabled: true},
			{Username: "x\n", Email: "x@example.org", Role: "editor", Enabled: true},
		} {
			rec.take()
			_, err := c.Ensure(ctx, a)
			if e := appErr(t, err); e.Reason != apps.ReasonInvalid || e.Retryable {
				t.Errorf("%+v: error %+v", a, e)
			}
			if n := len(rec.take()); n != 0 {
				t.Errorf("%+v: %d requests sent", a, n)
			}
		}
	})

	t.Run("wrong application password", func(t *testing.T) {
		bad := wpConnector(t, wp.URL, apps.Credentials{Username: wp.Admin, Password: "aaaa bbbb cccc dddd eeee ffff"}, nil)
		before := wp.UserCount()
		_, err := bad.Ensure(ctx, apps.Account{Username: "carl", Email: "carl@example.org", Role: "editor", Enabled: true})
		e := appErr(t, err)
		if e.Reason != apps.ReasonCredentials || e.Retryable || e.Status != 401 || e.Code != "rest_cannot_create_user" || e.MayHaveCreated || e.Hint.IsZero() {
			t.Fatalf("Ensure: %+v", e)
		}
		e = appErr(t, bad.Check(ctx))
		if e.Reason != apps.ReasonCredentials || e.Code != "rest_not_logged_in" || !strings.Contains(e.Hint.EN, "application password") {
			t.Fatalf("Check: %+v", e)
		}
		if wp.UserCount() != before {
			t.Fatal("a user was created")
		}
	})

	t.Run("check", func(t *testing.T) {
		if err := c.Check(ctx); err != nil {
			t.Fatalf("administrator: %v", err)
		}
		app := wp.CreateUser("edith", "edith@example.org", "editor")
		e := appErr(t, wpConnector(t, wp.URL, apps.Credentials{Username: "edith", Password: app}, nil).Check(ctx))
		if e.Reason != apps.ReasonPermission || !strings.Contains(e.Message, "create_users") || !strings.Contains(e.Hint.FR, "administrateur") {
			t.Fatalf("editor: %+v", e)
		}
	})
}

// TestWordPressPermalinks runs the connector with pretty permalinks on and
// off: the default (?rest_route=) works with both; /wp-json/ without pretty
// permalinks answers 200 with an empty body and creates nothing, which the
// connector reports instead of taking for a success.
func TestWordPressPermalinks(t *testing.T) {
	wp := testenv.WordPress(t)
	ctx := context.Background()
	admin := apps.Credentials{Username: wp.Admin, Password: wp.AppPassword}
	query := wpConnector(t, wp.URL, admin, nil)
	pretty := wpConnector(t, wp.URL, admin, func(c *apps.Config) { c.Settings = map[string]string{"permalinks": "pretty"} })
	person := func(name string) apps.Account {
		return apps.Account{Username: name, Email: name + "@example.org", GivenName: name, Role: "author", Enabled: true}
	}
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("pretty=%v", on), func(t *testing.T) {
			wp.SetPrettyPermalinks(on)
			a := person(fmt.Sprintf("query%v", on))
			res, err := query.Ensure(ctx, a)
			if err != nil || res.Outcome != apps.OutcomeCreated {
				t.Fatalf("?rest_route=: %+v %v", res, err)
			}
			if err := query.Check(ctx); err != nil {
				t.Fatalf("?rest_route= check: %v", err)
			}
			before := wp.UserCount()
			b := person(fmt.Sprintf("pretty%v", on))
			res, err = pretty.Ensure(ctx, b)
			if on {
				if err != nil || res.Outcome != apps.OutcomeCreated {
					t.Fatalf("/wp-json/: %+v %v", res, err)
				}
				if err := pretty.Check(ctx); err != nil {
					t.Fatalf("/wp-json/ check: %v", err)
				}
				return
			}
			e := appErr(t, err)
			if e.Reason != apps.ReasonConfig || e.Retryable || !strings.Contains(e.Hint.EN, "pretty permalinks are off") {
				t.Fatalf("/wp-json/ without pretty permalinks: %+v", e)
			}
			if wp.UserCount() != before {
				t.Fatal("a user was created")
			}
			e = appErr(t, pretty.Check(ctx))
			if e.Reason != apps.ReasonConfig || !strings.Contains(e.Hint.EN, "pretty permalinks are off") {
				t.Fatalf("/wp-json/ check without pretty permalinks: %+v", e)
			}
		})
	}
}

// TestWordPressDown makes WordPress unreachable in every way (stopped,
// a proxy answering 502, a proxy that never answers, an answer lost after
// the user was made): each call fails with a retryable error, and the same
// calls converge once WordPress is back, with no second account.
func TestWordPressDown(t *testing.T) {
	wp := testenv.WordPress(t)
	ctx := context.Background()
	admin := apps.Credentials{Username: wp.Admin, Password: wp.AppPassword}
	px := newProxy(t, wp.URL)

	cases := []struct {
		name        string
		down        func()
		up          func()
		mayHaveMade bool
	}{
		{"stopped", wp.Stop, wp.Start, true},
		{"connection refused", func() { px.set(modeDown) }, func() { px.set(modePass) }, false},
		{"502", func() { px.set(modeBadGateway) }, func() { px.set(modePass) }, true},
		{"timeout", func() { px.set(modeStall) }, func() { px.set(modePass) }, true},
		{"answer lost", func() { px.set(modeLose) }, func() { px.set(modePass) }, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := apps.Account{Username: fmt.Sprintf("down%d", i), Email: fmt.Sprintf("down%d@example.org", i), Role: "editor", Enabled: true}
			// Fresh connectors: no kept-alive connection from an earlier case.
			impatient := wpConnector(t, px.URL(), admin, func(c *apps.Config) { c.Timeout = 300 * time.Millisecond })
			patient := wpConnector(t, px.URL(), admin, nil)
			start := wp.UserCount()
			tc.down()
			_, err := impatient.Ensure(ctx, a)
			e := appErr(t, err)
			if !apps.IsRetryable(err) || e.Reason != apps.ReasonUnavailable {
				t.Fatalf("error %+v", e)
			}
			// A proxy in front of a stopped WordPress: the connection to
			// the proxy is made, so the create may have arrived.
			if tc.name != "stopped" && e.MayHaveCreated != tc.mayHaveMade {
				t.Fatalf("MayHaveCreated = %v", e.MayHaveCreated)
			}
			// The job records what the error says, then retries later.
			a.Owned = e.MayHaveCreated
			_, err = impatient.Ensure(ctx, a)
			if !apps.IsRetryable(err) {
				t.Fatalf("second attempt while down: %v", err)
			}
			tc.up()
			res, err := patient.Ensure(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			want := apps.OutcomeCreated
			if tc.name == "answer lost" {
				want = apps.OutcomeUnchanged // made while the answer was lost; found, and sesame's
			}
			if res.Outcome != want || !res.Managed {
				t.Fatalf("after recovery: %+v", res)
			}
			a.RemoteID, a.Owned = res.RemoteID, res.Owned
			if res, err = patient.Ensure(ctx, a); err != nil || res.Outcome != apps.OutcomeUnchanged {
				t.Fatalf("again: %+v %v", res, err)
			}
			if n := wp.UserCount(); n != start+1 {
				t.Fatalf("%d users, want %d", n, start+1)
			}
		})
	}
}
