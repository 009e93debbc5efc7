package testenv_test

import (
	"os/exec"
	"testing"

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
