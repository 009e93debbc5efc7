package web

import (
	"net/http"

	"golang.org/x/text/language"

	"sesame/internal/i18n"
)

// Languages sesame's pages are written in; the first is the default. The
// sentences themselves are in internal/i18n's catalogue.
var Languages = i18n.Languages

// DefaultLanguage is used when nothing says otherwise.
const DefaultLanguage = i18n.Default

// LangCookie is the cookie that remembers the language chosen with the
// switch (?lang=en).
const LangCookie = "sesame_lang"

var langMatcher = language.NewMatcher([]language.Tag{language.French, language.English})

// Lang picks the language of a response: the lang query parameter, then the
// LangCookie cookie, then Accept-Language, then French.
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); i18n.Supported(l) {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && i18n.Supported(c.Value) {
		return c.Value
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		tag, _, conf := langMatcher.Match(parseAccept(h)...)
		if conf != language.No {
			base, _ := tag.Base()
			if i18n.Supported(base.String()) {
				return base.String()
			}
		}
	}
	return DefaultLanguage
}

func parseAccept(h string) []language.Tag {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil {
		return nil
	}
	return tags
}

// rememberLang sets the language cookie when the request chose a language
// with ?lang=. secure says whether the cookie is limited to https.
func rememberLang(w http.ResponseWriter, r *http.Request, secure bool) {
	l := r.URL.Query().Get("lang")
	if !i18n.Supported(l) {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}
