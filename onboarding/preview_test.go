package onboarding

import (
	"context"
	"errors"
	"testing"

	"sesame/internal/store"
)

// Preview plans as Import does and writes nothing, not even a record; its
// fingerprint is the one the same import computes, and stays the same
// until something the plan depends on changes.
func TestPreviewWritesNothing(t *testing.T) {
	c := newClock()
	st := openSQLite(t, c.Now)
	f := newFixture(t, st, c, "le-beta")
	ctx := context.Background()
	req := Request{Structure: "le-beta", FileName: "people.csv", Data: []byte(firstFile), Actor: "test:alice"}
	pre, err := f.im.Preview(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Status != StatusDryRun || pre.Report.Summary.Create != 4 || pre.Fingerprint == "" || pre.ImportID != "" {
		t.Fatalf("preview: %s %+v %q %q", pre.Status, pre.Report.Summary, pre.Fingerprint, pre.ImportID)
	}
	if people, _ := st.ListPeople(ctx, store.PeopleFilter{}); len(people) != 0 || allJobs(t, st) != 0 {
		t.Errorf("a preview wrote %d people", len(people))
	}
	if ims, _ := st.ListImports(ctx, f.structure.ID); len(ims) != 0 {
		t.Errorf("a preview was recorded: %+v", ims)
	}
	again, err := f.im.Preview(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint != pre.Fingerprint {
		t.Error("two previews of the same file over the same store differ")
	}
	dry := f.importFile(t, firstFile, func(r *Request) { r.DryRun = true })
	if dry.Fingerprint != pre.Fingerprint {
		t.Error("the dry run's fingerprint is not the preview's")
	}
	sync, err := f.im.Preview(ctx, Request{Structure: "le-beta", Data: []byte(firstFile), Mode: store.ModeSync})
	if err != nil {
		t.Fatal(err)
	}
	if sync.Fingerprint == pre.Fingerprint {
		t.Error("the mode does not change the fingerprint")
	}
}

// An import that expects a preview's fingerprint applies only while the
// plan is that preview's.
func TestImportExpect(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		f := newFixture(t, st, c, "le-beta")
		ctx := context.Background()
		pre, err := f.im.Preview(ctx, Request{Structure: "le-beta", Data: []byte(firstFile)})
		if err != nil {
			t.Fatal(err)
		}
		// Someone imports one of the people meanwhile.
		f.importFile(t, "email;prénom;nom;droits\n"+"jean@example.org;Jean;Dupont;site\n", nil)
		_, err = f.im.Import(ctx, Request{Structure: "le-beta", Data: []byte(firstFile), Expect: pre.Fingerprint})
		if !errors.Is(err, ErrPlanChanged) {
			t.Fatalf("stale confirmation: %v", err)
		}
		if people, _ := st.ListPeople(ctx, store.PeopleFilter{}); len(people) != 1 {
			t.Errorf("the stale confirmation wrote: %d people", len(people))
		}
		if ims, _ := st.ListImports(ctx, f.structure.ID); len(ims) != 1 {
			t.Errorf("the stale confirmation was recorded: %d imports", len(ims))
		}
		fresh, err := f.im.Preview(ctx, Request{Structure: "le-beta", Data: []byte(firstFile)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: []byte(firstFile), Expect: fresh.Fingerprint})
		if err != nil || res.Status != StatusApplied || res.Fingerprint != fresh.Fingerprint {
			t.Fatalf("fresh confirmation: %v %+v", err, res)
		}
	})
}
