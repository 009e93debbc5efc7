package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// buildBinary builds the sesame binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sesame")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", bin, ".")
	// Static, as docs/operations.md advises for production: the tests run
	// the binary that is shipped (TestStaticBuild checks it).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is the test process's environment without configuration
// variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SESAME_") && !strings.HasPrefix(name, "SESAME_TEST_") && name != "SESAME_REQUIRE_SERVICES" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// syncBuffer is a process's output, safe to read while it writes.
type syncBuffer = testenv.SyncBuffer

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// serveEndToEnd runs "sesame serve" from a fresh build in an empty data
// directory, waits for /readyz to answer 200, sends SIGTERM and expects a
// clean exit.
func serveEndToEnd(t *testing.T, env ...string) {
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data") // does not exist yet
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = cleanEnv(append([]string{
		"SESAME_DATA_DIR=" + dataDir,
		fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
		"SESAME_PUBLIC_URL=" + base,
		"SESAME_JOBS_POLL_INTERVAL=50ms",
	}, env...)...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get(t, base+"/readyz")
		if code == http.StatusOK {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("sesame serve exited before being ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200 (last %d)\n%s", code, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, _ := get(t, base+"/no-such-page"); code != http.StatusNotFound {
		t.Fatalf("unknown page = %d, want 404", code)
	}
	st, err := os.Stat(filepath.Join(dataDir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("key file: %v %v", st, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sesame serve did not exit cleanly after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sesame serve still running 30s after SIGTERM\n%s", logs.String())
	}
	out := logs.String()
	for _, want := range []string{"sesame is serving", "stopped cleanly"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("errors logged:\n%s", out)
	}
}

func TestServeSQLite(t *testing.T) {
	t.Parallel()
	serveEndToEnd(t)
}

func TestServePostgres(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	serveEndToEnd(t, "SESAME_STORE_DRIVER=postgres", "SESAME_STORE_POSTGRES_DSN="+dsn)
}

// TestServeBadConfig checks that serve refuses an invalid configuration with
// every problem and exit status 1, before creating anything.
func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "serve")
	cmd.Env = cleanEnv("SESAME_DATA_DIR="+dataDir, "SESAME_LISTEN=nope", "SESAME_LOG_LEVEL=loud")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1\n%s", err, out)
	}
	for _, want := range []string{`listen: "nope" is not host:port`, `log.level: "loud"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("data_dir created despite the invalid configuration")
	}
}

// TestServeStoreDown checks that serve fails clearly when PostgreSQL does
// not answer.
func TestServeStoreDown(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	port := testenv.FreePort(t) // nothing listens there
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = cleanEnv("SESAME_DATA_DIR="+t.TempDir(), "SESAME_STORE_DRIVER=postgres",
		fmt.Sprintf("SESAME_STORE_POSTGRES_DSN=postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "postgres") {
		t.Fatalf("the error does not name the store:\n%s", out)
	}
}
