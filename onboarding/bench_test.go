package onboarding

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/store"
)

const benchRows = 10000

// benchFile is a CSV of n people, each with two rights.
func benchFile(n int) []byte {
	var b strings.Builder
	b.WriteString("Prénom;Nom;Courriel;Droits\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Prénom%d;Nom%d;p%d@example.org;nextcloud, site:éditeur\n", i, i, i)
	}
	return []byte(b.String())
}

// BenchmarkImport10k measures parse + plan + apply of 10,000 new people on
// SQLite: people, memberships, two grants each, activation tokens and
// their jobs, in one transaction.
//
//	go test -run XXX -bench 10k -benchtime 3x ./onboarding
func BenchmarkImport10k(b *testing.B) {
	data := benchFile(benchRows)
	for b.Loop() {
		b.StopTimer()
		c := newClock()
		st := openSQLite(b, c.Now)
		f := newFixture(b, st, c, "bench")
		f.im.Options = Options{MaxRows: benchRows}
		b.StartTimer()
		res, err := f.im.Import(context.Background(), Request{Structure: "bench", Data: data, Actor: "bench"})
		if err != nil || res.Report.Summary.Create != benchRows {
			b.Fatalf("%v %+v", err, res.Report.Summary)
		}
	}
	b.ReportMetric(float64(benchRows), "rows/op")
}

// BenchmarkRawInsert10k is the baseline: the same people, memberships and
// grants written by a bare loop in one transaction, with no parsing,
// planning, tokens or jobs.
func BenchmarkRawInsert10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		c := newClock()
		st := openSQLite(b, c.Now)
		f := newFixture(b, st, c, "bench")
		nc, site := f.services["nextcloud"].ID, f.services["site"].ID
		b.StartTimer()
		err := st.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
			for i := 0; i < benchRows; i++ {
				p := store.Person{Username: fmt.Sprintf("prenom%d.nom%d", i, i), Email: fmt.Sprintf("p%d@example.org", i),
					GivenName: fmt.Sprintf("Prénom%d", i), FamilyName: fmt.Sprintf("Nom%d", i),
					DisplayName: fmt.Sprintf("Prénom%d Nom%d", i, i), Language: "fr", State: store.StateInvited}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: nc, Role: "user"}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: site, Role: "editor"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows), "rows/op")
}

// BenchmarkRawInsertAll10k is a second baseline: the bare loop writing
// everything an import writes (people, memberships, grants, an activation
// token and two jobs per person), to tell the store's cost from the
// onboarding logic's.
func BenchmarkRawInsertAll10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		c := newClock()
		st := openSQLite(b, c.Now)
		f := newFixture(b, st, c, "bench")
		nc, site := f.services["nextcloud"].ID, f.services["site"].ID
		b.StartTimer()
		err := st.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
			for i := 0; i < benchRows; i++ {
				p := store.Person{Username: fmt.Sprintf("prenom%d.nom%d", i, i), Email: fmt.Sprintf("p%d@example.org", i),
					GivenName: fmt.Sprintf("Prénom%d", i), FamilyName: fmt.Sprintf("Nom%d", i),
					DisplayName: fmt.Sprintf("Prénom%d Nom%d", i, i), Language: "fr", State: store.StateInvited}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: nc, Role: "user"}); err != nil {
					return err
				}
				if err := tx.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: site, Role: "editor"}); err != nil {
					return err
				}
				if _, err := f.im.Tokens.Issue(ctx, tx, p.ID, f.structure.ID, store.PurposeActivate); err != nil {
					return err
				}
				if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:" + p.ID,
					Payload: []byte(`{"person_id":"` + p.ID + `"}`)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows), "rows/op")
}

// BenchmarkParse10k measures decoding and validating the file alone.
func BenchmarkParse10k(b *testing.B) {
	data := benchFile(benchRows)
	svcs := testServices()
	for b.Loop() {
		if sh := Parse(data, svcs, Options{MaxRows: benchRows}); sh.HasErrors() {
			b.Fatal("errors")
		}
	}
}
