package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

// "sesame jobs list" shows the dead jobs with their last error, and
// "sesame jobs retry" gives them a fresh set of attempts.
func TestCLIJobs(t *testing.T) {
	clearConfigEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dir)
	if code, _, errOut := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sesame.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	dead := store.Job{Kind: "oidc.backchannel-logout", Payload: []byte(`{"client_id":"le-beta.nextcloud"}`)}
	pending := store.Job{Kind: "ldap.person", Payload: []byte(`{"person_id":"p1"}`)}
	for _, j := range []*store.Job{&dead, &pending} {
		if _, err := db.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.ClaimJobs(ctx, store.ClaimRequest{Kinds: []string{dead.Kind}, Lease: time.Minute})
	if err != nil || len(c) != 1 {
		t.Fatalf("claim: %v %v", c, err)
	}
	if err := db.BuryJob(ctx, dead.ID, c[0].LeaseID, "idp: back-channel logout to https://nc.example/x: status 404"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, errOut := runCLI(t, "jobs", "list")
	if code != 0 || !strings.Contains(out, "pending 1, running 0, done 0, dead 1") ||
		!strings.Contains(out, "oidc.backchannel-logout") || !strings.Contains(out, "status 404") || strings.Contains(out, "ldap.person") {
		t.Fatalf("jobs list: %d\n%s%s", code, out, errOut)
	}
	// LDAP is off: the pending LDAP job (left by an earlier configuration)
	// will never run, and jobs list says so.
	if !strings.Contains(out, "Pending ldap.* jobs will not run: LDAP is off") || !strings.Contains(out, "sesame ldap sync") {
		t.Fatalf("jobs list does not explain the pending LDAP job:\n%s", out)
	}
	code, out, _ = runCLI(t, "jobs", "list", "--state", "pending", "--format", "json")
	var listed struct {
		Counts map[string]int `json:"counts"`
		Jobs   []jobJSON      `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed.Jobs) != 1 || listed.Jobs[0].Kind != "ldap.person" || listed.Counts["dead"] != 1 {
		t.Fatalf("jobs list --state pending --format json: %d %v\n%s", code, err, out)
	}
	if code, _, errOut := runCLI(t, "jobs", "list", "--state", "buried"); code != 2 || !strings.Contains(errOut, "--state") {
		t.Errorf("a bad state: %d %s", code, errOut)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "retry", "x"}, 2, "not a job id"},
		{[]string{"jobs", "retry", "999"}, 1, "no such job"},
		{[]string{"jobs", "retry", itoa(pending.ID)}, 1, "only dead jobs"},
		{[]string{"jobs", "retry", itoa(dead.ID)}, 0, "will run again"},
		{[]string{"jobs", "retry", itoa(dead.ID)}, 1, "only dead jobs"}, // pending now
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d (want %d)\n%s%s", c.args, code, c.code, out, errOut)
		}
	}
	if code, out, _ := runCLI(t, "jobs", "list"); code != 0 || !strings.Contains(out, "pending 2, running 0, done 0, dead 0") {
		t.Errorf("after the retry: %s", out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestNoLDAPJobsWhenLDAPIsOff: with LDAP off (the default), the commands
// that change people and structures queue their emails but no LDAP job,
// on both backends, so nothing waits forever in the queue.
func TestNoLDAPJobsWhenLDAPIsOff(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				dsn = testenv.Postgres(t)
			}
			dir := cliEnv(t, dsn)
			mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "ref@example.org")
			mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
			file := filepath.Join(dir, "people.csv")
			if err := os.WriteFile(file, []byte("Prénom;Nom;Courriel;Nextcloud\nAda;Lovelace;ada@example.org;user\nAlan;Turing;alan@example.org;admin\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			mustRun(t, "import", "le-beta", file)
			out := mustRun(t, "jobs", "list", "--state", "pending", "--format", "json")
			var listed struct {
				Jobs []jobJSON `json:"jobs"`
			}
			if err := json.Unmarshal([]byte(out), &listed); err != nil {
				t.Fatal(err)
			}
			mail := 0
			for _, j := range listed.Jobs {
				if strings.HasPrefix(j.Kind, "ldap.") {
					t.Errorf("LDAP is off, yet a %s job was queued", j.Kind)
				}
				if strings.HasPrefix(j.Kind, "mail.") {
					mail++
				}
			}
			if mail != 2 {
				t.Errorf("%d mail jobs pending, want the 2 activation emails:\n%s", mail, out)
			}
		})
	}
}
