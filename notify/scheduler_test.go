package notify

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
)

type migrator interface {
	store.Store
	Migrate(ctx context.Context) error
}

// twoReplicas opens the same database twice, as two sesame processes do.
func twoReplicas(t *testing.T, backend string, now func() time.Time) (store.Store, store.Store) {
	t.Helper()
	ctx := context.Background()
	var open func() (migrator, error)
	switch backend {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "sesame.db")
		open = func() (migrator, error) { return sqlite.Open(ctx, path, now) }
	default:
		dsn := testenv.Postgres(t)
		open = func() (migrator, error) { return postgres.Open(ctx, dsn, now) }
	}
	var out [2]store.Store
	for i := range out {
		db, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out[i] = db
	}
	return out[0], out[1]
}

// TestRemindersOnce races two schedulers, each on its own connection to
// the same database, pass after pass: each invited person whose link
// expires within two days gets exactly one reminder with a fresh link,
// each structure's referents and contact exactly one digest a week, and a
// structure with reminders off gets neither.
func TestRemindersOnce(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			// Tuesday 1 December 2026, 14:00 in Paris.
			c := &clock{t: time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)}
			a, b := twoReplicas(t, backend, c.Now)
			tokens := &onboarding.Tokens{Key: []byte(strings.Repeat("k", 32)), Now: c.Now}

			mk := func(slug, contact string) store.Structure {
				s := store.Structure{Slug: slug, Name: "Structure " + slug, Contact: contact}
				if err := a.CreateStructure(ctx, &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			on, off := mk("on", "contact@on.example.org"), mk("off", "contact@off.example.org")
			if err := a.SetRemindersEnabled(ctx, off.ID, false); err != nil {
				t.Fatal(err)
			}
			person := func(s store.Structure, name string, state store.PersonState, referent bool, ttl time.Duration) store.Person {
				p := store.Person{Username: name + "-" + s.Slug, Email: name + "@" + s.Slug + ".example.org", GivenName: name, State: state, Language: "fr"}
				if err := a.CreatePerson(ctx, &p); err != nil {
					t.Fatal(err)
				}
				if err := a.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID, Referent: referent}); err != nil {
					t.Fatal(err)
				}
				if ttl > 0 {
					tokens.ActivateTTL = ttl
					if err := a.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
						_, err := tokens.Issue(ctx, tx, p.ID, s.ID, store.PurposeActivate)
						return err
					}); err != nil {
						t.Fatal(err)
					}
				}
				return p
			}
			soon := person(on, "soon", store.StateInvited, false, 36*time.Hour) // due now
			later := person(on, "later", store.StateInvited, false, 5*24*time.Hour)
			person(on, "active", store.StateActive, true, 0) // the referent
			person(on, "expired", store.StateInvited, false, time.Hour)
			person(off, "soon", store.StateInvited, false, 36*time.Hour)
			tokens.ActivateTTL = 0
			c.Add(2 * time.Hour) // the one-hour link has expired: no reminder for it

			race := func() {
				t.Helper()
				var wg sync.WaitGroup
				for _, st := range []store.Store{a, b, a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s := &Scheduler{Store: st, Tokens: tokens, Now: c.Now}
						if _, err := s.RunOnce(ctx); err != nil {
							t.Errorf("RunOnce: %v", err)
						}
					}()
				}
				wg.Wait()
			}
			count := func(kind string) map[string]int {
				t.Helper()
				js, err := a.ListJobs(ctx, store.JobFilter{Kind: kind, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]int{}
				for _, j := range js {
					m[string(j.Payload)]++
				}
				return m
			}
			total := func(m map[string]int) (n int) {
				for _, v := range m {
					n += v
				}
				return n
			}

			race()
			race()
			rem := count(jobs.KindMailReminder)
			if total(rem) != 1 {
				t.Fatalf("reminders after the first passes: %v, want one (for %s)", rem, soon.Username)
			}
			for k := range rem {
				if !strings.Contains(k, soon.ID) {
					t.Errorf("reminder %s is not for %s", k, soon.Username)
				}
			}
			acts, _ := a.LatestActivations(ctx, on.ID)
			if got := acts[soon.ID].ExpiresAt; !got.Equal(c.Now().Add(onboarding.DefaultActivateTTL)) {
				t.Errorf("the reminder's link expires at %v, want a fresh one", got)
			}
			if d := count(jobs.KindMailDigest); total(d) != 2 {
				t.Fatalf("digests: %v, want the referent's and the contact's", d)
			}

			// Three days on, the other link is due; the first person has
			// had their reminder, whatever their new link.
			c.Add(3 * 24 * time.Hour)
			race()
			if rem := count(jobs.KindMailReminder); total(rem) != 2 {
				t.Fatalf("reminders three days on: %v, want two", rem)
			}
			if d := count(jobs.KindMailDigest); total(d) != 2 {
				t.Fatalf("digests in the same week: %d", total(d))
			}
			_ = later
			// Next Monday, 07:00 in Paris: not yet; at 09:00: the week's digest.
			c.t = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
			race()
			if d := count(jobs.KindMailDigest); total(d) != 2 {
				t.Fatalf("digests before Monday 08:00: %d", total(d))
			}
			c.t = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
			race()
			race()
			if d := count(jobs.KindMailDigest); total(d) != 4 {
				t.Fatalf("digests in the second week: %d, want 4", total(d))
			}
		})
	}
}

func TestDigestPeriod(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		t      time.Time
		period string
		due    bool
	}{
		{time.Date(2026, 12, 7, 6, 59, 0, 0, time.UTC), "2026-W50", false}, // Monday 07:59 Paris
		{time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC), "2026-W50", true},
		{time.Date(2026, 12, 13, 22, 0, 0, 0, time.UTC), "2026-W50", true}, // Sunday 23:00
		{time.Date(2026, 12, 13, 23, 30, 0, 0, time.UTC), "2026-W51", false},
		{time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC), "2026-W53", true},
	} {
		p, due := DigestPeriod(tc.t, paris)
		if p != tc.period || due != tc.due {
			t.Errorf("%v: %s %v, want %s %v", tc.t, p, due, tc.period, tc.due)
		}
	}
}

// TestReminderAndDigestEmails: the reminder and the digest reach a real
// mailpit, in the reader's language, with a link that opens.
func TestReminderAndDigestEmails(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "bureau@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "en")
	ref := e.person(f, "Rémi", "Référent", "remi", "remi@example.org", "fr")
	if _, err := e.st.UpdatePerson(e.ctx, ref.ID, func(x *store.Person) error { x.State = store.StateActive; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.st.PutMembership(e.ctx, store.Membership{PersonID: ref.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	e.issue(p, f, store.PurposeActivate)
	e.drain() // the activation email
	e.clock.Add(5*24*time.Hour + time.Hour)
	s := &Scheduler{Store: e.st, Tokens: e.tokens, Now: e.clock.Now}
	res, err := s.RunOnce(e.ctx)
	if err != nil || res.Reminders != 1 || res.Digests != 2 {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	e.drain()
	byTo := map[string]string{}
	for _, m := range e.mp.Messages() {
		full := e.mp.Message(m.ID)
		byTo[m.To[0].Address+" "+m.Subject] = full.Text
		checkLinks(t, full.HTML)
	}
	if len(byTo) != 4 {
		t.Fatalf("mailpit holds %d messages, want activation, reminder and two digests: %v", len(byTo), byTo)
	}
	rem := byTo["camille@example.org Reminder: your Le Bêta account is waiting for you"]
	if !strings.Contains(rem, publicURL+"/activate/") || !strings.Contains(rem, "This is the only reminder") {
		t.Errorf("reminder:\n%s", rem)
	}
	dig := byTo["remi@example.org Le Bêta : 1 personne(s) n'ont pas encore activé leur compte"]
	for _, want := range []string{"Bonjour Rémi,", "Camille Dupont <camille@example.org> : lien valable jusqu'au", publicURL + "/admin/structures/" + f.structure.Slug} {
		if !strings.Contains(dig, want) {
			t.Errorf("digest lacks %q:\n%s", want, dig)
		}
	}
	if c := byTo["bureau@lebeta.org Le Bêta : 1 personne(s) n'ont pas encore activé leur compte"]; !strings.HasPrefix(c, "Bonjour,") {
		t.Errorf("contact's digest:\n%s", c)
	}
}

// TestSchedulerRunStops: Run makes its passes every Interval and returns
// when its context ends.
func TestSchedulerRunStops(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "bureau@lebeta.org")
	p := e.person(f, "Camille", "Dupont", "camille.dupont", "camille@example.org", "fr")
	e.issue(p, f, store.PurposeActivate)
	e.clock.Add(6 * 24 * time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	s := &Scheduler{Store: e.st, Tokens: e.tokens, Now: e.clock.Now, Interval: 10 * time.Millisecond}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for countKind(t, e.st, jobs.KindMailReminder) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v", err)
	}
	if n := countKind(t, e.st, jobs.KindMailReminder); n != 1 {
		t.Errorf("%d reminders", n)
	}
}

func countKind(t *testing.T, st store.Store, kind string) int {
	t.Helper()
	js, err := st.ListJobs(context.Background(), store.JobFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return len(js)
}
