package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// A referent posts "Renvoyer le lien" for an invited person who is also a
// member of another structure (the board no longer offers it, see
// TestBoardOffersOnlyAllowedResend, but a page opened before the person
// joined the other structure still does): the refusal must say why and
// who can do it, not talk about "a form from another site".
func TestRefusedPersonActionSaysWhy(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, s := e.referentOf("le-beta")
	other := e.structure("autre")
	shared := e.person("partagee", store.StateInvited, false)
	e.member(shared, s, false)
	e.member(shared, other, false)
	base := "/admin/structures/le-beta"
	status, _, body := e.do("POST", base+"/people/"+shared.ID+"/resend", &ref, url.Values{})
	if status != http.StatusForbidden {
		t.Fatalf("resend to a shared person: %d", status)
	}
	if strings.Contains(body, "formulaire d&#39;un autre site") {
		t.Errorf("the refusal talks about a form from another site:\n%s", body)
	}
	if !strings.Contains(body, "autre structure") || !strings.Contains(body, "hébergeur") {
		t.Errorf("the refusal does not say the person is shared and that the hoster can do it:\n%s", body)
	}
}

// A referent gives a service address on a private network: the page must
// say that this address is refused and what to do, tie the message to the
// field, and keep what was typed (also when changing an address).
func TestInternalServiceAddressSaysWhy(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, s := e.referentOf("le-beta")
	svc := e.service(s, "cloud", "Nuage")
	base := "/admin/structures/le-beta/services"
	status, _, body := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {"Nuage local"},
		"url": {"http://192.168.1.20"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("add on a private address: %d", status)
	}
	if !strings.Contains(body, "réseau privé") {
		t.Errorf("add: the refusal does not say the address is on a private network:\n%s", body)
	}
	if !strings.Contains(body, `id="url" name="url" type="url" required placeholder="https://" value="http://192.168.1.20" aria-invalid="true"`) {
		t.Errorf("add: the address field is not marked invalid:\n%s", body)
	}
	status, _, body = e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"http://10.0.0.5"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("change to a private address: %d", status)
	}
	if !strings.Contains(body, "réseau privé") {
		t.Errorf("change: the refusal does not say the address is on a private network:\n%s", body)
	}
	if !strings.Contains(body, `value="http://10.0.0.5"`) {
		t.Errorf("change: the address typed is lost after the refusal")
	}
}

// The past imports page shows each import's result in the page's language.
func TestPastImportsStatusTranslated(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, _ := e.referentOf("le-beta")
	id := e.upload("le-beta", &ref)
	if status, _, body := e.do("POST", "/admin/structures/le-beta/import/"+id+"/confirm", &ref, url.Values{}); status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", status, body)
	}
	_, _, fr := e.do("GET", "/admin/structures/le-beta/imports", &ref, nil)
	if !strings.Contains(fr, "personnes.csv") {
		t.Fatalf("the import is not listed:\n%s", fr)
	}
	if strings.Contains(fr, ">applied<") || !strings.Contains(fr, ">Appliqué<") {
		t.Errorf("the result is not in French:\n%s", fr)
	}
	if _, _, en := e.do("GET", "/admin/structures/le-beta/imports?lang=en", &ref, nil); !strings.Contains(en, ">Applied<") {
		t.Errorf("the result is not in English:\n%s", en)
	}
}

// The failed jobs page names what failed in plain words and says what to
// do with the technical reason, instead of "ldap.person" and a raw error.
func TestFailedJobsExplained(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, s := e.referentOf("le-beta")
	p := e.person("nina", store.StateActive, false)
	e.member(p, s, false)
	e.deadJob(p)
	_, _, body := e.do("GET", "/admin/structures/le-beta/jobs", &ref, nil)
	if strings.Contains(body, `<h2 class="mono">ldap.person</h2>`) {
		t.Errorf("the failed job is titled with its internal kind:\n%s", body)
	}
	if !strings.Contains(body, "Mise à jour du compte") {
		t.Errorf("the failed job is not named in plain French:\n%s", body)
	}
	if !strings.Contains(body, "transmettez") || !strings.Contains(body, "hébergeur") {
		t.Errorf("the raw reason comes with no advice on what to do:\n%s", body)
	}
}

// The import preview's per-row problems: no English column names on a
// French page, no "LDAP"/"ASCII", and a taken username says how to fix it.
func TestImportRowProblemsPlainFrench(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, _ := e.referentOf("le-beta")
	id := e.uploadCSV("le-beta", &ref, "courriel;prénom;nom;identifiant\nnina@example.org;Nina;Neuve;ref\nélodie@example.org;Élodie;L;\n")
	_, _, body := e.do("GET", "/admin/structures/le-beta/import/"+id, &ref, nil)
	if !strings.Contains(body, "est déjà pris") {
		t.Fatalf("no taken username problem (precondition):\n%s", body)
	}
	for _, bad := range []string{"username :", "email :", "LDAP", "ASCII"} {
		if strings.Contains(body, bad) {
			t.Errorf("the preview shows %q to a French referent", bad)
		}
	}
	if !strings.Contains(body, "laissez la cellule vide") {
		t.Errorf("the taken username problem does not say how to fix the row")
	}
}
