package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/spf13/cobra"

	"sesame/internal/testenv"
)

// allCommands lists every command of the tree, the root first.
func allCommands() []*cobra.Command {
	cmds := []*cobra.Command{newRootCmd(&app{})}
	for i := 0; i < len(cmds); i++ {
		cmds = append(cmds, cmds[i].Commands()...)
	}
	return cmds
}

// TestEveryCommandUsageErrors walks the whole command tree: an unknown flag,
// an unknown subcommand of a group and extra arguments to any command exit
// with status 2 and point to the command's help, before anything is opened
// or created.
func TestEveryCommandUsageErrors(t *testing.T) {
	clearConfigEnv(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dataDir)
	extra := strings.Fields(strings.Repeat("x ", 12))
	checked := 0
	for _, c := range allCommands() {
		path := strings.Fields(c.CommandPath())[1:]
		cases := [][]string{append(append([]string{}, path...), "--no-such-flag")}
		if c.HasSubCommands() {
			cases = append(cases, append(append([]string{}, path...), "no-such-command"))
		} else {
			cases = append(cases, append(append([]string{}, path...), extra...))
		}
		for _, args := range cases {
			code, out, errOut := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("sesame %s: exit %d, want %d (usage)\n%s%s", strings.Join(args, " "), code, exitUsage, out, errOut)
				continue
			}
			if !strings.HasPrefix(errOut, "sesame: ") || !strings.HasSuffix(errOut, "\nRun '"+c.CommandPath()+" --help' for usage.\n") {
				t.Errorf("sesame %s: no pointer to the help in %q", strings.Join(args, " "), errOut)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("only %d usage cases checked: the walk missed commands", checked)
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("a usage error created data_dir")
	}
}

// TestUnknownSubcommand: a word that names no command of a group is a usage
// error with a hint, not the group's help with exit 0.
func TestUnknownSubcommand(t *testing.T) {
	clearConfigEnv(t)
	for _, c := range []struct {
		args []string
		hint string
	}{
		{[]string{"user", "suspend", "x"}, `unknown command "suspend" for "sesame user"; its commands are: delete, disable, enable, list, mfa, resend, reset, show, update`},
		{[]string{"structur", "list"}, `did you mean "sesame structure"?`},
		{[]string{"user", "lsit"}, `did you mean "sesame user list"?`},
		{[]string{"resend", "camille"}, `did you mean "sesame user resend"?`},
		{[]string{"jobs", "retyr", "4"}, `did you mean "sesame jobs retry"?`},
		{[]string{"help", "user", "suspend"}, `unknown command "suspend" for "sesame user"`},
		{[]string{"help", "user", "resend", "camille"}, `"sesame user resend" takes no further command`},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.hint) {
			t.Errorf("sesame %s: exit %d, stdout %q, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, out, errOut, c.hint)
		}
	}
	// A group alone, or asked for help, prints its help.
	for _, args := range [][]string{{"user"}, {"user", "--help"}, {"help", "user"}} {
		if code, out, _ := runCLI(t, args...); code != exitOK || !strings.Contains(out, "resend") {
			t.Errorf("sesame %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
}

// noStoreCommands need an existing store; each must refuse to run, and
// create nothing, when there is none.
var noStoreCommands = [][]string{
	{"structure", "list"},
	{"structure", "add", "le-beta", "--name", "Le Bêta"},
	{"service", "list", "le-beta"},
	{"service", "update", "le-beta", "nextcloud", "--name", "Nuage"},
	{"user", "list"},
	{"user", "resend", "camille"},
	{"jobs", "list"},
	{"keys", "list"},
	{"keys", "rotate"},
	{"import", "le-beta", "people.csv"},
	{"admin", "add", "root@example.org"},
	{"admin", "list"},
	{"structure", "referent", "add", "le-beta", "camille@example.org"},
	{"user", "disable", "camille"},
}

// TestCommandsNeedAStoreSQLite runs the commands from a folder that is not
// the one the data lives in (data_dir is relative by default): each says
// where it looked and how to point at the right place, exits 1, and
// creates nothing. After "sesame migrate" they run.
func TestCommandsNeedAStoreSQLite(t *testing.T) {
	clearConfigEnv(t)
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.WriteFile("people.csv", []byte("email\ncamille@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range noStoreCommands {
		code, out, errOut := runCLI(t, args...)
		if code != exitFail || out != "" {
			t.Errorf("sesame %s: exit %d, stdout %q; want 1 and no output", strings.Join(args, " "), code, out)
		}
		for _, want := range []string{"no database at " + filepath.Join(wd, "data", "sesame.db"), `data_dir is "./data" (from the built-in default)`,
			"relative to the folder this command runs in, " + wd, "--config FILE", "SESAME_DATA_DIR=DIR", "data_dir in the configuration file",
			"sesame migrate", "Nothing was created"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("sesame %s: the message lacks %q:\n%s", strings.Join(args, " "), want, errOut)
			}
		}
		if _, err := os.Stat("data"); err == nil {
			t.Fatalf("sesame %s created ./data", strings.Join(args, " "))
		}
	}
	// With a configuration file, the message names it.
	cfg := filepath.Join(wd, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: /var/lib/nowhere-sesame\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "user", "list"); code != exitFail ||
		!strings.Contains(errOut, `no database at /var/lib/nowhere-sesame/sesame.db: data_dir is "/var/lib/nowhere-sesame" (from the configuration `+cfg+")") {
		t.Errorf("with --config: exit %d\n%s", code, errOut)
	}

	// A database without its master key: the commands that need the key
	// refuse too, rather than making a new one (links already sent would
	// no longer open).
	if code, out, errOut := runCLI(t, "migrate"); code != exitOK || !strings.Contains(out, "A new master key is in data/secret.key") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if err := os.Rename(filepath.Join("data", "secret.key"), filepath.Join(wd, "key.bak")); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	// migrate on an existing store warns, and makes no new key.
	if code, out, errOut := runCLI(t, "migrate"); code != exitOK || !strings.Contains(out, "up to date") ||
		!strings.HasPrefix(errOut, "warning: no master key at "+filepath.Join(wd, "data", "secret.key")) {
		t.Errorf("migrate without the key: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{{"import", "le-beta", "people.csv"}, {"keys", "rotate"}, {"user", "resend", "camille"},
		{"admin", "add", "root@example.org"}, {"migrate"}} {
		code, _, errOut := runCLI(t, args...)
		if (code != exitFail && args[0] != "migrate") || !strings.Contains(errOut, "no master key at "+filepath.Join(wd, "data", "secret.key")) ||
			!strings.Contains(errOut, "Restore the key from a backup") {
			t.Errorf("sesame %s without the key: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
		if _, err := os.Stat(filepath.Join("data", "secret.key")); err == nil {
			t.Fatalf("sesame %s created a new master key", strings.Join(args, " "))
		}
	}
	if err := os.Rename(filepath.Join(wd, "key.bak"), filepath.Join("data", "secret.key")); err != nil {
		t.Fatal(err)
	}
	for _, args := range noStoreCommands {
		if code, out, errOut := runCLI(t, args...); code == exitFail && strings.Contains(errOut, "no database") {
			t.Errorf("sesame %s after migrate: %d %q %q", strings.Join(args, " "), code, out, errOut)
		}
	}
}

// TestCommandsNeedAStorePostgres points the commands at an empty PostgreSQL
// database: they refuse, and create no table.
func TestCommandsNeedAStorePostgres(t *testing.T) {
	clearConfigEnv(t)
	dsn := testenv.Postgres(t)
	t.Chdir(t.TempDir())
	t.Setenv("SESAME_STORE_DRIVER", "postgres")
	t.Setenv("SESAME_STORE_POSTGRES_DSN", dsn)
	for _, args := range noStoreCommands[:6] {
		code, _, errOut := runCLI(t, args...)
		if code != exitFail || !strings.Contains(errOut, "no sesame database in PostgreSQL at ") ||
			!strings.Contains(errOut, "SESAME_STORE_POSTGRES_DSN") || !strings.Contains(errOut, "sesame migrate") {
			t.Errorf("sesame %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(context.Background(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("%d tables were created in the empty database", tables)
	}
	if _, err := os.Stat("data"); err == nil {
		t.Fatal("./data was created")
	}
	mustRun(t, "migrate")
	mustRun(t, "structure", "list")
}

// TestCommandsLogWarningsOnly: a command's output is its report; its
// stderr holds warnings and errors only, unless --verbose (serve's info
// logs are checked by TestServeSQLite).
func TestCommandsLogWarningsOnly(t *testing.T) {
	dir := cliEnv(t, "")
	file := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(file, []byte("Prénom;Nom;Courriel\nCamille;Lefèvre;camille@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"structure", "add", "le-beta", "--name", "Le Bêta"},
		{"import", "le-beta", file, "--dry-run"},
		{"import", "le-beta", file},
		{"user", "list"},
		{"keys", "rotate"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != exitOK || out == "" || errOut != "" {
			t.Errorf("sesame %s: exit %d, stderr %q; want 0, a report, and nothing logged", strings.Join(args, " "), code, errOut)
		}
	}
	// --verbose follows log.level (info by default).
	code, _, errOut := runCLI(t, "--verbose", "import", "le-beta", file)
	if code != exitOK || !strings.Contains(errOut, "level=INFO") {
		t.Errorf("--verbose import: exit %d, stderr %q; want the info logs", code, errOut)
	}
	// A level above warn still applies.
	t.Setenv("SESAME_LOG_LEVEL", "error")
	if code, _, errOut := runCLI(t, "-v", "import", "le-beta", file); code != exitOK || errOut != "" {
		t.Errorf("-v import at log.level error: exit %d, stderr %q", code, errOut)
	}
}
