package onboarding

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestReportText renders a stored JSON report as text in both languages and
// compares each with its golden file: the French text has no English
// identifier (actions, fields, built-in roles, states, languages), the
// English one none of the French words, while the JSON keeps the
// identifiers.
func TestReportText(t *testing.T) {
	b, err := os.ReadFile("testdata/golden/update.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang    string
		want    []string
		notWant []string
	}{
		{"fr", []string{"LIGNE", "mise à jour", "inchangé", "droit nextcloud : administrateur → utilisateur",
			"langue : français → anglais", "droit site : − éditeur", "nextcloud:utilisateur, site:auteur",
			"compta:Trésorier", "mises à jour 2"},
			[]string{"update", "unchanged", "grant:", "admin ", "→ user", "language", "editor", "author", "fr →"}},
		{"en", []string{"ROW", "update", "unchanged", "right nextcloud: admin → user", "language: French → English",
			"right site: − editor", "update 2"},
			[]string{"mise à jour", "droit nextcloud", "langue :", "grant:"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			var out strings.Builder
			if err := r.WriteText(&out, tc.lang); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			golden(t, "update_"+tc.lang+".txt", []byte(text))
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(text, w) {
					t.Errorf("text holds %q:\n%s", w, text)
				}
			}
		})
	}
	if !strings.Contains(string(b), `"field": "grant:nextcloud"`) || !strings.Contains(string(b), `"action": "update"`) {
		t.Error("the JSON report lost its identifiers")
	}
}

// TestReportStored: an import record keeps the rows that say something,
// at most MaxReportProblems of them, and counts the others.
func TestReportStored(t *testing.T) {
	warn := []ReportIssue{{Message: "w"}}
	r := Report{Summary: Summary{Create: 1, Unchanged: 2}, Rows: []ReportRow{
		{Row: 2, Action: ActUnchanged},
		{Row: 3, Action: ActUnchanged, Warnings: warn},
		{Row: 4, Action: ActCreate},
	}}
	s := r.Stored()
	if len(s.Rows) != 2 || s.Rows[0].Row != 3 || s.Rows[1].Row != 4 || s.Summary.OmittedRows != 0 || s.Summary.Unchanged != 2 {
		t.Errorf("stored = %+v", s)
	}
	r.Rows = nil
	for i := range MaxReportProblems + 7 {
		r.Rows = append(r.Rows, ReportRow{Row: i + 2, Action: ActCreate})
	}
	if s := r.Stored(); len(s.Rows) != MaxReportProblems || s.Summary.OmittedRows != 7 {
		t.Errorf("stored %d rows, omitted %d", len(s.Rows), s.Summary.OmittedRows)
	}
}
