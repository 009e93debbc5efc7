package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestAdminRights: the person page offers, per service, the kind's roles
// (in French by default) and "no access"; posting the form changes the
// grants (through manage.SetGrants: audit entry, jobs), an unknown role is
// refused on the page, a cross-origin post changes nothing, and a referent
// may not change a person shared with another structure.
func TestAdminRights(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref := e.person("ref", store.StateActive, false)
	s := e.structure("le-beta")
	e.member(ref, s, true)
	cloud := e.service(s, "cloud", "Nuage du Bêta")
	bruno := e.person("bruno", store.StateActive, false)
	e.member(bruno, s, false)
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: bruno.ID, ServiceID: cloud.ID, Role: "user"}))
	compta := store.Service{StructureID: s.ID, Kind: store.ServiceKind("paheko"), Slug: "compta", Name: "Compta",
		BaseURL: "https://compta.le-beta.example", ClientID: "le-beta-compta", Roles: []string{"Membres", "Bureau"}}
	e.must(e.st.CreateService(ctx, &compta))
	page := "/admin/structures/le-beta/people/" + bruno.ID
	field := "role." + cloud.ID

	status, _, body := e.do("GET", page, &ref, nil)
	if status != 200 || !strings.Contains(body, `action="`+page+`/rights"`) || !strings.Contains(body, `name="`+field+`"`) ||
		!strings.Contains(body, `<option value="user" selected>utilisateur</option>`) ||
		!strings.Contains(body, `<option value="admin">administrateur</option>`) || !strings.Contains(body, "pas d’accès") ||
		!strings.Contains(body, `<option value="Bureau">Bureau</option>`) || !strings.Contains(body, `name="role.`+compta.ID+`"`) {
		t.Fatalf("person page: %d\n%s", status, body)
	}
	if _, _, body := e.do("GET", page+"?lang=en", &ref, nil); !strings.Contains(body, `<option value="admin">admin</option>`) ||
		!strings.Contains(body, "no access") {
		t.Errorf("English rights form:\n%s", body)
	}
	role := func() string {
		t.Helper()
		g, err := e.st.ListGrants(ctx, store.GrantFilter{PersonID: bruno.ID})
		e.must(err)
		if len(g) == 0 {
			return "-"
		}
		return g[0].Role
	}

	status, loc, _ := e.do("POST", page+"/rights", &ref, url.Values{field: {"admin"}})
	if status != http.StatusSeeOther || loc != page+"?done=rights" || role() != "admin" {
		t.Fatalf("set admin: %d %q, role %s", status, loc, role())
	}
	if _, _, body := e.do("GET", loc, &ref, nil); !strings.Contains(body, "Les droits sont enregistrés") ||
		!strings.Contains(body, `<option value="admin" selected>administrateur</option>`) {
		t.Errorf("after saving:\n%s", body)
	}
	es, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "person.grants"})
	if len(es) != 1 || es[0].Actor != "referent:ref" || es[0].PersonID != bruno.ID || es[0].StructureID != s.ID {
		t.Errorf("audit: %+v", es)
	}
	if js, _ := e.st.ListJobs(ctx, store.JobFilter{Kind: "ldap.person"}); len(js) == 0 {
		t.Errorf("no directory job queued")
	}

	status, _, body = e.do("POST", page+"/rights", &ref, url.Values{field: {"emperor"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "Ce rôle n’existe pas") || role() != "admin" {
		t.Errorf("unknown role: %d, role %s", status, role())
	}

	// Cross-origin: refused, nothing changes.
	req, _ := http.NewRequest("POST", e.srv.URL+page+"/rights", strings.NewReader(url.Values{field: {""}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.AddCookie(&http.Cookie{Name: testCookie, Value: ref.ID})
	resp, err := http.DefaultClient.Do(req)
	e.must(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || role() != "admin" {
		t.Errorf("cross-origin: %d, role %s", resp.StatusCode, role())
	}

	// No access.
	status, _, _ = e.do("POST", page+"/rights", &ref, url.Values{field: {""}})
	if status != http.StatusSeeOther || role() != "-" {
		t.Errorf("no access: %d, role %s", status, role())
	}

	// Another structure's service named in the form is not this page's to
	// give: ignored.
	other := e.structure("autre")
	theirs := e.service(other, "cloud", "Leur nuage")
	if status, _, _ := e.do("POST", page+"/rights", &ref, url.Values{"role." + theirs.ID: {"admin"}}); status != http.StatusSeeOther {
		t.Errorf("another structure's service: %d", status)
	}
	if g, _ := e.st.ListGrants(ctx, store.GrantFilter{ServiceID: theirs.ID}); len(g) != 0 {
		t.Errorf("a grant on another structure's service: %+v", g)
	}

	// A person shared with another structure: the hoster's to change.
	e.member(bruno, other, false)
	if status, _, _ := e.do("POST", page+"/rights", &ref, url.Values{field: {"user"}}); status != http.StatusForbidden || role() != "-" {
		t.Errorf("shared person: %d, role %s", status, role())
	}
}

// TestAdminRoleNames: the board and the person page's summary name a
// kind's built-in roles in the page's language, as the rights form does
// (a WordPress "editor" is "éditeur" in French), and a service's own role
// (a Paheko category) as it is.
func TestAdminRoleNames(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref := e.person("ref", store.StateActive, false)
	s := e.structure("le-beta")
	e.member(ref, s, true)
	site := store.Service{StructureID: s.ID, Kind: store.KindWordPress, Slug: "site", Name: "Site du Bêta",
		BaseURL: "https://site.le-beta.example", ClientID: "le-beta-site"}
	e.must(e.st.CreateService(ctx, &site))
	compta := store.Service{StructureID: s.ID, Kind: store.ServiceKind("paheko"), Slug: "compta", Name: "Compta",
		BaseURL: "https://compta.le-beta.example", ClientID: "le-beta-compta", Roles: []string{"Membres", "Bureau"}}
	e.must(e.st.CreateService(ctx, &compta))
	bruno := e.person("bruno", store.StateActive, false)
	e.member(bruno, s, false)
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: bruno.ID, ServiceID: site.ID, Role: "editor"}))
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: bruno.ID, ServiceID: compta.ID, Role: "Bureau"}))

	for _, page := range []string{"/admin/structures/le-beta", "/admin/structures/le-beta/people/" + bruno.ID} {
		_, _, fr := e.do("GET", page, &ref, nil)
		if !strings.Contains(fr, "(rôle : éditeur)") || strings.Contains(fr, "(rôle : editor)") ||
			!strings.Contains(fr, "(rôle : Bureau)") {
			t.Errorf("%s in French:\n%s", page, fr)
		}
		_, _, en := e.do("GET", page+"?lang=en", &ref, nil)
		if !strings.Contains(en, "(role: editor)") || strings.Contains(en, "éditeur") || !strings.Contains(en, "(role: Bureau)") {
			t.Errorf("%s in English:\n%s", page, en)
		}
	}
}

// TestAdminPersonHosterOnly: on the page of a person they may not change
// (shared with another structure, or a hoster admin), a referent sees why
// and who can instead of the forms; a hoster admin sees the forms.
func TestAdminPersonHosterOnly(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref := e.person("ref", store.StateActive, false)
	boss := e.person("boss", store.StateActive, true)
	s, other := e.structure("le-beta"), e.structure("autre")
	e.member(ref, s, true)
	e.service(s, "cloud", "Nuage du Bêta")
	bruno := e.person("bruno", store.StateActive, false)
	e.member(bruno, s, false)
	e.member(bruno, other, false)
	e.member(boss, s, false)
	root := e.person("root", store.StateActive, true) // another hoster admin
	forms := []string{`/rights"`, `/disable"`, `<form method="post" action="/admin/structures/le-beta/people/`}
	for _, c := range []struct {
		p    store.Person
		want string
	}{{bruno, "aussi membre d’une autre structure"}, {boss, "Cette personne administre l’hébergeur"}} {
		page := "/admin/structures/le-beta/people/" + c.p.ID
		status, _, body := e.do("GET", page, &ref, nil)
		if status != 200 || !strings.Contains(body, c.want) || !strings.Contains(body, "seul·e un·e administrateur·rice de l’hébergeur") {
			t.Errorf("referent on %s: %d\n%s", c.p.Username, status, body)
		}
		for _, f := range forms {
			if strings.Contains(body, f) {
				t.Errorf("referent on %s: a form (%s) shown", c.p.Username, f)
			}
		}
		if _, _, en := e.do("GET", page+"?lang=en", &ref, nil); !strings.Contains(en, "only a hoster admin can") {
			t.Errorf("English:\n%s", en)
		}
		status, _, body = e.do("GET", page, &root, nil)
		if status != 200 || strings.Contains(body, "hoster-only") || !strings.Contains(body, page+`/rights"`) ||
			!strings.Contains(body, page+`/disable"`) || !strings.Contains(body, `action="`+page+`"`) {
			t.Errorf("hoster admin on %s: %d\n%s", c.p.Username, status, body)
		}
	}
	// A hoster admin on their own page: no forms, the way to the portal.
	own := "/admin/structures/le-beta/people/" + boss.ID
	if status, _, body := e.do("GET", own, &boss, nil); status != 200 || !strings.Contains(body, "C’est votre propre compte") ||
		strings.Contains(body, own+`/disable"`) {
		t.Errorf("hoster admin on their own page: %d\n%s", status, body)
	}
	// A person the referent may change: the forms, no sentence.
	carla := e.person("carla", store.StateActive, false)
	e.member(carla, s, false)
	if _, _, body := e.do("GET", "/admin/structures/le-beta/people/"+carla.ID, &ref, nil); strings.Contains(body, "hoster-only") ||
		!strings.Contains(body, `/rights"`) {
		t.Errorf("referent on carla:\n%s", body)
	}
}
