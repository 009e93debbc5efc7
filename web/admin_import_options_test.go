package web_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// googleExport is a Google Workspace user export as the admin console
// writes it: Camille and Hugo have a recovery address, Élodie none.
func googleExport(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../onboarding/testdata/exports/google_workspace_users.csv")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A Google Workspace export: the preview says so and offers the address
// choice; the personal address chosen, the new preview replaces the old
// one, and its confirmation creates the people with their recovery
// address (the work one when a row has none). On both backends.
func TestImportOptionsAddress(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newImportEnvOn(t, backend)
		preview := e.previewPath("alice", "add", googleExport(t))
		r := e.getAs("alice", preview)
		mustStatus(t, r, http.StatusOK)
		mustContain(t, r, "export des utilisateurs de Google Workspace", `action="`+preview+`/options"`,
			`id="address-work" name="address" type="radio" value="work" checked`,
			"l&#39;adresse professionnelle, qui va disparaître", "l&#39;adresse personnelle",
			"camille.durand@lebeta.org")
		mustNotContain(t, r, `id="map-0"`) // every column of the export is known
		en := e.getAs("alice", preview+"?lang=en")
		mustContain(t, en, "This file is a Google Workspace user export", "the work address, which is going away")

		// An unknown choice is refused and changes nothing.
		mustStatus(t, e.postAs("alice", preview+"/options", url.Values{"address": {"boss"}}), http.StatusBadRequest)
		mustStatus(t, e.postAs("alice", preview+"/options", url.Values{"address": {""}}), http.StatusBadRequest)

		r = e.postAs("alice", preview+"/options", url.Values{"address": {"personal"}})
		mustStatus(t, r, http.StatusSeeOther)
		fresh := r.header.Get("Location")
		if fresh == preview || !strings.HasPrefix(fresh, importBase+"/") {
			t.Fatalf("options redirect to %q", fresh)
		}
		// The old preview is gone: it cannot be confirmed with the old choice.
		mustStatus(t, e.getAs("alice", preview), http.StatusNotFound)
		mustStatus(t, e.postAs("alice", preview+"/confirm", url.Values{}), http.StatusNotFound)
		// Another session does not see the new one.
		mustStatus(t, e.getAs("bob", fresh), http.StatusNotFound)
		mustStatus(t, e.postAs("bob", fresh+"/options", url.Values{"address": {"work"}}), http.StatusNotFound)

		r = e.getAs("alice", fresh)
		mustStatus(t, r, http.StatusOK)
		mustContain(t, r, `value="personal" checked`, "camille.durand@gmail.com", "hugo.p@laposte.net",
			"elodie.martin@lebeta.org")
		if len(e.people()) != 0 {
			t.Fatal("choosing an option applied something")
		}
		mustStatus(t, e.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusOK)
		people := e.people()
		for _, email := range []string{"camille.durand@gmail.com", "hugo.p@laposte.net", "elodie.martin@lebeta.org"} {
			if _, ok := people[email]; !ok {
				t.Errorf("%s not created: %v", email, people)
			}
		}
		if len(people) != 3 {
			t.Errorf("people: %v", people)
		}
	})
}

// A column nobody recognises is mapped once in the preview: the new
// preview reads it, the confirmation applies it, and the next upload of
// the same file by the structure reads it without asking.
func TestImportOptionsMapping(t *testing.T) {
	e := newImportEnv(t)
	sheet := "Prénom;Nom;Courriel;Adresse de secours\n" +
		"Ada;Lovelace;ada@lebeta.example;ada@maison.example\n"
	preview := e.previewPath("alice", "add", sheet)
	r := e.getAs("alice", preview)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, `<label for="map-0">Colonne « Adresse de secours »</label>`, `<select id="map-0" name="map.0">`,
		`<option value="" selected>`, `<option value="personal_email">adresse personnelle</option>`,
		`<option value="ignore">ignorer cette colonne</option>`, `<option value="given_name">prénom</option>`)
	mustNotContain(t, r, `name="address"`) // one address column only
	mustStatus(t, e.postAs("alice", preview+"/options", url.Values{"map.0": {"boss"}}), http.StatusBadRequest)

	r = e.postAs("alice", preview+"/options", url.Values{"map.0": {"personal_email"}})
	mustStatus(t, r, http.StatusSeeOther)
	fresh := r.header.Get("Location")
	r = e.getAs("alice", fresh)
	mustStatus(t, r, http.StatusOK)
	// Read as the personal address, the choice can be changed back, and
	// the file now has both addresses.
	mustContain(t, r, "est lue comme « personal_email »", `<option value="personal_email" selected>`,
		`name="address" type="radio" value="work" checked`)
	// The address choice and the mapping together.
	r = e.postAs("alice", fresh+"/options", url.Values{"map.0": {"personal_email"}, "address": {"personal"}})
	mustStatus(t, r, http.StatusSeeOther)
	fresh = r.header.Get("Location")
	mustContain(t, e.getAs("alice", fresh), "ada@maison.example", `value="personal" checked`)
	mustStatus(t, e.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusOK)
	if _, ok := e.people()["ada@maison.example"]; !ok {
		t.Fatalf("the mapped personal address was not used: %v", e.people())
	}

	// The structure's next upload of that file: recognised, not asked.
	again := e.previewPath("bob", "add", sheet)
	r = e.getAs("bob", again)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "est lue comme « personal_email »")
	mustNotContain(t, r, `id="map-0"`)
}

// The options form refuses a cross-origin post, as every form does.
func TestImportOptionsCrossOrigin(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", googleExport(t))
	r := e.postAs("alice", preview+"/options", url.Values{"address": {"personal"}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	mustStatus(t, r, http.StatusForbidden)
	// The preview is still there, with the work address.
	mustContain(t, e.getAs("alice", preview), `value="work" checked`)
	mustStatus(t, e.postAs("alice", preview+"/options", url.Values{"address": {"personal"}},
		"Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
}

// Hostile header names are shown as text in the mapping form, and never
// name a form field.
func TestImportOptionsHostileHeaders(t *testing.T) {
	e := newImportEnv(t)
	sheet := "Prénom;Nom;Courriel;<script>alert(1)</script>;\"\"\"><img src=x onerror=alert(2)>\"\n" +
		"Ada;Lovelace;ada@lebeta.example;x;y\n"
	preview := e.previewPath("alice", "add", sheet)
	r := e.getAs("alice", preview)
	mustStatus(t, r, http.StatusOK)
	mustNotContain(t, r, "<script>alert", "<img src=x")
	mustContain(t, r, `name="map.0"`, `name="map.1"`, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;")
	r = e.postAs("alice", preview+"/options", url.Values{"map.0": {"ignore"}, "map.1": {"given_name"}})
	mustStatus(t, r, http.StatusSeeOther)
	r = e.getAs("alice", r.header.Get("Location"))
	mustStatus(t, r, http.StatusOK)
	mustNotContain(t, r, "<script>alert", "<img src=x")
	mustContain(t, r, `<option value="ignore" selected>`)
}

// A file whose address column nobody recognises cannot be imported as it
// is; mapped in the preview, it can.
func TestImportOptionsMapsTheEmailColumn(t *testing.T) {
	e := newImportEnv(t)
	preview := e.previewPath("alice", "add", "Prénom;Nom;Adresse du compte\nAda;Lovelace;ada@lebeta.example\n")
	r := e.getAs("alice", preview)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Ce fichier ne peut pas être importé", `Colonne « Adresse du compte »`)
	mustNotContain(t, r, `action="`+preview+`/confirm"`)
	r = e.postAs("alice", preview+"/options", url.Values{"map.0": {"email"}})
	mustStatus(t, r, http.StatusSeeOther)
	fresh := r.header.Get("Location")
	r = e.getAs("alice", fresh)
	mustStatus(t, r, http.StatusOK)
	mustNotContain(t, r, "Ce fichier ne peut pas être importé")
	mustContain(t, r, "ada@lebeta.example", `<option value="email" selected>`)
	mustStatus(t, e.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusOK)
	if _, ok := e.people()["ada@lebeta.example"]; !ok {
		t.Fatalf("people: %v", e.people())
	}
}
