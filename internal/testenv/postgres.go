package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresAdminDSN is the server tests create their databases on, from
// SESAME_TEST_POSTGRES (for example
// "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable").
func PostgresAdminDSN() string { return os.Getenv("SESAME_TEST_POSTGRES") }

// Postgres creates a fresh, empty database for t and returns its DSN. The
// database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminDSN()
	if admin == "" {
		Missing(t, "PostgreSQL: SESAME_TEST_POSTGRES is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testenv: open %s: %v", admin, err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		Missing(t, "PostgreSQL at SESAME_TEST_POSTGRES does not answer: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sesame_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: SESAME_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	// Durability of test data does not matter; commit latency does (about
	// 9 ms per fsync on this kind of machine). Production DSNs keep the
	// server's setting.
	q := u.Query()
	if q.Get("options") == "" {
		q.Set("options", "-c synchronous_commit=off")
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return fmt.Sprint(u)
}
