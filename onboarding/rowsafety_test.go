package onboarding

import (
	"slices"
	"testing"

	"sesame/internal/store"
)

// A cell that opens a quote and keeps a lone one ("VIP" à rappeler) runs,
// by encoding/csv's LazyQuotes rule, over the following lines: here to the
// end of the file, so that the rows of b and c are read as part of an
// ignored cell. They must not vanish without a word.
func TestStrayQuoteDoesNotSwallowRowsSilently(t *testing.T) {
	data := "email;nom;notes\na@example.org;A;\"VIP\" à rappeler\nb@example.org;B;\nc@example.org;C;\n"
	sh := Parse([]byte(data), testServices(), Options{})
	if len(sh.Rows) != 3 && !sh.HasErrors() {
		t.Errorf("3 people in the file, %d rows read and no error: %v", len(sh.Rows), problems(sh))
	}
}

// The same file in sync mode: b and c, members, are not in the rows read,
// and the import must not take them for people who left.
func TestSyncStrayQuoteDisablesNobody(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;nom;droits\na@example.org;A;nextcloud\nb@example.org;B;nextcloud\nc@example.org;C;nextcloud\n", nil)
		res := a.importFile(t, "email;nom;droits;notes\na@example.org;A;nextcloud;\"VIP\" à rappeler\nb@example.org;B;nextcloud;\nc@example.org;C;nextcloud;\n",
			func(r *Request) { r.Mode = store.ModeSync })
		t.Logf("status %s, summary %+v", res.Status, res.Report.Summary)
		for _, e := range []string{"b@example.org", "c@example.org"} {
			if q := person(t, st, e); q.State == store.StateDisabled {
				t.Errorf("%s, in the file, was disabled by the sync (status %s)", e, res.Status)
			}
		}
	})
}

// A byte that is not UTF-8 after an address (a Latin-1 no-break space,
// 0xA0, pasted into a UTF-8 file) makes the row an error; a sync that skips
// invalid rows must still count that row's person as present.
func TestSyncSkipInvalidKeepsPersonOfInvalidByteEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;nom;droits\nkeep@example.org;Élodie;nextcloud\nother@example.org;Other;nextcloud\n", nil)
		res := a.importFile(t, "email;nom;droits\nkeep@example.org\xa0;Élodie;nextcloud\nother@example.org;Other;nextcloud\n",
			func(r *Request) { r.Mode = store.ModeSync; r.SkipInvalid = true })
		t.Logf("status %s, summary %+v", res.Status, res.Report.Summary)
		if res.Report.Summary.Error == 0 {
			t.Fatalf("the row with an invalid byte is not an error")
		}
		if q := person(t, st, "keep@example.org"); q.State == store.StateDisabled {
			t.Errorf("keep@example.org, present in the file (row in error), was disabled by the sync")
		}
	})
}

// Row 3 names a new work address and, as its personal address, the
// address of row 2's person: both rows designate the same account, which
// row 3 would rename and demote while row 2 says "unchanged".
func TestTwoRowsOneExistingPerson(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		a := newFixture(t, st, c, "alpha")
		a.importFile(t, "email;prénom;nom;droits\njean@example.org;Jean;Martin;nextcloud:admin\n", nil)
		res := a.importFile(t, "email;prénom;nom;Recovery Email;droits\n"+
			"jean@example.org;Jean;Martin;;nextcloud:admin\n"+
			"new@example.org;Jeanne;Durand;jean@example.org;nextcloud:user\n", nil)
		t.Logf("status %s, summary %+v", res.Status, res.Report.Summary)
		p := person(t, st, "jean@example.org")
		if res.Status == StatusApplied && p.GivenName != "Jean" {
			t.Errorf("two rows designate jean@example.org; the import applied and renamed them %q %q",
				p.GivenName, p.FamilyName)
		}
		for _, r := range res.Plan.Rows {
			if !slices.ContainsFunc(r.Errors, func(e Problem) bool { return e.Msg.ID == "email.same_person" }) {
				t.Errorf("row %d (%s): %s, no email.same_person error", r.Row, r.Email, r.Action)
			}
		}
	})
}
