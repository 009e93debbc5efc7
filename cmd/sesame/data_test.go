package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIImportExportData runs the data side of the command line on
// SQLite: a Google Workspace export imported with the links going to the
// personal addresses, a column mapped once and remembered, an export
// written to a file readable by its owner only.
func TestCLIImportExportData(t *testing.T) {
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")

	google := filepath.Join("..", "..", "onboarding", "testdata", "exports", "google_workspace_users.csv")
	wantExit(t, 2, "import", "le-beta", google, "--address", "home")
	out := mustRun(t, "import", "le-beta", google, "--address", "personal", "--lang", "en")
	if !strings.Contains(out, "Google Workspace user export recognised") || !strings.Contains(out, "Import applied.") {
		t.Errorf("import of a Google export:\n%s", out)
	}
	out = mustRun(t, "user", "list", "--format", "json")
	if !strings.Contains(out, "camille.durand@gmail.com") || strings.Contains(out, "camille.durand@lebeta.org") {
		t.Errorf("the personal address did not become the person's:\n%s", out)
	}

	csv := filepath.Join(dir, "autres.csv")
	if err := os.WriteFile(csv, []byte("Qui;Famille;Mél pro\nJean;Dupont;jean@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantExit(t, 1, "import", "le-beta", csv)
	wantExit(t, 2, "import", "le-beta", csv, "--map", "Qui")
	wantExit(t, 2, "import", "le-beta", csv, "--map", "Qui=telephone")
	mustRun(t, "import", "le-beta", csv, "--map", "Qui=prénom", "--map", "Famille=family_name", "--map", "Mél pro=email")
	if err := os.WriteFile(csv, []byte("Qui;Famille;Mél pro\nMarie;Curie;marie@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", csv) // remembered

	file := filepath.Join(dir, "export.csv")
	wantExit(t, 2, "export", "nope")
	mustRun(t, "export", "le-beta", "-o", file, "--lang", "en")
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(file)
	for _, want := range []string{"\ufeffFirst name;Last name;", "camille.durand@gmail.com", "marie@example.org;marie.curie;fr;;;invited"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("export lacks %q:\n%s", want, b)
		}
	}
	if out := mustRun(t, "export", "le-beta"); !strings.HasPrefix(out, "\ufeffPrénom;Nom;") {
		t.Errorf("export to standard output:\n%s", out)
	}

	if out := mustRun(t, "structure", "reminders", "le-beta"); out != "Reminders for le-beta: on.\n" {
		t.Errorf("reminders by default: %q", out)
	}
	mustRun(t, "structure", "reminders", "le-beta", "off")
	if out := mustRun(t, "structure", "reminders", "le-beta"); out != "Reminders for le-beta: off.\n" {
		t.Errorf("reminders turned off: %q", out)
	}
	wantExit(t, 2, "structure", "reminders", "le-beta", "maybe")
	wantExit(t, 2, "structure", "reminders", "nope", "on")

	out = mustRun(t, "audit", "--structure", "le-beta", "--since", "1h")
	for _, want := range []string{"TIME (UTC)", "import.apply", "structure.export", "structure.reminders", "le-beta"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "audit", "--person", "marie@example.org", "--format", "json")
	if !strings.HasPrefix(out, "[") {
		t.Errorf("audit --format json:\n%s", out)
	}
	wantExit(t, 2, "audit", "--structure", "nope")
	wantExit(t, 2, "audit", "--person", "nobody@example.org")
	wantExit(t, 2, "audit", "--since", "yesterday")
}
