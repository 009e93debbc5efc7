package onboarding

import (
	"context"
	"os"
	"strings"
	"testing"

	"sesame/internal/store"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/exports/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseSuiteExports reads the user exports of Google Workspace and
// Microsoft 365 as they come out of the admin consoles: names and both
// addresses are recognised, the columns sesame has no use for are ignored
// without a warning each, and the address chosen receives the link.
func TestParseSuiteExports(t *testing.T) {
	for _, tc := range []struct {
		file, source string
	}{
		{"google_workspace_users.csv", SourceGoogle},
		{"microsoft365_users.csv", SourceMicrosoft},
	} {
		t.Run(tc.source, func(t *testing.T) {
			data := readFixture(t, tc.file)
			type want struct{ email, alt, given, family, display string }
			for _, c := range []struct {
				address Address
				rows    []want
				warned  []int // rows with a fallback warning
			}{
				{"", []want{
					{"camille.durand@lebeta.org", "camille.durand@gmail.com", "Camille", "Durand", "Camille Durand"},
					{"elodie.martin@lebeta.org", "", "Élodie", "Martin", "Élodie Martin"},
					{"hugo.petit@lebeta.org", "hugo.p@laposte.net", "Hugo", "Petit", "Hugo Petit"},
				}, nil},
				{AddressPersonal, []want{
					{"camille.durand@gmail.com", "camille.durand@lebeta.org", "Camille", "Durand", "Camille Durand"},
					{"elodie.martin@lebeta.org", "", "Élodie", "Martin", "Élodie Martin"},
					{"hugo.p@laposte.net", "hugo.petit@lebeta.org", "Hugo", "Petit", "Hugo Petit"},
				}, []int{3}},
			} {
				sh := Parse(data, testServices(), Options{Address: c.address})
				if sh.HasErrors() {
					t.Fatalf("%s: problems: %v", c.address, problems(sh))
				}
				if sh.Source != tc.source || !sh.HasWorkEmail || !sh.HasPersonalEmail {
					t.Errorf("source %q, work %v, personal %v", sh.Source, sh.HasWorkEmail, sh.HasPersonalEmail)
				}
				// One notice that the export was recognised, no column
				// reported unknown.
				if len(sh.Warnings) != 1 || sh.Warnings[0].Msg.ID != MsgExportRecognised {
					t.Errorf("header warnings: %v", problems(sh))
				}
				if len(sh.Rows) != len(c.rows) {
					t.Fatalf("%d rows", len(sh.Rows))
				}
				var warned []int
				for i, w := range c.rows {
					r := sh.Rows[i]
					got := want{r.Email, r.AltEmail, r.GivenName, r.FamilyName, r.DisplayName}
					if got != w {
						t.Errorf("%s row %d = %+v, want %+v", c.address, r.Row, got, w)
					}
					for _, p := range r.Warnings {
						if p.Msg.ID == MsgNoPersonalAddress {
							warned = append(warned, r.Row)
						}
					}
				}
				if len(warned) != len(c.warned) || (len(warned) > 0 && warned[0] != c.warned[0]) {
					t.Errorf("%s: fallback warnings on rows %v, want %v", c.address, warned, c.warned)
				}
			}
		})
	}
}

// TestParseAddressChoice covers the address choice on plain files: a
// personal column alone, a missing personal column, an invalid personal
// address that is not used.
func TestParseAddressChoice(t *testing.T) {
	sh := Parse([]byte("Prénom;Nom;Email personnel\nJean;Dupont;jean@perso.fr\n"), testServices(), Options{})
	if sh.HasErrors() || sh.Rows[0].Email != "jean@perso.fr" {
		t.Errorf("personal column alone: %v %+v", problems(sh), sh.Rows)
	}
	if w := sh.Rows[0].Warnings; len(w) == 0 || w[0].Msg.ID != MsgNoRights && w[0].Msg.ID != MsgNoWorkAddress {
		t.Logf("warnings %v", w)
	}
	sh = Parse([]byte("Prénom;Nom;Email\nJean;Dupont;jean@asso.fr\n"), testServices(), Options{Address: AddressPersonal})
	if sh.HasErrors() || sh.Rows[0].Email != "jean@asso.fr" {
		t.Errorf("no personal column: %v", problems(sh))
	}
	if len(sh.Warnings) != 1 || sh.Warnings[0].Msg.ID != MsgNoPersonalColumn {
		t.Errorf("no personal column: header warnings %v", problems(sh))
	}
	if got := sh.Warnings[0].Msg.Text("en"); !strings.Contains(got, `"Email"`) {
		t.Errorf("message %q does not name the column", got)
	}
	// Outside a suite's export, its column names are not ignored silently.
	sh = Parse([]byte("Email;Title;Office\njean@asso.fr;Dr;Lyon\n"), testServices(), Options{})
	if got := strings.Join(sh.Unknown, "|"); got != "Title|Office" || sh.Source != "" {
		t.Errorf("plain file: unknown %q, source %q", got, sh.Source)
	}
	sh = Parse([]byte("Email;Recovery Email\njean@asso.fr;pas-une-adresse\n"), testServices(), Options{})
	if sh.HasErrors() || sh.Rows[0].AltEmail != "" {
		t.Errorf("invalid unused personal address: %v %+v", problems(sh), sh.Rows[0])
	}
	sh = Parse([]byte("Email;Recovery Email\njean@asso.fr;pas-une-adresse\n"), testServices(), Options{Address: AddressPersonal})
	if got := problems(sh); len(got) != 1 || got[0] != "2/Recovery Email/email.invalid" {
		t.Errorf("invalid chosen personal address: %v", got)
	}
}

// TestImportAddressChoice imports a Google export sending links to the
// personal addresses, then re-imports it choosing the work addresses: the
// same people are found (under their other address), nobody is created
// twice.
func TestImportAddressChoice(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store, c *clock) {
		ctx := context.Background()
		im := newFixture(t, st, c, "le-beta").im
		data := readFixture(t, "google_workspace_users.csv")
		res, err := im.Import(ctx, Request{Structure: "le-beta", Data: data, Address: AddressPersonal, Actor: "test"})
		if err != nil || res.Status != StatusApplied {
			t.Fatalf("import: %v %+v", err, res)
		}
		p, err := st.GetPersonByEmail(ctx, "camille.durand@gmail.com")
		if err != nil || p.Username != "camille.durand" {
			t.Fatalf("camille: %+v %v", p, err)
		}
		if _, err := st.GetPersonByEmail(ctx, "elodie.martin@lebeta.org"); err != nil {
			t.Fatalf("élodie (no personal address): %v", err)
		}
		res, err = im.Import(ctx, Request{Structure: "le-beta", Data: data, Address: AddressWork, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.Plan.Counts()[string(ActCreate)]; n != 0 {
			t.Errorf("re-import with the other address creates %d people", n)
		}
		if _, err := im.Import(ctx, Request{Structure: "le-beta", Data: data, Address: "home"}); err == nil {
			t.Error("an unknown address choice is accepted")
		}
	})
}
