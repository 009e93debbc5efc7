package idp

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"sesame/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds every page, parsed once: a broken template fails at package
// initialisation (and in every test), never in front of a person.
var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// loginPage is the data of login.html.
type loginPage struct {
	Request  string
	Service  string
	Username string
	Error    string // French first, then English
}

// noAccessPage is the data of login_noaccess.html.
type noAccessPage struct {
	Service   string
	Structure string
	Contact   string
}

// messagePage is the data of login_message.html.
type messagePage struct {
	Title   string
	Message string
	English string
}

// render writes a page with the security headers every page gets. The
// policy has no form-action: browsers apply it to the redirect that follows
// the login form's POST, which goes to the client.
func render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Provider) message(w http.ResponseWriter, status int, title, fr, en string) {
	render(w, status, "login_message.html", messagePage{Title: title, Message: fr, English: en})
}

// badForm answers a form that web.ParseForm or web.ReadForm refused: 413
// (414 for a query) past web.MaxFormBytes, with nothing done; else 400
// with the given sentences.
func (p *Provider) badForm(w http.ResponseWriter, err error, fr, en string) {
	if status := web.FormStatus(err); status != http.StatusBadRequest {
		p.message(w, status, "Requête trop volumineuse",
			"La demande dépasse la taille permise (64 Kio) : elle n'a pas été traitée.",
			"The request is larger than allowed (64 KiB): it was not processed.")
		return
	}
	p.message(w, http.StatusBadRequest, "Requête invalide", fr, en)
}
