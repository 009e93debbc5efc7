package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

// `service update --url` is the hoster's: giving the address a referent
// gave, unchanged, vouches for it (sesame no longer checks where it
// connects for that service); changing only the name does not.
func TestCLIServiceUpdateConfirmsAReferentsAddress(t *testing.T) {
	dir := filepath.Join(cliEnv(t, ""), "data")
	ctx := context.Background()
	marked := func(set bool) bool {
		t.Helper()
		db, err := sqlite.Open(ctx, filepath.Join(dir, "sesame.db"), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if set {
			s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
			if err := db.CreateStructure(ctx, &s); err != nil {
				t.Fatal(err)
			}
			svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "nextcloud", Name: "Nextcloud",
				ClientID: "le-beta.nextcloud", BaseURL: "https://nuage.lebeta.example", ReferentAddress: true}
			if err := db.CreateService(ctx, &svc); err != nil {
				t.Fatal(err)
			}
		}
		svc, err := db.GetServiceByClientID(ctx, "le-beta.nextcloud")
		if err != nil {
			t.Fatal(err)
		}
		return svc.ReferentAddress
	}
	marked(true)
	if code, _, errOut := runCLI(t, "service", "update", "le-beta", "nextcloud", "--name", "Nuage"); code != 0 {
		t.Fatalf("rename: %s", errOut)
	}
	if !marked(false) {
		t.Fatal("a rename confirmed the referent's address")
	}
	if code, _, errOut := runCLI(t, "service", "update", "le-beta", "nextcloud", "--url", "https://nuage.lebeta.example"); code != 0 {
		t.Fatalf("update --url: %s", errOut)
	}
	if marked(false) {
		t.Fatal("the hoster gave the address again: still marked as a referent's")
	}
}

// `service test` on a service whose address a referent gave connects as the
// provisioning jobs do: an address on this machine is refused, with the
// reason, and the application's server receives nothing; once the hoster
// gives the address, the test reaches it.
func TestCLIServiceTestRefusesAReferentsInternalAddress(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "ref@le-beta.org")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nuage", "--url", srv.URL)
	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte("admin\napp-password\n"), 0o600)
	mustRun(t, "service", "credentials", "le-beta", "nextcloud", "--from-file", creds, "--setting", "provider_id=1")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "data", "sesame.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := db.GetServiceByClientID(ctx, "le-beta.nextcloud")
	if err == nil {
		_, err = db.UpdateService(ctx, svc.ID, func(s *store.Service) error { s.ReferentAddress = true; return nil })
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := sesame(t, "service", "test", "le-beta", "nextcloud")
	if code != 1 || !strings.Contains(out+errOut, "internal network") || hits.Load() != 0 {
		t.Fatalf("service test of a referent's address on 127.0.0.1: exit %d, %d requests\n%s%s", code, hits.Load(), out, errOut)
	}
	mustRun(t, "service", "update", "le-beta", "nextcloud", "--url", srv.URL)
	sesame(t, "service", "test", "le-beta", "nextcloud")
	if hits.Load() == 0 {
		t.Fatal("the hoster's address: not reached")
	}
}
