package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// The done page says how long the activation links last only when the
// import sent some: an import that only linked people who already have an
// account (counted as "create", "with no new activation email") sent none.
func TestImportDoneLinksOnlyWhenSent(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, _ := e.referentOf("le-beta")
	other := e.structure("autre")
	olga := e.person("olga", store.StateActive, false)
	e.member(olga, other, false)

	id := e.uploadCSV("le-beta", &ref, "email;prénom;nom\nolga@example.org;Olga;O\n")
	status, _, body := e.do("POST", "/admin/structures/le-beta/import/"+id+"/confirm", &ref, url.Values{})
	if status != http.StatusOK || !strings.Contains(body, "olga") && !strings.Contains(body, "1") {
		t.Fatalf("confirm: %d\n%s", status, body)
	}
	if strings.Contains(body, "Chaque lien est valable") {
		t.Errorf("the done page tells of activation links when the import sent none (it only linked an existing account)")
	}

	id = e.uploadCSV("le-beta", &ref, "email;prénom;nom\nnina@example.org;Nina;Neuve\n")
	if _, _, body = e.do("POST", "/admin/structures/le-beta/import/"+id+"/confirm", &ref, url.Values{}); !strings.Contains(body, "Chaque lien est valable") {
		t.Errorf("a new person: the done page does not say how long the link lasts:\n%s", body)
	}
}
