package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestHosterCommandsAreAudited: giving or forgetting an application's
// administrator password (service credentials) and new signing keys (keys
// rotate) are in the audit trail, with who ran them, like every other
// change an administrator makes.
func TestHosterCommandsAreAudited(t *testing.T) {
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "ref@le-beta.org")
	mustRun(t, "service", "add", "le-beta", "wordpress", "--name", "Site", "--url", "https://site.le-beta.example")
	creds := filepath.Join(dir, "creds")
	if err := os.WriteFile(creds, []byte("admin\nabcd efgh ijkl mnop qrst uvwx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "service", "credentials", "le-beta", "wordpress", "--from-file", creds)
	mustRun(t, "service", "credentials", "le-beta", "wordpress", "--remove")
	mustRun(t, "keys", "rotate")

	var entries []struct {
		Actor   string         `json:"actor"`
		Action  string         `json:"action"`
		Details map[string]any `json:"details"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "audit", "--format", "json")), &entries); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, e := range entries {
		if e.Actor == "" {
			t.Errorf("%s: no actor", e.Action)
		}
		got[e.Action] = e.Details
	}
	for _, action := range []string{"service.credentials.set", "service.credentials.remove"} {
		if d, ok := got[action]; !ok || d["service"] != "wordpress" {
			t.Errorf("%s: %v (recorded: %v)", action, d, ok)
		}
	}
	if d, ok := got["keys.rotate"]; !ok || d["keys"] == nil {
		t.Errorf("keys.rotate: %v (recorded: %v)", d, ok)
	}
}
