package onboarding

import (
	"fmt"
	"strings"
	"testing"

	"sesame/internal/store"
)

// testServices is a structure with a Nextcloud, a WordPress and a Paheko.
func testServices() []store.Service {
	return []store.Service{
		{ID: "svc-nc", Slug: "nextcloud", Name: "Nextcloud", Kind: store.KindNextcloud},
		{ID: "svc-wp", Slug: "site", Name: "Site web", Kind: store.KindWordPress},
		{ID: "svc-pk", Slug: "paheko", Name: "Compta", Kind: store.KindPaheko,
			Roles: []string{"Membre", "Trésorier"}, DefaultRole: "Membre"},
	}
}

// problems lists a sheet's problems as "row/column/id" strings.
func problems(sh *Sheet) []string {
	var out []string
	for _, p := range sh.FileErrors {
		out = append(out, fmt.Sprintf("file:%d/%s/%s", p.Row, p.Column, p.Msg.ID))
	}
	for _, p := range sh.Warnings {
		out = append(out, fmt.Sprintf("warn:%d/%s/%s", p.Row, p.Column, p.Msg.ID))
	}
	for _, r := range sh.Rows {
		for _, p := range r.Errors {
			out = append(out, fmt.Sprintf("%d/%s/%s", p.Row, p.Column, p.Msg.ID))
		}
	}
	return out
}

func TestParseValidation(t *testing.T) {
	csv := strings.Join([]string{
		"Prénom;Nom;E-mail;Droits;Site web;Téléphone",
		"Jean;Dupont;Jean.Dupont@Example.org;nextcloud:admin;auteur;0600000000", // 2 ok
		"Marie;Curie;;nextcloud;;",                                              // 3 missing email
		"Paul;Martin;paul@@example;nextcloud;;",                                 // 4 invalid email
		"Anne;Un;dup@example.org;;;",                                            // 5 duplicate
		"Anne;Deux;DUP@example.org ;;;",                                         // 6 duplicate (case-folded)
		"Léa;Seydoux;lea@example.org;mastodon;;",                                // 7 unknown service
		"Luc;Besson;luc@example.org;nextcloud:chef;;",                           // 8 unknown role
		"Zoé;Extra;zoe@example.org;;;;en trop",                                  // 9 more fields than the header
		"Max;" + strings.Repeat("x", 201) + ";max@example.org;;;",               // 10 too long
		"Bell\aa;Ring;bell@example.org;;;",                                      // 11 control character
		"Tom;Role;tom@example.org;site:editor;auteur;",                          // 12 two roles for one service
		"Eve;Paheko;eve@example.org;paheko:Trésorier, Compta;;",                 // 13 ok: same role twice (default is Membre: conflict)
		"Ivy;Trail;ivy@example.org;nextcloud;non;;;;",                           // 14 trailing empty fields: fine
		"Kim;Lang;kim@example.org;;;",                                           // 15 ok
	}, "\n")
	sh := Parse([]byte(csv), testServices(), Options{})
	got := problems(sh)
	want := []string{
		"warn:1/Téléphone/file.unknown_column",
		"3/E-mail/email.missing",
		"4/E-mail/email.invalid",
		"5/E-mail/email.duplicate",
		"6/E-mail/email.duplicate",
		"7/Droits/rights.unknown_service",
		"8/Droits/rights.unknown_role",
		"9//row.too_many_fields",
		"10/Nom/field.too_long",
		"11/Prénom/field.control_char",
		"12/Site web/rights.conflicting_roles",
		"13/Droits/rights.conflicting_roles",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r := sh.Rows[0]
	if r.Email != "jean.dupont@example.org" || r.DisplayName != "Jean Dupont" {
		t.Errorf("row 2 = %+v", r)
	}
	if g := r.Grants["svc-nc"]; g.Role != "admin" {
		t.Errorf("nextcloud grant = %+v", g)
	}
	if g := r.Grants["svc-wp"]; g.Role != "author" {
		t.Errorf("site grant = %+v", g)
	}
	if !sh.HasRights {
		t.Error("HasRights = false")
	}
	if msg := sh.Rows[3].Errors[0].Msg.Text("fr"); !strings.Contains(msg, "lignes 5, 6") {
		t.Errorf("duplicate message = %q", msg)
	}
	if msg := sh.Rows[3].Errors[0].Msg.Text("en"); !strings.Contains(msg, "rows 5, 6") {
		t.Errorf("duplicate message = %q", msg)
	}
}

func TestParseServiceColumnsAndAliases(t *testing.T) {
	csv := "\ufeffNOM COMPLET,Courriel,Identifiant,Langue,Quota,NEXTCLOUD,Paheko,Site-Web\n" +
		"Élodie Hervé,elodie@example.org,,English,\"5 Go\",oui,trésorier,x\n" +
		"Bob,bob@example.org,bob.b,fr,\"1,5 To\",Non,,\n"
	sh := Parse([]byte(csv), testServices(), Options{})
	if len(problems(sh)) != 0 {
		t.Fatalf("problems: %v", problems(sh))
	}
	a, b := sh.Rows[0], sh.Rows[1]
	if a.GivenName != "Élodie" || a.FamilyName != "Hervé" || a.Language != "en" || a.Quota != "5 GB" {
		t.Errorf("row a = %+v", a)
	}
	if len(a.Grants) != 3 || a.Grants["svc-nc"].Role != "user" || a.Grants["svc-pk"].Role != "Trésorier" || a.Grants["svc-wp"].Role != "subscriber" {
		t.Errorf("grants a = %+v", a.Grants)
	}
	if b.Username != "bob.b" || b.Quota != "1.5 TB" || len(b.Grants) != 0 {
		t.Errorf("row b = %+v", b)
	}
}

func TestParseFileErrors(t *testing.T) {
	svcs := testServices()
	tests := []struct {
		name string
		data string
		opts Options
		want string
	}{
		{"too large", "email\na@example.org\n", Options{MaxBytes: 5}, "file:0//file.too_large"},
		{"too many rows", "email\na@example.org\nb@example.org\nc@example.org\n", Options{MaxRows: 2}, "file:0//file.too_many_rows"},
		{"empty", "\n\n;;;\n", Options{}, "file:0//file.empty"},
		{"no email column", "nom;prénom\nA;B\n", Options{}, "file:1//file.no_email_column"},
		{"duplicate column", "email;courriel\na@example.org;b@example.org\n", Options{}, "file:1/courriel/file.duplicate_column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh := Parse([]byte(tc.data), svcs, tc.opts)
			got := problems(sh)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("problems = %v, want [%s]", got, tc.want)
			}
			if !sh.HasErrors() {
				t.Error("HasErrors = false")
			}
		})
	}
}

func TestParseRowsCountExactlyAtLimit(t *testing.T) {
	sh := Parse([]byte("email\na@example.org\nb@example.org\n"), nil, Options{MaxRows: 2})
	if sh.HasErrors() {
		t.Errorf("problems = %v", problems(sh))
	}
}

func TestValidEmail(t *testing.T) {
	for e, want := range map[string]bool{
		"a@example.org": true, "jean.dupont+asso@sub.example.fr": true, "a@b": false, "@example.org": false,
		"a@example..org": false, "a b@example.org": false, "a@-example.org": false, "a@example.org.": false,
		"<a@example.org>": false, "a@exa_mple.org": true, strings.Repeat("a", 65) + "@example.org": false,
	} {
		if got := validEmail(e); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", e, got, want)
		}
	}
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	for id, m := range catalogue {
		if m[0] == "" || m[1] == "" || m[0] == m[1] {
			t.Errorf("message %s lacks a translation", id)
		}
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %s: French and English take different arguments", id)
		}
	}
}
