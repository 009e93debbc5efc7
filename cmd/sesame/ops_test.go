package main

import (
	"context"
	"database/sql"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"sesame/internal/testenv"
)

// TestSchemaNewerRefusedSQLite and TestSchemaNewerRefusedPostgres record a
// migration newer than this binary's in a migrated store, as a newer sesame
// would: serve and every command that opens the store refuse with exit 1,
// naming both versions and the remedy, and change nothing.
func TestSchemaNewerRefusedSQLite(t *testing.T) {
	clearConfigEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dir)
	schemaNewerRefused(t, "sqlite", filepath.Join(dir, "sesame.db"))
}

func TestSchemaNewerRefusedPostgres(t *testing.T) {
	clearConfigEnv(t)
	dsn := testenv.Postgres(t)
	t.Setenv("SESAME_DATA_DIR", t.TempDir())
	t.Setenv("SESAME_STORE_DRIVER", "postgres")
	t.Setenv("SESAME_STORE_POSTGRES_DSN", dsn)
	schemaNewerRefused(t, "pgx", dsn)
}

func schemaNewerRefused(t *testing.T, driver, dsn string) {
	t.Setenv("SESAME_LISTEN", "127.0.0.1:0")
	if code, out, errOut := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var known, rows int
	if err := db.QueryRowContext(ctx, "SELECT MAX(version), COUNT(*) FROM schema_migrations").Scan(&known, &rows); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', CURRENT_TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"structure", "list"}, {"user", "list"}, {"jobs", "list"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 {
			t.Fatalf("%v on a newer schema: exit %d, want 1\n%s%s", args, code, out, errOut)
		}
		for _, want := range []string{"version 9999", "this sesame binary knows (version " + itoa(int64(known)) + ")", "Upgrade sesame", "restore a backup", "Nothing was changed"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, errOut)
			}
		}
	}
	var after int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&after); err != nil || after != rows+1 {
		t.Errorf("schema_migrations has %d rows (%v), want %d", after, err, rows+1)
	}
}

// TestSystemdUnit checks docs/sesame.service with systemd-analyze verify
// (ExecStart pointed at a built binary, since verify wants it executable):
// no warning at all, and "systemd-analyze security" rates its exposure at
// most 2.0 ("OK"). A unit with a mistyped directive must fail the same
// check, so that a warning is never taken for success.
func TestSystemdUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze (Debian package systemd)")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "docs", "sesame.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=sesame", "StateDirectory=sesame", "ProtectSystem=strict", "ProtectHome=yes",
		"NoNewPrivileges=yes", "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
		"ExecStart=/usr/local/bin/sesame serve --config /etc/sesame/sesame.yaml"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("docs/sesame.service lacks %q", want)
		}
	}
	bin, err := exec.LookPath("true") // any executable: verify checks ExecStart's
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := func(name, text string) (string, error) {
		path := filepath.Join(dir, name)
		text = strings.ReplaceAll(text, "/usr/local/bin/sesame", bin)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sa, "verify", path)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err == nil && strings.TrimSpace(out.String()) != "" {
			err = fmt.Errorf("warnings")
		}
		return out.String(), err
	}
	if out, err := check("sesame.service", string(unit)); err != nil {
		t.Fatalf("systemd-analyze verify docs/sesame.service: %v\n%s", err, out)
	}
	bad := strings.Replace(string(unit), "ProtectHome=yes", "ProtectHome=yes\nProtectSistem=strict", 1)
	if out, err := check("bad.service", bad); err == nil || !strings.Contains(out, "ProtectSistem") {
		t.Fatalf("a mistyped directive passed the check: %v\n%s", err, out)
	}
	out, err := exec.Command(sa, "security", "--offline=yes", filepath.Join(dir, "sesame.service")).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for sesame.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("exposure level %s, want at most 2.0:\n%s", m[1], out)
	}
}

// TestStaticBuild builds sesame with CGO_ENABLED=0, as docs/operations.md
// says, and checks that the binary is static: its build information says
// CGO_ENABLED=0, and the ELF file has no interpreter (PT_INTERP) and needs
// no shared library.
func TestStaticBuild(t *testing.T) {
	bin := buildBinary(t) // built with CGO_ENABLED=0
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	cgo := ""
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" {
			cgo = s.Value
		}
	}
	if cgo != "0" {
		t.Errorf("build setting CGO_ENABLED = %q, want 0", cgo)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) != 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "sesame ") {
		t.Errorf("the static binary does not run: %v\n%s", err, out)
	}
}
