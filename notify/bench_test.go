package notify

import (
	"fmt"
	"testing"
	"time"

	"sesame/internal/mail"
	"sesame/internal/store"
)

// benchActivations enqueues b.N activation emails, then measures the runner
// sending them all to mailpit.
func benchActivations(b *testing.B, cfg mail.SMTPConfig) {
	e := newEnv(b, cfg)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	n := b.N
	for i := range n {
		p := e.person(f, fmt.Sprintf("P%d", i), "Bench", fmt.Sprintf("p%d", i), fmt.Sprintf("p%d@example.org", i), "fr")
		e.issue(p, f, store.PurposeActivate)
	}
	b.ResetTimer()
	start := time.Now()
	e.drain()
	elapsed := time.Since(start)
	b.StopTimer()
	if got := len(e.mp.Messages()); got != n {
		b.Fatalf("mailpit holds %d of %d messages", got, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkActivationEmailsReused sends through one reused connection.
// Run with -benchtime=10000x for the 10,000-message figure.
func BenchmarkActivationEmailsReused(b *testing.B) {
	benchActivations(b, mail.SMTPConfig{Timeout: 10 * time.Second})
}

// BenchmarkActivationEmailsConnPerMessage dials for every message.
func BenchmarkActivationEmailsConnPerMessage(b *testing.B) {
	benchActivations(b, mail.SMTPConfig{Timeout: 10 * time.Second, IdleTimeout: -1})
}
