package notify

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

var jobIDRE = regexp.MustCompile(`Message-ID: <job-(\d+)\.mail\.activate@`)

// activations creates n invited people of one structure and issues their
// activation links (one job each).
func (e *env) activations(n int) []store.Person {
	e.t.Helper()
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	ps := make([]store.Person, n)
	for i := range ps {
		ps[i] = e.person(f, fmt.Sprintf("P%d", i), "Test", fmt.Sprintf("p%d.test", i), fmt.Sprintf("p%d@example.org", i), "fr")
		e.issue(ps[i], f, store.PurposeActivate)
	}
	return ps
}

// TestActivationBatchOverOneConnection sends a batch of activation emails
// to mailpit: each person gets exactly one, each job is done with one
// mail.sent record, a job that must not send (a disabled person) and a job
// with a broken payload in the same batch end as they would alone, and a
// second run of the same jobs sends nothing.
func TestActivationBatchOverOneConnection(t *testing.T) {
	e := newEnv(t)
	ps := e.activations(12)
	if _, err := e.st.UpdatePerson(e.ctx, ps[4].ID, func(p *store.Person) error { p.State = store.StateDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	bad := e.enqueue(jobs.KindMailActivate, map[string]string{"person_id": ""})
	e.drain()
	msgs := e.mp.Messages()
	if len(msgs) != 11 {
		t.Fatalf("mailpit holds %d messages, want 11", len(msgs))
	}
	to := map[string]int{}
	for _, m := range msgs {
		to[m.To[0].Address]++
	}
	for i, p := range ps {
		want := 1
		if i == 4 {
			want = 0
		}
		if to[p.Email] != want {
			t.Fatalf("%s got %d emails, want %d", p.Email, to[p.Email], want)
		}
	}
	if j, _ := e.st.GetJob(e.ctx, bad.ID); j.State != store.JobDead {
		t.Fatalf("broken job in a batch: %+v", j)
	}
	done, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate, State: store.JobDone})
	if len(done) != 12 {
		t.Fatalf("%d activation jobs done, want 12", len(done))
	}
	audit, _ := e.st.ListAudit(e.ctx, store.AuditFilter{Action: auditMailSent, Limit: 100})
	if len(audit) != 11 {
		t.Fatalf("%d mail.sent records, want 11", len(audit))
	}
	// The same jobs claimed again (a lease that expired after the send):
	// nothing goes out twice.
	for i := range done {
		done[i].Attempts++
	}
	for i, err := range e.n.batch(e.n.loadToken(store.PurposeActivate, emailActivate))(e.ctx, done) {
		if err != nil {
			t.Fatalf("re-run of job %d: %v", done[i].ID, err)
		}
	}
	if n := len(e.mp.Messages()); n != 11 {
		t.Fatalf("mailpit holds %d messages after a re-run, want 11", n)
	}
}

// TestActivationBatchConnectionDrops: the server takes two messages of a
// batch, then drops the connection after the third one's data without
// answering. The rest of the batch goes out over a new connection; only
// the third job, whose message may have been delivered, is retried, and
// it sends its email a second time: the documented at-least-once window
// (warned in the log). Every other person gets exactly one.
func TestActivationBatchConnectionDrops(t *testing.T) {
	srv := testenv.StartLossySMTP(t, 0)
	e := newEnvWith(t, nil, func(_ *testenv.Mailpit, _ mail.Sender) mail.Sender {
		s, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.(io.Closer).Close() })
		return s
	})
	e.activations(8)
	srv.LoseRepliesAfter(2, 1)
	if _, err := e.runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate, State: store.JobPending})
	if len(pending) != 1 || !strings.Contains(pending[0].LastError, maybeDeliveredNote) {
		t.Fatalf("after the drop, pending = %+v; want the one job whose reply was lost", pending)
	}
	if n := len(srv.Messages()); n != 8 {
		t.Fatalf("the server holds %d messages after the first run, want 8", n)
	}
	e.drain()
	count := map[string]int{}
	for _, m := range srv.Messages() {
		if g := jobIDRE.FindStringSubmatch(string(m)); g != nil {
			count[g[1]]++
		}
	}
	if len(count) != 8 {
		t.Fatalf("%d jobs' messages on the server, want 8: %v", len(count), count)
	}
	for id, c := range count {
		want := 1
		if id == fmt.Sprint(pending[0].ID) {
			want = 2
		}
		if c != want {
			t.Fatalf("job %s's message stored %d times, want %d", id, c, want)
		}
	}
	done, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate, State: store.JobDone})
	if len(done) != 8 {
		t.Fatalf("%d jobs done, want 8", len(done))
	}
}

// TestActivationBatchServerDown: with the SMTP server down, every job of
// the batch is retried with an error naming the server it could not reach.
func TestActivationBatchServerDown(t *testing.T) {
	port := testenv.ClosedPort(t)
	e := newEnvWith(t, nil, func(_ *testenv.Mailpit, _ mail.Sender) mail.Sender {
		s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: mail.TLSNone, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	e.activations(3)
	if _, err := e.runner.RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	pending, _ := e.st.ListJobs(e.ctx, store.JobFilter{Kind: jobs.KindMailActivate, State: store.JobPending})
	if len(pending) != 3 {
		t.Fatalf("%d jobs pending, want 3", len(pending))
	}
	for _, j := range pending {
		if !strings.Contains(j.LastError, fmt.Sprintf("connect to 127.0.0.1:%d", port)) || strings.Contains(j.LastError, maybeDeliveredNote) {
			t.Fatalf("job error %q does not say the server could not be reached", j.LastError)
		}
	}
}
