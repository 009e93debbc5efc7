package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/testenv"
)

// TestFirstSyncOnSyncingSlapd converges many new people into one group on
// a slapd that commits every write to disk (its default: no olcDbNoSync),
// with the memberof overlay, under a short request timeout: each group
// write must fit well within the timeout, however large the group. One
// add or modify naming every member made slapd update (and sync) each
// member's memberOf within that single request, and outlasted the timeout
// ("connection timed out ... run sync again").
func TestFirstSyncOnSyncingSlapd(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 800 entries on a syncing slapd")
	}
	s := testenv.StartSlapdWith(t, testenv.SlapdOptions{Sync: true})
	const timeout = time.Second
	conn, err := NewConn(Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword, BaseDN: s.BaseDN,
		DialTimeout: 2 * time.Second, RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	syncer := New(conn, nil, log)
	const n = 800
	var people []Person
	for i := range n {
		people = append(people, Person{Username: fmt.Sprintf("p%04d", i), FamilyName: fmt.Sprintf("F%d", i),
			Email: fmt.Sprintf("p%04d@example.org", i), Groups: nextcloud("s", "user")})
	}
	want := State{People: people, Structures: []Structure{{Slug: "s", Name: "S", Groups: nextcloud("s", "user")}}}
	var calls, last int
	syncer.Progress = func(done, total int) { calls++; last = done }
	start := time.Now()
	plan, applied, err := syncer.Converge(context.Background(), want)
	if err != nil {
		t.Fatalf("first sync on a syncing slapd: %v (after %s, %d applied)", err, time.Since(start), applied)
	}
	t.Logf("%d changes in %s", len(plan.Changes), time.Since(start))
	if calls == 0 || last != len(plan.Changes) {
		t.Errorf("progress: %d calls, last %d, want the last to be %d", calls, last, len(plan.Changes))
	}
	e := &env{slapd: s, conn: conn, syncer: syncer}
	e.requireInSync(t, want)
	if got := len(e.members(t, syncer.Layout.GroupDN("s", "nextcloud", "user"))); got != n+1 {
		t.Fatalf("user group has %d members, want %d and the placeholder", got, n)
	}
}

// timeoutAfterWrite forwards to a real directory, and answers the first
// group add and the first member modify it sees with go-ldap's timeout
// error, the first time after making the write (slapd finished after the
// client gave up), the second without making it.
type timeoutAfterWrite struct {
	Directory
	adds, mods int
}

var errTimedOut = ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out"))

func (d *timeoutAfterWrite) Add(req *ldap.AddRequest) error {
	for _, a := range req.Attributes {
		if a.Type == "member" && len(a.Vals) > 1 {
			d.adds++
			switch d.adds {
			case 1:
				return errTimedOut
			case 2:
				if err := d.Directory.Add(req); err != nil {
					return err
				}
				return errTimedOut
			}
		}
	}
	return d.Directory.Add(req)
}

func (d *timeoutAfterWrite) Modify(req *ldap.ModifyRequest) error {
	if len(req.Changes) > 0 && req.Changes[0].Modification.Type == "member" && len(req.Changes[0].Modification.Vals) > minChunk {
		d.mods++
		switch d.mods {
		case 1:
			if err := d.Directory.Modify(req); err != nil {
				return err
			}
			return errTimedOut
		case 2:
			return errTimedOut
		}
	}
	return d.Directory.Modify(req)
}

// TestGroupWriteTimeoutRetriedSmaller: a group write that outlasts the
// request timeout, whether or not slapd made it in the end, is made again
// in smaller pieces, and the convergence completes.
func TestGroupWriteTimeoutRetriedSmaller(t *testing.T) {
	e := newEnv(t)
	const n = 400
	var people []Person
	for i := range n {
		people = append(people, Person{Username: fmt.Sprintf("p%04d", i), FamilyName: fmt.Sprintf("F%d", i),
			Email: fmt.Sprintf("p%04d@example.org", i), Groups: nextcloud("s", "user")})
	}
	want := State{People: people, Structures: []Structure{{Slug: "s", Name: "S", Groups: nextcloud("s", "user")}}}
	d := &timeoutAfterWrite{Directory: e.conn}
	s := copyOf(e.syncer)
	s.Dir = d
	s.Workers = 1
	if _, _, err := s.Converge(context.Background(), want); err != nil {
		t.Fatalf("converge: %v", err)
	}
	if d.adds < 2 || d.mods < 2 {
		t.Fatalf("%d group adds and %d member modifies timed out, want 2 of each", d.adds, d.mods)
	}
	e.requireInSync(t, want)

	// At the smallest size, a timeout is the caller's (retried later).
	ch := &chunker{target: time.Second, n: minChunk}
	if ch.shrink() {
		t.Fatal("a chunker at its smallest size shrank")
	}
	if !isTimeout(errTimedOut) || isTimeout(ldap.NewError(ldap.ErrorNetwork, errors.New("connection refused"))) {
		t.Fatal("isTimeout")
	}
}
