package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// killAfter forwards to a real directory and kills slapd once n adds went
// through: a crash at a known point of a convergence.
type killAfter struct {
	Directory
	n    int64
	adds atomic.Int64
	once sync.Once
	kill func()
}

func (k *killAfter) Add(req *ldap.AddRequest) error {
	if k.adds.Add(1) == k.n {
		k.once.Do(k.kill)
	}
	return k.Directory.Add(req)
}

func TestSlapdKilledDuringConvergence(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	ctx := context.Background()
	const n = 1000
	var people []Person
	for i := range n {
		people = append(people, Person{Username: fmt.Sprintf("p%04d", i), FamilyName: fmt.Sprintf("F%d", i),
			Email: fmt.Sprintf("p%04d@example.org", i), Groups: nextcloud("s", []string{"user", "admin"}[i%2])})
	}
	want := State{People: people, Structures: []Structure{{Slug: "s", Name: "S", Groups: nextcloud("s", "user")}}}
	// Groups of 1,000 go in chunks, as groups of tens of thousands do.
	defer func(n int) { memberChunk = n }(memberChunk)
	memberChunk = 300

	k := &killAfter{Directory: e.conn, n: 400, kill: e.slapd.Stop}
	crashing := copyOf(e.syncer)
	crashing.Dir = k
	_, applied, err := crashing.Converge(ctx, want)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("converge with slapd killed: %v, want ErrUnavailable", err)
	}
	if applied >= n {
		t.Fatalf("slapd was killed too late (%d applied)", applied)
	}
	t.Logf("killed after %d adds; %d changes acknowledged", k.adds.Load(), applied)

	// Down: every call fails fast as unavailable, nothing is written.
	if _, err := e.syncer.Diff(ctx, want); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("diff with slapd down: %v", err)
	}
	if err := e.syncer.ConvergePerson(ctx, people[999]); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("person job with slapd down: %v", err)
	}

	// Back: the same connection object dials again; one convergence
	// finishes the job, then the diff is empty.
	e.slapd.Start()
	plan, _, err := e.syncer.Converge(ctx, want)
	if err != nil {
		t.Fatalf("converge after restart: %v", err)
	}
	if c := plan.Counts(); c[OpAdd] == 0 || c[OpAdd] >= n {
		t.Fatalf("the second run should finish what the first began: %v", c)
	}
	e.requireInSync(t, want)
	if got := len(e.search(t, l.People(), "(objectClass=inetOrgPerson)", "1.1")); got != n {
		t.Fatalf("%d people in the directory, want %d", got, n)
	}
	for _, role := range []string{"user", "admin"} {
		if got := len(e.members(t, l.GroupDN("s", "nextcloud", role))); got != n/2+1 {
			t.Fatalf("%s group: %d members, want %d", role, got, n/2+1)
		}
	}
	if got := len(e.members(t, l.GroupDN("s", "nextcloud", ""))); got != n+1 {
		t.Fatalf("service group: %d members, want %d", got, n+1)
	}
	memberOf := e.search(t, l.People(), "(memberOf="+EscapeFilterValue(l.GroupDN("s", "nextcloud", ""))+")", "1.1")
	if len(memberOf) != n {
		t.Fatalf("%d people have memberOf the service group, want %d", len(memberOf), n)
	}
}

func TestLargeMembershipChangesInChunks(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	defer func(n int) { memberChunk = n }(memberChunk)
	memberChunk = 7
	var people []Person
	for i := range 40 {
		people = append(people, Person{Username: fmt.Sprintf("c%02d", i), FamilyName: "C", Groups: nextcloud("s", "user")})
	}
	st := []Structure{{Slug: "s", Groups: nextcloud("s", "user")}}
	e.converge(t, State{People: people, Structures: st})
	if got := len(e.members(t, l.GroupDN("s", "nextcloud", "user"))); got != 41 {
		t.Fatalf("%d members after a chunked add", got)
	}
	for i := range people {
		if i%3 != 0 {
			people[i].Groups = nil
		}
	}
	want := State{People: people, Structures: st}
	e.converge(t, want)
	e.requireInSync(t, want)
	if got := len(e.members(t, l.GroupDN("s", "nextcloud", "user"))); got != 15 {
		t.Fatalf("%d members after chunked removals, want 15", got)
	}
}
