package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	logs *SyncBuffer // the running mailpit's output
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
	m := &Mailpit{t: t, bin: bin, dir: ShortTempDir(t)}
	t.Cleanup(m.Stop)
	// Another process may take a port between FreePort and mailpit's
	// bind: mailpit then exits, and is started again on new ports.
	var err error
	for range 3 {
		smtpPort, httpPort := FreePort(t), FreePort(t)
		m.SMTPAddr, m.SMTPHost, m.SMTPPort = fmt.Sprintf("127.0.0.1:%d", smtpPort), "127.0.0.1", smtpPort
		m.APIURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		if err = m.start(); err == nil {
			return m
		}
	}
	t.Fatalf("testenv: mailpit did not start: %v", err)
	return nil
}

// Start starts mailpit again after Stop (same ports, same stored messages).
func (m *Mailpit) Start() {
	m.t.Helper()
	if err := m.start(); err != nil {
		m.t.Fatalf("testenv: mailpit did not start again: %v", err)
	}
}

// start starts mailpit on m's ports and waits until its SMTP server greets
// and its API answers (mailpit's own, not another process on the port).
func (m *Mailpit) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	logs := &SyncBuffer{}
	cmd := exec.Command(m.bin,
		"--smtp", m.SMTPAddr, "--listen", m.APIURL[len("http://"):],
		"--database", filepath.Join(m.dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--max", "0", "--quiet")
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mailpit: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := m.ready(done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%w\n%s", err, logs.String())
	}
	m.cmd, m.done, m.logs = cmd, done, logs
	return nil
}

// ready waits up to 15 s for mailpit's SMTP greeting and API.
func (m *Mailpit) ready(done <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("mailpit exited")
		default:
		}
		if err = smtpGreets(m.SMTPAddr); err == nil {
			var resp *http.Response
			if resp, err = http.Get(m.APIURL + "/api/v1/info"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("API: %s", resp.Status)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// smtpGreets reports whether an SMTP server greets (220) at addr.
func smtpGreets(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("SMTP greeting: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("SMTP greeting: %q", line)
	}
	return nil
}

// SyncBuffer is a process's output (mailpit's, sesame's), written by the
// process while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
		m.t.Fatalf("testenv: mailpit %s: %v%s", path, err, m.state())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("testenv: mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		m.t.Fatalf("testenv: mailpit %s: %v", path, err)
	}
}

// state says whether mailpit still runs, with its output: for the message
// of a failed call.
func (m *Mailpit) state() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return " (mailpit is stopped)"
	}
	select {
	case <-m.done:
		return fmt.Sprintf(" (mailpit exited: %v)\n%s", m.cmd.ProcessState, m.logs.String())
	default:
		return fmt.Sprintf(" (mailpit runs)\n%s", m.logs.String())
	}
}
