package config_test

import (
	"testing"

	"sesame/internal/config"
)

// A DSN that holds no password is shown as written: the backup command
// prints it for the operator to paste into pg_dump, and "config check"
// shows it to be checked by eye. The query of a URL must not be re-encoded
// and re-ordered when nothing in it is secret.
func TestRedactDSNLeavesDSNsWithoutPasswordAlone(t *testing.T) {
	for _, dsn := range []string{
		"postgresql:///sesame?host=/var/run/postgresql",
		"postgres://sesame@/sesame?host=/var/run/postgresql&sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"host=/var/run/postgresql dbname=sesame",
	} {
		if got := config.RedactDSN(dsn); got != dsn {
			t.Errorf("RedactDSN(%q) = %q", dsn, got)
		}
	}
	// A password among them is still hidden, the rest left as written.
	if got, want := config.RedactDSN("postgres://sesame@/sesame?host=/var/run/postgresql&password=hunter2"),
		"postgres://sesame@/sesame?host=/var/run/postgresql&password=xxxxx"; got != want {
		t.Errorf("RedactDSN = %q, want %q", got, want)
	}
}
