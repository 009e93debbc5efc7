package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// verbs matches the fmt verbs of a text (%% is not one).
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func verbsOf(s string) []string {
	var out []string
	for _, v := range verbs.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v)
		}
	}
	return out
}

// Every key has a French and an English text, without stray spaces, with
// the same fmt verbs in the same order (an argument shown in one language
// is shown in the other).
func TestEveryKeyInBothLanguages(t *testing.T) {
	if len(catalogue) < 100 {
		t.Fatalf("only %d keys: the catalogue was not assembled", len(catalogue))
	}
	for k, text := range catalogue {
		for lang, s := range map[string]string{"fr": text.FR, "en": text.EN} {
			if s == "" {
				t.Errorf("%s: no %s text", k, lang)
			}
			if strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
				t.Errorf("%s: %s text %q has stray spaces", k, lang, s)
			}
		}
		if fr, en := verbsOf(text.FR), verbsOf(text.EN); !slices.Equal(fr, en) {
			t.Errorf("%s: French verbs %v, English verbs %v", k, fr, en)
		}
		if strings.ContainsAny(k.name, " \t\n") || k.name != strings.ToLower(k.name) {
			t.Errorf("key %q: keys are lower case, without spaces", k.name)
		}
	}
}

func TestT(t *testing.T) {
	for _, c := range []struct {
		lang string
		key  Key
		args []any
		want string
	}{
		{"fr", LoginTitleService, []any{"Nextcloud"}, "Connexion à Nextcloud"},
		{"en", LoginTitleService, []any{"Nextcloud"}, "Log in to Nextcloud"},
		{"de", LoginTitle, nil, "Connexion"}, // anything but English is French
		{"", LoginTitle, nil, "Connexion"},
		{"fr", ErrorTooMany, []any{Minutes(1)}, "Trop de tentatives. Réessayez dans une minute."},
		{"en", ErrorTooMany, []any{Minutes(10)}, "Too many attempts. Try again in 10 minutes."},
		{"en", ErrorTooMany, []any{Minutes(0)}, "Too many attempts. Try again in one minute."},
		{"fr", key("no.such.key"), nil, "[no.such.key]"},
		{"fr", Key{}, nil, "[]"},
	} {
		if got := T(c.lang, c.key, c.args...); got != c.want {
			t.Errorf("T(%q, %s, %v) = %q, want %q", c.lang, c.key, c.args, got, c.want)
		}
	}
	if got := M(PasswordTooShort, 12).In("en"); !strings.Contains(got, "at least 12 characters") {
		t.Errorf("Message.In: %q", got)
	}
	if !(Message{}).IsZero() || M(LoginTitle).IsZero() {
		t.Error("Message.IsZero")
	}
	if b, _ := LoginTitle.MarshalText(); string(b) != "login.title" || LoginTitle.String() != "login.title" {
		t.Errorf("LoginTitle's text: %q", b)
	}
}

// The templates' t takes a key's text, a Key or a Message.
func TestTemplateT(t *testing.T) {
	for _, c := range []struct {
		key  any
		args []any
		want string
	}{
		{"forgot.title", nil, "Forgotten password"},
		{ForgotTitle, nil, "Forgotten password"},
		{M(LoginTitleService, "Paheko"), nil, "Log in to Paheko"},
		{"onward.back", []any{"Paheko"}, "Back to Paheko"},
		{"nope", nil, "[nope]"},
		{42, nil, "[42]"},
	} {
		if got := TemplateT("en", c.key, c.args...); got != c.want {
			t.Errorf("TemplateT(en, %v) = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestSupported(t *testing.T) {
	if !Supported(Default) || !Supported("en") || Supported("de") || Supported("") {
		t.Error("Supported")
	}
}
