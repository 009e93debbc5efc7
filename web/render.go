package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"sesame/internal/i18n"
)

//go:embed templates static
var assets embed.FS

// Templates returns the embedded page templates.
func Templates() fs.FS {
	sub, _ := fs.Sub(assets, "templates")
	return sub
}

// Static returns the embedded static files (style sheet, icons).
func Static() fs.FS {
	sub, _ := fs.Sub(assets, "static")
	return sub
}

// LayoutTemplate is the file every page is rendered in; it calls the
// page's "content" template, and defines the pieces pages share.
const LayoutTemplate = "layout.html"

// PageNames lists the page templates the renderer must find (NAME.html):
// the account pages, the error page, and the OpenID Connect provider's
// pages (login*), which idp renders through the Renderer it is given.
var PageNames = []string{"password_form", "password_done", "link_invalid", "request_link", "link_sent", "error", "home",
	"login", "login_noaccess", "login_logout", "login_loggedout", "login_second"}

// Page is what every template receives: the common fields the layout needs
// and the page's own Data.
type Page struct {
	Lang      string   // filled by Render
	Title     i18n.Key // the page's title (and its h1)
	TitleArgs []any    // the title's arguments, if it has any
	// Structure is the name of the structure the page is about (on the
	// provider's pages, the service's), shown in the header bar beside
	// sesame's name.
	Structure string
	// Here is the address of this page for the language switch when the
	// request's is not one to come back to (a page shown after a POST, or
	// one whose GET would start something again): an absolute path with its
	// query. Empty: the request's path, with its query on a GET.
	Here string
	// FormOrigins are the origins besides sesame's where a form of this
	// page may end up after redirects (the login form is answered by a
	// redirect to the service); the CSP's form-action allows them.
	FormOrigins []string
	Langs       []LangLink // filled by Render: the language switch
	Data        any
}

// Heading is the page's title in its language.
func (p *Page) Heading() string { return i18n.T(p.Lang, p.Title, p.TitleArgs...) }

// LangLink is one language of the switch in the header bar.
type LangLink struct {
	Code    string // "fr"
	Label   string // "FR", what the bar shows
	Name    string // the language's name in that language: "Français"
	URL     string // this page in that language
	Current bool   // the page is in that language
}

// Onward is where a page lets a person go next when it cannot give them
// what they came for (an error, no access to a service), so that no page
// is a dead end. Every field is optional.
type Onward struct {
	Service   string // the name of the service the person came from
	Back      string // the service's address (its base URL)
	Switch    string // an address that starts the same login again, with another account
	Structure string // the name of the service's structure, shown in the header bar
	Contact   string // the structure's contact address (a mailto link)
}

// Renderer renders the pages, every one parsed at start-up together with
// the shared layout.
type Renderer struct {
	Logger *slog.Logger
	// SecureCookies marks the language cookie Secure (public URL in https).
	SecureCookies bool
	pages         map[string]*template.Template
}

var funcs = template.FuncMap{
	"t": i18n.TemplateT,
}

// NewRenderer parses the layout and every page of PageNames plus extra from
// fsys (nil means the embedded templates). A missing or broken template is
// an error, so a server never starts with a page it cannot show.
func NewRenderer(fsys fs.FS, logger *slog.Logger, extra ...string) (*Renderer, error) {
	if fsys == nil {
		fsys = Templates()
	}
	if logger == nil {
		logger = slog.Default()
	}
	layout, err := template.New(LayoutTemplate).Funcs(funcs).ParseFS(fsys, LayoutTemplate)
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	rd := &Renderer{Logger: logger, pages: map[string]*template.Template{}}
	for _, name := range append(append([]string(nil), PageNames...), extra...) {
		t, err := template.Must(layout.Clone()).ParseFS(fsys, name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: page %s defines no \"content\" template", name)
		}
		rd.pages[name] = t
	}
	return rd, nil
}

func (rd *Renderer) logger() *slog.Logger {
	if rd.Logger == nil {
		return slog.Default()
	}
	return rd.Logger
}

// Render writes page name with status. It fills p.Lang from the request
// (and remembers a ?lang= choice in a cookie) and the language switch. The
// page is rendered into a buffer first, so a template error gives a clean
// 500 instead of half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := rd.pages[name]
	if !ok {
		rd.logger().ErrorContext(r.Context(), "web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rememberLang(w, r, rd.SecureCookies)
	p.Lang = Lang(r)
	p.Langs = p.Langs[:0]
	for _, l := range Languages {
		p.Langs = append(p.Langs, LangLink{Code: l, Label: strings.ToUpper(l), Name: i18n.T(l, i18n.LangName),
			URL: switchURL(r, p.Here, l), Current: l == p.Lang})
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, LayoutTemplate, p); err != nil {
		rd.logger().ErrorContext(r.Context(), "web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if len(p.FormOrigins) > 0 {
		h.Set("Content-Security-Policy", ContentSecurityPolicyFor(p.FormOrigins...))
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// switchURL is the address of the page in lang: here, or the request's
// path (with its query on a GET or HEAD; after a POST a GET of the same
// path shows the form again), with lang=LANG first and the rest of the
// query byte for byte as it came (the provider's logout endpoint reads
// values some clients send unencoded).
func switchURL(r *http.Request, here, lang string) string {
	path, raw := r.URL.EscapedPath(), ""
	if here != "" {
		if u, err := url.Parse(here); err == nil && u.Scheme == "" && u.Host == "" {
			path, raw = u.EscapedPath(), u.RawQuery
		}
	} else if r.Method == http.MethodGet || r.Method == http.MethodHead {
		raw = r.URL.RawQuery
	}
	// Only a path on this site: never "//host" or "/\host", which a browser
	// reads as another site.
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/"
	}
	parts := []string{"lang=" + url.QueryEscape(lang)}
	for _, part := range strings.Split(raw, "&") {
		if name, _, _ := strings.Cut(part, "="); part == "" || name == "lang" {
			continue
		}
		parts = append(parts, part)
	}
	return path + "?" + strings.Join(parts, "&")
}

// StaticHandler serves the embedded static files under /static/.
type StaticHandler struct{}

// Mount registers GET /static/ on mux.
func (StaticHandler) Mount(mux *http.ServeMux) {
	files := http.StripPrefix("/static/", http.FileServerFS(Static()))
	mux.Handle("GET /static/", SecurityHeaders(false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
}

// EnrolView is what the "totp-enrol" and "recovery-codes" partials of the
// layout show, on the login's second step and in the portal: the QR code
// of a TOTP secret being enrolled, the secret to type by hand, the sealed
// enrolment the form (posted to Action) sends back, and recovery codes
// shown once.
type EnrolView struct {
	Lang      string
	Action    string
	QR        template.HTML
	Secret    string
	Enrolment string
	Codes     []string
	// Name is the device name typed before a wrong code, kept; Invalid
	// marks the code field as the one the page's error (id "code-error")
	// is about.
	Name    string
	Invalid bool
}

// PasskeyForm is what the "passkey-form" partial of the layout shows: a
// form, hidden until passkey.js finds WebAuthn in the browser, whose
// button asks for a passkey (Mode "create" registers one, "get" uses one)
// with the server's Options, then posts the answer to Action with the
// sealed Ceremony and the Hidden fields.
type PasskeyForm struct {
	Lang      string
	ID        string // of the options' script element
	Action    string
	Mode      string
	Options   template.JS // JSON from json.Marshal, which escapes <, > and &
	Ceremony  string
	Hidden    map[string]string
	Label     i18n.Key
	Intro     i18n.Key // a sentence above the button, if any
	AskName   bool     // a field to name the passkey
	Secondary bool     // a secondary button (another way is the main one)
}
