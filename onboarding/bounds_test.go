package onboarding

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestParseBounds: whatever the file's shape, what Parse keeps is bounded:
// columns, cells past the header, problems per row, rows past the limit,
// and an unknown column is reported once.
func TestParseBounds(t *testing.T) {
	svcs := testServices()
	t.Run("too many columns", func(t *testing.T) {
		data := "email" + strings.Repeat(";c", MaxColumns) + "\na@example.org\n"
		sh := Parse([]byte(data), svcs, Options{})
		if got := problems(sh); len(got) != 1 || got[0] != "file:1//file.too_many_columns" {
			t.Fatalf("problems = %v", got)
		}
		m := sh.FileErrors[0].Msg
		if !strings.Contains(m.Text("fr"), "201 colonnes") || !strings.Contains(m.Text("en"), "limit of 200") {
			t.Errorf("message = %q / %q", m.Text("fr"), m.Text("en"))
		}
	})
	t.Run("millions of columns", func(t *testing.T) {
		data := "email" + strings.Repeat(";c", 2_000_000) + "\n"
		sh := Parse([]byte(data), svcs, Options{})
		if got := problems(sh); len(got) != 1 || got[0] != "file:1//file.too_many_columns" {
			t.Fatalf("problems = %v", got)
		}
		if !strings.Contains(sh.FileErrors[0].Msg.Text("en"), "2000001 columns") {
			t.Errorf("message = %q", sh.FileErrors[0].Msg.Text("en"))
		}
	})
	t.Run("columns at the limit, an unknown column once", func(t *testing.T) {
		data := "email" + strings.Repeat(";Notes", MaxColumns-1) + "\n" +
			"a@example.org" + strings.Repeat(";x", MaxColumns-1) + "\n" +
			"b@example.org" + strings.Repeat(";x", MaxColumns-1) + "\n"
		sh := Parse([]byte(data), svcs, Options{})
		if got := problems(sh); len(got) != 1 || got[0] != "warn:1/Notes/file.unknown_column" {
			t.Fatalf("problems = %v", got)
		}
	})
	t.Run("trailing empty header cells", func(t *testing.T) {
		data := "email" + strings.Repeat(";", 5000) + "\na@example.org\n"
		if got := problems(Parse([]byte(data), svcs, Options{})); len(got) != 0 {
			t.Fatalf("problems = %v", got)
		}
	})
	t.Run("a row of a million cells", func(t *testing.T) {
		data := "email;nom\na@example.org;A" + strings.Repeat(";x", 1_000_000) + "\nb@example.org;B\n"
		sh := Parse([]byte(data), svcs, Options{})
		if got := problems(sh); strings.Join(got, " ") != "2//row.too_many_fields" {
			t.Fatalf("problems = %v", got)
		}
		if m := sh.Rows[0].Errors[0].Msg.Text("en"); !strings.Contains(m, "1000000 filled cells beyond the header's 2 columns") {
			t.Errorf("message = %q", m)
		}
	})
	t.Run("problems per row", func(t *testing.T) {
		var items []string
		for i := range 200 {
			items = append(items, fmt.Sprintf("s%d", i))
		}
		data := "email;droits;langue\na@example.org;\"" + strings.Join(items, ",") + "\";xx\n" +
			"b@example.org;nope,nope,nope;\n"
		sh := Parse([]byte(data), svcs, Options{})
		r := sh.Rows[0]
		if len(r.Errors) != MaxRowProblems+1 || r.Errors[MaxRowProblems].Msg.ID != MsgMoreProblems {
			t.Fatalf("%d errors: %v", len(r.Errors), r.Errors)
		}
		if m := r.Errors[MaxRowProblems].Msg.Text("fr"); !strings.Contains(m, "10 premiers") {
			t.Errorf("message = %q", m)
		}
		// The same problem is said once.
		if got := problems(sh); !strings.Contains(strings.Join(got, " "), "3/droits/rights.unknown_service") || len(sh.Rows[1].Errors) != 1 {
			t.Errorf("row 3 errors = %v", sh.Rows[1].Errors)
		}
	})
	t.Run("reading stops past the row limit", func(t *testing.T) {
		data := "email\n" + strings.Repeat("a\n", 1_000_000)
		sh := Parse([]byte(data), svcs, Options{MaxRows: 10})
		if got := problems(sh); len(got) != 1 || got[0] != "file:0//file.too_many_rows" || sh.Rows != nil {
			t.Fatalf("problems = %v, %d rows", got, len(sh.Rows))
		}
	})
	t.Run("a huge cell", func(t *testing.T) {
		data := "email;nom\na@example.org;\"" + strings.Repeat("x\n", 1<<20) + "\"\n"
		sh := Parse([]byte(data), svcs, Options{})
		if got := problems(sh); strings.Join(got, " ") != "2/nom/field.too_long" {
			t.Fatalf("problems = %v", got)
		}
	})
}

// errorFile is a file of n rows, each with an invalid email.
func errorFile(n int) string {
	var b strings.Builder
	b.WriteString("email;droits\n")
	for i := range n {
		fmt.Fprintf(&b, "bad%d@@example.org;nextcloud\n", i)
	}
	return b.String()
}

// TestReportIsBounded: a report details at most MaxReportProblems problems
// and counts the others; the text says how many are not shown; the import
// record keeps at most MaxReportProblems rows.
func TestReportIsBounded(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		f := newFixture(t, st, c, "le-beta")
		f.im.Options.MaxRows = 2000
		res := f.importFile(t, errorFile(1500), nil)
		r := res.Report
		detailed := 0
		for _, row := range r.Rows {
			detailed += len(row.Errors) + len(row.Warnings)
		}
		if r.Summary.Error != 1500 || detailed != MaxReportProblems || r.Summary.Omitted != 500 {
			t.Fatalf("summary %+v, %d detailed", r.Summary, detailed)
		}
		var fr, en strings.Builder
		_ = r.WriteText(&fr, "fr")
		_ = r.WriteText(&en, "en")
		if !strings.Contains(fr.String(), "… et 500 autres erreurs ou avertissements") || !strings.Contains(en.String(), "… and 500 more errors or warnings") {
			t.Errorf("text does not say what is omitted:\n%s", tail(fr.String()))
		}
		// The record of the refused import keeps that bounded report.
		rec, err := st.GetImport(context.Background(), res.ImportID)
		if err != nil {
			t.Fatal(err)
		}
		var stored Report
		if err := json.Unmarshal(rec.Report, &stored); err != nil {
			t.Fatal(err)
		}
		if stored.Summary.Omitted != 500 || len(stored.Rows) != MaxReportProblems || stored.Summary.OmittedRows != 500 || len(rec.Report) > 400_000 {
			t.Errorf("stored report: %d bytes, %+v", len(rec.Report), stored.Summary)
		}
	})
}

func tail(s string) string {
	if len(s) > 500 {
		return s[len(s)-500:]
	}
	return s
}

// TestDryRunStoresSummaryOnly: a dry run is recorded (with its counts), but
// not its rows: previews of large files do not fill the imports table.
func TestDryRunStoresSummaryOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		for _, file := range []string{firstFile, errorFile(300)} {
			res := f.importFile(t, file, func(r *Request) { r.DryRun = true })
			if res.Status != StatusDryRun || len(res.Report.Rows) == 0 {
				t.Fatalf("dry run %s: %+v", res.Status, res.Report.Summary)
			}
			rec, err := st.GetImport(ctx, res.ImportID)
			if err != nil {
				t.Fatal(err)
			}
			var stored Report
			if err := json.Unmarshal(rec.Report, &stored); err != nil {
				t.Fatal(err)
			}
			if stored.Summary != res.Report.Summary || len(stored.Rows) != 0 || len(stored.Warnings) != 0 || len(rec.Report) > 300 {
				t.Errorf("stored dry-run report (%d bytes): %s", len(rec.Report), rec.Report)
			}
			if !rec.DryRun || rec.Counts["create"] != res.Report.Summary.Create || rec.Counts["error"] != res.Report.Summary.Error {
				t.Errorf("record = %+v", rec)
			}
		}
	})
}

// TestPlanWarnsRowsWithoutRights: a row that leaves a person with access to
// no service of the structure is a warning, in both languages; a row with
// rights, or a member whose rights the file does not state and who has
// some, is not.
func TestPlanWarnsRowsWithoutRights(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		f := newFixture(t, st, c, "le-beta")
		noRights := func(res *Result) map[string]bool {
			out := map[string]bool{}
			for _, r := range res.Plan.Rows {
				for _, w := range r.Warnings {
					if w.Msg.ID == MsgNoRights {
						out[r.Email] = true
						if !strings.Contains(w.Msg.Text("fr"), "aucun service") || !strings.Contains(w.Msg.Text("en"), "none of the structure's services") {
							t.Errorf("message = %q / %q", w.Msg.Text("fr"), w.Msg.Text("en"))
						}
					}
				}
			}
			return out
		}
		res := f.importFile(t, "email;droits;Nextcloud\n"+
			"a@example.org;site;\n"+
			"b@example.org;;\n"+
			"c@example.org;;oui\n"+
			"d@example.org;;non\n", nil)
		if got := noRights(res); len(got) != 2 || !got["b@example.org"] || !got["d@example.org"] {
			t.Errorf("warned rows = %v", got)
		}
		// No rights column: the file does not change rights; a member who
		// has some is not warned, a new person is.
		res = f.importFile(t, "email;nom\na@example.org;A\nb@example.org;B\ne@example.org;E\n", nil)
		if got := noRights(res); len(got) != 2 || !got["b@example.org"] || !got["e@example.org"] {
			t.Errorf("warned rows = %v", got)
		}
		// A member whose rights the file removes.
		res = f.importFile(t, "email;droits\na@example.org;\nc@example.org;nextcloud\n", nil)
		if got := noRights(res); len(got) != 1 || !got["a@example.org"] {
			t.Errorf("warned rows = %v", got)
		}
	})
}

// TestPlanFindsPeopleStoredWithUnicodeDomains: a person stored with a
// Unicode domain (before domains were written in ASCII) is the person a file
// now names in ASCII: updated, not created twice, and not removed by a sync.
func TestPlanFindsPeopleStoredWithUnicodeDomains(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		p := store.Person{Username: "zoe", Email: "zoe@exämple.org", GivenName: "Zoé", DisplayName: "Zoé",
			Language: "fr", State: store.StateInvited}
		if err := st.CreatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := st.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: f.structure.ID}); err != nil {
			t.Fatal(err)
		}
		res := f.importFile(t, "courriel;prénom;droits\nzoe@exämple.org;Zoé;nextcloud\n", func(r *Request) { r.Mode = store.ModeSync })
		if res.Status != StatusApplied || len(res.Plan.Rows) != 1 || res.Plan.Rows[0].Action != ActUpdate || res.Plan.Rows[0].Username != "zoe" {
			t.Fatalf("%s: %+v", res.Status, res.Plan.Rows)
		}
		people, _ := st.ListPeople(ctx, store.PeopleFilter{})
		if len(people) != 1 || people[0].State == store.StateDisabled {
			t.Errorf("people = %+v", people)
		}
	})
}
