package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"sesame/internal/store"
)

// The hoster registered the association's Nextcloud at its LAN address
// (hosted on the hoster's private network). The referent only ticks "require
// two factors" on the service's form, which re-posts the address unchanged:
// that must still be saved. The internal-address rule is about a referent
// choosing an address, not keeping the one the hoster gave.
func TestReferentMayStillSaveAServiceTheHosterPutOnAnInternalAddress(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("le-beta")
	svc := e.service(s, "cloud", "Cloud")
	lan := "https://10.0.0.5"
	_, err := e.st.UpdateService(ctx, svc.ID, func(x *store.Service) error { x.BaseURL = lan; return nil })
	e.must(err)
	status, _, _ := e.do("POST", "/admin/structures/le-beta/services/"+svc.ID, &ref,
		url.Values{"url": {lan}, "require_mfa": {"1"}})
	got, err := e.st.GetService(ctx, svc.ID)
	e.must(err)
	if status != http.StatusSeeOther || !got.RequireMFA {
		t.Fatalf("referent requiring two factors on the hoster's LAN service: %d, require_mfa %v", status, got.RequireMFA)
	}
	// Moving it to another internal address is still refused.
	if status, _, _ := e.do("POST", "/admin/structures/le-beta/services/"+svc.ID, &ref,
		url.Values{"url": {"http://127.0.0.1:9100"}, "require_mfa": {"1"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("referent moved the service to the loopback: %d", status)
	}
}
