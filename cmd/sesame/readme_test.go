package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/testenv"
)

// readmeBlock returns the command lines of the first ```sh block under the
// README's heading.
func readmeBlock(t *testing.T, readme, heading string) []string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q heading", heading)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatalf("no ```sh block under %q", heading)
	}
	block, _, _ = strings.Cut(block, "```")
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// shellWords splits a command line as a shell does for the plain commands
// the README may hold: words, "double" and 'single' quotes. Anything a
// newcomer's shell would treat differently (variables, pipes, comments,
// redirections...) is refused, so the test never runs something other than
// what a reader pastes.
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '"' || c == '\'':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			q := line[i+1 : i+1+end]
			if c == '"' && strings.ContainsAny(q, "$`\\!") {
				return nil, fmt.Errorf("%q: expansion inside double quotes", line)
			}
			w.WriteString(q)
			inWord = true
			i += end + 1
		case strings.IndexByte("$`\\|&;<>()#*?[]{}~!", c) >= 0:
			return nil, fmt.Errorf("%q: %q is shell syntax the test does not run", line, c)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// freshClone copies the files of the working tree that git tracks or would
// track (what a clone holds, with the changes being tested) into a new
// folder.
func freshClone(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the README test needs a git checkout)", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or not a file
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestReadmeFirstStructure runs the README's "A first structure" block,
// line by line and exactly as written, in a copy of the clone with no data,
// as a newcomer pastes it: every command must succeed with its report on
// standard output and nothing on standard error; then serve must write one
// activation email per person of the example spreadsheet, log the files'
// paths and never a link, and stop cleanly. The only difference from a
// newcomer's run is the port (SESAME_LISTEN and SESAME_PUBLIC_URL), so that
// the test does not depend on 8080 being free. The English example is then
// previewed too.
func TestReadmeFirstStructure(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeBlock(t, string(readme), "## A first structure")
	clone := freshClone(t)
	port := testenv.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := cleanEnv(fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port), "SESAME_PUBLIC_URL="+base,
		"SESAME_JOBS_POLL_INTERVAL=100ms")

	sawServe := false
	for _, line := range lines {
		words, err := shellWords(line)
		if err != nil {
			t.Fatalf("README line %q: %v", line, err)
		}
		var cmd *exec.Cmd
		switch {
		case len(words) > 1 && words[0] == "go" && words[1] == "build":
			cmd = exec.Command("go", words[1:]...)
		case words[0] == "./sesame":
			cmd = exec.Command(filepath.Join(clone, "sesame"), words[1:]...)
		default:
			t.Fatalf("README line %q: the test runs only go build and ./sesame", line)
		}
		cmd.Dir, cmd.Env = clone, env
		if len(words) == 2 && words[1] == "serve" {
			sawServe = true
			readmeServe(t, cmd, base, filepath.Join(clone, "examples", "personnes.csv"), filepath.Join(clone, "data", "mail"))
			continue
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("README line %q: %v\nstdout:\n%s\nstderr:\n%s", line, err, stdout.String(), stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("README line %q wrote to standard error (commands log warnings and errors only):\n%s", line, stderr.String())
		}
		t.Logf("$ %s\n%s", line, stdout.String())
	}
	if !sawServe || lines[len(lines)-1] != "./sesame serve" {
		t.Fatalf("the block does not end with ./sesame serve: %q", lines)
	}

	// Both example spreadsheets import without an error or a warning.
	for _, c := range []struct{ file, lang, unchanged string }{
		{"personnes.csv", "fr", "unchanged"}, // already imported: every row unchanged
		{"people.csv", "en", "create"},
	} {
		cmd := exec.Command(filepath.Join(clone, "sesame"), "import", "le-beta", filepath.Join("examples", c.file),
			"--dry-run", "--format", "json", "--lang", c.lang)
		cmd.Dir, cmd.Env = clone, env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("import --dry-run examples/%s: %v\n%s", c.file, err, out)
		}
		var r cliReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("examples/%s: %v\n%s", c.file, err, out)
		}
		if len(r.Rows) < 4 || r.Summary["error"] != 0 || r.Summary["warning"] != 0 || r.Summary[c.unchanged] != len(r.Rows) {
			t.Errorf("examples/%s: summary %v over %d rows; want every row %s, no error or warning", c.file, r.Summary, len(r.Rows), c.unchanged)
		}
	}
}

// readmeServe starts the README's serve line, waits until it has written
// one activation email per person of the spreadsheet, checks the emails and
// the logs, and stops it.
func readmeServe(t *testing.T, cmd *exec.Cmd, base, spreadsheet, mailDir string) {
	t.Helper()
	data, err := os.ReadFile(spreadsheet)
	if err != nil {
		t.Fatal(err)
	}
	people := strings.Count(strings.TrimSpace(string(data)), "\n") // rows after the header
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
	deadline := time.Now().Add(60 * time.Second)
	var files []string
	for {
		files, _ = filepath.Glob(filepath.Join(mailDir, "*.eml"))
		code, _ := get(t, base+"/readyz")
		if code == http.StatusOK && len(files) >= people {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("./sesame serve exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: /readyz %d, %d emails of %d\n%s", code, len(files), people, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30s after SIGTERM\n%s", logs.String())
	}

	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/activate/([A-Za-z0-9_-]{20,})`)
	out := logs.String()
	if len(files) != people {
		t.Errorf("%d emails for %d people", len(files), people)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		m := link.FindSubmatch(body)
		if m == nil {
			t.Errorf("%s holds no activation link to %s", f, base)
			continue
		}
		if strings.Contains(out, string(m[1])) {
			t.Errorf("the server's log holds the link's secret of %s", f)
		}
		// data_dir is ./data: the log names the file from the folder serve runs in.
		if rel := filepath.Join("data", "mail", filepath.Base(f)); !strings.Contains(out, "file="+rel) {
			t.Errorf("the server's log does not name %s:\n%s", rel, out)
		}
	}
	if strings.Contains(out, "/activate/") || strings.Contains(out, "level=ERROR") {
		t.Errorf("the server's log holds a link or an error:\n%s", out)
	}
}
