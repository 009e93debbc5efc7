package ldapsync

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

// BenchmarkMailWhileSlapd measures how fast mail jobs (a trivial handler)
// complete beside LDAP jobs, with slapd answering and with slapd frozen
// (SIGSTOP): the rates should be alike, since each sink has workers of its
// own. Each iteration queues 10 LDAP person jobs, then 200 mail jobs.
//
//	go test ./ldapsync/ -run '^$' -bench MailWhileSlapd -benchtime 5x
func BenchmarkMailWhileSlapd(b *testing.B) {
	for _, frozen := range []bool{false, true} {
		b.Run(map[bool]string{false: "up", true: "frozen"}[frozen], func(b *testing.B) {
			e := newEnv(b)
			conn, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword,
				BaseDN: e.slapd.BaseDN, RequestTimeout: 10 * time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sesame.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var people []string
			for i := range 10 {
				p := store.Person{Username: fmt.Sprintf("b%02d", i), Email: fmt.Sprintf("b%02d@example.org", i), FamilyName: "B"}
				if err := st.CreatePerson(ctx, &p); err != nil {
					b.Fatal(err)
				}
				people = append(people, p.ID)
			}
			log := slog.New(slog.DiscardHandler)
			s := New(conn, st, log)
			r := jobs.NewRunner(st, jobs.Config{Workers: 4, PollInterval: 5 * time.Millisecond}, log)
			r.Handle(jobs.KindLDAPPerson, s.HandlePerson)
			var mailDone atomic.Int64
			r.Handle(jobs.KindMailPasswordChanged, func(ctx context.Context, j store.Job) error { mailDone.Add(1); return nil })
			if frozen {
				e.slapd.Freeze()
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = r.Run(rctx) }()
			defer func() {
				if frozen {
					e.slapd.Thaw()
				}
				cancel()
				<-done
			}()
			const nMail = 200
			var busy time.Duration
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					for _, id := range people {
						if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPPerson, "", jobs.PersonRef{PersonID: id}); err != nil {
							return err
						}
					}
					for range nMail {
						if _, err := jobs.Enqueue(ctx, tx, jobs.KindMailPasswordChanged, "", jobs.PersonRef{PersonID: "x"}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				want := int64(nMail * (i + 1))
				deadline := time.Now().Add(time.Minute)
				for mailDone.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d mail jobs done after a minute", mailDone.Load(), want)
					}
					time.Sleep(time.Millisecond)
				}
				busy += time.Since(start)
			}
			b.ReportMetric(float64(nMail*b.N)/busy.Seconds(), "mail_jobs/s")
		})
	}
}
