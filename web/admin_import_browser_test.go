package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/web"
)

// checkA11y checks the page the browser shows: in lang, no horizontal
// scrolling at 320 px, the style sheet applied, and no accessibility
// violation of any impact according to axe-core.
func checkA11y(t *testing.T, ctx context.Context, axe, name, lang string) {
	t.Helper()
	type facts struct {
		Lang   string `json:"lang"`
		Width  int    `json:"width"`
		Styled bool   `json:"styled"`
	}
	// A page answering a form post may still be loading when its first
	// element shows.
	for i := 0; ; i++ {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		if err == nil && state == "complete" {
			break
		}
		if i == 100 {
			t.Fatalf("%s: the page does not finish loading (%q, %v)", name, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[facts](`({lang: document.documentElement.lang,
		width: document.documentElement.scrollWidth,
		styled: getComputedStyle(document.querySelector('header.top')).display === 'flex'})`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Lang != lang || !f.Styled {
		t.Errorf("%s: lang %q (want %q), styled %v", name, f.Lang, lang, f.Styled)
	}
	if f.Width > 320 {
		t.Errorf("%s is %d px wide at a 320 px viewport", name, f.Width)
	}
	vs, err := testenv.Axe(ctx, axe)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s (%s): axe-core: %s (%s): %s on %v", name, lang, v.ID, v.Impact, v.Help, v.Nodes)
	}
	screenshot(t, ctx, "import-"+name+"-"+lang)
}

// submit clicks the button sel, waits until the browser has left the page
// and loaded the answer, and until want is visible.
func submit(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	for i := 0; ; i++ {
		now, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ' ' + document.readyState`))
		if err == nil && !strings.HasPrefix(now, before+" ") && strings.HasSuffix(now, " complete") {
			break
		}
		if i == 200 {
			t.Fatalf("click %s: still on %s (%v)", sel, now, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(want))); err != nil {
		t.Fatalf("after %s, %s: %v", sel, want, err)
	}
}

// The import in a real browser at 320 px: the form, a file with an error
// row and its preview, the refused confirmation, the fixed file, its
// confirmation and the result page; axe-core finds nothing on any of them,
// in French and in English.
func TestBrowserImport(t *testing.T) {
	e := newImportEnv(t, func(ip *web.ImportPages) {
		// The browser carries no test cookie: every request is one admin's.
		ip.Authorize = func(*http.Request, string) error { return nil }
		ip.Uploader = func(*http.Request) (web.Uploader, error) {
			return web.Uploader{Session: "browser", Actor: "admin:browser"}, nil
		}
	})
	e.person("lucie.garnier", "lucie@lebeta.example", store.StateActive)
	axe := testenv.AxeCore(t)
	ctx := browser(t)
	dir := t.TempDir()
	withError, fixed := filepath.Join(dir, "avec-erreur.csv"), filepath.Join(dir, "corrige.csv")
	if err := os.WriteFile(withError, []byte(sheetWithError), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixed, []byte(sheetFixed), 0o600); err != nil {
		t.Fatal(err)
	}
	form := e.srv.URL + importBase

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile),
		chromedp.Navigate(form),
		chromedp.WaitVisible(chromedp.ID("file")),
	); err != nil {
		t.Fatal(err)
	}
	checkA11y(t, ctx, axe, "form", "fr")

	// Sync mode, the file with an error.
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{withError}),
		chromedp.Click(chromedp.ID("mode-sync")),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form[enctype] button[type=submit]`, "table.preview")
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("tr.act-error")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(row, "3") || !strings.Contains(row, "L'adresse e-mail « pas-une-adresse » n'est pas valide.") {
		t.Errorf("error row: %q", row)
	}
	leaving, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ul.leaving")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaving, "lucie@lebeta.example") {
		t.Errorf("the sync warning does not name who leaves: %q", leaving)
	}
	checkA11y(t, ctx, axe, "preview-errors", "fr")
	preview, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(preview+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("table.preview"))); err != nil {
		t.Fatal(err)
	}
	checkA11y(t, ctx, axe, "preview-errors", "en")
	if err := chromedp.Do(ctx, chromedp.Navigate(preview+"?lang=fr"), chromedp.WaitVisible(chromedp.CSS("table.preview"))); err != nil {
		t.Fatal(err)
	}

	// Confirming without ticking the box: refused, said at the top.
	submit(t, ctx, `form[action$="/confirm"] button`, `p.alert[role=alert]`)
	checkA11y(t, ctx, axe, "confirm-refused", "fr")
	if len(e.people()) != 1 {
		t.Fatal("the refused confirmation created people")
	}

	// The fixed file, added (lucie stays), confirmed.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(form),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixed}),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form[enctype] button[type=submit]`, "table.preview")
	checkA11y(t, ctx, axe, "preview", "fr")
	submit(t, ctx, `form[action$="/confirm"] button`, `.success[role=status]`)
	checkA11y(t, ctx, axe, "done", "fr")
	if n := len(e.people()); n != 4 {
		t.Fatalf("%d people after the browser import, want 4", n)
	}

	// Cancelling another upload lands on the form with the notice.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(form+"?lang=en"),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixed}),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form[enctype] button[type=submit]`, "table.preview")
	submit(t, ctx, `form[action$="/cancel"] button`, `.success[role=status]`)
	checkA11y(t, ctx, axe, "cancelled", "en")

	// A Google Workspace export with a column nobody knows: the preview's
	// options, the personal address chosen and the column ignored.
	google := filepath.Join(dir, "google.csv")
	if err := os.WriteFile(google, []byte("First Name [Required],Last Name [Required],Email Address [Required],Recovery Email,Badge\n"+
		"Camille,Durand,camille.durand@lebeta.example,camille@maison.example,B12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(form+"?lang=fr"),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{google}),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form[enctype] button[type=submit]`, "table.preview")
	checkA11y(t, ctx, axe, "preview-options", "fr")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("address-personal")),
		chromedp.SetValue(chromedp.ID("map-0"), "ignore"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form[action$="/options"] button`, "table.preview")
	chosen, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('address-personal').checked && document.getElementById('map-0').value === 'ignore'`))
	if err != nil || !chosen {
		t.Fatalf("the new preview does not keep the choices (%v)", err)
	}
	checkA11y(t, ctx, axe, "preview-options-chosen", "fr")
	submit(t, ctx, `form[action$="/confirm"] button`, `.success[role=status]`)
	if _, ok := e.people()["camille@maison.example"]; !ok {
		t.Fatalf("the personal address was not used: %v", e.people())
	}
}
