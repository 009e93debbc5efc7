package onboarding

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/store"
)

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping([]string{"Mél pro=email", "Perso = Email personnel", "Téléphone=ignorer", "Qui=given_name"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Field{"Mél pro": FieldEmail, "Perso": FieldPersonalEmail, "Téléphone": FieldIgnore, "Qui": FieldGiven}
	if len(m) != len(want) {
		t.Fatalf("mapping = %v", m)
	}
	for h, f := range want {
		if m[h] != f {
			t.Errorf("%s -> %q, want %q", h, m[h], f)
		}
	}
	for _, bad := range []string{"Mél pro", "=email", "X=telephone"} {
		if _, err := ParseMapping([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestImportMappingRemembered: a column no alias knows is mapped once,
// with the import applied; the structure's next import reads it the same
// way without being told, another structure's does not, and a dry run
// remembers nothing.
func TestImportMappingRemembered(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		other := newFixture(t, st, c, "autre")
		const file = "Qui;Famille;Mél pro;Téléphone\nJean;Dupont;jean@example.org;0600000000\n"
		res := f.importFile(t, file, nil)
		if res.Status != StatusRejected || len(res.Plan.FileErrors) == 0 || res.Plan.FileErrors[0].Msg.ID != MsgNoEmailColumn {
			t.Fatalf("without a mapping: %s %+v", res.Status, res.Plan.FileErrors)
		}
		if got := strings.Join(res.Plan.Unknown, "|"); got != "Qui|Famille|Mél pro|Téléphone" {
			t.Errorf("columns to map: %q", got)
		}
		mapping := map[string]Field{"qui": FieldGiven, "FAMILLE": FieldFamily, "Mél pro": FieldEmail, "Téléphone": FieldIgnore}
		res = f.importFile(t, file, func(r *Request) { r.Mapping, r.DryRun = mapping, true })
		if res.Status != StatusDryRun || res.Plan.HasErrors() {
			t.Fatalf("dry run with a mapping: %s %+v", res.Status, res.Plan.FileErrors)
		}
		if m, _ := st.ImportMapping(ctx, f.structure.ID); len(m) != 0 {
			t.Fatalf("a dry run remembered %v", m)
		}
		res = f.importFile(t, file, func(r *Request) { r.Mapping = mapping })
		if res.Status != StatusApplied {
			t.Fatalf("with a mapping: %s", res.Status)
		}
		p := person(t, st, "jean@example.org")
		if p.GivenName != "Jean" || p.FamilyName != "Dupont" {
			t.Errorf("person = %+v", p)
		}
		// Next time, without --map.
		res = f.importFile(t, "Qui;Famille;Mél pro;Téléphone\nMarie;Curie;marie@example.org;\n", nil)
		if res.Status != StatusApplied {
			t.Fatalf("next import: %s %+v", res.Status, res.Plan.FileErrors)
		}
		if len(res.Plan.Mapped) != 4 || len(res.Plan.Unknown) != 0 {
			t.Errorf("mapped %v, unknown %v", res.Plan.Mapped, res.Plan.Unknown)
		}
		if p := person(t, st, "marie@example.org"); p.GivenName != "Marie" {
			t.Errorf("marie = %+v", p)
		}
		for _, w := range res.Plan.Warnings {
			if w.Msg.ID == MsgUnknownColumn {
				t.Errorf("warning %s", w.Msg.Text("en"))
			}
		}
		// A web preview reads the file the same way.
		pv, err := f.im.Preview(ctx, Request{Structure: "le-beta", Data: []byte(file)})
		if err != nil || pv.Plan.HasErrors() || len(pv.Plan.Mapped) != 4 {
			t.Errorf("preview: %v %+v", err, pv)
		}
		if _, err := f.im.Preview(ctx, Request{Structure: "le-beta", Data: []byte(file), Address: "home"}); err == nil {
			t.Error("a preview accepts an unknown address choice")
		}
		if res := other.importFile(t, file, nil); res.Status != StatusRejected {
			t.Errorf("another structure used the mapping: %s", res.Status)
		}
		if _, err := f.im.Import(ctx, Request{Structure: "le-beta", Data: []byte(file), Mapping: map[string]Field{"x": "phone"}}); err == nil {
			t.Error("a mapping to an unknown field is accepted")
		}
	})
}
