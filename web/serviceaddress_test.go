package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"sesame/internal/store"
)

// A referent registers services whose addresses sesame itself calls: the
// back-channel logout (POSTed by the server with a logout token, its
// status shown on the failed jobs page) is derived from the base URL. A
// referent must not point it at the server's own loopback (the metrics
// listener, local admin APIs), the cloud metadata address or other
// non-public IP literals; a trailing "?" must not let the base URL pick
// the whole path of the back-channel request.
func TestReferentCannotAimServicesAtInternalAddresses(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("le-beta")
	base := "/admin/structures/le-beta/services"
	for i, u := range []string{
		"http://127.0.0.1:9100",
		"http://localhost:9100/metrics",
		"https://169.254.169.254/latest",
		"http://[::1]:5432",
		"https://10.0.0.5",
		"http://100.100.100.200/latest",
		"http://127.1:9100",
		"http://127.0.0.1:9100/metrics?",
		"https://nuage.lebeta.example/x?",
	} {
		name := "Nuage " + string(rune('A'+i))
		status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {name}, "url": {u}})
		if status != http.StatusUnprocessableEntity {
			list, _ := e.st.ListServices(ctx, s.ID)
			for _, svc := range list {
				if svc.Name == name {
					t.Errorf("referent added %q: %d; back-channel logouts will be POSTed to %q", u, status, svc.BackchannelLogoutURI)
				}
			}
		}
	}
	svc := e.service(s, "cloud", "Cloud")
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"http://127.0.0.1:9100"}}); status != http.StatusUnprocessableEntity {
		got, _ := e.st.GetService(ctx, svc.ID)
		t.Errorf("referent moved a service to the loopback: %d, base %q", status, got.BaseURL)
	}
	// A public https address is still fine.
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"https://nuage.lebeta.example"}}); status != http.StatusSeeOther {
		t.Errorf("public address refused: %d", status)
	}
}

// Hoster admins may (the demo and same-host setups use loopback apps).
func TestAdminMayUseLoopbackServices(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	admin := e.person("root", "active", true)
	e.structure("le-beta")
	if status, _, _ := e.do("POST", "/admin/structures/le-beta/services", &admin,
		url.Values{"kind": {"nextcloud"}, "name": {"Local"}, "url": {"http://127.0.0.1:8081"}}); status != http.StatusOK {
		t.Errorf("admin's loopback service: %d", status)
	}
}

// A name made to reach this machine (127.0.0.1.nip.io and the like) is
// refused to a referent as the address itself would be; a hoster admin may
// give it, and a name that does not resolve is checked as written.
func TestReferentCannotAimServicesAtNamesOfInternalAddresses(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("le-beta")
	admin := e.person("root", store.StateActive, true)
	base := "/admin/structures/le-beta/services"
	if status, _, _ := e.do("POST", base, &ref, url.Values{"kind": {"nextcloud"}, "name": {"Nuage"},
		"url": {"https://cloud.rebind.example"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("referent added a service whose name resolves to the loopback: %d", status)
	}
	svc := e.service(s, "cloud", "Cloud")
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"https://x.rebind.example"}}); status != http.StatusUnprocessableEntity {
		got, _ := e.st.GetService(ctx, svc.ID)
		t.Errorf("referent moved a service to a name of the loopback: %d, base %q", status, got.BaseURL)
	}
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &ref, url.Values{"url": {"https://nuage.lebeta.example"}}); status != http.StatusSeeOther {
		t.Errorf("a name that does not resolve (yet): %d", status)
	}
	if status, _, _ := e.do("POST", base+"/"+svc.ID, &admin, url.Values{"url": {"https://x.rebind.example"}}); status != http.StatusSeeOther {
		t.Errorf("a hoster admin's internal name: %d", status)
	}
}
