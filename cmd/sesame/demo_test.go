package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// The demo tests run "sesame demo" in this process (run, as main does) on
// a free port, and drive it as a newcomer would: the printed activation
// link, the password, the demo application's login through sesame. They
// are not parallel: the demo builds its data with the commands of this
// package, whose "service add" flags live in package variables.

// demoPassword is the password the demo person chooses.
const demoPassword = "onze tortues relisent Colette au jardin"

var (
	demoBaseLine = regexp.MustCompile(`ready — (http://localhost:\d+)\n`)
	demoLinkLine = regexp.MustCompile(`(?m)account: open this link and choose a password\.\n  (http://localhost:\d+/activate/[A-Za-z0-9_-]{20,})$`)
	demoRPLine   = regexp.MustCompile(`(?m)^  (http://localhost:\d+/demo/)$`)
	demoDataLine = regexp.MustCompile(`(?m)^Données [^:]*: (\S+)$`)
)

// demoRun is a running "sesame demo".
type demoRun struct {
	t         *testing.T
	out, logs *syncBuffer
	cancel    context.CancelFunc
	done      chan int
	base, rp  string
	link, dir string // link is empty when the person has activated already
}

// startDemo runs "sesame demo --listen 127.0.0.1:0" with args and waits
// (at most 60 s) for its banner.
func startDemo(t *testing.T, args ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{t: t, out: &syncBuffer{}, logs: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		d.done <- run(ctx, append([]string{"demo", "--listen", "127.0.0.1:0"}, args...), d.out, d.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.done:
		case <-time.After(30 * time.Second):
		}
		if t.Failed() {
			t.Logf("sesame demo output:\n%s\nlogs:\n%s", d.out.String(), d.logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := d.out.String()
		if m := demoRPLine.FindStringSubmatch(out); m != nil {
			d.rp = m[1]
			break
		}
		select {
		case code := <-d.done:
			d.done <- code
			t.Fatalf("sesame demo exited with %d before its banner:\n%s\n%s", code, out, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 60s:\n%s\n%s", out, d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := d.out.String()
	base, dir := demoBaseLine.FindStringSubmatch(out), demoDataLine.FindStringSubmatch(out)
	if base == nil || dir == nil {
		t.Fatalf("the banner lacks the address or the data folder:\n%s", out)
	}
	d.base, d.dir = base[1], dir[1]
	if m := demoLinkLine.FindStringSubmatch(out); m != nil {
		d.link = m[1]
	}
	if !strings.HasPrefix(d.rp, d.base) || (d.link != "" && !strings.HasPrefix(d.link, d.base)) {
		t.Fatalf("the links are not under %s:\n%s", d.base, out)
	}
	return d
}

// stop cancels the demo (as Ctrl-C does) and expects exit status 0.
func (d *demoRun) stop() {
	d.t.Helper()
	d.cancel()
	select {
	case code := <-d.done:
		d.done <- code // for the cleanup, which otherwise waited 30 s for it
		if code != 0 {
			d.t.Fatalf("sesame demo exited with %d:\n%s\n%s", code, d.out.String(), d.logs.String())
		}
	case <-time.After(30 * time.Second):
		d.t.Fatal("sesame demo still running 30s after Ctrl-C")
	}
	if logs := d.logs.String(); strings.Contains(logs, "level=ERROR") {
		d.t.Errorf("the demo logged an error:\n%s", logs)
	}
}

// activate opens the printed activation link in b and chooses demoPassword.
func (d *demoRun) activate(b *e2eBrowser) {
	d.t.Helper()
	page := b.get(d.link)
	page.want(http.StatusOK, "Activer votre compte", "camille.martin", `name="confirm"`)
	b.post(page.formAction(d.t), url.Values{"password": {demoPassword}, "confirm": {demoPassword}}, d.base).
		want(http.StatusOK, "Votre compte est activé", "camille.martin")
}

// loginThroughRP opens the demo application in b, logs in through sesame
// (with the password form unless b is logged in already) and checks the
// claims page, which it returns.
func (d *demoRun) loginThroughRP(b *e2eBrowser) e2ePage {
	d.t.Helper()
	b.get(d.rp).want(http.StatusOK, "Se connecter avec sesame", `href="/demo/login"`)
	page := b.get(d.rp + "login")
	if strings.Contains(page.body, `name="password"`) {
		page.want(http.StatusOK, "Démo")
		page = b.login(page, "camille.martin", demoPassword)
	}
	page.want(http.StatusOK, "camille.martin@demo.example", "Camille Martin", "preferred_username",
		"<code>iss</code>", d.base, "demo.demo", "Se déconnecter de sesame")
	if page.url.Path != "/demo/callback" {
		d.t.Errorf("the claims are shown at %s, want /demo/callback", page.url)
	}
	return page
}

// TestDemoJourney runs the demo in a temporary folder and follows what it
// prints: the activation link (the very link of the emailed file), a
// password, then the demo application's login through sesame, which shows
// the person's claims. Ctrl-C then removes the folder.
func TestDemoJourney(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // where the demo's temporary folder goes
	d := startDemo(t)
	if d.link == "" {
		t.Fatalf("no activation link printed:\n%s", d.out.String())
	}
	for _, want := range []string{"Camille Martin", "Activez le compte", "Activate", "Ctrl-C", "supprimées à l'arrêt"} {
		if !strings.Contains(d.out.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, d.out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(d.dir, "sesame.db")); err != nil {
		t.Fatalf("the data folder %s: %v", d.dir, err)
	}
	// The hoster admin's link is printed too: an activation link that opens
	// the form to choose a password.
	admin := regexp.MustCompile(`Administration \(hoster\):\n  (\S+)`).FindStringSubmatch(d.out.String())
	if admin == nil || !strings.Contains(admin[1], "/activate/") {
		t.Fatalf("no admin activation link in the banner:\n%s", d.out.String())
	}
	res, err := http.Get(admin[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `type="password"`) {
		t.Fatalf("the admin's link: %d\n%s", res.StatusCode, body)
	}
	setup, _ := os.ReadFile(filepath.Join(d.dir, "setup.txt"))
	for _, want := range []string{"$ sesame service add demo nextcloud", "$ sesame service add demo wordpress",
		"$ sesame service add demo paheko", "$ sesame service add demo generic", "Import appliqué."} {
		if !strings.Contains(string(setup), want) {
			t.Errorf("setup.txt lacks %q:\n%s", want, setup)
		}
	}
	// The printed link is the one of the person's activation email.
	secret := d.link[strings.LastIndex(d.link, "/")+1:]
	deadline := time.Now().Add(30 * time.Second)
	for !demoMailHolds(t, filepath.Join(d.dir, "mail"), secret) {
		if time.Now().After(deadline) {
			t.Fatalf("no email in %s holds the printed link", filepath.Join(d.dir, "mail"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	b := newE2EBrowser(t, d.base)
	d.activate(b)
	d.loginThroughRP(newE2EBrowser(t, d.base)) // a fresh browser: the login form
	claims := d.loginThroughRP(b)              // logged in at activation? either way, the claims

	// Its logout link ends the session in sesame and comes back to the
	// demo application; the next login asks for the password again.
	m := regexp.MustCompile(`href="([^"]*/logout\?[^"]*)"`).FindStringSubmatch(claims.body)
	if m == nil {
		t.Fatalf("no logout link on the claims page:\n%s", claims.body)
	}
	back := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	back.want(http.StatusOK, "Se connecter avec sesame")
	if back.url.Path != "/demo/" {
		t.Errorf("the logout ends at %s, want /demo/", back.url)
	}
	b.get(d.rp+"login").want(http.StatusOK, `name="password"`)

	d.stop()
	if !strings.Contains(d.out.String(), "dossier supprimé") {
		t.Errorf("the demo did not say it removed its folder:\n%s", d.out.String())
	}
	if _, err := os.Stat(d.dir); !os.IsNotExist(err) {
		t.Errorf("the demo folder %s is still there after Ctrl-C (%v)", d.dir, err)
	}
}

// demoMailHolds reports whether an email file in dir holds secret.
func demoMailHolds(t *testing.T, dir, secret string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if bytes.Contains(body, []byte(secret)) {
			return true
		}
	}
	return false
}

// TestDemoDirKeepsData runs the demo twice on one --dir: the first run
// activates the account; the data stays after Ctrl-C; the second run finds
// it as it was (no second set-up, the account active, so no link) and the
// demo application still logs the person in, on a new port. The second
// run also checks the contract of demoAdminLogin.
func TestDemoDirKeepsData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo") // does not exist yet
	d := startDemo(t, "--dir", dir)
	if d.dir != dir || d.link == "" || !strings.Contains(d.out.String(), "conservées") {
		t.Fatalf("first run: folder %q, link %q:\n%s", d.dir, d.link, d.out.String())
	}
	d.activate(newE2EBrowser(t, d.base))
	d.stop()
	if !strings.Contains(d.out.String(), "données conservées dans "+dir) {
		t.Errorf("the demo did not say where the data is kept:\n%s", d.out.String())
	}
	for _, f := range []string{"sesame.db", "secret.key", "setup.txt", "personnes.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after Ctrl-C: %v", err)
		}
	}
	setup, err := os.ReadFile(filepath.Join(dir, "setup.txt"))
	if err != nil {
		t.Fatal(err)
	}

	// The hook for hoster admins, as "sesame admin add" will set it: it
	// finds the demo's store and configuration, and its link is printed.
	var hookEmail, hookBase string
	realHook := demoAdminLogin
	demoAdminLogin = func(ctx context.Context, a *app, email string) (string, error) {
		cfg, err := a.config()
		if err != nil {
			return "", err
		}
		st, err := a.store(ctx)
		if err != nil {
			return "", err
		}
		if _, err := st.GetStructureBySlug(ctx, demoStructure); err != nil {
			return "", err
		}
		hookEmail, hookBase = email, cfg.PublicURL
		return cfg.PublicURL + "/admin/login-link-for-the-test", nil
	}
	t.Cleanup(func() { demoAdminLogin = realHook })
	again := startDemo(t, "--dir", dir)
	if again.link != "" || !strings.Contains(again.out.String(), "déjà activé") {
		t.Errorf("second run: want no link, the account being active:\n%s", again.out.String())
	}
	if hookEmail != demoAdminMail || hookBase != again.base ||
		!strings.Contains(again.out.String(), "Administration (hébergeur) / Administration (hoster):\n  "+again.base+"/admin/login-link-for-the-test\n") {
		t.Errorf("the admin hook got %q on %q; the banner:\n%s", hookEmail, hookBase, again.out.String())
	}
	again.loginThroughRP(newE2EBrowser(t, again.base))
	again.stop()
	if now, _ := os.ReadFile(filepath.Join(dir, "setup.txt")); !bytes.Equal(now, setup) {
		t.Errorf("the second run set the demo up again:\n%s", now)
	}
}

// TestReadmeSetUp runs the README's "Set-up" block in a copy of the clone:
// the build, then "./sesame demo", whose banner must come with a working
// activation link and demo application, and which Ctrl-C (SIGINT) stops
// cleanly, removing its folder. The only difference from a newcomer's run
// is --listen with a free port, so that the test does not depend on 8080.
func TestReadmeSetUp(t *testing.T) {
	t.Parallel() // the demo runs as its own process here
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeBlock(t, string(readme), "## Set-up")
	if len(lines) != 2 || lines[1] != "./sesame demo" {
		t.Fatalf("the Set-up block is not a build then ./sesame demo: %q", lines)
	}
	clone := freshClone(t)
	words, err := shellWords(lines[0])
	if err != nil || len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("README line %q: want go build (%v)", lines[0], err)
	}
	build := exec.Command("go", words[1:]...)
	build.Dir = clone
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", lines[0], err, out)
	}
	tmp := t.TempDir()
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", port) // the links name localhost, for passkeys
	cmd := exec.Command(filepath.Join(clone, "sesame"), "demo", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir, cmd.Env = clone, cleanEnv("TMPDIR="+tmp)
	var out, logs syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &logs
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
	deadline := time.Now().Add(90 * time.Second)
	for !demoRPLine.MatchString(out.String()) {
		select {
		case err := <-done:
			t.Fatalf("./sesame demo exited: %v\n%s\n%s", err, out.String(), logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 90s:\n%s\n%s", out.String(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	banner := out.String()
	link, dir := demoLinkLine.FindStringSubmatch(banner), demoDataLine.FindStringSubmatch(banner)
	if link == nil || dir == nil || !strings.Contains(banner, "ready — "+base) {
		t.Fatalf("the banner lacks the address, the link or the folder:\n%s", banner)
	}
	if code, body := get(t, link[1]); code != http.StatusOK || !strings.Contains(body, `name="confirm"`) {
		t.Errorf("the activation link: %d\n%.600s", code, body)
	}
	if code, body := get(t, base+"/demo/"); code != http.StatusOK || !strings.Contains(body, "/demo/login") {
		t.Errorf("the demo application: %d\n%.600s", code, body)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("./sesame demo did not stop cleanly on Ctrl-C: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("./sesame demo still running 30s after Ctrl-C")
	}
	if _, err := os.Stat(dir[1]); !os.IsNotExist(err) {
		t.Errorf("the demo folder %s is still there after Ctrl-C (%v)", dir[1], err)
	}
	if l := logs.String(); l != "" {
		t.Errorf("./sesame demo wrote to standard error (it logs warnings and errors only):\n%s", l)
	}
}
