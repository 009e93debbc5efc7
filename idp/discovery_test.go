package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestDiscoveryGolden pins the discovery document the three applications
// read (INTEGRATIONS.md): a change to it is a change of contract, made on
// purpose with -update and reviewed in the diff.
func TestDiscoveryGolden(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != f.issuer {
		t.Fatalf("issuer %v, want %q byte for byte", doc["issuer"], f.issuer)
	}
	norm, _ := json.MarshalIndent(doc, "", "  ")
	got := append(bytes.ReplaceAll(norm, []byte(f.issuer), []byte("ISSUER")), '\n')
	golden := filepath.Join("testdata", "discovery.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("discovery changed:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// TestLoginPageOffersANextStep: a person who does not know their password
// must find the way out from the login page itself.
func TestLoginPageOffersANextStep(t *testing.T) {
	f := newFixture(t)
	res := f.browser().get(f.authURL(authParams(f.gen.ClientID, genRedirect)))
	if !res.isLoginForm() || !strings.Contains(res.body, `href="forgot"`) {
		t.Fatalf("login page without a link to /forgot: %d %.300s", res.status, res.body)
	}
}

// Discovery and the JWKS are answered from memory: they still work with
// the store closed, so no request reads the database.
func TestMetadataNeedsNoStore(t *testing.T) {
	f := newFixture(t)
	if err := f.st.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.GetStructure(context.Background(), f.structure.ID); err == nil {
		t.Fatal("the store still answers after Close")
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		resp, err := http.Get(f.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !json.Valid(body) || len(body) < 100 {
			t.Errorf("%s with the store closed: %d %.200s", path, resp.StatusCode, body)
		}
	}
}
