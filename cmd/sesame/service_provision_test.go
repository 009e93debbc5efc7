package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/provision"
)

// TestServiceCredentialsWordPress gives a WordPress service its API
// credentials from a file, checks them with service test, and runs the
// provisioning the command queued against a real WordPress: the person
// imported as an editor is an editor there before any login.
func TestServiceCredentialsWordPress(t *testing.T) {
	site := testenv.WordPress(t)
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "ref@le-beta.org")
	mustRun(t, "service", "add", "le-beta", "wordpress", "--name", "Site", "--url", site.URL)
	csv := filepath.Join(dir, "people.csv")
	os.WriteFile(csv, []byte("prénom;nom;email;droits\nÉlodie;Lefèvre;elodie@le-beta.org;wordpress:éditrice\n"+
		"Ada;Admin;"+site.AdminEmail+";wordpress:abonnée\n"), 0o600)
	mustRun(t, "import", "le-beta", csv)

	// Never from the command line: no flag takes a password.
	wantExit(t, 2, "service", "credentials", "le-beta", "wordpress", "--password", "x")
	// A file with one line is refused with a sentence.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("admin\n"), 0o600)
	if out := wantExit(t, 2, "service", "credentials", "le-beta", "wordpress", "--from-file", bad); out != "" {
		t.Fatalf("stdout on a refused file: %q", out)
	}
	_, _, errOut := sesame(t, "service", "credentials", "le-beta", "wordpress", "--from-file", bad)
	if !strings.Contains(errOut, "two lines") {
		t.Fatalf("stderr = %q", errOut)
	}

	// Wrong password: stored, but service test says what is wrong.
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte(site.Admin+"\nnot the app password\n"), 0o600)
	mustRun(t, "service", "credentials", "le-beta", "wordpress", "--from-file", wrong)
	code, out, _ := sesame(t, "service", "test", "le-beta", "wordpress")
	if code != 1 || !strings.Contains(out, "Échec") {
		t.Fatalf("service test with a wrong password: exit %d\n%s", code, out)
	}

	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte(site.Admin+"\n"+site.AppPassword+"\n"), 0o600)
	out = mustRun(t, "service", "credentials", "le-beta", "wordpress", "--from-file", creds)
	if !strings.Contains(out, "2 compte(s)") {
		t.Fatalf("credentials output: %q", out)
	}
	if out := mustRun(t, "service", "test", "le-beta", "wordpress"); !strings.HasPrefix(out, "OK") {
		t.Fatalf("service test: %q", out)
	}
	// The database holds the password encrypted only.
	db, _ := os.ReadFile(filepath.Join(dir, "data", "sesame.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "data", "sesame.db-wal"))
	if bytes.Contains(db, []byte(site.AppPassword)) || bytes.Contains(wal, []byte(site.AppPassword)) {
		t.Fatal("the application password is stored in clear")
	}

	// Run the queued jobs as serve would.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data", "sesame.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	master, err := config.LoadOrCreateKey(filepath.Join(dir, "data", "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.New(st, master, provision.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := jobs.NewRunner(st, jobs.Config{}, nil)
	p.Register(r)
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(site.PHP(`echo implode(',', get_user_by('email', 'elodie@le-beta.org')->roles);`)); got != "editor" {
		t.Fatalf("WordPress role = %q, want editor", got)
	}
	if got := strings.TrimSpace(site.PHP(`echo implode(',', get_user_by('login', 'admin')->roles);`)); got != "administrator" {
		t.Fatalf("the site's own administrator now has %q", got)
	}
	recs, _ := st.ListProvisions(ctx, store.ProvisionFilter{})
	if len(recs) != 2 || recs[0].Status != store.ProvisionDone || recs[1].Status != store.ProvisionDone {
		t.Fatalf("provisions = %+v", recs)
	}
	// user show and user list say where each account stands.
	if out := mustRun(t, "user", "show", "elodie@le-beta.org"); !strings.Contains(out, "le-beta/wordpress: done (id ") ||
		strings.Contains(out, "linked") {
		t.Fatalf("user show elodie:\n%s", out)
	}
	if out := mustRun(t, "user", "show", site.AdminEmail); !strings.Contains(out, "linked, not managed") {
		t.Fatalf("user show admin:\n%s", out)
	}
	if out := mustRun(t, "user", "list", "--format", "json"); !strings.Contains(out, `"status": "done"`) ||
		!strings.Contains(out, `"managed": false`) {
		t.Fatalf("user list json:\n%s", out)
	}
	wantExit(t, 1, "user", "show", "nobody@le-beta.org")
}
