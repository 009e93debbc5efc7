package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/examples"
	"sesame/internal/i18n"
	"sesame/internal/secretbox"
	"sesame/internal/store"
	"sesame/onboarding"
)

// ImportPageNames are the templates of ImportPages; pass them to
// NewRenderer (extra) so that a server never starts without them.
var ImportPageNames = []string{"admin_import", "admin_import_preview", "admin_import_done"}

// Defaults of the pending imports ImportPages keeps between a preview and
// its confirmation.
const (
	DefaultImportTTL        = 30 * time.Minute
	DefaultMaxPending       = 16
	DefaultMaxPendingPerKey = 2
)

// Uploader is who sends a spreadsheet: Session binds their pending previews
// to them (a preview, its confirmation and its cancellation answer only the
// session that uploaded it; any stable per-login key will do), and Actor
// names them in the import record and the audit trail ("admin:alice").
type Uploader struct {
	Session string
	Actor   string
	// Hoster is set for a hoster admin (onboarding.Request.Hoster).
	Hoster bool
	// Person is the uploader's person id (onboarding.Request.Self).
	Person string
}

// ImportStructures is what ImportPages reads of the store.
type ImportStructures interface {
	GetStructureBySlug(ctx context.Context, slug string) (store.Structure, error)
	ListServices(ctx context.Context, structureID string) ([]store.Service, error)
}

// ImportPages serves a structure's spreadsheet import in the browser:
// upload a CSV, see the preview (create, update, unchanged, disable and
// error rows, each problem on its row), then confirm or cancel. It runs the
// plan and apply code of the CLI (onboarding.Importer): the preview is
// Importer.Preview, the confirmation Importer.Import with Request.Expect set
// to the preview's fingerprint, so a confirmation whose accounts changed
// meanwhile applies nothing and shows the new preview.
//
// Pending previews are kept at most MaxPending of them and
// MaxPendingPerKey per uploader session, each for TTL: in the store when
// Pending is set (the file sealed by PendingBox, no plan: the process that
// reads a preview plans its file again and compares the fingerprint, so
// the preview and its confirmation may reach different replicas), in this
// process's memory otherwise (one process only: with several replicas a
// confirmation that reaches another one finds no preview and asks to send
// the file again).
type ImportPages struct {
	Store    ImportStructures
	Importer *onboarding.Importer
	Renderer *Renderer
	// Authorize decides whether the request may import into the structure
	// of that ID: nil allows; an *Error chooses the answer (EForbidden,
	// ENotFound), anything else is a 403. It is asked on every route,
	// before anything is read or shown; for a slug that names no structure
	// it is asked with an empty ID (a refusal is then answered as it says,
	// so an unknown slug and another's structure can look the same), and
	// the answer is 404 when it allows. Required.
	Authorize func(r *http.Request, structureID string) error
	// Uploader names the person of the request; an error refuses it as
	// Authorize's do. Required.
	Uploader func(r *http.Request) (Uploader, error)
	// StructurePages returns the address of a structure's board, linked
	// from the result page; nil means no link.
	StructurePages func(slug string) string
	// PublicURL is sesame's public address; https turns HSTS on, and its
	// origin is trusted by the CSRF check.
	PublicURL string
	// TTL, MaxPending and MaxPendingPerKey bound the pending previews;
	// zero means DefaultImportTTL, DefaultMaxPending and
	// DefaultMaxPendingPerKey.
	TTL              time.Duration
	MaxPending       int
	MaxPendingPerKey int
	// Pending, when set, keeps the pending previews in the store, shared by
	// every replica; PendingBox (ImportBox) then seals their files, and is
	// required. Nil keeps them in this process's memory.
	Pending    store.PendingImports
	PendingBox *secretbox.Box
	Now        func() time.Time
	Logger     *slog.Logger

	pending pendingKeeper
}

func (ip *ImportPages) now() time.Time {
	if ip.Now != nil {
		return ip.Now().UTC()
	}
	return time.Now().UTC()
}

func (ip *ImportPages) logger() *slog.Logger {
	if ip.Logger == nil {
		return slog.Default()
	}
	return ip.Logger
}

func (ip *ImportPages) https() bool { return strings.HasPrefix(ip.PublicURL, "https://") }

// maxBytes is the largest file the importer accepts.
func (ip *ImportPages) maxBytes() int64 {
	if n := ip.Importer.Options.MaxBytes; n > 0 {
		return n
	}
	return onboarding.DefaultMaxBytes
}

// ImportPath is the address of a structure's import page.
func ImportPath(slug string) string { return "/admin/structures/" + url.PathEscape(slug) + "/import" }

// Mount registers the import pages on mux, each wrapped in the security
// headers and panic recovery, and every POST in the CSRF check:
//
//	GET  /admin/structures/{slug}/import                  upload form
//	GET  /admin/structures/{slug}/import/example.csv      example spreadsheet
//	POST /admin/structures/{slug}/import                  upload: preview, then 303 to it
//	GET  /admin/structures/{slug}/import/{id}             preview
//	POST /admin/structures/{slug}/import/{id}/options     plan again with the address choice and mapping, 303 to it
//	POST /admin/structures/{slug}/import/{id}/confirm     apply, result page
//	POST /admin/structures/{slug}/import/{id}/cancel      forget, 303 to the form
//
// It panics, as mux.Handle does, when the wiring is wrong.
func (ip *ImportPages) Mount(mux *http.ServeMux) {
	if ip.Store == nil || ip.Importer == nil || ip.Renderer == nil || ip.Authorize == nil || ip.Uploader == nil {
		panic("web: ImportPages needs Store, Importer, Renderer, Authorize and Uploader")
	}
	ttl := ip.TTL
	if ttl <= 0 {
		ttl = DefaultImportTTL
	}
	maxAll, maxKey := ip.MaxPending, ip.MaxPendingPerKey
	if maxAll <= 0 {
		maxAll = DefaultMaxPending
	}
	if maxKey <= 0 {
		maxKey = DefaultMaxPendingPerKey
	}
	if ip.Pending != nil {
		if ip.PendingBox == nil {
			panic("web: ImportPages needs PendingBox with Pending")
		}
		ip.pending = &storePending{st: ip.Pending, box: ip.PendingBox, ttl: ttl, max: maxAll, perKey: maxKey}
	} else {
		ip.pending = newPendingImports(ttl, maxAll, maxKey)
	}
	rd := ip.Renderer
	page := func(h http.HandlerFunc) http.Handler {
		return SecurityHeaders(ip.https(), Recover(rd, h))
	}
	form := func(h http.HandlerFunc) http.Handler {
		protected, err := CSRF(rd, ip.PublicURL, h)
		if err != nil {
			panic(err)
		}
		return SecurityHeaders(ip.https(), Recover(rd, protected))
	}
	handlers := map[string]http.Handler{
		ImportRoutes[0]: page(ip.guard(ip.showForm)),
		ImportRoutes[1]: page(ip.guard(ip.example)),
		ImportRoutes[2]: form(ip.guard(ip.upload)),
		ImportRoutes[3]: page(ip.guard(ip.preview)),
		ImportRoutes[4]: form(ip.guard(ip.confirm)),
		ImportRoutes[5]: form(ip.guard(ip.cancel)),
		ImportRoutes[6]: form(ip.guard(ip.options)),
	}
	for _, pattern := range ImportRoutes {
		mux.Handle(pattern, handlers[pattern])
	}
}

// ImportRoutes are the patterns ImportPages.Mount registers, for a route
// table (every one is a structure's, named by {slug}, and asks Authorize).
var ImportRoutes = []string{
	"GET /admin/structures/{slug}/import",
	"GET /admin/structures/{slug}/import/example.csv",
	"POST /admin/structures/{slug}/import",
	"GET /admin/structures/{slug}/import/{id}",
	"POST /admin/structures/{slug}/import/{id}/confirm",
	"POST /admin/structures/{slug}/import/{id}/cancel",
	"POST /admin/structures/{slug}/import/{id}/options",
}

// importRequest is what every route knows once the request is allowed.
type importRequest struct {
	st  store.Structure
	who Uploader
}

// guard finds the structure of the path, asks Authorize and Uploader,
// and runs h; a refusal is answered with the error page.
func (ip *ImportPages) guard(h func(w http.ResponseWriter, r *http.Request, ir importRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := ip.Store.GetStructureBySlug(r.Context(), r.PathValue("slug"))
		if errors.Is(err, store.ErrNotFound) {
			if err := ip.Authorize(r, ""); err != nil {
				ip.Renderer.WriteError(w, r, refusal(err))
				return
			}
			ip.Renderer.WriteError(w, r, &Error{Code: ENotFound, Err: fmt.Errorf("web: import: no structure %q", r.PathValue("slug"))})
			return
		}
		if err != nil {
			ip.Renderer.WriteError(w, r, fmt.Errorf("web: import: %w", err))
			return
		}
		if err := ip.Authorize(r, st.ID); err != nil {
			ip.Renderer.WriteError(w, r, refusal(err))
			return
		}
		who, err := ip.Uploader(r)
		if err == nil && who.Session == "" {
			err = errors.New("web: import: no session")
		}
		if err != nil {
			ip.Renderer.WriteError(w, r, refusal(err))
			return
		}
		h(w, r, importRequest{st: st, who: who})
	}
}

// refusal is an authorisation error as an application error: an *Error
// keeps its code, anything else is EForbidden.
func refusal(err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return &Error{Code: EForbidden, Err: err}
}

// importFormView is the data of admin_import.html.
type importFormView struct {
	Action   string
	Example  string
	MaxSize  i18n.Message
	Mode     string
	Error    i18n.Message
	Notice   i18n.Message
	Services []importServiceView
}

// importServiceView is a service of the structure as the rights column names it.
type importServiceView struct {
	Name, Slug, Roles, Default string
}

// sizeText is the largest file in megabytes, with a decimal comma in
// French.
func (ip *ImportPages) sizeText(lang string) i18n.Message {
	n := strconv.FormatFloat(float64(ip.maxBytes())/(1<<20), 'f', -1, 64)
	if lang != "en" {
		n = strings.Replace(n, ".", ",", 1)
	}
	return i18n.M(i18n.ImportSizeMB, n)
}

func (ip *ImportPages) renderForm(w http.ResponseWriter, r *http.Request, status int, st store.Structure, v importFormView) {
	v.Action, v.Example, v.MaxSize = ImportPath(st.Slug), ImportPath(st.Slug)+"/example.csv", ip.sizeText(Lang(r))
	if v.Mode == "" {
		v.Mode = string(store.ModeAdd)
	}
	services, err := ip.Store.ListServices(r.Context(), st.ID)
	if err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import: list services: %w", err))
		return
	}
	for _, svc := range services {
		v.Services = append(v.Services, importServiceView{Name: svc.Name, Slug: svc.Slug,
			Roles: strings.Join(onboarding.ServiceRoles(svc), ", "), Default: svc.DefaultRole})
	}
	ip.Renderer.Render(w, r, status, "admin_import", &Page{Title: i18n.ImportTitle, Structure: st.Name,
		Here: ImportPath(st.Slug), Data: v})
}

func (ip *ImportPages) showForm(w http.ResponseWriter, r *http.Request, ir importRequest) {
	var v importFormView
	if r.URL.Query().Get("cancelled") == "1" {
		v.Notice = i18n.M(i18n.ImportCancelled)
	}
	ip.renderForm(w, r, http.StatusOK, ir.st, v)
}

// example serves the example spreadsheet, with a UTF-8 byte order mark so
// that Excel shows its accents.
func (ip *ImportPages) example(w http.ResponseWriter, r *http.Request, ir importRequest) {
	name := "personnes.csv"
	if Lang(r) == "en" {
		name = "people.csv"
	}
	body := examples.Spreadsheet(Lang(r))
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "\ufeff")
	_, _ = w.Write(body)
}

// errTooLarge is the upload's file past the importer's limit.
var errTooLarge = errors.New("web: import: file too large")

// readUpload reads the multipart form of an upload: the mode, and the
// file, at most limit bytes of it.
func readUpload(w http.ResponseWriter, r *http.Request, limit int64) (name string, data []byte, mode string, err error) {
	// The body may hold the file and a few small fields.
	r.Body = http.MaxBytesReader(w, r.Body, limit+MaxFormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, "", &Error{Code: EInvalid, Err: fmt.Errorf("web: import: %w", err)}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return "", nil, "", errTooLarge
			}
			return "", nil, "", &Error{Code: EInvalid, Err: fmt.Errorf("web: import: %w", err)}
		}
		switch part.FormName() {
		case "mode":
			b, err := io.ReadAll(io.LimitReader(part, 16))
			if err != nil {
				return "", nil, "", &Error{Code: EInvalid, Err: fmt.Errorf("web: import: mode: %w", err)}
			}
			mode = string(b)
		case "file":
			name = part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, limit+1))
			if err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					return "", nil, "", errTooLarge
				}
				return "", nil, "", &Error{Code: EInvalid, Err: fmt.Errorf("web: import: file: %w", err)}
			}
			if int64(len(data)) > limit {
				return "", nil, "", errTooLarge
			}
		}
		part.Close()
	}
	return name, data, mode, nil
}

func (ip *ImportPages) upload(w http.ResponseWriter, r *http.Request, ir importRequest) {
	name, data, mode, err := readUpload(w, r, ip.maxBytes())
	v := importFormView{Mode: mode}
	switch {
	case errors.Is(err, errTooLarge):
		v.Error = i18n.M(i18n.ImportTooLarge, ip.sizeText(Lang(r)))
		ip.renderForm(w, r, http.StatusRequestEntityTooLarge, ir.st, v)
		return
	case err != nil:
		ip.Renderer.WriteError(w, r, err)
		return
	case mode != string(store.ModeAdd) && mode != string(store.ModeSync):
		ip.Renderer.WriteError(w, r, Errorf(EInvalid, "web: import: mode %q", mode))
		return
	case len(data) == 0:
		v.Error = i18n.M(i18n.ImportNoFile)
		ip.renderForm(w, r, http.StatusBadRequest, ir.st, v)
		return
	}
	name = cleanFileName(name)
	p, err := ip.plan(r.Context(), ir, name, data, store.ImportMode(mode), importOptions{}, false)
	if err != nil {
		ip.writePlanError(w, r, ir, v, err)
		return
	}
	ip.logger().InfoContext(r.Context(), "web: import previewed", "structure", ir.st.Slug, "actor", ir.who.Actor,
		"file", name, "mode", mode, "bytes", len(data))
	http.Redirect(w, r, ImportPath(ir.st.Slug)+"/"+p.id, http.StatusSeeOther)
}

// importOptions are the choices a referent makes on the preview: which
// address receives the link, and how unrecognised columns are read
// (onboarding.Request's Address and Mapping). A pending preview keeps
// those it was planned with, and its confirmation applies them.
type importOptions struct {
	address onboarding.Address
	mapping map[string]onboarding.Field
}

// plan previews a file and keeps it pending.
// changed marks the preview shown again because the accounts changed since
// the previous one.
func (ip *ImportPages) plan(ctx context.Context, ir importRequest, name string, data []byte, mode store.ImportMode, opts importOptions, changed bool) (*pendingImport, error) {
	p, err := ip.newPending(ctx, ir, name, data, mode, opts, changed)
	if err != nil {
		return nil, err
	}
	if err := ip.pending.put(ctx, p, ip.now()); err != nil {
		return nil, err
	}
	return p, nil
}

// newPending plans a file with opts, without keeping it.
func (ip *ImportPages) newPending(ctx context.Context, ir importRequest, name string, data []byte, mode store.ImportMode, opts importOptions, changed bool) (*pendingImport, error) {
	req := onboarding.Request{Structure: ir.st.Slug, FileName: name, Data: data,
		Mode: mode, Actor: ir.who.Actor, Hoster: ir.who.Hoster, Self: ir.who.Person, Address: opts.address, Mapping: opts.mapping}
	res, err := ip.Importer.Preview(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := ip.Importer.RecordPreview(ctx, req, res); err != nil {
		return nil, err
	}
	return &pendingImport{id: newPendingID(), session: ir.who.Session, structureID: ir.st.ID, fileName: name,
		data: data, mode: mode, options: opts, plan: res.Plan, fingerprint: res.Fingerprint, created: ip.now(),
		changed: changed}, nil
}

func (ip *ImportPages) writePlanError(w http.ResponseWriter, r *http.Request, ir importRequest, v importFormView, err error) {
	if errors.Is(err, errPendingFull) {
		v.Error = i18n.M(i18n.ImportFull)
		w.Header().Set("Retry-After", "300")
		ip.renderForm(w, r, http.StatusServiceUnavailable, ir.st, v)
		return
	}
	ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
}

// cleanFileName keeps the last element of an uploaded file's name, without
// control characters, at most 200 bytes: it is shown and recorded.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, name)
	for len(name) > 200 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		return "import.csv"
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, len(s)
}

// gone answers a preview that is not (or no longer) there: the upload
// form, with why.
func (ip *ImportPages) gone(w http.ResponseWriter, r *http.Request, st store.Structure) {
	ip.renderForm(w, r, http.StatusNotFound, st, importFormView{Error: i18n.M(i18n.ImportGone)})
}

// lookup returns the preview id of the request's session, with its plan:
// one read from the store is planned again from its file and options. When
// that plan's fingerprint is not the one shown (the accounts changed since
// the preview, maybe on another replica), lookup answers for the caller:
// with follow, the preview is replaced by the new plan (marked changed)
// and the request sent to it (303); without, the plan is kept as is (the
// caller plans again anyway). nil means the request was answered.
func (ip *ImportPages) lookup(w http.ResponseWriter, r *http.Request, ir importRequest, id string, follow bool) *pendingImport {
	p, err := ip.pending.get(r.Context(), id, ir.who.Session, ir.st.ID, ip.now())
	if err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
		return nil
	}
	if p == nil {
		ip.gone(w, r, ir.st)
		return nil
	}
	if p.plan != nil {
		return p
	}
	res, err := ip.Importer.Preview(r.Context(), onboarding.Request{Structure: ir.st.Slug, FileName: p.fileName,
		Data: p.data, Mode: p.mode, Actor: ir.who.Actor, Hoster: ir.who.Hoster, Self: ir.who.Person, Address: p.options.address, Mapping: p.options.mapping})
	if err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
		return nil
	}
	p.plan = res.Plan
	if !follow || res.Fingerprint == p.fingerprint {
		return p
	}
	ip.logger().InfoContext(r.Context(), "web: import changed since its preview", "structure", ir.st.Slug,
		"actor", ir.who.Actor)
	fresh := *p
	fresh.id, fresh.fingerprint, fresh.changed, fresh.created = newPendingID(), res.Fingerprint, true, ip.now()
	ok, err := ip.pending.replace(r.Context(), id, &fresh, ip.now())
	switch {
	case err != nil:
		ip.writePlanError(w, r, ir, importFormView{}, err)
	case !ok:
		ip.gone(w, r, ir.st)
	default:
		http.Redirect(w, r, ImportPath(ir.st.Slug)+"/"+fresh.id, http.StatusSeeOther)
	}
	return nil
}

func (ip *ImportPages) preview(w http.ResponseWriter, r *http.Request, ir importRequest) {
	p := ip.lookup(w, r, ir, r.PathValue("id"), true)
	if p == nil {
		return
	}
	var alert i18n.Message
	if p.changed {
		alert = i18n.M(i18n.ImportChanged)
	}
	ip.renderPreview(w, r, http.StatusOK, ir.st, p, alert)
}

func (ip *ImportPages) confirm(w http.ResponseWriter, r *http.Request, ir importRequest) {
	if err := ParseForm(w, r); err != nil {
		ip.Renderer.WriteError(w, r, formError(err))
		return
	}
	id := r.PathValue("id")
	p := ip.lookup(w, r, ir, id, true)
	if p == nil {
		return
	}
	skip := r.PostForm.Get("skip_invalid") == "1"
	switch {
	case len(p.plan.FileErrors) > 0:
		ip.renderPreview(w, r, http.StatusUnprocessableEntity, ir.st, p, i18n.Message{})
		return
	case p.plan.HasErrors() && !skip:
		ip.renderPreview(w, r, http.StatusUnprocessableEntity, ir.st, p, i18n.M(i18n.ImportSkipNeeded))
		return
	}
	// Taken before applying: a second confirmation (a double click, a
	// replayed request) finds nothing.
	if ok, err := ip.pending.take(r.Context(), id, ir.who.Session); err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
		return
	} else if !ok {
		ip.gone(w, r, ir.st)
		return
	}
	res, err := ip.Importer.Import(r.Context(), onboarding.Request{Structure: ir.st.Slug, FileName: p.fileName,
		Data: p.data, Mode: p.mode, SkipInvalid: skip, Actor: ir.who.Actor, Hoster: ir.who.Hoster, Self: ir.who.Person, Lang: Lang(r), Expect: p.fingerprint,
		Address: p.options.address, Mapping: p.options.mapping})
	if errors.Is(err, onboarding.ErrPlanChanged) {
		ip.logger().InfoContext(r.Context(), "web: import changed since its preview", "structure", ir.st.Slug,
			"actor", ir.who.Actor)
		fresh, err := ip.plan(r.Context(), ir, p.fileName, p.data, p.mode, p.options, true)
		if err != nil {
			ip.writePlanError(w, r, ir, importFormView{}, err)
			return
		}
		http.Redirect(w, r, ImportPath(ir.st.Slug)+"/"+fresh.id, http.StatusSeeOther)
		return
	}
	if err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
		return
	}
	if res.Status != onboarding.StatusApplied {
		// The plan was checked above and has not changed: not expected.
		ip.Renderer.WriteError(w, r, Errorf(EInternal, "web: import %s: status %s", ir.st.Slug, res.Status))
		return
	}
	v := importDoneView{Counts: counts(res.Report.Summary), Again: ImportPath(ir.st.Slug), FileName: p.fileName}
	if ip.Importer != nil && ip.Importer.Tokens != nil && res.Plan != nil && res.Plan.Invited() > 0 {
		v.LinkDays = ip.Importer.Tokens.ActivateDays()
	}
	if ip.StructurePages != nil {
		v.Board = ip.StructurePages(ir.st.Slug)
	}
	ip.Renderer.Render(w, r, http.StatusOK, "admin_import_done", &Page{Title: i18n.ImportDoneTitle,
		Structure: ir.st.Name, Here: ImportPath(ir.st.Slug), Data: v})
}

// mappable lists the columns whose reading the preview of p offers to
// choose: those the file's header does not recognise, then those this
// preview's mapping reads (sorted), so that a choice can be undone. The
// options form names them by their place in this list, never by the
// header itself.
func mappable(p *pendingImport) []string {
	out := slices.Clone(p.plan.Unknown)
	for _, h := range slices.Sorted(maps.Keys(p.options.mapping)) {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// options plans the pending file again with the address choice and the
// column mapping of the form, keeps the new preview in place of the old
// one, and shows it (303). A field outside the choices is a 400.
func (ip *ImportPages) options(w http.ResponseWriter, r *http.Request, ir importRequest) {
	if err := ParseForm(w, r); err != nil {
		ip.Renderer.WriteError(w, r, formError(err))
		return
	}
	id := r.PathValue("id")
	p := ip.lookup(w, r, ir, id, false)
	if p == nil {
		return
	}
	opts := importOptions{address: p.options.address}
	if a := onboarding.Address(r.PostForm.Get("address")); r.PostForm.Has("address") {
		if a == "" || !a.Valid() {
			ip.Renderer.WriteError(w, r, Errorf(EInvalid, "web: import: address %q", a))
			return
		}
		opts.address = a
	}
	for i, h := range mappable(p) {
		v := r.PostForm.Get(fmt.Sprintf("map.%d", i))
		if v == "" {
			continue
		}
		f, ok := onboarding.MapField(v)
		if !ok || !slices.Contains(onboarding.MappableFields, onboarding.Field(v)) {
			ip.Renderer.WriteError(w, r, Errorf(EInvalid, "web: import: field %q", v))
			return
		}
		if opts.mapping == nil {
			opts.mapping = map[string]onboarding.Field{}
		}
		opts.mapping[h] = f
	}
	fresh, err := ip.newPending(r.Context(), ir, p.fileName, p.data, p.mode, opts, false)
	if err != nil {
		ip.writePlanError(w, r, ir, importFormView{}, err)
		return
	}
	if ok, err := ip.pending.replace(r.Context(), id, fresh, ip.now()); err != nil {
		ip.writePlanError(w, r, ir, importFormView{}, err)
		return
	} else if !ok {
		ip.gone(w, r, ir.st)
		return
	}
	ip.logger().InfoContext(r.Context(), "web: import options", "structure", ir.st.Slug, "actor", ir.who.Actor,
		"address", string(opts.address), "mapped", len(opts.mapping))
	http.Redirect(w, r, ImportPath(ir.st.Slug)+"/"+fresh.id, http.StatusSeeOther)
}

func (ip *ImportPages) cancel(w http.ResponseWriter, r *http.Request, ir importRequest) {
	if err := ParseForm(w, r); err != nil {
		ip.Renderer.WriteError(w, r, formError(err))
		return
	}
	if _, err := ip.pending.take(r.Context(), r.PathValue("id"), ir.who.Session); err != nil {
		ip.Renderer.WriteError(w, r, fmt.Errorf("web: import %s: %w", ir.st.Slug, err))
		return
	}
	http.Redirect(w, r, ImportPath(ir.st.Slug)+"?cancelled=1", http.StatusSeeOther)
}

// newPendingID is a pending preview's unguessable name.
func newPendingID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
