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
// page's "content" template.
const LayoutTemplate = "layout.html"

// PageNames lists the page templates the renderer must find (NAME.html).
// Other packages' pages (the login pages of the OpenID Connect provider)
// are added through NewRenderer's extra argument.
var PageNames = []string{"password_form", "password_done", "link_invalid", "request_link", "link_sent", "error", "home"}

// Page is what every template receives: the common fields the layout needs
// and the page's own Data.
type Page struct {
	Lang      string // filled by Render
	Title     string // catalogue key of the title
	SwitchURL string // filled by Render: the same page in the other language
	Data      any
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
	"t": T,
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
// (and remembers a ?lang= choice in a cookie) and the language switch link.
// The page is rendered into a buffer first, so a template error gives a
// clean 500 instead of half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := rd.pages[name]
	if !ok {
		rd.logger().ErrorContext(r.Context(), "web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rememberLang(w, r, rd.SecureCookies)
	p.Lang = Lang(r)
	p.SwitchURL = switchURL(r, T(p.Lang, "lang.other"))
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, LayoutTemplate, p); err != nil {
		rd.logger().ErrorContext(r.Context(), "web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// switchURL is the current path with lang set to other. After a POST it is
// the path alone (a GET of the same address shows the form again).
func switchURL(r *http.Request, other string) string {
	q := url.Values{}
	if r.Method == http.MethodGet {
		q = r.URL.Query()
	}
	q.Set("lang", other)
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
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
