package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestDisableAsksFirst: the person page's "Disable" leads to a page that
// says who and what (in French and English), with a confirm button and a
// way back to the board; only the confirming post disables. A post
// without the confirmation (an old one-click form, a replayed or
// hand-made post) or confirming someone else changes nothing and leads to
// the page; the referent's bounds hold on both steps. Delete too.
func TestDisableAsksFirst(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, a := e.referentOf("a")
	m := e.person("martin", store.StateActive, false)
	e.member(m, a, false)
	other := e.person("olga", store.StateActive, false)
	e.member(other, a, false)
	page := "/admin/structures/a/people/" + m.ID
	state := func(p store.Person) store.PersonState {
		t.Helper()
		got, err := e.st.GetPerson(ctx, p.ID)
		e.must(err)
		return got.State
	}

	_, _, body := e.do("GET", page, &ref, nil)
	if !strings.Contains(body, `href="`+page+`/disable"`) || strings.Contains(body, `action="`+page+`/disable"`) {
		t.Errorf("the person page disables in one click (or has no way to):\n%s", body)
	}
	status, _, body := e.do("GET", page+"/disable", &ref, nil)
	for _, want := range []string{"martin (martin@example.org)", "martin ne pourra plus se connecter",
		"Vous pourrez réactiver le compte plus tard", `action="` + page + `/disable"`, `method="post"`,
		`name="confirm" value="` + m.ID + `"`, `href="/admin/structures/a"`, "Annuler"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("confirmation page: %d, no %q:\n%s", status, want, body)
		}
	}
	if _, _, en := e.do("GET", page+"/disable?lang=en", &ref, nil); !strings.Contains(en, "martin will no longer be able to sign in") ||
		!strings.Contains(en, "You can enable the account again later") {
		t.Errorf("English confirmation page:\n%s", en)
	}
	if state(m) != store.StateActive {
		t.Fatalf("showing the confirmation disabled the person")
	}

	// Posts without the confirmation act on nothing.
	for _, form := range []url.Values{{}, {"confirm": {""}}, {"confirm": {other.ID}}, {"confirm": {"yes"}}} {
		status, loc, _ := e.do("POST", page+"/disable", &ref, form)
		if status != http.StatusSeeOther || loc != page+"/disable" {
			t.Errorf("unconfirmed post %v: %d %q, want 303 to the confirmation page", form, status, loc)
		}
		if state(m) != store.StateActive || state(other) != store.StateActive {
			t.Fatalf("an unconfirmed post %v disabled someone", form)
		}
	}
	status, loc, _ := e.do("POST", page+"/disable", &ref, url.Values{"confirm": {m.ID}})
	if status != http.StatusSeeOther || loc != page+"?done=disabled" || state(m) != store.StateDisabled {
		t.Errorf("confirmed disable: %d %q %s", status, loc, state(m))
	}
	// Already disabled: the confirmation page goes back to the person.
	if status, loc, _ := e.do("GET", page+"/disable", &ref, nil); status != http.StatusSeeOther || loc != page {
		t.Errorf("confirmation for a disabled person: %d %q", status, loc)
	}

	// Delete: the confirming post only.
	if status, loc, _ := e.do("POST", page+"/delete", &ref, url.Values{}); status != http.StatusSeeOther || loc != page+"/delete" {
		t.Errorf("unconfirmed delete: %d %q", status, loc)
	}
	if state(m) != store.StateDisabled {
		t.Fatalf("an unconfirmed post deleted the person")
	}
	if _, _, body := e.do("GET", page+"/delete", &ref, nil); !strings.Contains(body, `name="confirm" value="`+m.ID+`"`) {
		t.Errorf("delete confirmation without its field:\n%s", body)
	}
	if status, _, _ := e.do("POST", page+"/delete", &ref, url.Values{"confirm": {m.ID}}); status != http.StatusSeeOther {
		t.Errorf("confirmed delete: %d", status)
	}

	// A person the referent may not change: refused on both steps, even
	// confirmed.
	b := e.structure("b")
	shared := e.person("sam", store.StateActive, false)
	e.member(shared, a, false)
	e.member(shared, b, false)
	sp := "/admin/structures/a/people/" + shared.ID + "/disable"
	if status, _, _ := e.do("GET", sp, &ref, nil); status != http.StatusForbidden {
		t.Errorf("referent's confirmation page for a shared person: %d, want 403", status)
	}
	if status, _, _ := e.do("POST", sp, &ref, url.Values{"confirm": {shared.ID}}); status != http.StatusForbidden || state(shared) != store.StateActive {
		t.Errorf("referent's confirmed disable of a shared person: %d %s", status, state(shared))
	}
	if status, _, _ := e.do("GET", "/admin/structures/a/people/"+ref.ID+"/disable", &ref, nil); status != http.StatusForbidden {
		t.Errorf("referent's confirmation page for themselves: %d, want 403", status)
	}
}

// TestBoardOffersOnlyAllowedResend: a referent's board offers a new link
// to an invited person they may manage, not to one shared with another
// structure nor to a hoster admin (whose resend is refused); a hoster
// admin's board offers all three.
func TestBoardOffersOnlyAllowedResend(t *testing.T) {
	e, ref, root, mine, shared, boss := invitedOfThreeKinds(t)
	resend := func(p store.Person) string { return `action="/admin/structures/a/people/` + p.ID + `/resend"` }

	status, _, body := e.do("GET", "/admin/structures/a", &ref, nil)
	if status != http.StatusOK || !strings.Contains(body, resend(mine)) {
		t.Errorf("referent's board: %d, no resend for a person they manage:\n%s", status, body)
	}
	for _, p := range []store.Person{shared, boss} {
		if !strings.Contains(body, p.Email) {
			t.Errorf("referent's board does not list %s", p.Username)
		}
		if strings.Contains(body, resend(p)) {
			t.Errorf("referent's board offers a resend to %s, which would be refused", p.Username)
		}
		if status, _, _ := e.do("POST", "/admin/structures/a/people/"+p.ID+"/resend", &ref, url.Values{}); status != http.StatusForbidden {
			t.Errorf("referent's resend to %s: %d, want 403", p.Username, status)
		}
	}
	_, _, body = e.do("GET", "/admin/structures/a", &root, nil)
	for _, p := range []store.Person{mine, shared, boss} {
		if !strings.Contains(body, resend(p)) {
			t.Errorf("hoster admin's board: no resend for %s", p.Username)
		}
	}
}

// TestAuditPageInWords: the audit page names each action in words (French,
// English) and its details by label — yes/no, lists and objects in words,
// no JSON — and keeps the code for support; a code without a label is
// shown as written.
func TestAuditPageInWords(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, a := e.referentOf("a")
	m := e.person("martin", store.StateActive, false)
	e.member(m, a, false)
	e.do("POST", "/admin/structures/a/people/"+m.ID+"/disable", &ref, url.Values{"confirm": {m.ID}})
	e.must(e.st.AppendAudit(ctx, &store.AuditEntry{Actor: "cli:root", Action: "service.update", Target: "structure:a",
		StructureID: a.ID, Details: map[string]any{"service": "cloud", "credentials_dropped": true,
			"grants": []map[string]string{{"service": "cloud", "from": "", "to": "user"}}}}))
	e.must(e.st.AppendAudit(ctx, &store.AuditEntry{Actor: "cli:root", Action: "something.new", Target: "structure:a",
		StructureID: a.ID, Details: map[string]any{"odd_key": 3}}))

	status, _, body := e.do("GET", "/admin/structures/a/audit", &ref, nil)
	for _, want := range []string{
		`<span title="person.disable">Compte désactivé</span>`, `<small class="muted mono">person.disable</small>`,
		`<li title="from">Avant : active</li>`,
		`<span title="service.update">Service modifié</span>`,
		`<li title="credentials_dropped">Identifiants de l’application effacés : oui</li>`,
		`<li title="grants">Droits : Avant : —, Service : cloud, Après : user</li>`,
		`<span class="mono">something.new</span>`, `<li title="odd_key">odd_key : 3</li>`,
	} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("audit page: %d, no %s\n%s", status, want, body)
		}
	}
	for _, raw := range []string{`from=`, `&#34;`, `credentials_dropped=`, `{`} {
		if strings.Contains(body[strings.Index(body, "<table"):], raw) {
			t.Errorf("audit page shows raw details (%s):\n%s", raw, body)
		}
	}
	_, _, en := e.do("GET", "/admin/structures/a/audit?lang=en", &ref, nil)
	for _, want := range []string{`<span title="person.disable">Account disabled</span>`, `<li title="from">Before: active</li>`,
		`Application credentials dropped: yes`} {
		if !strings.Contains(en, want) {
			t.Errorf("English audit page: no %s\n%s", want, en)
		}
	}
}

// TestResendAllOnlyToManageable: the board's "send again to all" sends to
// the people a one-by-one resend would reach, no more: a referent's leaves
// out a hoster admin and a person shared with another structure (the
// hoster's reaches them), and its button counts only those it sends to.
func TestResendAllOnlyToManageable(t *testing.T) {
	e, ref, root, mine, shared, boss := invitedOfThreeKinds(t)
	ctx := context.Background()
	sent := func() map[string]int {
		es, err := e.st.ListAudit(ctx, store.AuditFilter{Action: "person.link.activate"})
		e.must(err)
		n := map[string]int{}
		for _, x := range es {
			n[x.Target]++
		}
		return n
	}

	_, _, body := e.do("GET", "/admin/structures/a", &ref, nil)
	if !strings.Contains(body, `action="/admin/structures/a/resend"`) || !strings.Contains(body, "Renvoyer le lien aux personnes en attente (1)") {
		t.Errorf("referent's board: the button should offer one link:\n%s", body)
	}
	if status, _, _ := e.do("POST", "/admin/structures/a/resend", &ref, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("referent's resend all: %d", status)
	}
	if n := sent(); n["person:"+mine.ID] != 1 || n["person:"+shared.ID] != 0 || n["person:"+boss.ID] != 0 {
		t.Errorf("referent's resend all sent %v; want only %s", n, mine.ID)
	}
	if status, _, _ := e.do("POST", "/admin/structures/a/resend", &root, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("hoster's resend all: %d", status)
	}
	if n := sent(); n["person:"+mine.ID] != 2 || n["person:"+shared.ID] != 1 || n["person:"+boss.ID] != 1 {
		t.Errorf("hoster's resend all: %v; want everyone", n)
	}
}

// invitedOfThreeKinds makes structure "a" with its referent, a hoster admin
// (root), and three invited members of a: one the referent manages (mine),
// one also in structure "b" (shared), and a hoster admin (boss).
func invitedOfThreeKinds(t *testing.T) (e *adminEnv, ref, root, mine, shared, boss store.Person) {
	e = newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	b := e.structure("b")
	root = e.person("root", store.StateActive, true)
	mine = e.person("ines", store.StateInvited, false)
	e.member(mine, a, false)
	shared = e.person("sam", store.StateInvited, false)
	e.member(shared, a, false)
	e.member(shared, b, false)
	boss = e.person("boss", store.StateInvited, true)
	e.member(boss, a, false)
	return e, ref, root, mine, shared, boss
}
