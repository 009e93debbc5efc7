package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sesame/internal/store"
)

// BenchOpener returns a fresh, migrated, empty store for a benchmark.
type BenchOpener func(b *testing.B) store.Store

// Bench runs the store's benchmarks: the operations an import and the job
// queue repeat most.
func Bench(b *testing.B, open BenchOpener) {
	b.Run("CreatePersonInTx", func(b *testing.B) {
		st := open(b)
		ctx := context.Background()
		s := store.Structure{Slug: "bench"}
		if err := st.CreateStructure(ctx, &s); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				p := store.Person{Username: fmt.Sprintf("p%d", i), Email: fmt.Sprintf("p%d@example.org", i)}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}); err != nil {
					return err
				}
				_, err := tx.EnqueueJob(ctx, &store.Job{Kind: "ldap.person", DedupeKey: "ldap.person:" + p.ID})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EnqueueClaimComplete", func(b *testing.B) {
		st := open(b)
		ctx := context.Background()
		for b.Loop() {
			if _, err := st.EnqueueJob(ctx, &store.Job{Kind: "k", Payload: []byte(`{}`)}); err != nil {
				b.Fatal(err)
			}
			js, err := st.ClaimJobs(ctx, store.ClaimRequest{Kinds: []string{"k"}, Limit: 1, Lease: time.Minute})
			if err != nil || len(js) != 1 {
				b.Fatalf("claim: %d, %v", len(js), err)
			}
			if err := st.CompleteJob(ctx, js[0].ID, js[0].LeaseID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetPersonByEmail", func(b *testing.B) {
		st := open(b)
		ctx := context.Background()
		for i := range 1000 {
			p := store.Person{Username: fmt.Sprintf("p%d", i), Email: fmt.Sprintf("P%d@Example.org", i)}
			if err := st.CreatePerson(ctx, &p); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		for b.Loop() {
			i++
			if _, err := st.GetPersonByEmail(ctx, fmt.Sprintf("p%d@example.org", i%1000)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
