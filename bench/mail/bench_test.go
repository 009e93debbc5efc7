package mailbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/notify"
	"sesame/onboarding"
)

// total is how many messages mailpit holds.
func total(b *testing.B, mp *testenv.Mailpit) int {
	resp, err := http.Get(mp.APIURL + "/api/v1/messages?limit=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.Fatal(err)
	}
	return out.Total
}

// deleteAll empties mailpit.
func deleteAll(b *testing.B, mp *testenv.Mailpit) {
	req, _ := http.NewRequest(http.MethodDelete, mp.APIURL+"/api/v1/messages", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n := total(b, mp); n != 0 {
		b.Fatalf("mailpit still holds %d messages", n)
	}
}

// waitFor polls mailpit every 20 ms until it holds n messages.
func waitFor(b *testing.B, mp *testenv.Mailpit, n int, limit time.Duration) {
	start := time.Now()
	for total(b, mp) < n {
		if time.Since(start) > limit {
			b.Fatalf("mailpit holds %d of %d messages after %v", total(b, mp), n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setup creates a structure with a service.
func setup(b *testing.B, st store.Store) (store.Structure, store.Service) {
	ctx := context.Background()
	s := store.Structure{Slug: "lebeta", Name: "Le Bêta", Contact: "contact@lebeta.org"}
	if err := st.CreateStructure(ctx, &s); err != nil {
		b.Fatal(err)
	}
	svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "cloud", Name: "Nextcloud",
		BaseURL: "https://cloud.lebeta.org", ClientID: "cloud", SigningAlg: "RS256", AuthMethod: "client_secret_basic",
		RedirectURIs: []string{"https://cloud.lebeta.org/cb"}, DefaultRole: "user"}
	if err := st.CreateService(ctx, &svc); err != nil {
		b.Fatal(err)
	}
	return s, svc
}

// people creates the invited people from..to-1 of s with svc and issues
// their activation links (one job each), 500 per transaction.
func people(b *testing.B, st store.Store, tokens *onboarding.Tokens, s store.Structure, svc store.Service, from, to int) {
	ctx := context.Background()
	for done := from; done < to; done += 500 {
		err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := done; i < min(done+500, to); i++ {
				p := store.Person{Username: fmt.Sprintf("p%05d", i), Email: fmt.Sprintf("p%05d@example.org", i),
					GivenName: "Prénom", FamilyName: fmt.Sprintf("Nom %05d", i), DisplayName: fmt.Sprintf("Prénom Nom %05d", i),
					Language: "fr", State: store.StateInvited}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: "user"}); err != nil {
					return err
				}
				if _, err := tokens.Issue(ctx, tx, p.ID, s.ID, store.PurposeActivate); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// pipeline runs the job runner (serve's defaults) from its start until
// mailpit holds n messages, and returns the rate.
func pipeline(b *testing.B, st store.Store, mp *testenv.Mailpit, tokens *onboarding.Tokens, n int) float64 {
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer sender.(io.Closer).Close()
	log := slog.New(slog.DiscardHandler)
	nt, err := notify.New(st, sender, notify.Config{PublicURL: "https://sso.example.org", From: "Sesame <sesame@example.org>",
		Tokens: tokens}, log)
	if err != nil {
		b.Fatal(err)
	}
	cfg := jobs.DefaultConfig()
	if w, err := strconv.Atoi(os.Getenv("BENCH_MAIL_WORKERS")); err == nil && w > 0 {
		cfg.SinkWorkers = map[string]int{jobs.SinkMail: w}
	}
	r := jobs.NewRunner(st, cfg, log)
	nt.Register(r)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	start := time.Now()
	go func() { done <- r.Run(ctx) }()
	waitFor(b, mp, n, 30*time.Minute)
	el := time.Since(start)
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return float64(n) / el.Seconds()
}

// plainLoop sends n copies of raw (an activation email as mailpit stored
// it, each with its own Message-ID and recipient) over one net/smtp
// connection, RSET between messages, and returns the rate until mailpit
// holds them all.
func plainLoop(b *testing.B, mp *testenv.Mailpit, raw []byte, n int) float64 {
	start := time.Now()
	c, err := smtp.Dial(mp.SMTPAddr)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Hello("localhost"); err != nil {
		b.Fatal(err)
	}
	body := string(raw)
	for i := range n {
		to := fmt.Sprintf("q%05d@example.org", i)
		if err := c.Mail("sesame@example.org"); err != nil {
			b.Fatal(err)
		}
		if err := c.Rcpt(to); err != nil {
			b.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			b.Fatal(err)
		}
		msg := strings.Replace(body, "Message-ID: <", fmt.Sprintf("Message-ID: <plain-%d.", i), 1)
		if _, err := io.WriteString(w, msg); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := c.Reset(); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Quit(); err != nil {
		b.Fatal(err)
	}
	waitFor(b, mp, n, 10*time.Minute)
	return float64(n) / time.Since(start).Seconds()
}

// chunk is how many emails each side sends in turn.
const chunk = 2000

// BenchmarkActivationEmailsVsPlainSMTP sends b.N activation emails through
// the job runner (serve's default configuration, SQLite) and b.N copies of
// one of them through a plain net/smtp loop, to the same mailpit, the two
// sides taking turns by chunks of 2,000 (mailpit emptied before each turn)
// so that both meet the same machine load. A pipeline turn enqueues its
// people and jobs (not measured), then runs from the runner's start until
// mailpit holds the chunk. It reports both rates (total count over total
// time) and pipeline_vs_plain, and checks that each person got one email.
func BenchmarkActivationEmailsVsPlainSMTP(b *testing.B) {
	n := b.N
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sesame.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tokens := &onboarding.Tokens{Key: bytes.Repeat([]byte("k"), 32)}
	s, svc := setup(b, st)
	mp := testenv.StartMailpit(b)
	b.StopTimer()
	var pipeTime, plainTime float64
	var ratios []float64
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		people(b, st, tokens, s, svc, from, to)
		deleteAll(b, mp)
		b.StartTimer()
		pipe := pipeline(b, st, mp, tokens, to-from)
		b.StopTimer()
		c, _ := st.CountJobs(ctx)
		if c[store.JobDone] != to {
			b.Fatalf("jobs: %v, want %d done", c, to)
		}
		msgs := mp.Messages()
		seen := map[string]bool{}
		for _, m := range msgs {
			if seen[m.To[0].Address] {
				b.Fatalf("%s got two emails", m.To[0].Address)
			}
			seen[m.To[0].Address] = true
		}
		raw := mp.Raw(msgs[0].ID)
		deleteAll(b, mp)
		b.StartTimer()
		plain := plainLoop(b, mp, raw, to-from)
		b.StopTimer()
		pipeTime += float64(to-from) / pipe
		plainTime += float64(to-from) / plain
		ratios = append(ratios, pipe/plain)
	}
	b.ReportMetric(float64(n)/pipeTime, "pipeline_msgs/s")
	b.ReportMetric(float64(n)/plainTime, "plain_msgs/s")
	b.ReportMetric(plainTime/pipeTime, "pipeline_vs_plain")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median_turn_ratio")
}
