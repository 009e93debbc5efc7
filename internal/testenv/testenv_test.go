package testenv_test

import (
	"os/exec"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// TestComponentsStart checks that every real component the suite relies on
// can be started here, so a missing install shows up as one clear failure.
func TestComponentsStart(t *testing.T) {
	t.Run("slapd", func(t *testing.T) {
		s := testenv.StartSlapd(t)
		out, err := exec.Command("ldapwhoami", "-x", "-H", s.URL, "-D", s.AdminDN, "-w", s.AdminPassword).CombinedOutput()
		if err != nil {
			t.Fatalf("ldapwhoami: %v\n%s", err, out)
		}
		s.Stop()
		s.Start()
		if out, err := exec.Command("ldapwhoami", "-x", "-H", s.URL, "-D", s.AdminDN, "-w", s.AdminPassword).CombinedOutput(); err != nil {
			t.Fatalf("ldapwhoami after restart: %v\n%s", err, out)
		}
	})
	t.Run("mailpit", func(t *testing.T) {
		m := testenv.StartMailpit(t)
		if got := m.Messages(); len(got) != 0 {
			t.Fatalf("fresh mailpit holds %d messages", len(got))
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.Postgres(t)
		if dsn == "" {
			t.Fatal("empty DSN")
		}
	})
}

// TestProcessCPUTime: a process that spins a while has used at least that
// much CPU; a process that does not exist is an error.
func TestProcessCPUTime(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var d time.Duration
	for range 100 { // until the loop has used at least 50 ms
		var err error
		if d, err = testenv.ProcessCPUTime(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if d >= 50*time.Millisecond {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d < 50*time.Millisecond {
		t.Fatalf("a spinning shell used %v of CPU in 5 s", d)
	}
	if _, err := testenv.ProcessCPUTime(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
