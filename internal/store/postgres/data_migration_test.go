package postgres_test

import (
	"testing"

	"sesame/internal/store/postgres"
	"sesame/internal/store/storetest"
	"sesame/internal/testenv"
)

// TestMigration0007Backfill: see storetest.Migration0007Backfill.
func TestMigration0007Backfill(t *testing.T) {
	storetest.Migration0007Backfill(t, openEmptyPostgres(t), migrations(t))
}

// TestMigration0011Defaults: see storetest.Migration0011Defaults.
func TestMigration0011Defaults(t *testing.T) {
	storetest.Migration0011Defaults(t, openEmptyPostgres(t), migrations(t))
}

func openEmptyPostgres(t *testing.T) *postgres.DB {
	t.Helper()
	return open(t, testenv.Postgres(t), nil)
}
