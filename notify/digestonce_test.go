package notify

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/internal/testenv"
)

// acceptThenCancel accepts every message (the server queued it) and then,
// once, cancels the handler's context: the runner's shutdown (or the
// lease's deadline) arrives just as the server answered.
type acceptThenCancel struct {
	mu     sync.Mutex
	sent   []mail.Message
	cancel context.CancelFunc
}

func (s *acceptThenCancel) Send(_ context.Context, msgs ...mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, msgs...)
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	return nil
}

// TestDigestAcceptedThenCancelledIsNotSentAgain: a digest the SMTP server
// accepted is recorded as sent even when the handler's context ends right
// after the acceptance, so the job's next run does not send it again (the
// batch handlers record with a context that outlives the handler's; the
// digest's single-job path did not).
func TestDigestAcceptedThenCancelledIsNotSentAgain(t *testing.T) {
	sender := &acceptThenCancel{}
	e := newEnvWith(t, nil, func(*testenv.Mailpit, mail.Sender) mail.Sender { return sender })
	ctx, n, db := e.ctx, e.n, e.st
	f := e.structure("Le Bêta", "bureau@lebeta.org")
	e.person(f, "Camille", "", "camille", "camille@example.org", "fr")
	st := f.structure
	payload, _ := json.Marshal(jobs.DigestMail{StructureID: st.ID, Period: "2026-W50", To: "bureau@lebeta.org"})
	job := store.Job{Kind: jobs.KindMailDigest, Payload: payload}
	if _, err := db.EnqueueJob(ctx, &job); err != nil {
		t.Fatal(err)
	}
	job.Attempts = 1

	// First run: accepted by the server, then the context ends.
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sender.cancel = cancel
	err1 := n.handleDigest(hctx, job)
	if len(sender.sent) != 1 {
		t.Fatalf("first run sent %d messages", len(sender.sent))
	}
	if err1 == nil {
		return // recorded: done, nothing to run again
	}
	// The runner retries it ("interrupted by shutdown: ..."): a later run.
	job.Attempts, job.LastError = 2, "interrupted by shutdown: "+err1.Error()
	if err := n.handleDigest(ctx, job); err != nil {
		t.Fatal(err)
	}
	if len(sender.sent) != 1 {
		t.Fatalf("the digest the server had accepted was sent %d times (first run: %v)", len(sender.sent), err1)
	}
}
