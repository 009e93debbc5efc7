package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// sesame runs the command line in-process and returns the exit status and
// the standard output and error.
func sesame(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := sesame(t, args...)
	if code != 0 {
		t.Fatalf("sesame %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func wantExit(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errOut := sesame(t, args...)
	if code != want {
		t.Fatalf("sesame %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// cliEnv points the configuration at a fresh data directory, on SQLite or
// (with a DSN) PostgreSQL, and creates the store with "sesame migrate", as
// a new installation does.
func cliEnv(t *testing.T, dsn string) string {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SESAME_") && !strings.HasPrefix(name, "SESAME_TEST_") && name != "SESAME_REQUIRE_SERVICES" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	// The report's language follows the locale: tests start from one that
	// is not English, whatever the machine's.
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "C.UTF-8")
	dir := t.TempDir()
	t.Setenv("SESAME_DATA_DIR", filepath.Join(dir, "data"))
	if dsn != "" {
		t.Setenv("SESAME_STORE_DRIVER", "postgres")
		t.Setenv("SESAME_STORE_POSTGRES_DSN", dsn)
	}
	mustRun(t, "migrate")
	return dir
}

type cliReport struct {
	Summary map[string]int `json:"summary"`
	Rows    []struct {
		Row      int    `json:"row"`
		Action   string `json:"action"`
		Email    string `json:"email"`
		Username string `json:"username"`
		Grants   []struct {
			Service string `json:"service"`
			Role    string `json:"role"`
		} `json:"grants"`
		Errors []struct {
			Column  string `json:"column"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"rows"`
}

func parseReport(t *testing.T, out string) cliReport {
	t.Helper()
	var r cliReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return r
}

func TestCLIStructureServiceImportUser(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				dsn = testenv.Postgres(t)
			}
			dir := cliEnv(t, dsn)
			cliScenario(t, dir)
		})
	}
}

func cliScenario(t *testing.T, dir string) {
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "Referent@Example.org")
	wantExit(t, 1, "structure", "add", "le-beta", "--name", "Again")
	wantExit(t, 2, "structure", "add", "Le Beta", "--name", "Bad slug")
	wantExit(t, 2, "structure", "add", "other")
	wantExit(t, 2, "structure", "list", "--format", "xml")

	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
	mustRun(t, "service", "add", "le-beta", "wordpress", "--name", "Site web", "--url", "https://site.example.org", "--role-default", "auteur")
	mustRun(t, "service", "add", "le-beta", "paheko", "--name", "Compta", "--url", "https://compta.example.org",
		"--paheko-category", "Membre=1", "--paheko-category", "Trésorier=4")
	wantExit(t, 2, "service", "add", "le-beta", "mastodon", "--name", "M", "--url", "https://m.example.org")
	wantExit(t, 2, "service", "add", "le-beta", "paheko", "--name", "P", "--url", "https://p.example.org")
	wantExit(t, 2, "service", "add", "le-beta", "generic", "--name", "G", "--url", "not a url")
	wantExit(t, 2, "service", "add", "le-beta", "wordpress", "--name", "W", "--url", "https://w.example.org", "--role-default", "chef")
	wantExit(t, 2, "service", "add", "nope", "generic", "--name", "G", "--url", "https://g.example.org")
	wantExit(t, 1, "service", "add", "le-beta", "generic", "--name", "G", "--url", "https://g.example.org", "--slug", "paheko")

	out := mustRun(t, "service", "list", "le-beta", "--format", "json")
	var svcs []map[string]any
	if err := json.Unmarshal([]byte(out), &svcs); err != nil || len(svcs) != 3 {
		t.Fatalf("service list: %v\n%s", err, out)
	}
	bySlug := map[string]map[string]any{}
	for _, s := range svcs {
		bySlug[s["slug"].(string)] = s
	}
	if bySlug["wordpress"]["default_role"] != "author" || bySlug["paheko"]["default_role"] != "Membre" ||
		bySlug["nextcloud"]["client_id"] != "le-beta.nextcloud" {
		t.Errorf("services = %s", out)
	}
	if text := mustRun(t, "service", "list", "le-beta"); !strings.Contains(text, "Site web") {
		t.Errorf("service list text:\n%s", text)
	}
	out = mustRun(t, "structure", "list", "--format", "json")
	if !strings.Contains(out, `"slug": "le-beta"`) || !strings.Contains(out, `"services": 3`) || !strings.Contains(out, "referent@example.org") {
		t.Errorf("structure list = %s", out)
	}
	if text := mustRun(t, "structure", "list"); !strings.Contains(text, "Le Bêta") {
		t.Errorf("structure list text:\n%s", text)
	}

	good := filepath.Join(dir, "good.csv")
	// Windows-1252, semicolons, a sep= line: "Élodie" is 0xC9.
	if err := os.WriteFile(good, []byte("sep=;\r\nPr\xe9nom;Nom;Courriel;Nextcloud;Site web;Droits\r\n"+
		"\xc9lodie;Herv\xe9;elodie@example.org;admin;oui;compta:tr\xe9sorier\r\n"+
		"Jean;Dupont;jean@example.org;x;;\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("email;droits\nok@example.org;nextcloud\nnot-an-email;mastodon\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := parseReport(t, mustRun(t, "import", "le-beta", good, "--dry-run", "--format", "json"))
	if r.Summary["create"] != 2 || r.Rows[0].Username != "elodie.herve" || len(r.Rows[0].Grants) != 3 {
		t.Errorf("dry run = %+v", r)
	}
	if out := mustRun(t, "user", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("dry run created people: %s", out)
	}
	r = parseReport(t, wantExit(t, 1, "import", "le-beta", bad, "--format", "json", "--lang", "en"))
	if r.Summary["error"] != 1 || len(r.Rows[1].Errors) != 2 || !strings.Contains(r.Rows[1].Errors[1].Message, "not valid") {
		t.Errorf("bad import = %+v", r)
	}
	text := wantExit(t, 1, "import", "le-beta", bad)
	if !strings.Contains(text, "Import refusé") || !strings.Contains(text, "n'est pas valide") {
		t.Errorf("bad import text:\n%s", text)
	}
	wantExit(t, 1, "import", "le-beta", bad, "--dry-run")
	if out := mustRun(t, "user", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("rejected import created people: %s", out)
	}

	text = mustRun(t, "import", "le-beta", good)
	if !strings.Contains(text, "elodie.herve") || !strings.Contains(text, "Import appliqué") {
		t.Errorf("import text:\n%s", text)
	}
	r = parseReport(t, mustRun(t, "import", "le-beta", good, "--format", "json"))
	if r.Summary["unchanged"] != 2 {
		t.Errorf("re-import = %+v", r.Summary)
	}
	mustRun(t, "import", "le-beta", bad, "--skip-invalid")

	out = mustRun(t, "user", "list", "--structure", "le-beta", "--format", "json")
	var users []struct {
		Username   string   `json:"username"`
		State      string   `json:"state"`
		Structures []string `json:"structures"`
		Grants     []struct {
			Service, Role string
		} `json:"grants"`
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 3 {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if users[0].Username != "elodie.herve" || users[0].State != "invited" || len(users[0].Grants) != 3 || users[0].Structures[0] != "le-beta" {
		t.Errorf("user = %+v", users[0])
	}
	if text := mustRun(t, "user", "list"); !strings.Contains(text, "jean.dupont") || !strings.Contains(text, "le-beta/nextcloud:user") {
		t.Errorf("user list text:\n%s", text)
	}

	wantExit(t, 2, "import", "le-beta", good, "--mode", "replace")
	wantExit(t, 2, "import", "le-beta", good, "--format", "yaml")
	wantExit(t, 2, "import", "le-beta", filepath.Join(dir, "missing.csv"))
	wantExit(t, 2, "import", "nope", good)
	wantExit(t, 2, "import", "le-beta")
	wantExit(t, 2, "user", "list", "--structure", "nope")
}

// TestCLIImportExitStatusBinary checks the exit statuses of the built binary.
func TestCLIImportExitStatusBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	env := cleanEnv("SESAME_DATA_DIR=" + filepath.Join(dir, "data"))
	runBin := func(args ...string) int {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return 0
	}
	file := filepath.Join(dir, "p.csv")
	_ = os.WriteFile(file, []byte("email\na@example.org\nbad\n"), 0o600)
	if c := runBin("migrate"); c != 0 {
		t.Fatalf("migrate = %d", c)
	}
	if c := runBin("structure", "add", "s", "--name", "S"); c != 0 {
		t.Fatalf("structure add = %d", c)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"import", "s", file}, 1},
		{[]string{"import", "s", file, "--dry-run"}, 1},
		{[]string{"import", "s", file, "--skip-invalid"}, 0},
		{[]string{"import", "s", file, "--mode", "x"}, 2},
		{[]string{"import", "s"}, 2},
	} {
		if c := runBin(tc.args...); c != tc.want {
			t.Errorf("sesame %v = %d, want %d", tc.args, c, tc.want)
		}
	}
}

// TestCLIImportReportLanguage: the text report speaks one language, French
// by default, English when --lang or the locale says so; the JSON report
// keeps the identifiers.
func TestCLIImportReportLanguage(t *testing.T) {
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
	mustRun(t, "service", "add", "le-beta", "wordpress", "--name", "Site web", "--url", "https://site.example.org", "--slug", "site")
	first := filepath.Join(dir, "first.csv")
	if err := os.WriteFile(first, []byte("Prénom;Nom;Courriel;Droits;Langue\n"+
		"Élodie;Hervé;elodie@example.org;nextcloud:admin, site:éditeur;fr\n"+
		"Jean;Dupont;jean@example.org;;fr\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", first)
	second := filepath.Join(dir, "second.csv")
	if err := os.WriteFile(second, []byte("Prénom;Nom;Courriel;Droits;Langue\n"+
		"Élodie;Hervé;elodie@example.org;nextcloud;en\n"+
		"Jean;Dupont;jean@example.org;site;fr\n"+
		"Zoé;Martin;zoe@example.org;;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	french := []string{"LIGNE", "mise à jour", "création", "droit nextcloud : administrateur → utilisateur",
		"droit site : − éditeur", "langue : français → anglais", "nextcloud:utilisateur", "site:abonné",
		"Aucun droit n'est indiqué", "Simulation : rien n'a été modifié."}
	english := []string{"ROW", "update", "create", "right nextcloud: admin → user", "right site: − editor",
		"language: French → English", "nextcloud:user", "site:subscriber", "No rights are given",
		"Dry run: nothing was changed."}
	identifiers := []string{"grant:", "admin →", "→ user", "editor", "subscriber", "Dry run"}
	for _, tc := range []struct {
		name, lcAll, lang string
		args              []string
		want, notWant     []string
	}{
		{"default", "", "C.UTF-8", nil, french, append(identifiers, "create", "update")},
		{"english locale", "", "en_US.UTF-8", nil, english, []string{"droit", "création", "Simulation"}},
		{"LC_ALL wins over LANG", "fr_FR.UTF-8", "en_GB.UTF-8", nil, french, identifiers},
		{"--lang wins over the locale", "", "en_US.UTF-8", []string{"--lang", "fr"}, french, identifiers},
		{"--lang en", "", "fr_FR.UTF-8", []string{"--lang", "en"}, english, []string{"droit", "création"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("LANG", tc.lang)
			out := mustRun(t, append([]string{"import", "le-beta", second, "--dry-run"}, tc.args...)...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("report holds %q:\n%s", w, out)
				}
			}
		})
	}
	t.Setenv("LANG", "C.UTF-8")
	out := mustRun(t, "import", "le-beta", second, "--dry-run", "--format", "json")
	for _, w := range []string{`"action": "update"`, `"action": "create"`, `"field": "grant:nextcloud"`, `"from": "admin"`,
		`"to": "user"`, `"role": "subscriber"`, "Aucun droit n'est indiqué"} {
		if !strings.Contains(out, w) {
			t.Errorf("JSON report lacks %q:\n%s", w, out)
		}
	}
}
