package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/mfa"
	"sesame/internal/store"
)

// A signed-in member who no longer knows their current password (the
// browser remembered it for them) is refused by the portal's password
// form, then, after ten tries, told to wait. Either way the page must show
// the way out: the "forgotten password" link, which works while signed in.
func TestPortalWrongCurrentPasswordOffersReset(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, e.structure("le-beta"), false)
	form := url.Values{"current": {"je ne sais plus"}, "password": {"une toute nouvelle phrase 42"},
		"confirm": {"une toute nouvelle phrase 42"}}
	status, _, body := e.do("POST", "/account/password", &p, form)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "Ce n’est pas votre mot de passe actuel.") {
		t.Fatalf("wrong current password: %d\n%s", status, body)
	}
	if !strings.Contains(body, `href="/forgot"`) {
		t.Errorf("a wrong current password: no way to reset a forgotten password on the page")
	}
	for range 10 {
		status, _, body = e.do("POST", "/account/password", &p, form)
	}
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Trop de tentatives") {
		t.Fatalf("after ten wrong passwords: %d", status)
	}
	if !strings.Contains(body, `href="/forgot"`) {
		t.Errorf("429 on the portal's password form: no way to reset a forgotten password on the page")
	}
}

// A wrong code while adding an authenticator app from the portal keeps
// the QR code, and must keep the device name the person typed too; the
// error must be tied to the code field.
func TestPortalEnrolKeepsNameAndTiesError(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, e.structure("le-beta"), false)
	_, _, page := e.do("GET", "/account/second-factor", &p, nil)
	en := portalEnrolment.FindStringSubmatch(page)
	if en == nil {
		t.Fatalf("no enrolment form:\n%s", page)
	}
	status, _, again := e.do("POST", "/account/second-factor", &p, url.Values{"enrolment": {html.UnescapeString(en[1])},
		"code": {"000000"}, "name": {"Téléphone de Jean"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d", status)
	}
	if !strings.Contains(again, `value="Téléphone de Jean"`) {
		t.Errorf("the device name typed is lost after a wrong code")
	}
	if !strings.Contains(again, `aria-invalid="true"`) || !strings.Contains(again, `aria-describedby="code-error"`) {
		t.Errorf("the wrong code's message is not tied to the code field")
	}
}

// Tapping "Remove" twice (a slow phone, a second tab) must not answer
// "Page not found / This page does not exist": the app is gone, as asked.
func TestPortalRemoveFactorTwice(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	p := e.person("jean.dupont", store.StateActive, false)
	e.member(p, e.structure("le-beta"), false)
	_, _, page := e.do("GET", "/account/second-factor", &p, nil)
	m, en := portalSecret.FindStringSubmatch(page), portalEnrolment.FindStringSubmatch(page)
	if m == nil || en == nil {
		t.Fatalf("no enrolment form:\n%s", page)
	}
	code, _ := mfa.CodeAt(strings.ReplaceAll(m[1], " ", ""), mfa.Step(time.Now()))
	if status, _, _ := e.do("POST", "/account/second-factor", &p, url.Values{"enrolment": {html.UnescapeString(en[1])},
		"code": {code}, "name": {"Téléphone"}}); status != http.StatusOK {
		t.Fatalf("enrol: %d", status)
	}
	_, _, portal := e.do("GET", "/", &p, nil)
	id := portalRemove.FindStringSubmatch(portal)
	if id == nil {
		t.Fatalf("no remove button:\n%s", portal)
	}
	if status, _, _ := e.do("POST", "/account/second-factor/remove", &p, url.Values{"id": {id[1]}}); status != http.StatusSeeOther {
		t.Fatalf("first remove: %d", status)
	}
	status, _, body := e.do("POST", "/account/second-factor/remove", &p, url.Values{"id": {id[1]}})
	if strings.Contains(body, "Page introuvable") || strings.Contains(body, "Cette page n&#39;existe pas") ||
		!strings.Contains(body, "déjà été retiré") || !strings.Contains(body, `href="/"`) {
		t.Errorf("the second tap on Remove: %d, a page-not-found page:\n%s", status, body)
	}
}
