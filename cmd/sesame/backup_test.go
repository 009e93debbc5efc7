package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/testenv"
)

// TestBackupRestoreLogin backs up a running sesame's SQLite database while
// another process keeps writing to it, restores the copy and the master key
// into a new folder, starts sesame there and logs in through the real flow
// (authorize with PKCE, login form, code, token, verified ID token). The
// copy holds everything written before the backup began; without the master
// key it does not start. A second backup to the same file is refused
// without --force; the PostgreSQL store is pointed at pg_dump.
func TestBackupRestoreLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mp := testenv.StartMailpit(t)
	bin := buildBinary(t)
	port, rpPort := testenv.FreePort(t), testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/cb", rpPort)
	envIn := func(dir string) []string {
		return cleanEnv(
			"SESAME_DATA_DIR="+dir,
			fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
			"SESAME_PUBLIC_URL="+base,
			"SESAME_JOBS_POLL_INTERVAL=50ms",
			"SESAME_MAIL_DRIVER=smtp",
			"SESAME_MAIL_SMTP_HOST="+mp.SMTPHost,
			fmt.Sprintf("SESAME_MAIL_SMTP_PORT=%d", mp.SMTPPort),
			"SESAME_MAIL_SMTP_TLS=none",
			"SESAME_MAIL_FROM=sesame <sesame@hoster.example>",
		)
	}
	dir := filepath.Join(t.TempDir(), "data")
	env := envIn(dir)

	// 1. Data: a structure, a service, a person who activates her account.
	e2eRun(t, bin, env, "migrate")
	e2eRun(t, bin, env, "structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referente@le-beta.example")
	out := e2eRun(t, bin, env, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud",
		"--url", "https://nc.example", "--redirect-uri", redirect)
	clientID, secret := e2eClientCredentials(t, out)
	e2eRun(t, bin, env, "service", "add", "le-beta", "paheko", "--name", "Paheko",
		"--url", "https://paheko.example", "--paheko-category", "Membres")
	report := parseReport(t, e2eRun(t, bin, env, "import", "le-beta",
		filepath.Join("testdata", "e2e_people.csv"), "--format", "json"))
	if len(report.Rows) != 1 {
		t.Fatalf("import report: %+v", report)
	}
	username, email := report.Rows[0].Username, report.Rows[0].Email
	srv := startE2EServer(t, bin, env, base)
	msg := e2eWaitForMail(t, mp, email, "choisissez votre mot de passe", nil)
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/[A-Za-z0-9_-]+`).FindString(msg.Text)
	if link == "" {
		t.Fatalf("no activation link in the email:\n%s", msg.Text)
	}
	b := newE2EBrowser(t, base)
	page := b.get(link)
	b.post(page.formAction(t), url.Values{"password": {e2ePassword}, "confirm": {e2ePassword}}, base).
		want(http.StatusOK, "Votre compte est activé")

	// 2. The backup, while serve runs and another process keeps adding
	// structures.
	var (
		mu      sync.Mutex
		written []string // structures whose "structure add" returned
		stop    = make(chan struct{})
		done    = make(chan error, 1)
	)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			slug := fmt.Sprintf("w%d", i)
			cmd := exec.Command(bin, "structure", "add", slug, "--name", "W "+slug)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				done <- fmt.Errorf("structure add %s: %v\n%s", slug, err, out)
				return
			}
			mu.Lock()
			written = append(written, slug)
			mu.Unlock()
		}
	}()
	waitWritten := func(n int) []string {
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			w := append([]string(nil), written...)
			mu.Unlock()
			if len(w) >= n {
				return w
			}
			if time.Now().After(deadline) {
				t.Fatalf("the writer wrote %d structures in 30 s", len(w))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	before := waitWritten(3)
	backupFile := filepath.Join(t.TempDir(), "sesame-backup.db")
	out = e2eRun(t, bin, env, "backup", backupFile)
	for _, want := range []string{"backed up to " + backupFile, "master key", "secret.key", "is not in it"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup output lacks %q:\n%s", want, out)
		}
	}
	waitWritten(len(before) + 2)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The same file again: refused, the copy untouched; --force replaces it.
	first, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "backup", backupFile)
	cmd.Env = env
	refused, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(refused), "already exists") || !strings.Contains(string(refused), "--force") {
		t.Fatalf("backup over an existing file: %v\n%s", err, refused)
	}
	if again, _ := os.ReadFile(backupFile); string(again) != string(first) {
		t.Fatal("a refused backup changed the existing file")
	}
	forced := filepath.Join(t.TempDir(), "forced.db")
	if err := os.WriteFile(forced, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	e2eRun(t, bin, env, "backup", "--force", forced)
	if b, _ := os.ReadFile(forced); !strings.HasPrefix(string(b), "SQLite format 3") {
		t.Fatal("backup --force did not replace the file with a database")
	}
	srv.stop()

	// 3. Without the master key, the restored copy does not start.
	noKey := filepath.Join(t.TempDir(), "nokey")
	copyFile(t, backupFile, filepath.Join(noKey, "sesame.db"))
	cmd = exec.Command(bin, "serve")
	cmd.Env = envIn(noKey)
	noKeyOut, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(noKeyOut), "master key") {
		t.Fatalf("serve on a copy without its master key: %v\n%s", err, noKeyOut)
	}

	// 4. Restore into a new folder: the copy and the master key.
	restored := filepath.Join(t.TempDir(), "restored")
	copyFile(t, backupFile, filepath.Join(restored, "sesame.db"))
	copyFile(t, filepath.Join(dir, "secret.key"), filepath.Join(restored, "secret.key"))
	renv := envIn(restored)
	var list []struct {
		Slug string `json:"slug"`
	}
	if err := json.Unmarshal([]byte(e2eRun(t, bin, renv, "structure", "list", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range list {
		have[s.Slug] = true
	}
	for _, slug := range append([]string{"le-beta"}, before...) {
		if !have[slug] {
			t.Errorf("the restored store lacks structure %s, written before the backup", slug)
		}
	}
	srv = startE2EServer(t, bin, renv, base)
	rp := newE2ERelyingParty(ctx, t, base, clientID, secret, redirect)
	state, nonce, verifier := "st-"+e2eRandom(t), "n-"+e2eRandom(t), oauth2.GenerateVerifier()
	fresh := newE2EBrowser(t, base)
	page = fresh.get(rp.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	page.want(http.StatusOK, `name="password"`)
	code := e2eCodeFrom(t, fresh.login(page, username, e2ePassword), redirect, state)
	tok, err := rp.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code on the restored sesame: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, rawID)
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("ID token from the restored sesame: %v (nonce %q)", err, idt.Nonce)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != email {
		t.Fatalf("ID token email %q (%v), want %s", claims.Email, err, email)
	}
	srv.stop()

	// 5. PostgreSQL: the command points at pg_dump and writes nothing.
	pgFile := filepath.Join(t.TempDir(), "pg.dump")
	cmd = exec.Command(bin, "backup", pgFile)
	cmd.Env = cleanEnv("SESAME_DATA_DIR="+t.TempDir(), "SESAME_STORE_DRIVER=postgres",
		"SESAME_STORE_POSTGRES_DSN=postgres://sesame:hunter2@db.example/sesame")
	pgOut, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(pgOut), "pg_dump --format=custom --file "+pgFile) ||
		strings.Contains(string(pgOut), "hunter2") {
		t.Fatalf("backup on PostgreSQL: %v\n%s", err, pgOut)
	}
	if _, err := os.Stat(pgFile); err == nil {
		t.Error("backup on PostgreSQL wrote a file")
	}
}

// copyFile copies src to dst (mode 0600), creating dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
