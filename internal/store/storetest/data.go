package storetest

import (
	"context"
	"sync"
	"time"

	"sesame/internal/store"
)

// dataTests cover the structure settings, the claims and the activations.
var dataTests = []struct {
	name string
	fn   func(*env)
}{
	{"ImportMapping", testImportMapping},
	{"Reminders", testRemindersSetting},
	{"ClaimOnce", testClaimOnce},
	{"ClaimConcurrent", testClaimConcurrent},
	{"ClaimRolledBack", testClaimRolledBack},
	{"LatestActivations", testLatestActivations},
	{"AuditFilters", testAuditFilters},
	{"LastMailsSent", testLastMailsSent},
}

func testImportMapping(e *env) {
	a, b := e.structure("a"), e.structure("b")
	m, err := e.st.ImportMapping(e.ctx, a.ID)
	e.ok(err, "mapping of a structure without one")
	if len(m) != 0 {
		e.t.Fatalf("mapping = %v, want empty", m)
	}
	e.ok(e.st.SetImportMapping(e.ctx, a.ID, map[string]string{"Téléphone": "ignore", "Mél pro": "email"}), "set")
	m, err = e.st.ImportMapping(e.ctx, a.ID)
	e.ok(err, "get")
	if len(m) != 2 || m["Mél pro"] != "email" || m["Téléphone"] != "ignore" {
		e.t.Fatalf("mapping = %v", m)
	}
	if m, _ := e.st.ImportMapping(e.ctx, b.ID); len(m) != 0 {
		e.t.Fatalf("another structure's mapping = %v", m)
	}
	e.ok(e.st.SetImportMapping(e.ctx, a.ID, map[string]string{"Mél pro": "personal_email"}), "replace")
	if m, _ := e.st.ImportMapping(e.ctx, a.ID); len(m) != 1 || m["Mél pro"] != "personal_email" {
		e.t.Fatalf("replaced mapping = %v", m)
	}
	e.ok(e.st.SetImportMapping(e.ctx, a.ID, nil), "forget")
	if m, _ := e.st.ImportMapping(e.ctx, a.ID); len(m) != 0 {
		e.t.Fatalf("forgotten mapping = %v", m)
	}
	e.is(e.st.SetImportMapping(e.ctx, "nope", map[string]string{"x": "email"}), store.ErrNotFound, "unknown structure")
}

func testRemindersSetting(e *env) {
	a := e.structure("a")
	on, err := e.st.RemindersEnabled(e.ctx, a.ID)
	e.ok(err, "default")
	if !on {
		e.t.Fatal("reminders are off by default")
	}
	e.ok(e.st.SetRemindersEnabled(e.ctx, a.ID, false), "off")
	if on, _ := e.st.RemindersEnabled(e.ctx, a.ID); on {
		e.t.Fatal("reminders still on")
	}
	// The mapping and the reminders share a row: neither erases the other.
	e.ok(e.st.SetImportMapping(e.ctx, a.ID, map[string]string{"x": "email"}), "mapping")
	if on, _ := e.st.RemindersEnabled(e.ctx, a.ID); on {
		e.t.Fatal("setting the mapping turned reminders on")
	}
	e.ok(e.st.SetRemindersEnabled(e.ctx, a.ID, true), "on")
	if m, _ := e.st.ImportMapping(e.ctx, a.ID); m["x"] != "email" {
		e.t.Fatalf("turning reminders on lost the mapping: %v", m)
	}
	e.is(e.st.SetRemindersEnabled(e.ctx, "nope", false), store.ErrNotFound, "unknown structure")
}

func testClaimOnce(e *env) {
	ok, err := e.st.Claim(e.ctx, "reminder:p1", e.now())
	e.ok(err, "first claim")
	if !ok {
		e.t.Fatal("first claim refused")
	}
	ok, err = e.st.Claim(e.ctx, "reminder:p1", e.now())
	e.ok(err, "second claim")
	if ok {
		e.t.Fatal("second claim granted")
	}
	// Inside a transaction that goes on afterwards.
	e.ok(e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if ok, err := tx.Claim(ctx, "reminder:p1", e.now()); err != nil || ok {
			e.t.Errorf("claim in tx = %v, %v", ok, err)
		}
		ok, err := tx.Claim(ctx, "reminder:p2", e.now())
		if err != nil || !ok {
			e.t.Errorf("other claim in tx = %v, %v", ok, err)
		}
		s := store.Structure{Slug: "after-claim"}
		return tx.CreateStructure(ctx, &s)
	}), "tx")
	if _, err := e.st.GetStructureBySlug(e.ctx, "after-claim"); err != nil {
		e.t.Fatalf("the transaction did not go on after a refused claim: %v", err)
	}
}

// testClaimConcurrent: of many transactions claiming the same key at once,
// exactly one gets it.
func testClaimConcurrent(e *env) {
	const n = 8
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
				ok, err := tx.Claim(ctx, "digest:s:2026-W11", e.now())
				if err != nil || !ok {
					return err
				}
				mu.Lock()
				won++
				mu.Unlock()
				return nil
			})
			if err != nil {
				e.t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	if won < 1 {
		e.t.Fatalf("%d transactions won the claim", won)
	}
	// A transaction re-run by InTx may have counted a win it lost: what
	// counts is what is stored.
	if ok, _ := e.st.Claim(e.ctx, "digest:s:2026-W11", e.now()); ok {
		e.t.Fatal("the key was not claimed")
	}
}

// testClaimRolledBack: a claim rolled back with its transaction's work is
// free again.
func testClaimRolledBack(e *env) {
	_ = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Claim(ctx, "k", e.now()); err != nil {
			return err
		}
		return context.Canceled
	})
	if ok, err := e.st.Claim(e.ctx, "k", e.now()); err != nil || !ok {
		e.t.Fatalf("claim after rollback = %v, %v", ok, err)
	}
}

func testLatestActivations(e *env) {
	a, b := e.structure("a"), e.structure("b")
	p1, p2, p3 := e.person("p1"), e.person("p2"), e.person("p3")
	for _, m := range []store.Membership{{PersonID: p1.ID, StructureID: a.ID}, {PersonID: p2.ID, StructureID: a.ID},
		{PersonID: p3.ID, StructureID: b.ID}} {
		m.CreatedAt = e.now()
		e.ok(e.st.PutMembership(e.ctx, m), "membership")
	}
	exp := e.now().Add(7 * 24 * time.Hour)
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("p1-old"), PersonID: p1.ID, Purpose: store.PurposeActivate, ExpiresAt: exp}), "token")
	e.clock.Advance(time.Hour)
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("p1-new"), PersonID: p1.ID, Purpose: store.PurposeActivate, ExpiresAt: exp.Add(time.Hour)}), "token")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("p1-reset"), PersonID: p1.ID, Purpose: store.PurposeReset, ExpiresAt: exp.Add(48 * time.Hour)}), "token")
	e.ok(e.st.IssueToken(e.ctx, store.Token{Hash: hash("p3"), PersonID: p3.ID, Purpose: store.PurposeActivate, ExpiresAt: exp}), "token")
	_, err := e.st.ConsumeToken(e.ctx, hash("p3"), store.PurposeActivate, e.now())
	e.ok(err, "consume")

	got, err := e.st.LatestActivations(e.ctx, a.ID)
	e.ok(err, "latest of a")
	if len(got) != 1 || !got[p1.ID].ExpiresAt.Equal(exp.Add(time.Hour).UTC()) || !got[p1.ID].UsedAt.IsZero() {
		e.t.Fatalf("latest of a = %+v", got)
	}
	all, err := e.st.LatestActivations(e.ctx, "")
	e.ok(err, "latest of all")
	if len(all) != 2 || all[p3.ID].UsedAt.IsZero() {
		e.t.Fatalf("latest of all = %+v", all)
	}
}

// testAuditFilters: the structure and person an entry concerns are
// derived from its target, kept when given, and filter the list, as does
// a lower bound on time.
func testAuditFilters(e *env) {
	a, b := e.structure("a"), e.structure("b")
	p := e.person("p")
	t0 := e.now()
	add := func(x store.AuditEntry) store.AuditEntry {
		e.t.Helper()
		x.Actor = "cli:root"
		e.ok(e.st.AppendAudit(e.ctx, &x), "append")
		e.clock.Advance(time.Minute)
		return x
	}
	imp := add(store.AuditEntry{Action: "import.apply", Target: "structure:a"})
	if imp.StructureID != a.ID {
		e.t.Fatalf("structure not derived: %+v", imp)
	}
	add(store.AuditEntry{Action: "person.update", Target: "person:" + p.ID, IP: "192.0.2.7", StructureID: a.ID})
	add(store.AuditEntry{Action: "mail.sent", Target: "mail:<x>", Details: map[string]any{"person_id": p.ID}})
	add(store.AuditEntry{Action: "structure.reminders", Target: "structure:b"})
	add(store.AuditEntry{Action: "structure.create", Target: "structure:gone"})

	ids := func(f store.AuditFilter) []string {
		e.t.Helper()
		list, err := e.st.ListAudit(e.ctx, f)
		e.ok(err, "list")
		var out []string
		for _, x := range list {
			out = append(out, x.Action)
		}
		return out
	}
	same := func(got []string, want ...string) {
		e.t.Helper()
		if len(got) != len(want) {
			e.t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				e.t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	same(ids(store.AuditFilter{StructureID: a.ID}), "person.update", "import.apply")
	same(ids(store.AuditFilter{StructureID: b.ID}), "structure.reminders")
	same(ids(store.AuditFilter{PersonID: p.ID}), "mail.sent", "person.update")
	same(ids(store.AuditFilter{PersonID: p.ID, StructureID: a.ID}), "person.update")
	same(ids(store.AuditFilter{Since: t0.Add(2 * time.Minute)}), "structure.create", "structure.reminders", "mail.sent")
	list, _ := e.st.ListAudit(e.ctx, store.AuditFilter{PersonID: p.ID, StructureID: a.ID})
	if len(list) != 1 || list[0].IP != "192.0.2.7" || list[0].PersonID != p.ID {
		e.t.Fatalf("entry = %+v", list)
	}
}

// testLastMailsSent: the newest "mail.sent" entry per person, for a
// structure's members only (or everybody), other actions ignored.
func testLastMailsSent(e *env) {
	a, b := e.structure("a"), e.structure("b")
	p, q, r := e.person("p"), e.person("q"), e.person("r")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: p.ID, StructureID: a.ID}), "member")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: q.ID, StructureID: a.ID}), "member")
	e.ok(e.st.PutMembership(e.ctx, store.Membership{PersonID: r.ID, StructureID: b.ID}), "member")
	sent := func(person, action string) time.Time {
		e.t.Helper()
		x := store.AuditEntry{Actor: "job", Action: action, Target: "mail:<x>", Details: map[string]any{"person_id": person}}
		e.ok(e.st.AppendAudit(e.ctx, &x), "append")
		e.clock.Advance(time.Minute)
		return x.Time
	}
	sent(p.ID, "mail.sent")
	pLast := sent(p.ID, "mail.sent")
	sent(p.ID, "mail.failed") // not a sent email
	rLast := sent(r.ID, "mail.sent")

	got, err := e.st.LastMailsSent(e.ctx, a.ID)
	e.ok(err, "last mails of a")
	if len(got) != 1 || !got[p.ID].Equal(pLast) {
		e.t.Fatalf("structure a: %v, want only %s at %s", got, p.ID, pLast)
	}
	got, err = e.st.LastMailsSent(e.ctx, "")
	e.ok(err, "last mails")
	if len(got) != 2 || !got[p.ID].Equal(pLast) || !got[r.ID].Equal(rLast) {
		e.t.Fatalf("everybody: %v", got)
	}
	got, err = e.st.LastMailsSent(e.ctx, "unknown")
	e.ok(err, "unknown structure")
	if len(got) != 0 {
		e.t.Fatalf("unknown structure: %v", got)
	}
}
