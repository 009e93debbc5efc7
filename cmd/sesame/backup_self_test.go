package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

// TestBackupRefusesTheDatabase: "sesame backup --force FILE" renames the
// copy over FILE. When FILE is the live database (its path, another spelling
// of it, a link to its folder) or its -wal or -shm file, that replaced the
// database under the running serve: what serve wrote afterwards went to the
// replaced file and was lost. The command must refuse, exit 1, write
// nothing, and the database keep what is written after. The master key
// (secrets.key_file) is refused the same way: --force replaced it.
func TestBackupRefusesTheDatabase(t *testing.T) {
	dir := cliEnv(t, "")
	data := filepath.Join(dir, "data")
	db := filepath.Join(data, "sesame.db")
	ctx := context.Background()
	live, err := sqlite.Open(ctx, db, nil) // the running serve
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := live.CreateStructure(ctx, &store.Structure{Slug: "before", Name: "Before"}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{db, db + "-wal", db + "-shm", filepath.Join(data, ".", "..", "data", "sesame.db"),
		filepath.Join(link, "sesame.db")} {
		for _, force := range []bool{true, false} {
			args := []string{"backup", dest}
			if force {
				args = append(args, "--force")
			}
			code, _, errOut := runCLI(t, args...)
			if code != 1 || !strings.Contains(errOut, "is the database itself") || strings.Contains(errOut, "--force to replace") {
				t.Errorf("backup %v: exit %d, stderr %q; want 1 and \"is the database itself\"", args, code, errOut)
			}
		}
	}
	// The master key, even with --force: the copy would replace it.
	key := filepath.Join(data, "secret.key")
	before, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{key, filepath.Join(link, "secret.key")} {
		code, _, errOut := runCLI(t, "backup", "--force", dest)
		if code != 1 || !strings.Contains(errOut, "is the master key") {
			t.Errorf("backup --force %s: exit %d, stderr %q; want 1 and \"is the master key\"", dest, code, errOut)
		}
	}
	if after, _ := os.ReadFile(key); string(after) != string(before) {
		t.Error("a backup replaced the master key")
	}
	if err := live.CreateStructure(ctx, &store.Structure{Slug: "after", Name: "After"}); err != nil {
		t.Fatal(err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "structure", "list", "--format", "json")
	if code != 0 || !strings.Contains(out, `"before"`) || !strings.Contains(out, `"after"`) {
		t.Fatalf("structure list after the refused backups: exit %d\n%s\n%s", code, out, errOut)
	}
	// A file elsewhere is still written.
	other := filepath.Join(dir, "copy.db")
	if code, _, errOut := runCLI(t, "backup", other); code != 0 {
		t.Fatalf("backup to another file: exit %d %s", code, errOut)
	}
}

// TestExportRefusesSesamesOwnFiles: export -o writes a new file renamed over
// its name, so -o naming the database (or a companion file, or by another
// path) or the master key replaced it with a spreadsheet. It is refused,
// and they are left as they were.
func TestExportRefusesSesamesOwnFiles(t *testing.T) {
	dir := cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	data := filepath.Join(dir, "data")
	db, key := filepath.Join(data, "sesame.db"), filepath.Join(data, "secret.key")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	keyBefore, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{db, db + "-wal", filepath.Join(link, "sesame.db"), key, filepath.Join(link, "secret.key")} {
		code, _, errOut := runCLI(t, "export", "le-beta", "-o", dest)
		if code != 2 || !strings.Contains(errOut, "must go to another file") {
			t.Errorf("export -o %s: exit %d, stderr %q; want 2", dest, code, errOut)
		}
	}
	if after, _ := os.ReadFile(key); string(after) != string(keyBefore) {
		t.Error("an export replaced the master key")
	}
	if out := mustRun(t, "structure", "list", "--format", "json"); !strings.Contains(out, `"le-beta"`) {
		t.Fatalf("the database after the refused exports:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "export", "le-beta", "-o", filepath.Join(dir, "people.csv")); code != 0 {
		t.Fatalf("export to another file: exit %d %s", code, errOut)
	}
}
