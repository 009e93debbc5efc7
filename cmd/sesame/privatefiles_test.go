package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportOverExistingFileIsPrivate: "sesame export -o FILE" must leave
// FILE readable by its owner only (docs/operations.md: "-o writes it with
// mode 0600"), also when FILE already existed with a wider mode (a file
// made beforehand by another user, or an earlier copy chmod'ed for sharing);
// and it must not write the people's data through a symbolic link.
func TestExportOverExistingFileIsPrivate(t *testing.T) {
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("Prénom;Nom;Email\nJean;Dupont;jean@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "le-beta", csv)

	// An existing, world-readable file.
	file := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	mustRun(t, "export", "le-beta", "-o", file)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), "jean@example.org") {
		t.Fatalf("export not written:\n%s", b)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export written over an existing file keeps mode %04o: the personal data is readable by others", fi.Mode().Perm())
	}

	// A symbolic link planted at the output's name.
	target := filepath.Join(dir, "elsewhere.csv")
	if err := os.WriteFile(target, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o666); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "export-link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	code, _, _ := sesame(t, "export", "le-beta", "-o", link)
	if b, _ := os.ReadFile(target); strings.Contains(string(b), "jean@example.org") {
		t.Errorf("export (exit %d) followed the symbolic link %s into %s (mode 0666)", code, link, target)
	}
}

// TestCLIDoesNotPrintDSNPassword: "config check" and "backup" show the
// PostgreSQL DSN "without its password"; a password given as a query
// parameter (which pgx and libpq accept) must be hidden too.
func TestCLIDoesNotPrintDSNPassword(t *testing.T) {
	clearConfigEnv(t)
	t.Setenv("SESAME_DATA_DIR", t.TempDir())
	t.Setenv("SESAME_STORE_DRIVER", "postgres")
	t.Setenv("SESAME_STORE_POSTGRES_DSN", "postgres://sesame@db.example.org/sesame?sslmode=require&password=hunter2")
	code, out, errOut := runCLI(t, "config", "check")
	if code != 0 || !strings.Contains(out, "store:      postgres") {
		t.Fatalf("config check: %d %q %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, "hunter2") {
		t.Errorf("config check prints the database password:\n%s%s", out, errOut)
	}
	_, out, errOut = runCLI(t, "backup", filepath.Join(t.TempDir(), "b.db"))
	if strings.Contains(out+errOut, "hunter2") {
		t.Errorf("backup prints the database password:\n%s%s", out, errOut)
	}
}
