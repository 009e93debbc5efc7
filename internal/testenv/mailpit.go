package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Mailpit is a throw-away mailpit (SMTP server with an HTTP API) of one test.
type Mailpit struct {
	SMTPAddr string // 127.0.0.1:PORT
	SMTPHost string
	SMTPPort int
	APIURL   string // http://127.0.0.1:PORT

	t    testing.TB
	bin  string
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMailpit starts a fresh mailpit for t, stopped when the test ends. It
// is looked up in PATH, then in $(go env GOPATH)/bin and ~/go/bin.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	extra := []string{}
	if gp := os.Getenv("GOPATH"); gp != "" {
		extra = append(extra, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		extra = append(extra, filepath.Join(home, "go", "bin"))
	}
	bin, ok := LookBinary("mailpit", extra...)
	if !ok {
		Missing(t, "mailpit is not installed (scripts/test installs it with go install)")
	}
	smtpPort, httpPort := FreePort(t), FreePort(t)
	m := &Mailpit{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort),
		SMTPHost: "127.0.0.1",
		SMTPPort: smtpPort,
		APIURL:   fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		t:        t,
		bin:      bin,
		dir:      ShortTempDir(t),
	}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start starts mailpit again after Stop (same ports, same stored messages).
func (m *Mailpit) Start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return
	}
	var logs bytes.Buffer
	cmd := exec.Command(m.bin,
		"--smtp", m.SMTPAddr, "--listen", m.APIURL[len("http://"):],
		"--database", filepath.Join(m.dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--max", "0", "--quiet")
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("testenv: start mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	for _, a := range []string{m.SMTPAddr, m.APIURL[len("http://"):]} {
		if err := WaitTCP(a, 15*time.Second); err != nil {
			_ = cmd.Process.Kill()
			<-done
			m.t.Fatalf("testenv: mailpit did not start: %v\n%s", err, logs.String())
		}
	}
	m.cmd, m.done = cmd, done
}

// Stop kills mailpit.
func (m *Mailpit) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
	m.cmd, m.done = nil, nil
}

// MailSummary is one message as mailpit's list API gives it.
type MailSummary struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"To"`
}

// Messages lists every message mailpit holds (newest first).
func (m *Mailpit) Messages() []MailSummary {
	m.t.Helper()
	var out struct {
		Total    int           `json:"total"`
		Messages []MailSummary `json:"messages"`
	}
	m.getJSON("/api/v1/messages?limit=100000", &out)
	return out.Messages
}

// Message is one full message as mailpit's message API gives it.
type Message struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	Text    string `json:"Text"`
	HTML    string `json:"HTML"`
}

// Message returns one message with its text and HTML parts.
func (m *Mailpit) Message(id string) Message {
	m.t.Helper()
	var out Message
	m.getJSON("/api/v1/message/"+id, &out)
	return out
}

// Raw returns a message's source.
func (m *Mailpit) Raw(id string) []byte {
	m.t.Helper()
	resp, err := http.Get(m.APIURL + "/api/v1/message/" + id + "/raw")
	if err != nil {
		m.t.Fatalf("testenv: mailpit raw: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.Bytes()
}

func (m *Mailpit) getJSON(path string, v any) {
	m.t.Helper()
	resp, err := http.Get(m.APIURL + path)
	if err != nil {
		m.t.Fatalf("testenv: mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("testenv: mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		m.t.Fatalf("testenv: mailpit %s: %v", path, err)
	}
}
