package ldapsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// TestFrozenSlapdDoesNotStarveMail freezes slapd (SIGSTOP: connections are
// accepted, nothing is answered) while LDAP jobs and mail jobs are due, the
// LDAP ones first: the mail jobs all complete while every LDAP job is still
// stuck, since each sink has workers of its own; once slapd is thawed the
// LDAP jobs finish and the directory matches the store.
func TestFrozenSlapdDoesNotStarveMail(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		e := newEnv(t)
		// Long enough that the LDAP jobs stay stuck for the whole frozen
		// phase; each request is still bounded.
		conn, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword,
			BaseDN: e.slapd.BaseDN, DialTimeout: 5 * time.Second, RequestTimeout: 3 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		s := New(conn, st, log)
		ctx := context.Background()
		f := seed(t, st, "")

		const nLDAP, nMail = 12, 200 // nLDAP - 1 person jobs and a structure job
		var ldapIDs []string
		for i := range nLDAP - 1 - len(f.people) {
			ldapIDs = append(ldapIDs, f.addPerson(t, fmt.Sprintf("frozen%02d", i), "user").ID)
		}
		for _, p := range []string{"alice", "bob", "carol"} {
			ldapIDs = append(ldapIDs, f.people[p].ID)
		}

		r := jobs.NewRunner(st, jobs.Config{Workers: 2, PollInterval: 10 * time.Millisecond}, log)
		var ldapStarted, ldapDone, mailDone atomic.Int32
		var mu sync.Mutex
		var ldapDoneAtMail int32 = -1
		ldap := func(h jobs.Handler) jobs.Handler {
			return func(ctx context.Context, j store.Job) error {
				ldapStarted.Add(1)
				err := h(ctx, j)
				if err == nil {
					ldapDone.Add(1)
				}
				return err
			}
		}
		r.Handle(jobs.KindLDAPPerson, ldap(s.HandlePerson))
		r.Handle(jobs.KindLDAPStructure, ldap(s.HandleStructure))
		r.Handle(jobs.KindMailPasswordChanged, func(ctx context.Context, j store.Job) error {
			if mailDone.Add(1) == nMail {
				mu.Lock()
				ldapDoneAtMail = ldapDone.Load()
				mu.Unlock()
			}
			return nil
		})

		e.slapd.Freeze()
		thawed := false
		err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			for _, id := range ldapIDs {
				if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(id), jobs.PersonRef{PersonID: id}); err != nil {
					return err
				}
			}
			if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(f.structure.ID),
				jobs.StructureRef{StructureID: f.structure.ID}); err != nil {
				return err
			}
			for i := range nMail {
				if _, err := jobs.Enqueue(ctx, tx, jobs.KindMailPasswordChanged, "", jobs.PersonRef{PersonID: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(rctx) }()
		defer func() {
			if !thawed {
				e.slapd.Thaw() // first: the stuck handlers can then end
			}
			cancel()
			<-done
		}()

		// The mail jobs complete while slapd is frozen. (The deadline only
		// keeps a broken runner from hanging the test.)
		start := time.Now()
		waitFor(t, 60*time.Second, "the mail jobs to complete while slapd is frozen", func() bool { return mailDone.Load() == nMail })
		took := time.Since(start)
		waitFor(t, 60*time.Second, "an LDAP job to start", func() bool { return ldapStarted.Load() > 0 })
		mu.Lock()
		at := ldapDoneAtMail
		mu.Unlock()
		if at != 0 || ldapDone.Load() != 0 {
			t.Fatalf("%d LDAP jobs had completed when the last mail job ran, %d now; want none (slapd is frozen)", at, ldapDone.Load())
		}
		t.Logf("%d mail jobs completed in %v while %d LDAP jobs were stuck on the frozen slapd", nMail, took.Round(time.Millisecond), ldapStarted.Load())

		// Thawed, the directory converges.
		e.slapd.Thaw()
		thawed = true
		waitFor(t, 60*time.Second, "the LDAP jobs to complete once slapd is thawed", func() bool { return ldapDone.Load() == nLDAP })
		e.syncer.Source = st
		e.requireStoreInSync(t, "le-beta")
		// The runner records outcomes a batch at a time, shortly after the
		// handlers return.
		var counts map[store.JobState]int
		waitFor(t, 10*time.Second, "every job to be recorded done", func() bool {
			if counts, err = st.CountJobs(ctx); err != nil {
				t.Fatal(err)
			}
			return counts[store.JobDone] == nLDAP+nMail
		})
	})
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFrozenSlapdTimesOut checks that every step against a frozen slapd
// ends as ErrUnavailable rather than hanging: a new connection's bind, a
// request on a connection made before the freeze, and callers waiting for a
// connection while all of them are stuck. Thawed, the same Conn works again.
func TestFrozenSlapdTimesOut(t *testing.T) {
	e := newEnv(t)
	conn, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword,
		BaseDN: e.slapd.BaseDN, RequestTimeout: 300 * time.Millisecond, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Connect(); err != nil { // one idle connection, made before the freeze
		t.Fatal(err)
	}
	e.slapd.Freeze()
	thawed := false
	defer func() {
		if !thawed {
			e.slapd.Thaw()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range cap(errs) {
		wg.Go(func() {
			_, err := readEntry(conn, e.syncer.Layout.People(), []string{"1.1"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var kinds []string
	for err := range errs {
		if !IsUnavailable(err) {
			t.Fatalf("a read from a frozen slapd: %v, want ErrUnavailable", err)
		}
		kinds = append(kinds, err.Error())
	}
	t.Logf("errors:\n%s", strings.Join(kinds, "\n"))
	e.slapd.Thaw()
	thawed = true
	if ok, err := exists(conn, e.syncer.Layout.People()); err != nil || !ok {
		t.Fatalf("after the thaw: %v, %v", ok, err)
	}
}
