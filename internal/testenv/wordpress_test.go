package testenv_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// TestWordPress starts a real WordPress and checks what the connectors rely
// on: the administrator's application password opens the REST API, both
// permalink settings behave as the recipe records, and a stopped server
// refuses connections until it is started again.
func TestWordPress(t *testing.T) {
	wp := testenv.WordPress(t)
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, wp.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(wp.Admin, wp.AppPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	me := func(path string) {
		t.Helper()
		code, body := get(path)
		var u struct {
			Username string `json:"username"`
			Email    string `json:"email"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil || u.Username != wp.Admin || u.Email != wp.AdminEmail {
			t.Fatalf("GET %s: %d %.300s", path, code, body)
		}
	}
	me("/wp-json/wp/v2/users/me?context=edit")
	me("/?rest_route=/wp/v2/users/me&context=edit")
	if n := wp.UserCount(); n != 1 {
		t.Fatalf("fresh site has %d users", n)
	}

	wp.SetPrettyPermalinks(false)
	me("/?rest_route=/wp/v2/users/me&context=edit")
	req, _ := http.NewRequest(http.MethodPost, wp.URL+"/wp-json/wp/v2/users",
		strings.NewReader(`{"username":"bob","email":"bob@example.org","password":"x-123-456-789"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(wp.Admin, wp.AppPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated || strings.Contains(string(b), `"username"`) {
		t.Fatalf("POST /wp-json/ without pretty permalinks created a user: %d %.200s", resp.StatusCode, b)
	}
	if n := wp.UserCount(); n != 1 {
		t.Fatalf("after the empty POST the site has %d users", n)
	}
	wp.SetPrettyPermalinks(true)
	me("/wp-json/wp/v2/users/me?context=edit")

	app := wp.CreateUser("edith", "edith@example.org", "editor")
	if len(strings.ReplaceAll(app, " ", "")) != 24 || wp.UserCount() != 2 {
		t.Fatalf("CreateUser: app password %q, %d users", app, wp.UserCount())
	}

	wp.Stop()
	if _, err := http.Get(wp.URL + "/?rest_route=/"); err == nil {
		t.Fatal("stopped WordPress still answers")
	}
	wp.Start()
	me("/?rest_route=/wp/v2/users/me&context=edit")
}
