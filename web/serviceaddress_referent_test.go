package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/store"
)

// A name a referent gives may resolve to a public address when given and
// to 127.0.0.1 later (DNS rebinding): the service remembers that a
// referent gave its address, so that sesame checks every connection it
// makes for it (netguard). The mark stays while the referent re-saves the
// same address, goes when a hoster admin saves the address (the same one:
// they vouch for it), and comes back when the referent gives another one.
// A hoster admin's new service is not marked.
func TestServiceRemembersAddressesAReferentGave(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("le-beta")
	admin := e.person("root", store.StateActive, true)
	base := "/admin/structures/le-beta/services"
	marked := func(id string) bool {
		t.Helper()
		got, err := e.st.GetService(ctx, id)
		e.must(err)
		return got.ReferentAddress
	}
	if status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {"Nuage"},
		"url": {"https://nuage.public.example"}}); status != http.StatusOK {
		t.Fatalf("referent's service at a public name: %d", status)
	}
	list, err := e.st.ListServices(ctx, s.ID)
	e.must(err)
	if len(list) != 1 || !list[0].ReferentAddress {
		t.Fatalf("the referent's new service: %+v", list)
	}
	id := list[0].ID
	post := func(who *store.Person, addr, mfa string) {
		t.Helper()
		if status, _, _ := e.do("POST", base+"/"+id, who, url.Values{"url": {addr}, "require_mfa": {mfa}}); status != http.StatusSeeOther {
			t.Fatalf("saving %s: %d", addr, status)
		}
	}
	post(&ref, "https://nuage.public.example/", "1") // the same address, two factors asked
	if !marked(id) {
		t.Error("re-saving the same address cleared the mark")
	}
	// The services page says so, to whoever reads it.
	if _, _, body := e.do("GET", base, &admin, nil); !strings.Contains(body, "Adresse donnée par un·e référent·e") {
		t.Error("the services page does not tell the address is a referent's")
	}
	post(&admin, "https://nuage.public.example", "1")
	if _, _, body := e.do("GET", base, &admin, nil); strings.Contains(body, "Adresse donnée par un·e référent·e") {
		t.Error("the services page still tells the address is a referent's")
	}
	if marked(id) {
		t.Error("a hoster admin saved the address: still marked")
	}
	es, err := e.st.ListAudit(ctx, store.AuditFilter{Action: "service.update"})
	e.must(err)
	if len(es) == 0 || es[0].Details["address_confirmed"] != true {
		t.Errorf("the hoster's confirmation is not in the audit log: %+v", es)
	}
	post(&ref, "https://nuage.public.example", "")
	if marked(id) {
		t.Error("the referent re-saved the address the hoster confirmed: marked again")
	}
	post(&ref, "https://cloud.public.example", "")
	if !marked(id) {
		t.Error("the referent's new address is not marked")
	}
	if status, _, _ := e.do("POST", base, &admin, url.Values{"kind": {"wordpress"}, "name": {"Site"},
		"url": {"https://site.public.example"}}); status != http.StatusOK {
		t.Fatalf("admin's service: %d", status)
	}
	list, err = e.st.ListServices(ctx, s.ID)
	e.must(err)
	for _, x := range list {
		if x.Name == "Site" && x.ReferentAddress {
			t.Error("a hoster admin's new service is marked")
		}
	}
}

// The audit page says in words that a hoster admin confirmed a referent's
// address (the detail the confirmation writes), in French and English, not
// as the key written.
func TestAuditPageSaysAddressConfirmed(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, _ := e.referentOf("le-beta")
	admin := e.person("root", store.StateActive, true)
	base := "/admin/structures/le-beta/services"
	if status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {"Nuage"},
		"url": {"https://nuage.public.example"}}); status != http.StatusOK {
		t.Fatalf("referent's service: %d", status)
	}
	svcs, err := e.st.ListServices(context.Background(), "")
	e.must(err)
	if len(svcs) != 1 {
		t.Fatalf("services: %+v", svcs)
	}
	if status, _, _ := e.do("POST", base+"/"+svcs[0].ID, &admin, url.Values{"url": {"https://nuage.public.example"}}); status != http.StatusSeeOther {
		t.Fatalf("the hoster admin's confirmation: %d", status)
	}
	_, _, fr := e.do("GET", "/admin/structures/le-beta/audit", &admin, nil)
	if !strings.Contains(fr, `<li title="address_confirmed">Adresse confirmée par l’hébergeur : oui</li>`) {
		t.Errorf("French audit page:\n%s", fr)
	}
	_, _, en := e.do("GET", "/admin/structures/le-beta/audit?lang=en", &admin, nil)
	if !strings.Contains(en, `<li title="address_confirmed">Address confirmed by the hoster: yes</li>`) {
		t.Errorf("English audit page:\n%s", en)
	}
}
