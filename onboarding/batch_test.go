package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/store"
)

// failingStore makes the n-th bulk call of one kind fail inside every
// transaction, after the real call wrote its rows.
type failingStore struct {
	store.Store
	method string // "people", "grants", "tokens" or "jobs"
	n      int
}

type failingTx struct {
	store.Tx
	s     *failingStore
	calls int
}

var errInjected = errors.New("injected failure")

func (s *failingStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, &failingTx{Tx: tx, s: s})
	})
}

func (t *failingTx) fail(method string, err error) error {
	if err != nil || method != t.s.method {
		return err
	}
	t.calls++
	if t.calls == t.s.n {
		return errInjected
	}
	return nil
}

func (t *failingTx) CreatePeople(ctx context.Context, ps []*store.Person) error {
	return t.fail("people", t.Tx.CreatePeople(ctx, ps))
}

func (t *failingTx) PutGrants(ctx context.Context, gs []store.Grant) error {
	return t.fail("grants", t.Tx.PutGrants(ctx, gs))
}

func (t *failingTx) IssueTokens(ctx context.Context, ts []store.Token) error {
	return t.fail("tokens", t.Tx.IssueTokens(ctx, ts))
}

func (t *failingTx) EnqueueJobs(ctx context.Context, js []*store.Job) ([]bool, error) {
	out, err := t.Tx.EnqueueJobs(ctx, js)
	return out, t.fail("jobs", err)
}

// TestImportFailureInBatchAppliesNothing makes a bulk write fail in the
// middle of an import written in several groups (after earlier groups and
// the failing call itself wrote their rows): nothing stays, neither
// people, memberships, grants, tokens and jobs nor the import record; the
// same import then applies in full.
func TestImportFailureInBatchAppliesNothing(t *testing.T) {
	defer func(n int) { applyGroup = n }(applyGroup)
	applyGroup = 3
	var b strings.Builder
	b.WriteString("Prénom;Nom;Courriel;Droits\n")
	for i := range 10 {
		fmt.Fprintf(&b, "P%d;N%d;p%d@example.org;nextcloud, site:éditeur\n", i, i, i)
	}
	data := []byte(b.String())
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		for _, fs := range []*failingStore{
			{Store: st, method: "people", n: 3}, {Store: st, method: "grants", n: 2},
			{Store: st, method: "tokens", n: 4}, {Store: st, method: "jobs", n: 2},
		} {
			f.im.Store = fs
			_, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: data, Actor: "test"})
			if !errors.Is(err, errInjected) {
				t.Fatalf("%s: err = %v", fs.method, err)
			}
			people, _ := st.ListPeople(ctx, store.PeopleFilter{})
			members, _ := st.ListMemberships(ctx, store.MembershipFilter{})
			grants, _ := st.ListGrants(ctx, store.GrantFilter{})
			ims, _ := st.ListImports(ctx, f.structure.ID)
			if len(people) != 0 || len(members) != 0 || len(grants) != 0 || allJobs(t, st) != 0 || len(ims) != 0 {
				t.Fatalf("%s: half-applied: %d people, %d memberships, %d grants, %d jobs, %d imports", fs.method,
					len(people), len(members), len(grants), allJobs(t, st), len(ims))
			}
		}
		f.im.Store = st
		res, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: data, Actor: "test"})
		if err != nil || res.Report.Summary.Create != 10 {
			t.Fatalf("import: %v %+v", err, res)
		}
		grants, _ := st.ListGrants(ctx, store.GrantFilter{})
		if len(grants) != 20 || countJobs(t, st, "ldap.person") != 10 || countJobs(t, st, "mail.activate") != 10 {
			t.Fatalf("%d grants, %d ldap.person, %d mail.activate jobs", len(grants),
				countJobs(t, st, "ldap.person"), countJobs(t, st, "mail.activate"))
		}
	})
}
