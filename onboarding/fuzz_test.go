package onboarding

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeCSV feeds arbitrary bytes to the decoder and the whole parser:
// they must never panic, always produce valid UTF-8, keep row numbers
// increasing, and report every problem with a message in both languages.
func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("email;prénom;nom;droits\na@example.org;Jean;Dupont;nextcloud:admin\n"))
	f.Add([]byte("sep=|\nemail|droits\na@example.org|\"site:éditeur, nextcloud\"\n"))
	f.Add([]byte{0xEF, 0xBB, 0xBF, 'e', 'm', 'a', 'i', 'l', '\n', 'a', '@', 'b', '.', 'c', '\n'})
	f.Add([]byte{0xFF, 0xFE, 'e', 0, ';', 0, 'x', 0, '\n', 0})
	f.Add([]byte{0xFE, 0xFF, 0, 'e', 0, '\t', 0, 'x'})
	f.Add([]byte("Courriel,Nom\r\n\"unterminated,\"x\r\n\r\n,,,\r\n"))
	f.Add([]byte("Pr\xe9nom;Courriel\nC\x9cur;c@example.org\n"))
	f.Add([]byte("\"sep=;\"\nemail\n\x00\x01\n"))
	f.Add([]byte("Prénom;Courriel\nZo\xe9;zoe\u200b@exämple.org\n\u0410dmin;admin@example.org\n"))
	svcs := testServices()
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := DecodeCSV(data)
		if err == nil {
			last := 0
			for _, r := range tb.Records {
				if r.Row <= last {
					t.Fatalf("row numbers not increasing: %d after %d", r.Row, last)
				}
				last = r.Row
				for _, f := range r.Fields {
					if !utf8.ValidString(f) {
						t.Fatalf("invalid UTF-8 field %q", f)
					}
				}
			}
		}
		sh := Parse(data, svcs, Options{MaxRows: 1000})
		for _, r := range sh.Rows {
			if len(r.Errors) == 0 {
				if !validEmail(r.Email) {
					t.Fatalf("row %d accepted with email %q", r.Row, r.Email)
				}
				if r.Username != "" && !validUsername(r.Username, legacyUsernameLen) {
					t.Fatalf("row %d accepted with username %q", r.Row, r.Username)
				}
				for _, v := range []string{r.Email, r.GivenName, r.FamilyName, r.DisplayName, r.Language, r.Quota} {
					if c, bad := badRune(v, false); bad || strings.ContainsRune(v, utf8.RuneError) {
						t.Fatalf("row %d accepted with %U in %q", r.Row, c, v)
					}
				}
				for _, g := range r.Grants {
					if c, bad := badRune(g.Role, false); bad {
						t.Fatalf("row %d accepted with %U in role %q", r.Row, c, g.Role)
					}
				}
			}
			for _, p := range append(r.Errors, r.Warnings...) {
				if p.Msg.Text("fr") == "" || p.Msg.Text("en") == "" {
					t.Fatalf("empty message %s", p.Msg.ID)
				}
			}
		}
		if u := BaseUsername(string(data), "", string(data)); !ValidUsername(u) {
			t.Fatalf("BaseUsername gave invalid %q", u)
		}
	})
}

// FuzzRights feeds arbitrary cells to the rights grammar and the role
// resolution: items never hold a separator, and every accepted role is one
// the service lists.
func FuzzRights(f *testing.F) {
	for _, s := range []string{"nextcloud", "nextcloud:admin, site:éditeur", "paheko:Trésorier\nsite",
		" : ", "a|b;c,d\r\ne", "site\uff1aauteur", "::::", "compta:membre;;"} {
		f.Add(s)
	}
	svcs := testServices()
	ix := newServiceIndex(svcs)
	f.Fuzz(func(t *testing.T, cell string) {
		for _, it := range ParseRights(cell) {
			if strings.ContainsAny(it.Service, ",;|\n\r:") {
				t.Fatalf("service %q holds a separator", it.Service)
			}
			if strings.ContainsAny(it.Role, ",;|\n\r") {
				t.Fatalf("role %q holds a separator", it.Role)
			}
			if it.Service == "" && it.Role == "" {
				t.Fatal("empty item kept")
			}
			svc, found, _ := ix.lookup(it.Service)
			if !found {
				continue
			}
			role, ok := ResolveRole(svc, it.Role)
			if ok {
				listed := false
				for _, r := range ServiceRoles(svc) {
					listed = listed || r == role
				}
				if !listed {
					t.Fatalf("role %q resolved to %q, not a role of %s", it.Role, role, svc.Kind)
				}
			}
		}
	})
}
