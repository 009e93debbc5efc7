package onboarding

import (
	"fmt"
	"strings"
	"testing"
)

// TestParseRefusesInvisibleCharacters puts each invisible or control
// character the directory, a mail server or a reader could be fooled by into
// each field: every one is an error with its row, column and a sentence
// naming the character, in both languages.
func TestParseRefusesInvisibleCharacters(t *testing.T) {
	chars := map[string]rune{
		"zero-width space": '\u200b', "zero-width non-joiner": '\u200c', "zero-width joiner": '\u200d',
		"word joiner": '\u2060', "byte order mark": '\ufeff', "left-to-right mark": '\u200e',
		"right-to-left mark": '\u200f', "LRE": '\u202a', "RLO": '\u202e', "LRI": '\u2066', "PDI": '\u2069',
		"soft hyphen": '\u00ad', "tag letter": '\U000E0041', "hangul filler": '\u3164', "NUL": '\x00',
		"bell": '\a', "escape": '\x1b', "DEL": '\x7f', "C1 NEL": '\u0085', "C1 CSI": '\u009b',
	}
	fields := []struct{ column, value string }{
		{"Courriel", "zoe%c@example.org"}, {"Prénom", "Zo%cé"}, {"Nom", "Mar%ctin"}, {"Nom complet", "Zoé%c Martin"},
		{"Identifiant", "zoe%c.martin"}, {"Droits", "next%ccloud"}, {"Langue", "f%cr"}, {"Quota", "5%c Go"},
		{"Site web", "ou%ci"},
	}
	for name, c := range chars {
		for _, f := range fields {
			t.Run(name+"/"+f.column, func(t *testing.T) {
				cells := map[string]string{"Courriel": "zoe@example.org"}
				cells[f.column] = fmt.Sprintf(f.value, c)
				var header, row []string
				for _, col := range fields {
					header = append(header, col.column)
					row = append(row, cells[col.column])
				}
				data := strings.Join(header, ";") + "\n" + strings.Join(row, ";") + "\n"
				sh := Parse([]byte(data), testServices(), Options{})
				if len(sh.Rows) != 1 {
					t.Fatalf("rows = %+v, file errors %v", sh.Rows, sh.FileErrors)
				}
				got := problems(sh)
				want := "2/" + f.column + "/field.control_char"
				if len(got) != 1 || got[0] != want {
					t.Fatalf("problems = %v, want [%s]", got, want)
				}
				m := sh.Rows[0].Errors[0].Msg
				code := fmt.Sprintf("%U", c)
				if !strings.Contains(m.Text("fr"), code) || !strings.Contains(m.Text("en"), code) || !strings.Contains(m.Text("fr"), "invisible") {
					t.Errorf("message = %q / %q", m.Text("fr"), m.Text("en"))
				}
			})
		}
	}
}

// TestParseCharacterRulesKeepOrdinaryText: spaces of every kind around and
// inside values, line feeds in a rights cell, accents, other alphabets and a
// byte order mark at the edge of a cell are not refused.
func TestParseCharacterRulesKeepOrdinaryText(t *testing.T) {
	data := "Prénom;Nom;Courriel;Droits\n" +
		"\u00a0Zoé\u202f;Ἀθηνᾶ Иванова;\ufeffzoe@example.org ;\"nextcloud\nsite\"\n" +
		"Ivan;Иванов;ivan@example.org;nextcloud\n"
	sh := Parse([]byte(data), testServices(), Options{})
	if got := problems(sh); len(got) != 0 {
		t.Fatalf("problems = %v", got)
	}
	for _, r := range sh.Rows {
		if len(r.Warnings) != 0 {
			t.Errorf("row %d warnings = %v", r.Row, r.Warnings)
		}
	}
	if r := sh.Rows[0]; r.GivenName != "Zoé" || r.Email != "zoe@example.org" || len(r.Grants) != 2 {
		t.Errorf("row = %+v", r)
	}
}

// TestParseEmailsArePlainASCII: a local part that is not ASCII is refused
// with a sentence saying why; an internationalised domain is written in its
// ASCII (xn--) form, with a warning, and a warning more when it mixes
// alphabets.
func TestParseEmailsArePlainASCII(t *testing.T) {
	for _, tc := range []struct {
		name, email string
		want        string // stored address, or "" when refused
		errors      []string
		warnings    []string
	}{
		{"ascii", "Zoe@Example.org", "zoe@example.org", nil, nil},
		{"accented local part", "zoé@example.org", "", []string{"email.non_ascii"}, nil},
		{"cyrillic local part", "\u0430dmin@example.org", "", []string{"email.non_ascii"}, nil},
		{"idn domain", "zoe@exämple.org", "zoe@xn--exmple-cua.org", nil, []string{"email.idn_domain"}},
		{"idn domain in capitals", "zoe@EXÄMPLE.org", "zoe@xn--exmple-cua.org", nil, []string{"email.idn_domain"}},
		{"look-alike domain", "admin@ex\u0430mple.org", "admin@xn--exmple-4nf.org", nil, []string{"field.mixed_scripts", "email.idn_domain"}},
		{"invalid idn domain", "zoe@ex\u00e4mple-.org", "", []string{"email.invalid"}, nil},
		{"already ascii idn", "zoe@xn--exmple-cua.org", "zoe@xn--exmple-cua.org", nil, nil},
		{"full-width at sign", "zoe\uff20example.org", "", []string{"email.non_ascii"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := Parse([]byte("courriel;droits\n"+tc.email+";nextcloud\n"), testServices(), Options{})
			r := sh.Rows[0]
			var errs, warns []string
			for _, p := range r.Errors {
				errs = append(errs, string(p.Msg.ID))
			}
			for _, p := range r.Warnings {
				warns = append(warns, string(p.Msg.ID))
				if p.Column != "courriel" {
					t.Errorf("warning column = %q", p.Column)
				}
			}
			if fmt.Sprint(errs) != fmt.Sprint(tc.errors) || fmt.Sprint(warns) != fmt.Sprint(tc.warnings) {
				t.Errorf("errors %v warnings %v, want %v %v", errs, warns, tc.errors, tc.warnings)
			}
			if tc.want != "" && r.Email != tc.want {
				t.Errorf("email = %q, want %q", r.Email, tc.want)
			}
			if tc.want != "" && !validEmail(r.Email) {
				t.Errorf("stored email %q is not valid", r.Email)
			}
		})
	}
	sh := Parse([]byte("courriel\nzoé@example.org\n"), nil, Options{})
	m := sh.Rows[0].Errors[0].Msg
	if !strings.Contains(m.Text("fr"), "lettres accentuées") || strings.Contains(m.Text("fr"), "LDAP") || !strings.Contains(m.Text("en"), "accented letters") || !strings.Contains(m.Text("en"), "zoé@example.org") {
		t.Errorf("message = %q / %q", m.Text("fr"), m.Text("en"))
	}
}

// TestParseMixedScriptsWarns: a name whose one word mixes Latin with
// Cyrillic or Greek letters is a warning (not an error), in both languages.
func TestParseMixedScriptsWarns(t *testing.T) {
	for _, tc := range []struct {
		name, given, family, full string
		warn                      string // the column warned, or ""
	}{
		{"cyrillic a in a latin name", "\u0410dmin", "Martin", "", "Prénom"},
		{"greek omicron in a latin name", "Zoé", "Mart\u03bfn", "", "Nom"},
		{"in the full name", "", "", "J\u0435an Dupont", "Nom complet"},
		{"cyrillic name", "Иван", "Иванов", "", ""},
		{"greek name", "Ἀθηνᾶ", "Παπαδοπούλου", "", ""},
		{"one word in each script", "Ivan", "Иванов", "", ""},
		{"digits do not split a word", "a1\u0431", "Martin", "", "Prénom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := "Prénom;Nom;Nom complet;Courriel\n" + tc.given + ";" + tc.family + ";" + tc.full + ";x@example.org\n"
			sh := Parse([]byte(data), testServices(), Options{})
			r := sh.Rows[0]
			if len(r.Errors) != 0 {
				t.Fatalf("errors = %v", r.Errors)
			}
			var got []string
			for _, w := range r.Warnings {
				if w.Msg.ID == MsgMixedScripts {
					got = append(got, w.Column)
				}
			}
			if tc.warn == "" && len(got) != 0 || tc.warn != "" && (len(got) != 1 || got[0] != tc.warn) {
				t.Errorf("mixed-script warnings on %v, want %q", got, tc.warn)
			}
		})
	}
}

// TestParseDuplicatesIgnoreInvisibleCharacters: two cells that name one
// mailbox but for invisible characters, case, spaces or the domain's form
// are duplicates, and both rows say so (the one with the invisible character
// is also refused for it).
func TestParseDuplicatesIgnoreInvisibleCharacters(t *testing.T) {
	data := "Courriel;Prénom\n" +
		"zoe@example.org;Zoé\n" +
		"zoe\u200b@example.org;Zoé bis\n" +
		"jean@exämple.org;Jean\n" +
		"JEAN@xn--exmple-cua.org\u00a0;Jean bis\n" +
		"admin@example.org;A\n" +
		"\u2060admin@example.org\u200d;B\n" +
		"other@example.org;C\n"
	sh := Parse([]byte(data), testServices(), Options{})
	want := []string{
		"2/Courriel/email.duplicate",
		"3/Courriel/field.control_char", "3/Courriel/email.duplicate",
		"4/Courriel/email.duplicate",
		"5/Courriel/email.duplicate",
		"6/Courriel/email.duplicate",
		"7/Courriel/field.control_char", "7/Courriel/email.duplicate",
	}
	if got := problems(sh); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m := sh.Rows[0].Errors[0].Msg.Text("en"); !strings.Contains(m, "zoe@example.org") || !strings.Contains(m, "rows 2, 3") {
		t.Errorf("message = %q", m)
	}
}
