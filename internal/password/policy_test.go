package password

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// person is what Check is given about the person choosing a password.
var person = []string{"Camille", "Dupont", "Camille Dupont", "camille.dupont@exemple.fr", "camille.dupont", "Le Bêta"}

func TestPolicyRefuses(t *testing.T) {
	for _, c := range []struct {
		name, plain, code string
		policy            Policy
	}{
		{"azerty123 (short)", "azerty123", CodeTooShort, Policy{}},
		{"azerty123 (common)", "azerty123", CodeCommon, Policy{MinLength: 8}},
		{"motdepasse", "motdepasse", CodeCommon, Policy{}},
		{"mot de passe spaced", "mot de passe", CodeCommon, Policy{}},
		{"password1", "password1", CodeCommon, Policy{MinLength: 8}},
		{"leet password", "P@ssw0rd2024!", CodeCommon, Policy{}},
		{"common + digits", "soleil123456", CodeCommon, Policy{}},
		{"azertyuiop", "azertyuiop", CodeCommon, Policy{}},
		{"digits", "1234567890", CodeCommon, Policy{}},
		{"french word", "extraordinaire", CodeCommon, Policy{}},
		{"french first name", "Marie-Christine", CodeCommon, Policy{}},
		{"own full name", "Camille Dupont", CodePersonal, Policy{}},
		{"own name + year", "camilledupont2026", CodePersonal, Policy{}},
		{"own name reversed order", "DupontCamille!", CodePersonal, Policy{}},
		{"own email", "camille.dupont@exemple.fr", CodePersonal, Policy{}},
		{"own username", "camille.dupont", CodePersonal, Policy{}},
		{"structure name", "Le Bêta 2026", CodePersonal, Policy{}},
		{"structure, no accent", "lebeta2026!!", CodePersonal, Policy{}},
		{"short", "Zx9!", CodeTooShort, Policy{}},
		{"short in runes, long in bytes", "éàèùçô", CodeTooShort, Policy{}},
		{"repeated", "aaaaaaaaaaaaaaaa", CodeWeak, Policy{}},
		{"repeated emoji", strings.Repeat("🦊", 16), CodeWeak, Policy{}},
		{"keyboard walk", "qwertzuiop1234", CodeCommon, Policy{}},
		{"sequence", "abcdefghijklmnop", CodeWeak, Policy{}},
		{"name with a few letters", "Camille!Dupont#xyz", CodePersonal, Policy{}},
		{"too long", strings.Repeat("long passphrase ", 65), CodeTooLong, Policy{}},
		{"invalid utf-8", "abcdefghij\xff\xfe", CodeInvalid, Policy{}},
		{"control character", "abcdefgh\x00ijklmnop", CodeInvalid, Policy{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.policy.Check(c.plain, person...)
			if p == nil {
				t.Fatalf("Check(%q) accepted it; want %s", c.plain, c.code)
			}
			if p.Code != c.code {
				t.Fatalf("Check(%q) = %s (%s); want %s", c.plain, p.Code, p.Message("en"), c.code)
			}
			fr, en := p.Message("fr"), p.Message("en")
			if fr == "" || en == "" || fr == en || strings.HasPrefix(fr, "[") || strings.HasPrefix(en, "[") || p.Error() != "password: "+en {
				t.Fatalf("problem %s lacks a sentence in each language: %q, %q", p.Code, fr, en)
			}
			if !strings.HasSuffix(fr, ".") || !strings.HasSuffix(en, ".") || strings.Contains(fr+en, "%!") {
				t.Fatalf("problem sentences must be full sentences: %+v", p)
			}
		})
	}
}

func TestPolicyAccepts(t *testing.T) {
	long := "Mon vélo bleu 🚲 a crevé deux fois sous la pluie de novembre ☔ — quelle histoire ! «2026»"
	if utf8.RuneCountInString(long) < 64 {
		t.Fatal("test passphrase shorter than 64 runes")
	}
	for _, plain := range []string{
		long,
		strings.Repeat("ünïcödé ✓ 🐘 & <script>'\" ", 30), // ~750 runes of anything
		"Le chat de ma grand-mère dort toujours près du radiateur",
		"les fraises de Noémie poussent à l'envers",
		"correct horse battery staple",
		"Camille aime les fraises de Noémie en été", // one's name inside a real sentence
		"Zk7#qPm2vR9!wLx",
		"ceci n'est pas une pipe, mais un mot de passe 🙂",
		strings.Repeat("é", 3) + "Ωmega-Λambda 四 五 六 ξψζ", // no composition rules, any script
	} {
		if p := DefaultPolicy().Check(plain, person...); p != nil {
			t.Errorf("Check(%q) refused it: %s", plain, p.Message("en"))
		}
	}
	// Exactly MaxLength runes is still fine.
	max := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789éèàù🙂-+=", 30)
	max = string([]rune(max)[:MaxLength])
	if p := (Policy{}).Check(max); p != nil {
		t.Errorf("Check of %d runes refused: %s", MaxLength, p.Message("en"))
	}
}

func TestPolicyMinimumsAreConfigurable(t *testing.T) {
	if p := (Policy{MinLength: 20}).Check("Zk7#qPm2vR9!wLx"); p == nil || p.Code != CodeTooShort || !strings.Contains(p.Message("fr"), "20") {
		t.Fatalf("MinLength 20 not applied: %+v", p)
	}
	// Score 4 asks more than the default 3.
	plain := "jaimelesfraises"
	if p := (Policy{MinScore: 1}).Check(plain); p != nil {
		t.Fatalf("MinScore 1 refused %q: %s", plain, p.Message("en"))
	}
}

func TestVariants(t *testing.T) {
	vs := variants("P@ssw0rd-2024!")
	for _, want := range []string{"p@ssw0rd-2024!", "p@ssw0rd", "password", "p@ssw0rd2024!"} {
		found := false
		for _, v := range vs {
			found = found || v == want
		}
		if !found {
			t.Errorf("variants lack %q: %q", want, vs)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	p := DefaultPolicy()
	for b.Loop() {
		p.Check("Le chat de ma grand-mère dort toujours près du radiateur", person...)
	}
}
