package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/testenv"
)

func testMessage(id string) Message {
	return Message{
		MessageID: "<" + id + "@sesame.example.org>",
		From:      "Sesame <sesame@example.org>",
		To:        "camille@example.org",
		ToName:    "Camille Dupont",
		Subject:   "Activez votre compte — Le Bêta",
		Text:      "Bonjour Camille,\n\nhttps://sesame.example.org/activate/abc\n",
		HTML:      "<p>Bonjour Camille,</p><p><a href=\"https://sesame.example.org/activate/abc\">Activer</a></p>",
		Date:      time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC),
		Headers:   map[string]string{"X-Sesame-Job": "42"},
	}
}

func plainSMTP(t testing.TB, host string, port int) *SMTP {
	t.Helper()
	s, err := newSMTP(SMTPConfig{Host: host, Port: port, TLS: TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSMTPDeliversMultipart(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := plainSMTP(t, mp.SMTPHost, mp.SMTPPort)
	if err := s.Send(context.Background(), testMessage("job-1.mail.activate")); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("mailpit holds %d messages", len(msgs))
	}
	if msgs[0].MessageID != "job-1.mail.activate@sesame.example.org" {
		t.Fatalf("Message-ID %q", msgs[0].MessageID)
	}
	if msgs[0].Subject != "Activez votre compte — Le Bêta" || msgs[0].To[0].Name != "Camille Dupont" {
		t.Fatalf("summary %+v", msgs[0])
	}
	full := mp.Message(msgs[0].ID)
	if !strings.Contains(full.Text, "Bonjour Camille") || !strings.Contains(full.HTML, "<a href=\"https://sesame.example.org/activate/abc\">") {
		t.Fatalf("parts: text %q html %q", full.Text, full.HTML)
	}
	raw := string(mp.Raw(msgs[0].ID))
	for _, want := range []string{"Auto-Submitted: auto-generated", "Date: Tue, 01 Dec 2026 14:00:00 +0000",
		"Content-Type: multipart/alternative", "Content-Type: text/plain", "Content-Type: text/html", "X-Sesame-Job: 42"} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw message lacks %q:\n%s", want, raw)
		}
	}
	if strings.Index(raw, "text/plain") > strings.Index(raw, "text/html") {
		t.Error("the text part must come first (the last alternative is the preferred one)")
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := plainSMTP(t, mp.SMTPHost, mp.SMTPPort)
	m := testMessage("job-2.mail.activate")
	m.Subject = "Bonjour\r\nBcc: victim@example.net\r\n\r\nbody"
	m.ToName = "Eve\r\nBcc: other@example.net"
	m.Headers = map[string]string{"X-Note": "a\nBcc: third@example.net"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 {
		t.Fatalf("want one message to one recipient, got %+v", msgs)
	}
	raw := string(mp.Raw(msgs[0].ID))
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for line := range strings.SplitSeq(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Fatalf("injected header line %q in:\n%s", line, head)
		}
	}
	for _, bad := range []Message{
		func() Message { m := testMessage("x"); m.Headers = map[string]string{"Bcc\r\nX": "y"}; return m }(),
		func() Message {
			m := testMessage("x")
			m.Headers = map[string]string{"From": "evil@example.net"}
			return m
		}(),
		func() Message { m := testMessage("x"); m.To = "a@example.org, b@example.org"; return m }(),
		func() Message { m := testMessage("x"); m.To = "Camille <camille@example.org>"; return m }(),
		func() Message { m := testMessage("x"); m.HTML = ""; return m }(),
		func() Message { m := testMessage("x"); m.Text = ""; return m }(),
		func() Message { m := testMessage("x"); m.MessageID = "no-at-sign"; return m }(),
		func() Message { m := testMessage("x"); m.MessageID = "<a@b>\r\nBcc: c@d"; return m }(),
		func() Message { m := testMessage("x"); m.From = "not an address"; return m }(),
	} {
		err := s.Send(context.Background(), bad)
		if err == nil || !IsPermanent(err) || !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("Send(%+v) = %v; want a permanent ErrInvalidMessage", bad, err)
		}
	}
	if n := len(mp.Messages()); n != 1 {
		t.Fatalf("invalid messages reached the server: %d messages", n)
	}
}

// countingProxy relays TCP connections to target and counts them, to see
// whether the sender reuses its connection.
type countingProxy struct {
	addr  string
	conns atomic.Int64
	ln    net.Listener
}

func startProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String(), ln: ln}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.Close() }()
				_, _ = io.Copy(c, u)
			})
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func TestSMTPReusesConnection(t *testing.T) {
	mp := testenv.StartMailpit(t)
	proxy := startProxy(t, mp.SMTPAddr)
	_, port, _ := net.SplitHostPort(proxy.addr)
	var portN int
	fmt.Sscan(port, &portN)
	s := plainSMTP(t, "127.0.0.1", portN)
	ctx := context.Background()
	for i := range 5 {
		if err := s.Send(ctx, testMessage(fmt.Sprintf("job-%d.mail.activate", i))); err != nil {
			t.Fatal(err)
		}
	}
	batch := []Message{testMessage("b1.x"), testMessage("b2.x"), testMessage("b3.x")}
	if err := s.Send(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	if n := proxy.conns.Load(); n != 1 {
		t.Fatalf("8 messages in 6 Sends used %d connections; want 1", n)
	}
	if n := len(mp.Messages()); n != 8 {
		t.Fatalf("mailpit holds %d messages; want 8", n)
	}

	// No reuse when asked.
	s2, err := newSMTP(SMTPConfig{Host: "127.0.0.1", Port: portN, TLS: TLSNone, IdleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	before := proxy.conns.Load()
	for i := range 3 {
		if err := s2.Send(ctx, testMessage(fmt.Sprintf("n%d.x", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := proxy.conns.Load() - before; n != 3 {
		t.Fatalf("IdleTimeout<0 used %d connections for 3 Sends; want 3", n)
	}
}

func TestSMTPServerDownThenUp(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := plainSMTP(t, mp.SMTPHost, mp.SMTPPort)
	ctx := context.Background()
	if err := s.Send(ctx, testMessage("a.x")); err != nil {
		t.Fatal(err)
	}
	mp.Stop()
	err := s.Send(ctx, testMessage("b.x"))
	if err == nil {
		t.Fatal("Send with the server down succeeded")
	}
	if IsPermanent(err) {
		t.Fatalf("server down must be temporary: %v", err)
	}
	mp.Start()
	// The pooled connection died with the server; Send notices (NOOP) and
	// dials again.
	if err := s.Send(ctx, testMessage("b.x")); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	if n := len(mp.Messages()); n != 2 {
		t.Fatalf("mailpit holds %d messages; want 2", n)
	}
	// A stale pooled connection after a restart is also handled.
	mp.Stop()
	mp.Start()
	if err := s.Send(ctx, testMessage("c.x")); err != nil {
		t.Fatalf("Send over a connection the server dropped: %v", err)
	}
}

func TestSMTPContextCancelled(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := plainSMTP(t, mp.SMTPHost, mp.SMTPPort)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, testMessage("a.x"))
	if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context = %v", err)
	}
}

func TestConfigRefused(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("nope"), 0o600)
	for name, cfg := range map[string]SMTPConfig{
		"no host":             {TLS: TLSStartTLS},
		"plain to remote":     {Host: "smtp.example.org", TLS: TLSNone},
		"plain to private IP": {Host: "10.0.0.5", TLS: TLSNone},
		"unknown TLS":         {Host: "smtp.example.org", TLS: "ssl"},
		"bad port":            {Host: "smtp.example.org", Port: 70000},
		"missing CA file":     {Host: "smtp.example.org", CAFile: filepath.Join(dir, "none.pem")},
		"CA file not PEM":     {Host: "smtp.example.org", CAFile: notPEM},
	} {
		if _, err := NewSMTP(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: NewSMTP(%+v) = %v; want ErrConfig", name, cfg, err)
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1", "127.0.0.53"} {
		if _, err := NewSMTP(SMTPConfig{Host: host, TLS: TLSNone}); err != nil {
			t.Errorf("plain SMTP to loopback %s refused: %v", host, err)
		}
	}
}

// startMailpitWith starts a mailpit with extra flags (TLS, recipient rules)
// that testenv's default one does not take.
func startMailpitWith(t *testing.T, args ...string) (smtpPort int, api string) {
	t.Helper()
	bin, ok := testenv.LookBinary("mailpit", "/root/go/bin", filepath.Join(os.Getenv("HOME"), "go", "bin"))
	if !ok {
		testenv.Missing(t, "mailpit is not installed")
	}
	smtpPort, httpPort := testenv.FreePort(t), testenv.FreePort(t)
	dir := testenv.ShortTempDir(t)
	api = fmt.Sprintf("127.0.0.1:%d", httpPort)
	all := append([]string{"--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--listen", api,
		"--database", filepath.Join(dir, "mp.db"), "--quiet"}, args...)
	cmd := exec.Command(bin, all...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := testenv.WaitTCP(fmt.Sprintf("127.0.0.1:%d", smtpPort), 15*time.Second); err != nil {
		t.Fatalf("mailpit: %v\n%s", err, logs.String())
	}
	return smtpPort, "http://" + api
}

func TestSMTPStartTLSAndImplicitTLSWithAuth(t *testing.T) {
	cert, key := testenv.SelfSigned(t)
	ctx := context.Background()
	t.Run("starttls", func(t *testing.T) {
		port, _ := startMailpitWith(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-accept-any")
		s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS, CAFile: cert, Username: "sesame", Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, testMessage("tls1.x")); err != nil {
			t.Fatalf("STARTTLS with auth: %v", err)
		}
		// Without the CA, the certificate is not trusted: refused, temporary.
		s2, _ := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS})
		if err := s2.Send(ctx, testMessage("tls2.x")); err == nil || IsPermanent(err) {
			t.Fatalf("STARTTLS to an untrusted certificate = %v; want a temporary error", err)
		}
	})
	t.Run("implicit tls", func(t *testing.T) {
		port, _ := startMailpitWith(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-tls", "--smtp-auth-accept-any")
		s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSImplicit, CAFile: cert, Username: "sesame", Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, testMessage("tls3.x")); err != nil {
			t.Fatalf("implicit TLS with auth: %v", err)
		}
	})
	t.Run("starttls required but not offered", func(t *testing.T) {
		mp := testenv.StartMailpit(t) // plain only
		s, _ := NewSMTP(SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: TLSStartTLS})
		if err := s.Send(ctx, testMessage("tls4.x")); err == nil || IsPermanent(err) {
			t.Fatalf("STARTTLS to a server without it = %v; want a temporary error", err)
		}
		if n := len(mp.Messages()); n != 0 {
			t.Fatal("a message went out in clear text")
		}
	})
}

func TestSMTPRejectedRecipientIsPermanent(t *testing.T) {
	port, _ := startMailpitWith(t, "--smtp-allowed-recipients", `@example\.org$`)
	s := plainSMTP(t, "127.0.0.1", port)
	bad := testMessage("rej.x")
	bad.To = "someone@elsewhere.net"
	good := testMessage("ok.x")
	err := s.Send(context.Background(), bad, good)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("rejected recipient = %v; want permanent", err)
	}
	var me *Error
	if !errors.As(err, &me) || me.MessageID != bad.MessageID || me.Code < 500 {
		t.Fatalf("error does not name the refused message and its 5xx code: %#v", me)
	}
	// The other message of the batch still went, over the same connection.
	if err := s.Send(context.Background(), testMessage("after.x")); err != nil {
		t.Fatalf("connection unusable after a refused recipient: %v", err)
	}
}

func TestFileSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	var logs bytes.Buffer
	f := NewFileSender(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	m := testMessage("job-9.mail.activate")
	m.ToName = "Eve\r\nBcc: x@example.net"
	if err := f.Send(context.Background(), m, m); err != nil { // twice: one file
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("files %v; want one", files)
	}
	raw, _ := os.ReadFile(files[0])
	for _, want := range []string{"Message-ID: <job-9.mail.activate@sesame.example.org>", "Auto-Submitted: auto-generated", "multipart/alternative"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("eml lacks %q", want)
		}
	}
	if bytes.Contains(raw, []byte("\r\nBcc:")) {
		t.Error("header injected into the eml")
	}
	// The log names the file, and never holds the message's links: an
	// activation link opens the account to whoever reads the log.
	log := logs.String()
	if strings.Count(log, "\n") != 2 || strings.Count(log, "file="+files[0]) != 2 {
		t.Fatalf("the log does not name the file %s once per message:\n%s", files[0], log)
	}
	for _, secret := range []string{"/activate/abc", "https://sesame.example.org", "Bonjour"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
	if err := f.Send(context.Background(), Message{MessageID: "bad"}); !IsPermanent(err) {
		t.Fatalf("invalid message to the file sender = %v", err)
	}
}

// BenchmarkSMTPReused sends one message per Send to mailpit, reusing the
// pooled connection: the path of one mail job after another.
func BenchmarkSMTPReused(b *testing.B) {
	mp := testenv.StartMailpit(b)
	s := plainSMTP(b, mp.SMTPHost, mp.SMTPPort)
	benchSend(b, s)
}

// BenchmarkSMTPConnPerMessage dials a new connection for every message.
func BenchmarkSMTPConnPerMessage(b *testing.B) {
	mp := testenv.StartMailpit(b)
	s, err := newSMTP(SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: TLSNone, IdleTimeout: -1})
	if err != nil {
		b.Fatal(err)
	}
	benchSend(b, s)
}

func benchSend(b *testing.B, s *SMTP) {
	ctx := context.Background()
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		if err := s.Send(ctx, testMessage(fmt.Sprintf("bench-%d.x", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "msgs/s")
}

// TestSMTPLostReply: the server stores a message but the connection drops
// before its 250 (mailpit cannot lose a reply, so a minimal SMTP peer from
// testenv plays the server). The failure must say the message may have
// been delivered; failures before the data is sent must not.
func TestSMTPLostReply(t *testing.T) {
	srv := testenv.StartLossySMTP(t, 1)
	s := plainSMTP(t, srv.Host, srv.Port)
	ctx := context.Background()

	err := s.Send(ctx, testMessage("job-7.mail.activate"))
	if err == nil || !MaybeDelivered(err) || IsPermanent(err) {
		t.Fatalf("lost reply: Send = %v (maybe delivered %v, permanent %v); want a temporary, maybe-delivered error",
			err, MaybeDelivered(err), IsPermanent(err))
	}
	if !strings.Contains(err.Error(), "may have accepted it") {
		t.Errorf("the error does not say the message may be out: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || !bytes.Contains(got[0], []byte("job-7.mail.activate@sesame.example.org")) {
		t.Fatalf("the server holds %d messages; want the one whose reply was lost", len(got))
	}

	// The retry goes through on a new connection: the same message twice.
	if err := s.Send(ctx, testMessage("job-7.mail.activate")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("the server holds %d messages; want 2", n)
	}

	// A refused connection sent nothing: not "maybe delivered".
	srv.RefuseConnections(1)
	s.Close()
	s = plainSMTP(t, srv.Host, srv.Port)
	if err := s.Send(ctx, testMessage("job-8.mail.activate")); err == nil || MaybeDelivered(err) {
		t.Fatalf("refused connection: Send = %v (maybe delivered %v)", err, MaybeDelivered(err))
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("the server holds %d messages after a refused connection; want 2", n)
	}
}

// TestSMTPSendEachOverOneConnection sends a batch to mailpit: every message
// is accepted once, each reported nil, and a message that cannot be built
// fails alone.
func TestSMTPSendEachOverOneConnection(t *testing.T) {
	mp := testenv.StartMailpit(t)
	s := plainSMTP(t, mp.SMTPHost, mp.SMTPPort)
	msgs := make([]Message, 6)
	for i := range msgs {
		msgs[i] = testMessage(fmt.Sprintf("job-%d.mail.activate", i+1))
	}
	msgs[3].To = "not an address"
	errs := s.SendEach(context.Background(), msgs)
	for i, err := range errs {
		if i == 3 {
			if !IsPermanent(err) {
				t.Fatalf("unbuildable message: %v, want a permanent error", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if n := len(mp.Messages()); n != 5 {
		t.Fatalf("mailpit holds %d messages, want 5", n)
	}
	s.mu.Lock()
	idle := len(s.idle)
	s.mu.Unlock()
	if idle != 1 {
		t.Fatalf("%d idle connections after a batch, want the one it used", idle)
	}
}

// TestSMTPSendEachConnectionDropsMidBatch: the server takes two messages,
// then drops the connection after the third one's data without answering.
// The third is reported as maybe delivered (not sent again); the rest go
// out once over a new connection.
func TestSMTPSendEachConnectionDropsMidBatch(t *testing.T) {
	srv := testenv.StartLossySMTP(t, 0)
	srv.LoseRepliesAfter(2, 1)
	s := plainSMTP(t, srv.Host, srv.Port)
	msgs := make([]Message, 6)
	for i := range msgs {
		msgs[i] = testMessage(fmt.Sprintf("job-%d.mail.activate", i+1))
	}
	errs := s.SendEach(context.Background(), msgs)
	for i, err := range errs {
		switch {
		case i == 2:
			if !MaybeDelivered(err) || IsPermanent(err) {
				t.Fatalf("message whose reply was lost: %v, want maybe delivered and temporary", err)
			}
		case err != nil:
			t.Fatalf("message %d: %v", i, err)
		}
	}
	got := srv.Messages()
	if len(got) != 6 {
		t.Fatalf("server holds %d messages, want 6 (each once)", len(got))
	}
	seen := map[string]int{}
	for _, m := range got {
		for i := range msgs {
			if strings.Contains(string(m), fmt.Sprintf("job-%d.mail.activate@", i+1)) {
				seen[fmt.Sprint(i)]++
			}
		}
	}
	for i := range msgs {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("message %d stored %d times: %v", i, seen[fmt.Sprint(i)], seen)
		}
	}
}

// TestSMTPSendEachServerDown: every message of a batch gets a temporary
// error that names the server.
func TestSMTPSendEachServerDown(t *testing.T) {
	port := testenv.ClosedPort(t)
	s := plainSMTP(t, "127.0.0.1", port)
	errs := s.SendEach(context.Background(), []Message{testMessage("a.1"), testMessage("a.2")})
	for i, err := range errs {
		if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), fmt.Sprintf("connect to 127.0.0.1:%d", port)) {
			t.Fatalf("message %d to a server that is down: %v", i, err)
		}
	}
}

// TestSendEachFallsBack: a Sender that is not a BatchSender gets one Send
// per message.
func TestSendEachFallsBack(t *testing.T) {
	dir := t.TempDir()
	f := NewFileSender(dir, nil)
	bad := testMessage("b.2")
	bad.From = ""
	errs := SendEach(context.Background(), f, []Message{testMessage("b.1"), bad})
	if errs[0] != nil || errs[1] == nil {
		t.Fatalf("fallback results %v", errs)
	}
}

// A message being written is not named *.eml: a reader that lists the
// folder while messages are sent (a script, a test) sees only complete
// ones, none renamed away under it.
func TestFileSenderWritesUnderAnotherName(t *testing.T) {
	dir := t.TempDir()
	s := NewFileSender(dir, nil)
	stop := make(chan struct{})
	seen := make(chan string, 1)
	go func() {
		defer close(seen)
		for {
			select {
			case <-stop:
				return
			default:
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			for _, f := range files {
				if _, err := os.Stat(f); err != nil || strings.HasPrefix(filepath.Base(f), ".") {
					seen <- f
					return
				}
			}
		}
	}()
	for i := range 200 {
		m := Message{MessageID: fmt.Sprintf("<m%d@sesame.test>", i), From: "sesame@example.org", To: "a@example.org",
			Subject: "s", Text: strings.Repeat("texte ", 2000), HTML: "<p>" + strings.Repeat("texte ", 2000) + "</p>"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if f, ok := <-seen; ok {
		t.Fatalf("a reader listing *.eml saw %s while it was being written", f)
	}
}
