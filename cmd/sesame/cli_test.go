package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/config"
)

// clearConfigEnv unsets every configuration variable for the test.
func clearConfigEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SESAME_") && !strings.HasPrefix(name, "SESAME_TEST_") && name != "SESAME_REQUIRE_SERVICES" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// runCLI runs the command line in-process and returns the exit status and
// both outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "sesame dev (") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version = %d %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	clearConfigEnv(t)
	for _, args := range [][]string{
		{"no-such-command"},
		{"version", "--no-such-flag"},
		{"version", "extra"},
		{"config", "check", "extra"},
		{"migrate", "--config"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, " --help' for usage") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a usage hint", args, code, errOut)
		}
	}
}

// TestHelpIsSentences checks the help of the commands defined in this
// file's siblings main.go, serve.go, migrate.go, config_cmd.go and version.go.
func TestHelpIsSentences(t *testing.T) {
	root := newRootCmd(&app{})
	cmds := []*cobra.Command{root}
	for i := 0; i < len(cmds); i++ {
		c := cmds[i]
		cmds = append(cmds, c.Commands()...)
		switch c.CommandPath() {
		case "sesame", "sesame serve", "sesame migrate", "sesame config", "sesame config check", "sesame version":
		default:
			continue // other files' commands are checked by their own tests
		}
		if c.Short == "" || !strings.HasSuffix(strings.TrimSpace(c.Long), ".") || c.RunE == nil {
			t.Errorf("%s: help is not written out, or no RunE (short %q, long %q)", c.CommandPath(), c.Short, c.Long)
		}
	}
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "config") {
		t.Fatalf("--help = %d %q", code, out)
	}
}

func TestConfigCheck(t *testing.T) {
	clearConfigEnv(t)
	example := filepath.Join("..", "..", "config.example.yaml")
	code, out, errOut := runCLI(t, "config", "check", "--config", example)
	if code != 0 || !strings.Contains(out, "The configuration is valid.") || !strings.Contains(out, "store:      sqlite") {
		t.Fatalf("valid config: %d %q %q", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: abc\nlog:\n  level: loud\nstore:\n  driver: postgres\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "config", "check", "--config", bad)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 1 || out != "" || len(lines) != 4 {
		t.Fatalf("invalid config: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	for i, prefix := range []string{"listen: ", "log.level: ", "store.postgres.dsn: "} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}

	// SESAME_CONFIG names the file when --config is absent; env overrides it.
	t.Setenv(config.EnvConfigFile, bad)
	t.Setenv("SESAME_LISTEN", "127.0.0.1:1")
	t.Setenv("SESAME_LOG_LEVEL", "warn")
	t.Setenv("SESAME_STORE_DRIVER", "sqlite")
	if code, out, errOut := runCLI(t, "config", "check"); code != 0 || !strings.Contains(out, "127.0.0.1:1") {
		t.Fatalf("env over file: %d %q %q", code, out, errOut)
	}

	// A loopback public_url that listen does not serve is a warning: the
	// configuration is valid, emailed links would not reach sesame.
	t.Setenv("SESAME_LISTEN", "127.0.0.1:9090")
	t.Setenv("SESAME_PUBLIC_URL", "http://127.0.0.1:8080")
	code, out, errOut = runCLI(t, "config", "check")
	if code != 0 || !strings.Contains(out, "The configuration is valid.") ||
		!strings.HasPrefix(errOut, "warning: listen: port 9090 differs from public_url's (8080)") {
		t.Fatalf("listen and public_url apart: %d %q %q", code, out, errOut)
	}
	t.Setenv("SESAME_PUBLIC_URL", "http://127.0.0.1:9090")
	if code, _, errOut := runCLI(t, "config", "check"); code != 0 || errOut != "" {
		t.Fatalf("listen and public_url together: %d %q", code, errOut)
	}

	// A file that does not exist is an error, exit 1.
	if code, _, errOut := runCLI(t, "config", "check", "--config", filepath.Join(t.TempDir(), "none.yaml")); code != 1 || !strings.Contains(errOut, "none.yaml") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}
}

func TestMigrateSQLite(t *testing.T) {
	clearConfigEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dir)
	for range 2 { // twice: migrating an up-to-date store changes nothing
		code, out, errOut := runCLI(t, "migrate")
		if code != 0 || !strings.Contains(out, "sqlite store is up to date") {
			t.Fatalf("migrate: %d %q %q", code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sesame.db")); err != nil {
		t.Fatal(err)
	}
}

// TestServeLogsConfigWarnings: serve logs what config check warns about,
// and runs anyway.
func TestServeLogsConfigWarnings(t *testing.T) {
	clearConfigEnv(t)
	t.Setenv("SESAME_DATA_DIR", t.TempDir())
	t.Setenv("SESAME_LISTEN", "127.0.0.1:0") // a free port, never public_url's 8080
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, &logs) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "sesame is serving") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), `level=WARN msg="configuration: port 0 differs from public_url's (8080)`) {
		t.Fatalf("the listen/public_url warning is not logged:\n%s", logs.String())
	}
}

// TestMainGracefulShutdown checks that Close lets a request in progress
// finish, refuses new connections, and stops the job runner.
func TestMainGracefulShutdown(t *testing.T) {
	clearConfigEnv(t)
	t.Setenv("SESAME_DATA_DIR", t.TempDir())
	t.Setenv("SESAME_LISTEN", "127.0.0.1:0")
	a := &app{out: &bytes.Buffer{}, errOut: &testWriter{t}, creates: true, serving: true}
	ctx := context.Background()
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	m, err := NewMain(cfg, a.logger, st)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	m.Mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("finished"))
	})
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + m.Addr().String()
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d", code)
	}
	result := make(chan string, 1)
	go func() {
		code, body := get(t, base+"/slow")
		result <- strings.TrimSpace(body) + " " + http.StatusText(code)
	}()
	<-started
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-result; got != "finished OK" {
		t.Fatalf("request in progress got %q", got)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("a new connection was accepted after Close")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// testWriter sends logs to the test's output.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
