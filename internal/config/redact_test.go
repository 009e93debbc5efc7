package config_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"sesame/internal/config"
)

// TestRedactDSNHidesEveryPassword: RedactDSN (used by "config check", the
// backup command's PostgreSQL hint and every "cannot open the store" message)
// must hide the password of every connection string pgx accepts, not only
// the user:password@ of a URL and an unquoted password=value.
func TestRedactDSNHidesEveryPassword(t *testing.T) {
	const secret = "hunter2"
	for _, dsn := range []string{
		"postgres://sesame:hunter2@db/sesame",                              // handled today
		"host=db user=sesame password=hunter2 dbname=sesame",               // handled today
		"postgres://sesame@db/sesame?sslmode=require&password=hunter2",     // password as a query parameter
		"postgresql://db/sesame?user=sesame&password=hunter2",              // same, user in the query too
		"host=db user=sesame password = hunter2 dbname=sesame",             // spaces around '='
		"host=db user=sesame password='hunter2 with spaces' dbname=sesame", // quoted value with spaces
	} {
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("pgx refuses %q: %v", dsn, err)
		}
		if !strings.HasPrefix(cfg.Password, secret) {
			t.Fatalf("pgx reads password %q from %q", cfg.Password, dsn)
		}
		if got := config.RedactDSN(dsn); strings.Contains(got, secret) || strings.Contains(got, "spaces") {
			t.Errorf("RedactDSN(%q) = %q: the password is shown", dsn, got)
		}
	}
}
