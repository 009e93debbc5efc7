package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/onboarding"
	"sesame/web"
)

// sessionCookie names the test's stand-in for the admin session: its value
// is the uploader's session, and every session may import into the test
// structure.
const sessionCookie = "test_session"

// importEnv is the import pages over the account env's store and
// structure, on a server of their own.
type importEnv struct {
	*env
	pages    *web.ImportPages
	importer *onboarding.Importer
	srv      *httptest.Server
}

func newImportEnv(t *testing.T, opts ...func(*web.ImportPages)) *importEnv {
	t.Helper()
	return newImportEnvOn(t, "sqlite", opts...)
}

func newImportEnvOn(t *testing.T, backend string, opts ...func(*web.ImportPages)) *importEnv {
	t.Helper()
	e := &importEnv{env: newEnvOn(t, backend)}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rd, err := web.NewRenderer(nil, logger, web.ImportPageNames...)
	if err != nil {
		t.Fatal(err)
	}
	e.importer = &onboarding.Importer{Store: e.st, Tokens: e.tokens, Now: e.clock.Now, Logger: logger}
	e.pages = &web.ImportPages{
		Store: e.st, Importer: e.importer, Renderer: rd,
		Authorize: func(r *http.Request, structureID string) error {
			if _, err := r.Cookie(sessionCookie); err != nil {
				return &web.Error{Code: web.EForbidden, Err: err}
			}
			if structureID != e.structure.ID && structureID != "" {
				return &web.Error{Code: web.ENotFound, Err: fmt.Errorf("not this structure")}
			}
			return nil
		},
		Uploader: func(r *http.Request) (web.Uploader, error) {
			c, err := r.Cookie(sessionCookie)
			if err != nil {
				return web.Uploader{}, err
			}
			return web.Uploader{Session: c.Value, Actor: "admin:" + c.Value}, nil
		},
		StructurePages: func(slug string) string { return "/admin/structures/" + slug },
		PublicURL:      "https://sesame.example", Now: e.clock.Now, Logger: logger,
	}
	for _, o := range opts {
		o(e.pages)
	}
	mux := http.NewServeMux()
	e.pages.Mount(mux)
	web.StaticHandler{}.Mount(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

const importBase = "/admin/structures/le-beta/import"

// upload posts a file as the browser's form does, as session.
func (e *importEnv) upload(session, mode, name, data string, header ...string) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("mode", mode)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(data))
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+importBase, &body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// previewPath uploads a file and returns the address of its preview.
func (e *importEnv) previewPath(session, mode, data string) string {
	e.t.Helper()
	r := e.upload(session, mode, "personnes.csv", data)
	mustStatus(e.t, r, http.StatusSeeOther)
	loc := r.header.Get("Location")
	if !regexp.MustCompile(`^` + importBase + `/[A-Za-z0-9_-]{24}$`).MatchString(loc) {
		e.t.Fatalf("upload redirects to %q", loc)
	}
	return loc
}

func (e *importEnv) getAs(session, path string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	return e.do(req)
}

func (e *importEnv) postAs(session, path string, form url.Values, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func (e *importEnv) people() map[string]store.Person {
	e.t.Helper()
	ps, err := e.st.ListPeople(context.Background(), store.PeopleFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]store.Person{}
	for _, p := range ps {
		out[p.Email] = p
	}
	return out
}

func (e *importEnv) imports() []store.Import {
	e.t.Helper()
	ims, err := e.st.ListImports(context.Background(), e.structure.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ims
}

const (
	sheetWithError = "Prénom;Nom;Courriel;Droits\n" +
		"Élodie;Lefèvre;elodie@lebeta.example;nextcloud:admin\n" +
		"Zoé;Castaño;pas-une-adresse;nextcloud\n" +
		"Jean-Noël;Le Bihan;jn@lebeta.example;wordpress:editor\n"
	sheetFixed = "Prénom;Nom;Courriel;Droits\n" +
		"Élodie;Lefèvre;elodie@lebeta.example;nextcloud:admin\n" +
		"Zoé;Castaño;zoe@lebeta.example;nextcloud\n" +
		"Jean-Noël;Le Bihan;jn@lebeta.example;wordpress:editor\n"
)

func mustNotContain(t *testing.T, r response, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(r.body, b) {
			t.Errorf("page (status %d) contains %q", r.status, b)
		}
	}
}

// The whole journey: a file with an error row, its preview showing the
// error on that row, the confirmation refused until the row is skipped or
// fixed, the fixed file, its confirmation, the people in the store and the
// result page linking to the board. On both backends.
func TestImportFlow(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newImportEnvOn(t, backend)
		form := e.getAs("alice", importBase)
		mustStatus(t, form, http.StatusOK)
		mustContain(t, form, `enctype="multipart/form-data"`, `name="file"`, importBase+`/example.csv`, "Importer des personnes", "Le Bêta")
		mustNotContain(t, form, `role="alert"`, `role="status"`, "[")
		mustContain(t, form, `<strong>Nextcloud du Bêta</strong> <span class="mono">(nextcloud)</span> — rôles : user, admin ; par défaut : user`)

		preview := e.previewPath("alice", "add", sheetWithError)
		r := e.getAs("alice", preview)
		mustStatus(t, r, http.StatusOK)
		// Row 3 is the error, in French, on its own row of the table.
		errRow := regexp.MustCompile(`(?s)<tr class="act-error"><th scope="row">3</th>.*?</tr>`).FindString(r.body)
		if !strings.Contains(errRow, "L&#39;adresse e-mail « pas-une-adresse » n&#39;est pas valide.") {
			t.Errorf("the error is not on row 3: %q\n%s", errRow, r.body)
		}
		mustContain(t, r, `<tr class="act-create"><th scope="row">2</th>`, "elodie.lefevre", `name="skip_invalid"`,
			"Ignorer les lignes en erreur (1)")
		if len(e.people()) != 0 {
			t.Fatal("a preview created people")
		}
		// English on demand, the same row.
		en := e.getAs("alice", preview+"?lang=en")
		mustContain(t, en, `Courriel: The email address &#34;pas-une-adresse&#34; is not valid.`)

		// Confirming without ticking the box applies nothing.
		r = e.postAs("alice", preview+"/confirm", url.Values{})
		mustStatus(t, r, http.StatusUnprocessableEntity)
		mustContain(t, r, "cochez la case")
		if len(e.people()) != 0 {
			t.Fatal("a refused confirmation created people")
		}

		// The fixed file.
		preview = e.previewPath("alice", "add", sheetFixed)
		r = e.getAs("alice", preview)
		mustNotContain(t, r, `act-error`, `name="skip_invalid"`, `role="alert"`, "[")
		r = e.postAs("alice", preview+"/confirm", url.Values{})
		mustStatus(t, r, http.StatusOK)
		mustContain(t, r, "Import appliqué", `href="/admin/structures/le-beta"`, "Voir le tableau de bord",
			"Chaque lien est valable 7 jours", "Renvoyer le lien")
		people := e.people()
		for _, m := range []string{"elodie@lebeta.example", "zoe@lebeta.example", "jn@lebeta.example"} {
			if p, ok := people[m]; !ok || p.State != store.StateInvited {
				t.Errorf("%s: %+v, %v", m, p, ok)
			}
		}
		ims := e.imports()
		if len(ims) != 1 || ims[0].Status != onboarding.StatusApplied || ims[0].Actor != "admin:alice" {
			t.Errorf("import records: %+v", ims)
		}
	})
}

// Skipping the invalid rows when the box is ticked.
func TestImportSkipInvalid(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetWithError)
	r := e.postAs("alice", preview+"/confirm", url.Values{"skip_invalid": {"1"}})
	mustStatus(t, r, http.StatusOK)
	if p := e.people(); len(p) != 2 {
		t.Errorf("people after skipping the invalid row: %v", p)
	}
}

func TestImportCancel(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	r := e.postAs("alice", preview+"/cancel", url.Values{})
	mustStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != importBase+"?cancelled=1" {
		t.Fatalf("cancel redirects to %q", loc)
	}
	mustContain(t, e.getAs("alice", importBase+"?cancelled=1"), "L&#39;import a été annulé")
	r = e.getAs("alice", preview)
	mustStatus(t, r, http.StatusNotFound)
	mustContain(t, r, "n&#39;est plus disponible")
	mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}), http.StatusNotFound)
	if len(e.people()) != 0 || len(e.imports()) != 0 {
		t.Fatal("a cancelled import changed something")
	}
}

func TestImportExpiry(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	e.clock.Advance(29 * time.Minute)
	mustStatus(t, e.getAs("alice", preview), http.StatusOK)
	e.clock.Advance(time.Minute)
	mustStatus(t, e.getAs("alice", preview), http.StatusNotFound)
	r := e.postAs("alice", preview+"/confirm", url.Values{})
	mustStatus(t, r, http.StatusNotFound)
	mustContain(t, r, "n&#39;est plus disponible", "envoyez le fichier à nouveau")
	if len(e.people()) != 0 {
		t.Fatal("an expired preview was applied")
	}
}

func TestImportReplayedConfirm(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}), http.StatusOK)
	r := e.postAs("alice", preview+"/confirm", url.Values{})
	mustStatus(t, r, http.StatusNotFound)
	mustContain(t, r, "n&#39;est plus disponible")
	if ims := e.imports(); len(ims) != 1 {
		t.Fatalf("%d import records after a replayed confirmation", len(ims))
	}
}

// A preview belongs to the session that uploaded it.
func TestImportOtherSession(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	mustStatus(t, e.getAs("mallory", preview), http.StatusNotFound)
	mustStatus(t, e.postAs("mallory", preview+"/confirm", url.Values{}), http.StatusNotFound)
	mustStatus(t, e.postAs("mallory", preview+"/cancel", url.Values{}), http.StatusSeeOther)
	mustStatus(t, e.getAs("alice", preview), http.StatusOK)
	if len(e.people()) != 0 {
		t.Fatal("another session applied the import")
	}
	// Without a session, nothing at all.
	mustStatus(t, e.getAs("", importBase), http.StatusForbidden)
	// An unknown structure: 404 for the allowed, the refusal for others.
	mustStatus(t, e.getAs("alice", "/admin/structures/nope/import"), http.StatusNotFound)
	mustStatus(t, e.getAs("", "/admin/structures/nope/import"), http.StatusForbidden)
}

func TestImportCrossOrigin(t *testing.T) {
	e := newImportEnv(t)
	r := e.upload("alice", "add", "personnes.csv", sheetFixed, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	mustStatus(t, r, http.StatusForbidden)
	preview := e.previewPath("alice", "add", sheetFixed)
	for _, action := range []string{"/confirm", "/cancel"} {
		r = e.postAs("alice", preview+action, url.Values{}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		mustStatus(t, r, http.StatusForbidden)
	}
	// Same-site posts from the browser pass.
	mustStatus(t, e.getAs("alice", preview), http.StatusOK)
	mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"), http.StatusOK)
	if len(e.people()) != 3 {
		t.Fatal("the same-origin confirmation did not apply")
	}
}

// Someone imports meanwhile: the confirmation applies nothing and shows the
// new preview, which can then be confirmed.
func TestImportChangedSincePreview(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	// Bob imports Zoé with another right in the meantime.
	if _, err := e.importer.Import(context.Background(), onboarding.Request{Structure: "le-beta",
		Data: []byte("Courriel;Prénom;Nom;Droits\nzoe@lebeta.example;Zoé;Castaño;wordpress\n"), Actor: "cli:bob"}); err != nil {
		t.Fatal(err)
	}
	r := e.postAs("alice", preview+"/confirm", url.Values{})
	mustStatus(t, r, http.StatusSeeOther)
	fresh := r.header.Get("Location")
	if fresh == preview || !strings.HasPrefix(fresh, importBase+"/") {
		t.Fatalf("a changed confirmation redirects to %q", fresh)
	}
	if p := e.people(); len(p) != 1 {
		t.Fatalf("a stale preview was applied: %v", p)
	}
	r = e.getAs("alice", fresh)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Les comptes ont changé depuis l&#39;aperçu", "rien n&#39;a été appliqué",
		`<tr class="act-update"><th scope="row">3</th>`)
	mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}), http.StatusNotFound)
	mustStatus(t, e.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusOK)
	if p := e.people(); len(p) != 3 {
		t.Fatalf("people after confirming the new preview: %v", p)
	}
}

// Names, addresses and the file name from a hostile spreadsheet are shown
// escaped, never as markup.
func TestImportEscapesHostileNames(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", "Prénom;Nom;Courriel;Droits\nAda;Lovelace;ada@lebeta.example;nextcloud\n")
	mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}), http.StatusOK)
	hostile := "Prénom;Nom;Courriel;Droits\n" +
		"<script>alert(1)</script>;Lovelace;ada@lebeta.example;nextcloud\n" +
		`Eve;X;"<img src=x onerror=alert(2)>@x";"<b>nextcloud</b>"` + "\n"
	r := e.upload("alice", "add", `<svg onload=alert(3)>.csv`, hostile)
	mustStatus(t, r, http.StatusSeeOther)
	r = e.getAs("alice", r.header.Get("Location"))
	mustStatus(t, r, http.StatusOK)
	mustNotContain(t, r, "<script>alert", "<img src=x", "<b>nextcloud", "<svg onload")
	mustContain(t, r, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;@x", "&lt;svg onload=alert(3)&gt;.csv")
}

// Files that are not CSV tables say so, and cannot be confirmed.
func TestImportBrokenFiles(t *testing.T) {
	e := newImportEnv(t)
	utf16NoBOM := func(s string) string {
		var b strings.Builder
		for _, c := range s {
			b.WriteByte(byte(c))
			b.WriteByte(0)
		}
		return b.String()
	}
	for _, c := range []struct {
		name, data, want string
	}{
		{"classeur.xlsx", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml", "est un classeur Excel (.xlsx) ou LibreOffice (.ods), pas un tableau CSV"},
		{"vieux.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00", "Excel 97-2003 (.xls)"},
		{"unicode.txt", utf16NoBOM("Courriel\tNom\r\nada@lebeta.example\tLovelace\r\n"), "contient des octets nuls"},
		{"vide.csv", "\n\n", "aucune ligne d&#39;en-tête"},
		{"large.csv", "email" + strings.Repeat(";c", onboarding.MaxColumns+1) + "\n", "Ligne 1 — L&#39;en-tête compte"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.upload("alice", "add", c.name, c.data)
			mustStatus(t, r, http.StatusSeeOther)
			preview := r.header.Get("Location")
			r = e.getAs("alice", preview)
			mustStatus(t, r, http.StatusOK)
			mustContain(t, r, "Ce fichier ne peut pas être importé", c.want, "Envoyer un autre fichier")
			mustNotContain(t, r, "Confirmer l&#39;import")
			mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{"skip_invalid": {"1"}}), http.StatusUnprocessableEntity)
		})
	}
	if len(e.people()) != 0 || len(e.imports()) != 0 {
		t.Fatal("a broken file changed something")
	}
}

func TestImportUploadLimits(t *testing.T) {
	e := newImportEnv(t, func(ip *web.ImportPages) { ip.MaxPending, ip.MaxPendingPerKey = 2, 1 })
	e.importer.Options.MaxBytes = 1 << 19
	r := e.upload("alice", "add", "big.csv", "Courriel\n"+strings.Repeat("a@lebeta.example\n", 40000))
	mustStatus(t, r, http.StatusRequestEntityTooLarge)
	mustContain(t, r, "dépasse la taille maximale de 0,5 Mo")
	r = e.upload("alice", "add", "", "")
	mustStatus(t, r, http.StatusBadRequest)
	mustContain(t, r, "Choisissez un fichier CSV")
	mustStatus(t, e.upload("alice", "merge", "p.csv", sheetFixed), http.StatusBadRequest)

	// One pending preview per session: the newer replaces the older; two
	// overall.
	first := e.previewPath("alice", "add", sheetFixed)
	second := e.previewPath("alice", "add", sheetFixed)
	mustStatus(t, e.getAs("alice", first), http.StatusNotFound)
	mustStatus(t, e.getAs("alice", second), http.StatusOK)
	e.previewPath("bob", "add", sheetFixed)
	r = e.upload("carol", "add", "p.csv", sheetFixed)
	mustStatus(t, r, http.StatusServiceUnavailable)
	mustContain(t, r, "Trop d&#39;imports attendent")
}

// Sync mode names who will leave before anything is confirmed.
func TestImportSyncWarning(t *testing.T) {
	e := newImportEnv(t)
	e.person("lucie.garnier", "lucie@lebeta.example", store.StateActive)
	r := e.getAs("alice", e.previewPath("alice", "sync", sheetFixed))
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Attention : départs de la structure (1)", "Mode synchronisation : ces personnes ne figurent pas dans le fichier",
		"<li>lucie@lebeta.example (lucie.garnier) — <strong>compte désactivé (aucune autre structure)</strong></li>", `<tr class="act-disable">`)
	r = e.getAs("alice", e.previewPath("alice", "add", sheetFixed))
	mustNotContain(t, r, "mode synchronisation", "act-disable")
}

func TestImportExample(t *testing.T) {
	e := newImportEnv(t)
	r := e.getAs("alice", importBase+"/example.csv")
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename=personnes.csv` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !strings.HasPrefix(r.body, "\ufeffPrénom;Nom;Courriel;Droits") {
		t.Errorf("example: %q", r.body[:min(len(r.body), 80)])
	}
	r = e.getAs("alice", importBase+"/example.csv?lang=en")
	if !strings.HasPrefix(r.body, "\ufeffFirst name,Last name,Email") {
		t.Errorf("English example: %q", r.body[:min(len(r.body), 80)])
	}
}

// Every route of the import pages asks Authorize first: without a session,
// each one is refused, GET and POST alike, and nothing is planned.
func TestImportRoutesAskAuthorize(t *testing.T) {
	e := newImportEnv(t)
	for _, pattern := range web.ImportRoutes {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{slug}", "le-beta", "{id}", "abc").Replace(path)
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do(req); r.status != http.StatusForbidden {
			t.Errorf("%s without a session: %d, want 403", pattern, r.status)
		}
	}
}

// Two confirmations of one preview at once (a double click): one applies,
// the other finds nothing.
func TestImportConcurrentConfirm(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", sheetFixed)
	statuses := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+preview+"/confirm", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "alice"})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	got := map[int]int{}
	for range 2 {
		got[<-statuses]++
	}
	if got[http.StatusOK] != 1 || got[http.StatusNotFound] != 1 {
		t.Errorf("statuses of two confirmations: %v", got)
	}
	if ims := e.imports(); len(ims) != 1 || len(e.people()) != 3 {
		t.Errorf("%d import records, %d people", len(ims), len(e.people()))
	}
}

// Previews kept in memory, made at one instant of the clock: the third
// of a session drops its first, never its second.
func TestImportPreviewsSameInstant(t *testing.T) {
	e := newImportEnv(t, func(ip *web.ImportPages) { ip.MaxPendingPerKey = 2 })
	for range 10 {
		first := e.previewPath("alice", "add", sheetFixed)
		second := e.previewPath("alice", "add", sheetFixed)
		third := e.previewPath("alice", "add", sheetFixed)
		mustStatus(t, e.getAs("alice", first), http.StatusNotFound)
		mustStatus(t, e.getAs("alice", second), http.StatusOK)
		mustStatus(t, e.getAs("alice", third), http.StatusOK)
	}
}
