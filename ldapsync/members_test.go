package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// write is one call of a writeMembersFunc, as the fake below saw it.
type write struct{ add, del []string }

// fakeWrites records the writes made through it; the first blocks until
// release is closed, so that the test can queue others behind it. A
// write naming a DN in fail fails with that error.
type fakeWrites struct {
	mu      sync.Mutex
	writes  []write
	started chan struct{}
	release chan struct{}
	fail    map[string]error
}

func newFakeWrites() *fakeWrites {
	return &fakeWrites{started: make(chan struct{}, 100), release: make(chan struct{}), fail: map[string]error{}}
}

func (f *fakeWrites) write(_ Group, _ string, add, del []string) error {
	f.mu.Lock()
	first := len(f.writes) == 0
	f.writes = append(f.writes, write{slices.Clone(add), slices.Clone(del)})
	f.mu.Unlock()
	f.started <- struct{}{}
	if first {
		<-f.release
	}
	for _, dn := range slices.Concat(add, del) {
		if err := f.fail[dn]; err != nil {
			return err
		}
	}
	return nil
}

// queued waits until n changes wait for the group gdn in w.
func queued(t *testing.T, w *memberWriter, gdn string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := countPending(w, gdn)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d changes queued for %s, want %d", got, gdn, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMemberWriterCoalesces: while one change to a group is being
// written, the changes other callers hand in wait, and go in one write
// together; each caller learns its own outcome. A change that undoes one
// queued before it (adds a member an earlier change removes) goes in a
// write of its own, after it. Changes to another group do not wait.
func TestMemberWriterCoalesces(t *testing.T) {
	var w memberWriter
	f := newFakeWrites()
	const gdn = "cn=nextcloud,ou=s,ou=structures,dc=test"
	dn := func(s string) string { return "uid=" + s + ",ou=people,dc=test" }

	results := make(chan error, 10)
	go func() { results <- change1(&w, nil, gdn, []string{dn("a")}, nil, f.write) }()
	<-f.started // a's write holds the group
	for i, c := range []write{
		{add: []string{dn("b"), dn("c")}},
		{add: []string{dn("c"), dn("d")}, del: []string{dn("x")}},
		{add: []string{dn("x")}}, // undoes the removal above: its own write, after
	} {
		go func() { results <- change1(&w, nil, gdn, c.add, c.del, f.write) }()
		queued(t, &w, gdn, i+1) // in this order
	}

	// Another group is written at once, though the first is held.
	other := newFakeWrites()
	close(other.release)
	if err := change1(&w, nil, "cn=paheko,ou=s,ou=structures,dc=test", []string{dn("a")}, nil, other.write); err != nil {
		t.Fatal(err)
	}

	close(f.release)
	for range 4 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	want := []write{
		{add: []string{dn("a")}},
		{add: []string{dn("b"), dn("c"), dn("d")}, del: []string{dn("x")}},
		{add: []string{dn("x")}},
	}
	if got := f.writesNow(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("writes:\n%v\nwant:\n%v", got, want)
	}
	if len(w.groups) != 0 {
		t.Fatalf("queues left behind: %v", w.groups)
	}
}

func (f *fakeWrites) writesNow() []write {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

// countPending is how many changes wait for the group gdn in w.
func countPending(w *memberWriter, gdn string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.groups[dnKey(gdn)]; q != nil {
		return len(q.pending)
	}
	return 0
}

// TestMemberWriterFailures: when a write that carried several callers'
// changes is refused, each caller's changes are written again alone, so
// that only the caller whose value the directory refuses fails; when the
// directory is unreachable, every caller of the write fails, without
// writing again.
func TestMemberWriterFailures(t *testing.T) {
	const gdn = "cn=nextcloud,ou=s,ou=structures,dc=test"
	refused := ldap.NewError(ldap.LDAPResultInvalidDNSyntax, errors.New("invalid DN"))
	down := fmt.Errorf("%w: connection refused", ErrUnavailable)
	for _, tc := range []struct {
		name   string
		err    error
		writes int      // after the first
		failed []string // the callers that fail
	}{
		{"refused", refused, 3, []string{"bad"}},
		{"unavailable", down, 1, []string{"good", "bad"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w memberWriter
			f := newFakeWrites()
			f.fail["bad"] = tc.err
			go func() { _ = change1(&w, nil, gdn, []string{"first"}, nil, f.write) }()
			<-f.started
			got := map[string]error{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i, who := range []string{"good", "bad"} {
				wg.Go(func() {
					err := change1(&w, nil, gdn, []string{who}, nil, f.write)
					mu.Lock()
					got[who] = err
					mu.Unlock()
				})
				queued(t, &w, gdn, i+1)
			}
			close(f.release)
			wg.Wait()
			if n := len(f.writesNow()) - 1; n != tc.writes {
				t.Errorf("%d writes after the first, want %d: %v", n, tc.writes, f.writesNow())
			}
			for _, who := range []string{"good", "bad"} {
				if failed := slices.Contains(tc.failed, who); (got[who] != nil) != failed || failed && !errors.Is(got[who], tc.err) {
					t.Errorf("%s: %v (should fail: %v)", who, got[who], failed)
				}
			}
		})
	}
}

// TestConcurrentBatchesShareGroupWrites runs four batches of new people at
// once into a real slapd, as the job runner does: everybody ends in their
// groups, and each group gets one modify for the four batches (the
// test holds the first entry write until the four batches have started,
// as the runner's batches do; the groups' writer waits for all of them).
func TestConcurrentBatchesShareGroupWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := copyOf(e.syncer)
	counter := &countingDir{Directory: e.conn, modifies: map[string]int{}}
	s.Dir = counter
	hash := hashPassword(t, "pw")
	var batches [][]Person
	var all []Person
	for b := range 4 {
		var people []Person
		for i := range 3 {
			role := "user"
			if i == 0 {
				role = "admin"
			}
			people = append(people, Person{Username: fmt.Sprintf("p%d-%02d", b, i), GivenName: "P", FamilyName: fmt.Sprint(i),
				Email: fmt.Sprintf("p%d-%d@example.org", b, i), PasswordHash: hash, Groups: nextcloud("s", role)})
		}
		batches = append(batches, people)
		all = append(all, people...)
	}
	// The groups exist (the structure's own job wrote them).
	groups := append(nextcloud("s", "user"), nextcloud("s", "admin")[1])
	e.converge(t, State{Structures: []Structure{{Slug: "s", Name: "S", Groups: groups}}})
	counter.beforeAdd = func() error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := s.members.writing()
			if n == len(batches) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d batches writing entries, want %d", n, len(batches))
			}
			time.Sleep(time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for _, people := range batches {
		wg.Go(func() {
			for i, err := range s.ConvergePeople(ctx, people) {
				if err != nil {
					t.Errorf("%s: %v", people[i].Username, err)
				}
			}
		})
	}
	wg.Wait()
	e.requireInSync(t, State{People: all, Structures: []Structure{{Slug: "s", Name: "S", Groups: groups}}})
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for _, g := range groups {
		dn := s.Layout.GroupDN(g.Structure, g.Service, g.Role)
		if n := counter.modifies[dnKey(dn)]; n != 1 {
			t.Errorf("%d modifies of %s for %d batches, want 1", n, dn, len(batches))
		}
	}
}

// countingDir counts the modifies of each entry (by dnKey). beforeAdd and
// beforeModify, when set, run once, before the first add and the first
// modify.
type countingDir struct {
	Directory
	mu                     sync.Mutex
	modifies               map[string]int
	beforeAdd              func() error
	beforeModify           func()
	addHeld, modifyStarted bool
}

func (d *countingDir) Add(req *ldap.AddRequest) error {
	d.mu.Lock()
	hold := d.beforeAdd != nil && !d.addHeld
	d.addHeld = true
	d.mu.Unlock()
	if hold {
		if err := d.beforeAdd(); err != nil {
			return err
		}
	}
	return d.Directory.Add(req)
}

func (d *countingDir) Modify(req *ldap.ModifyRequest) error {
	d.mu.Lock()
	d.modifies[dnKey(req.DN)]++
	first := d.beforeModify != nil && !d.modifyStarted
	d.modifyStarted = true
	d.mu.Unlock()
	if first {
		d.beforeModify()
	}
	return d.Directory.Modify(req)
}

// TestConcurrentBatchesDirectoryDown: slapd dies as the first group write
// of two concurrent batches goes out. Every person of both batches gets an
// unreachable-directory error (their jobs are retried, not buried), and
// the same batches converge once slapd is back.
func TestConcurrentBatchesDirectoryDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := copyOf(e.syncer)
	d := &countingDir{Directory: e.conn, modifies: map[string]int{}, beforeModify: e.slapd.Stop}
	s.Dir = d
	hash := hashPassword(t, "pw")
	groups := nextcloud("s", "user")
	e.converge(t, State{Structures: []Structure{{Slug: "s", Name: "S", Groups: groups}}})
	var batches [][]Person
	var all []Person
	for b := range 2 {
		var people []Person
		for i := range 3 {
			people = append(people, Person{Username: fmt.Sprintf("d%d-%d", b, i), GivenName: "D", FamilyName: fmt.Sprint(i),
				Email: fmt.Sprintf("d%d-%d@example.org", b, i), PasswordHash: hash, Groups: groups})
		}
		batches = append(batches, people)
		all = append(all, people...)
	}
	run := func() [][]error {
		out := make([][]error, len(batches))
		var wg sync.WaitGroup
		for b, people := range batches {
			wg.Go(func() { out[b] = s.ConvergePeople(ctx, people) })
		}
		wg.Wait()
		return out
	}
	for b, errs := range run() {
		for i, err := range errs {
			if !IsUnavailable(err) || errors.Is(err, ErrRejected) {
				t.Errorf("slapd down at the group write: %s: %v; want unavailable, to retry", batches[b][i].Username, err)
			}
		}
	}
	e.slapd.Start()
	for b, errs := range run() {
		for i, err := range errs {
			if err != nil {
				t.Errorf("slapd back: %s: %v", batches[b][i].Username, err)
			}
		}
	}
	e.requireInSync(t, State{People: all, Structures: []Structure{{Slug: "s", Name: "S", Groups: groups}}})
}

// TestMemberWriterWaitsForEntries: a group's writer waits while another
// call is still writing its people's entries, and its change then goes in
// the same write; a call that never comes is waited for memberLinger at
// most.
func TestMemberWriterWaitsForEntries(t *testing.T) {
	const gdn = "cn=nextcloud,ou=s,ou=structures,dc=test"
	var w memberWriter
	f := lingering(t)
	a, b := w.entering(), w.entering()
	results := make(chan error, 2)
	go func() { results <- change1(&w, a, gdn, []string{"a"}, nil, f.write) }()
	select {
	case <-f.started:
		t.Fatal("the group was written while another call was writing entries")
	case <-time.After(100 * time.Millisecond):
	}
	go func() { results <- change1(&w, b, gdn, []string{"b"}, nil, f.write) }()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.writesNow(), []write{{add: []string{"a", "b"}}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("writes %v, want %v", got, want)
	}

	// A ticket never used (or used by done) holds the writer memberLinger
	// at most.
	memberLinger = 50 * time.Millisecond
	stuck := w.entering()
	start := time.Now()
	if err := change1(&w, nil, gdn, []string{"c"}, nil, f.write); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < memberLinger || d > 5*time.Second {
		t.Errorf("the writer waited %s for a call writing entries, want about %s", d, memberLinger)
	}
	stuck.done()
	stuck.done() // twice is harmless
	start = time.Now()
	if err := change1(&w, nil, gdn, []string{"d"}, nil, f.write); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= memberLinger {
		t.Errorf("the writer waited %s with no call writing entries", d)
	}
	if w.writing() != 0 || len(w.groups) != 0 {
		t.Errorf("left behind: %d writing entries, %d groups", w.writing(), len(w.groups))
	}
}

// writing counts the calls still writing entries, of every round.
func (w *memberWriter) writing() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writingLocked(math.MaxInt)
}

// lingering sets memberLinger to 10 s for t (a test may shorten it) and
// returns writes that complete at once.
func lingering(t *testing.T) *fakeWrites {
	old := memberLinger
	t.Cleanup(func() { memberLinger = old })
	memberLinger = 10 * time.Second
	f := newFakeWrites()
	close(f.release)
	return f
}

// change1 hands one group's changes to w.
func change1(w *memberWriter, t *ticket, gdn string, add, del []string, write writeMembersFunc) error {
	return w.change(t, []memberChange{{dn: gdn, add: add, del: del}}, write)[0]
}

// TestMemberWriterRounds: a call that starts writing entries after one of
// a round is done with its own (the runner's next batch, started as soon
// as a worker frees) belongs to the next round: the round's group writes
// do not wait for it, and it waits for its own round only.
func TestMemberWriterRounds(t *testing.T) {
	const gdn = "cn=nextcloud,ou=s,ou=structures,dc=test"
	var w memberWriter
	f := lingering(t)
	a, b := w.entering(), w.entering() // one round
	results := make(chan error, 3)
	go func() { results <- change1(&w, a, gdn, []string{"a"}, nil, f.write) }()
	waitFor(t, 10*time.Second, "a's change queued", func() bool {
		return w.writing() == 1
	})
	c := w.entering() // the next round: starts after a was done with its entries
	go func() { results <- change1(&w, b, gdn, []string{"b"}, nil, f.write) }()
	for range 2 {
		select {
		case err := <-results:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the round's group write waited for a call of the next round")
		}
	}
	if got, want := f.writesNow(), []write{{add: []string{"a", "b"}}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("writes %v, want %v", got, want)
	}
	start := time.Now()
	if err := change1(&w, c, gdn, []string{"c"}, nil, f.write); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the next round's writer waited %s with nobody of its round writing entries", d)
	}
	if len(w.byGen) != 0 || len(w.groups) != 0 {
		t.Errorf("left behind: %v writing entries by round, %d groups", w.byGen, len(w.groups))
	}
}
