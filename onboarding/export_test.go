package onboarding

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

const hostileFile = "Prénom;Nom;Courriel;Identifiant;Langue;Quota;Droits\n" +
	"\"=cmd|' /C calc'!A0\";Dupont;jean@example.org;;fr;5 Go;nextcloud:admin, site:éditeur\n" +
	"@SUM(1+1);-2+3;marie@example.org;marie;en;;compta:trésorier\n" +
	"+33 6 00;Œuvre;zoe@example.org;;;;\n" +
	"Paul;\"Martin; \"\"le grand\"\"\";paul@example.org;;;;nextcloud\n"

// TestExportNeutralisesFormulas: a name stored as "=cmd|' /C calc'!A0"
// is written so that a spreadsheet shows it as text, in a file Excel opens
// as it is (BOM, ";", CRLF).
func TestExportNeutralisesFormulas(t *testing.T) {
	st := openSQLite(t, newClock().Now)
	c := newClock()
	f := newFixture(t, st, c, "le-beta")
	if res := f.importFile(t, hostileFile, nil); res.Status != StatusApplied {
		t.Fatalf("import: %s %+v", res.Status, res.Report)
	}
	if p := person(t, st, "jean@example.org"); p.GivenName != "=cmd|' /C calc'!A0" {
		t.Fatalf("the name is stored as %q", p.GivenName)
	}
	_, rows, err := ExportPeople(context.Background(), st, "le-beta", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteExportCSV(&buf, rows, "fr"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeffPrénom;Nom;Nom complet;Courriel;") || !strings.Contains(out, "\r\n") {
		t.Fatalf("not an Excel-friendly file:\n%q", out)
	}
	rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff")))
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]bool{}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			cells[cell] = true
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	for _, want := range []string{"'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3", "'+33 6 00", `Martin; "le grand"`,
		"nextcloud:admin, site:editor", "compta:Trésorier", "invité", "marie"} {
		if !cells[want] {
			t.Errorf("no cell %q in\n%s", want, out)
		}
	}
	if !strings.Contains(out, `"'=cmd|' /C calc'!A0 Dupont"`) && !cells["'=cmd|' /C calc'!A0 Dupont"] {
		t.Errorf("display name not neutralised:\n%s", out)
	}
	for _, c := range []struct{ in, want string }{
		{"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@x", "'@x"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"a=b", "a=b"}, {"", ""}, {"'quoted", "'quoted"},
	} {
		if got := NeutraliseCell(c.in); got != c.want {
			t.Errorf("NeutraliseCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestExportRoundTrip: a structure's export, imported into a new
// structure of another instance, gives the same people with the same
// rights; exported again, the same file (states and dates aside).
func TestExportRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		f := newFixture(t, st, c, "le-beta")
		if res := f.importFile(t, hostileFile, nil); res.Status != StatusApplied {
			t.Fatalf("import: %s", res.Status)
		}
		export := func(st store.Store, slug, lang string) []byte {
			_, rows, err := ExportPeople(ctx, st, slug, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteExportCSV(&buf, rows, lang); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
		for _, lang := range []string{"fr", "en"} {
			first := export(st, "le-beta", lang)
			other := openSQLite(t, c.Now)
			g := newFixture(t, other, c, "nouvelle")
			res := g.importFile(t, string(first), nil)
			if res.Status != StatusApplied || res.Plan.Counts()[string(ActCreate)] != 4 {
				t.Fatalf("%s: re-import: %s %v", lang, res.Status, res.Plan.Counts())
			}
			for _, w := range res.Plan.Warnings {
				t.Errorf("%s: re-import warns: %s", lang, w.Msg.Text("en"))
			}
			second := export(other, "nouvelle", lang)
			if withoutDates(t, first) != withoutDates(t, second) {
				t.Errorf("%s: round trip differs:\n%s\n---\n%s", lang, first, second)
			}
		}
	})
}

// TestExportStates: invited, link expired, active, disabled.
func TestExportStates(t *testing.T) {
	c := newClock()
	now := c.Now()
	a := store.Activation{ExpiresAt: now.Add(time.Hour)}
	for _, tc := range []struct {
		p    store.Person
		a    store.Activation
		want ExportState
	}{
		{store.Person{State: store.StateInvited}, a, ExportInvited},
		{store.Person{State: store.StateInvited}, store.Activation{ExpiresAt: now}, ExportLinkExpired},
		{store.Person{State: store.StateInvited}, store.Activation{}, ExportLinkExpired},
		{store.Person{State: store.StateActive}, a, ExportActive},
		{store.Person{State: store.StateDisabled}, a, ExportDisabled},
	} {
		if got := PersonExportState(tc.p, tc.a, now); got != tc.want {
			t.Errorf("%+v %+v: %s, want %s", tc.p, tc.a, got, tc.want)
		}
	}
}

// withoutDates drops the export's two date columns.
func withoutDates(t *testing.T, b []byte) string {
	t.Helper()
	rd := csv.NewReader(bytes.NewReader(b))
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, r := range recs {
		out.WriteString(strings.Join(r[:len(r)-2], "|") + "\n")
	}
	return out.String()
}
