package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A refused change of one service's address must mark that service's
// field only: the "add a service" form below keeps its own empty address
// field, not marked invalid and not described by an error that is not on
// the page (aria-describedby="add-error" with no id="add-error").
func TestRefusedURLChangeLeavesAddFormAlone(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, s := e.referentOf("le-beta")
	svc := e.service(s, "cloud", "Nuage")
	base := "/admin/structures/le-beta/services"
	for _, typed := range []string{"http://10.0.0.5", "ftp://nuage.example"} {
		status, _, body := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {typed}})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("change to %q: %d", typed, status)
		}
		add := regexp.MustCompile(`<input id="url" [^>]*>`).FindString(body)
		if add == "" {
			t.Fatalf("no add form address field:\n%s", body)
		}
		if strings.Contains(add, "aria-invalid") || strings.Contains(add, typed) {
			t.Errorf("%s: the add form's field is taken for the refused change: %s", typed, add)
		}
		for _, m := range regexp.MustCompile(`aria-describedby="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			for _, id := range strings.Fields(m[1]) {
				if !strings.Contains(body, `id="`+id+`"`) {
					t.Errorf("%s: aria-describedby names %q, which is not on the page", typed, id)
				}
			}
		}
	}
}
