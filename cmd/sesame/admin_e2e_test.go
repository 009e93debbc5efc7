package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/mfa"
	"sesame/internal/testenv"
)

var activateLink = regexp.MustCompile(`https?://[^\s"<>]+/activate/[A-Za-z0-9_-]+`)

// TestServeAdminJourney runs the built binary: "sesame admin add" mails an
// activation link (to a file); the admin activates, is sent to /signin
// by /admin, signs in with the provider's session, sees the structures
// and a structure's board, changes the password on the portal (staying
// signed in), signs out, and /admin asks to sign in again.
func TestServeAdminJourney(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := cleanEnv("SESAME_DATA_DIR="+dataDir, fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
		"SESAME_PUBLIC_URL="+base, "SESAME_JOBS_POLL_INTERVAL=50ms")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sesame %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("migrate")
	run("admin", "add", "root@hoster.example")
	run("structure", "add", "le-beta", "--name", "Le Bêta")
	run("structure", "referent", "add", "le-beta", "ref@lebeta.example")

	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// The activation email is written by the mail job once serve runs.
	var link string
	for deadline := time.Now().Add(30 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dataDir, "mail", "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "root@hoster.example") {
				link = activateLink.FindString(strings.ReplaceAll(string(b), "=\r\n", ""))
			}
		}
	}
	if link == "" {
		t.Fatalf("no activation email for the admin\n%s", logs.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		u := path
		if strings.HasPrefix(path, "/") {
			u = base + path
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	const pw, pw2 = "un long mot de passe tout neuf 42", "encore un autre mot de passe 43"
	if code, _, body := do("POST", link, url.Values{"password": {pw}, "confirm": {pw}}); code != 200 {
		t.Fatalf("activation: %d\n%s", code, body)
	}
	if code, loc, _ := do("GET", "/admin/structures", nil); code != http.StatusSeeOther || loc != "/signin?next=%2Fadmin%2Fstructures" {
		t.Fatalf("/admin before signing in: %d %q", code, loc)
	}
	if code, loc, _ := do("POST", "/signin", url.Values{"username": {"root@hoster.example"}, "password": {pw}, "next": {"/admin/structures"}}); code != http.StatusSeeOther || loc != "/second-factor" {
		t.Fatalf("sign in: %d %q", code, loc)
	}
	// A hoster admin enrols a second factor at their first sign-in.
	code, _, page := do("GET", "/second-factor", nil)
	key, enrolment := e2eEnrolmentPage(t, code, page)
	if code, _, page := do("POST", "/second-factor", url.Values{"action": {"enrol"}, "enrolment": {enrolment}, "code": {totpNow(t, key)}}); code != 200 || !strings.Contains(page, `value="continue"`) {
		t.Fatalf("enrolment: %d\n%s", code, page)
	}
	if code, loc, _ := do("POST", "/second-factor", url.Values{"action": {"continue"}}); code != http.StatusSeeOther || loc != "/admin/structures" {
		t.Fatalf("after the second factor: %d %q", code, loc)
	}
	if code, _, body := do("GET", "/admin/structures", nil); code != 200 || !strings.Contains(body, `href="/admin/structures/le-beta"`) {
		t.Fatalf("structures: %d\n%s", code, body)
	}
	if code, _, body := do("GET", "/admin/structures/le-beta", nil); code != 200 || !strings.Contains(body, "ref@lebeta.example") {
		t.Fatalf("board: %d\n%s", code, body)
	}
	// The spreadsheet import, behind the same sign-in and guard.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("mode", "add")
	fw, _ := mw.CreateFormFile("file", "personnes.csv")
	_, _ = fw.Write([]byte("email;prénom;nom\nnina@lebeta.example;Nina;Neuve\n"))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/admin/structures/le-beta/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	preview := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(preview, "/admin/structures/le-beta/import/") {
		t.Fatalf("upload: %d %q", resp.StatusCode, preview)
	}
	if code, _, body := do("GET", preview, nil); code != 200 || !strings.Contains(body, "nina@lebeta.example") {
		t.Fatalf("preview: %d\n%s", code, body)
	}
	if code, _, body := do("POST", preview+"/confirm", url.Values{}); code != 200 {
		t.Fatalf("confirm: %d\n%s", code, body)
	}
	if code, _, body := do("GET", "/admin/structures/le-beta", nil); code != 200 || !strings.Contains(body, "nina@lebeta.example") {
		t.Fatalf("board after the import: %d\n%s", code, body)
	}
	if code, loc, _ := do("POST", "/account/password", url.Values{"current": {pw}, "password": {pw2}, "confirm": {pw2}}); code != http.StatusSeeOther || loc != "/?done=password" {
		t.Fatalf("password change: %d %q", code, loc)
	}
	if code, _, body := do("GET", "/?done=password", nil); code != 200 || !strings.Contains(body, "Votre mot de passe a été changé") {
		t.Fatalf("portal after the change: %d\n%s", code, body)
	}
	if code, loc, _ := do("POST", "/account/signout", url.Values{}); code != http.StatusSeeOther || loc != "/?done=signedout" {
		t.Fatalf("sign out: %d %q", code, loc)
	}
	if code, loc, _ := do("GET", "/admin/structures", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("/admin after signing out: %d %q", code, loc)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs.String())
	}
}

// totpNow is the current code of an authenticator app holding key.
func totpNow(t *testing.T, key string) string {
	t.Helper()
	code, err := mfa.CodeAt(key, mfa.Step(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

var (
	e2eKey       = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
	e2eEnrolment = regexp.MustCompile(`name="enrolment" value="([^"]+)"`)
)

// e2eEnrolment reads the key and the sealed enrolment of an enrolment page.
func e2eEnrolmentPage(t *testing.T, status int, page string) (key, enrolment string) {
	t.Helper()
	k, e := e2eKey.FindStringSubmatch(page), e2eEnrolment.FindStringSubmatch(page)
	if status != 200 || k == nil || e == nil {
		t.Fatalf("not an enrolment page: %d\n%s", status, page)
	}
	return strings.ReplaceAll(k[1], " ", ""), html.UnescapeString(e[1])
}
