package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sesame/internal/store"
	"sesame/internal/testenv"
)

// TestBrowserAdminAndPortal opens the portal (signed out, then in) and
// every administration page in Chromium at 320 px, in French and in
// English, signed in as a hoster admin: no horizontal scrolling, and
// axe-core finds no violation of any impact.
func TestBrowserAdminAndPortal(t *testing.T) {
	axe := testenv.AxeCore(t)
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	admin := e.person("root", store.StateActive, true)
	s := e.structure("le-beta")
	svc := e.service(s, "cloud", "Nextcloud du Bêta")
	e.member(admin, s, false)
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: admin.ID, ServiceID: svc.ID, Role: "admin"}))
	var active store.Person
	for _, st := range []store.PersonState{store.StateInvited, store.StateActive, store.StateDisabled} {
		p := e.person("p-"+string(st), st, false)
		e.member(p, s, false)
		e.must(e.st.PutGrant(ctx, store.Grant{PersonID: p.ID, ServiceID: svc.ID, Role: "user"}))
		if st == store.StateActive {
			active = p
		}
	}
	// A second service, of a kind with more roles, for the rights form.
	site := store.Service{StructureID: s.ID, Kind: store.ServiceKind("wordpress"), Slug: "site", Name: "Site du Bêta",
		BaseURL: "https://site.le-beta.example", ClientID: "le-beta-site"}
	e.must(e.st.CreateService(ctx, &site))
	victim := e.person("victim", store.StateDisabled, false)
	e.member(victim, s, false)
	e.deadJob(victim)

	bctx := browser(t)
	var audit func(name, lang string)
	check := func(name, path, lang string) {
		t.Helper()
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if err := chromedp.Do(bctx,
			chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile),
			chromedp.Navigate(e.srv.URL+path+sep+"lang="+lang),
			chromedp.WaitVisible(chromedp.CSS("h1")),
		); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		audit(name, lang)
	}
	audit = func(name, lang string) {
		t.Helper()
		width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 320 {
			t.Errorf("%s (%s) is %d px wide at a 320 px viewport", name, lang, width)
		}
		vs, err := testenv.Axe(bctx, axe)
		if err != nil {
			t.Fatalf("%s: axe-core: %v", name, err)
		}
		for _, v := range vs {
			t.Errorf("%s (%s): axe-core: %s (%s): %s on %v", name, lang, v.ID, v.Impact, v.Help, v.Nodes)
		}
		screenshot(t, bctx, name+"-"+lang+"-320")
	}
	for _, lang := range []string{"fr", "en"} {
		check("portal-signed-out", "/", lang)
	}
	// The fake session is a cookie naming the person (set on the page's
	// origin; the real one is HttpOnly and set by the provider).
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.cookie = "`+testCookie+`=`+admin.ID+`; path=/"`)); err != nil {
		t.Fatal(err)
	}
	base := "/admin/structures/le-beta"
	pages := []struct{ name, path string }{
		{"portal", "/"},
		{"structures", "/admin/structures"},
		{"board", base},
		{"board-filtered", base + "?state=invited&q=p"},
		{"person", base + "/people/" + victim.ID},
		{"person-rights", base + "/people/" + active.ID},
		{"delete-person", base + "/people/" + victim.ID + "/delete"},
		{"disable-person", base + "/people/" + active.ID + "/disable"},
		{"services", base + "/services"},
		{"remove-service", base + "/services/" + svc.ID + "/remove"},
		{"jobs", base + "/jobs"},
		{"imports", base + "/imports"},
		{"audit", base + "/audit"},
		{"remove-structure", base + "/remove"},
	}
	for _, lang := range []string{"fr", "en"} {
		for _, p := range pages {
			check(p.name, p.path, lang)
		}
	}
	// The page that shows a new service's secret, after the add form.
	check("services", base+"/services", "fr")
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("name"), "Site du Bêta"),
		chromedp.SetValue(chromedp.ID("kind"), "wordpress"),
		chromedp.SendKeys(chromedp.ID("url"), "https://www.lebeta.example"),
		chromedp.Click(chromedp.CSS(`form[action$="/services"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".secret")),
	); err != nil {
		t.Fatalf("add a service: %v", err)
	}
	audit("service-created", "fr")

	// The rights form: give the active person a role on the site, save,
	// and the page comes back with the role chosen.
	check("person-rights", base+"/people/"+active.ID, "fr")
	sel := `select[name="role.` + site.ID + `"]`
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.CSS(sel), "editor"),
		chromedp.Click(chromedp.CSS(`form[action$="/rights"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.success`)),
	); err != nil {
		t.Fatalf("save the rights: %v", err)
	}
	chosen, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('`+sel+`').value`))
	if err != nil {
		t.Fatal(err)
	}
	if chosen != "editor" {
		t.Errorf("after saving the rights, the site's role is %q", chosen)
	}
	audit("person-rights-saved", "fr")
}
