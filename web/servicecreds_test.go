package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"sesame/internal/apps"
	"sesame/internal/store"
	"sesame/provision"
)

// A referent moves a service whose provisioning credentials the hoster
// gave (`sesame service credentials`, CLI only) to an address of their
// choosing: the application's administrator password must not follow it.
func TestReferentMoveDoesNotCarryProvisioningCredentials(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref, s := e.referentOf("le-beta")
	svc := e.service(s, "nextcloud", "Nuage")
	master := bytes.Repeat([]byte{7}, 32)
	box, err := provision.Box(master)
	e.must(err)
	sealed, err := provision.Seal(box, svc, provision.Secret{Credentials: apps.Credentials{Username: "hoster-admin", Password: "nextcloud-admin-app-password"}, Settings: map[string]string{"provider_id": "1"}})
	e.must(err)
	_, err = e.st.UpdateService(ctx, svc.ID, func(x *store.Service) error { x.ProvisioningSecret = sealed; return nil })
	e.must(err)

	// Every request the connector sends, whatever its host, is recorded
	// (the referent's server at https://nuage.attaquant.example).
	var mu sync.Mutex
	var stolen []string
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if u, p, ok := r.BasicAuth(); ok {
			mu.Lock()
			stolen = append(stolen, r.URL.Host+" "+u+":"+p)
			mu.Unlock()
		}
		return &http.Response{StatusCode: http.StatusUnauthorized, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}

	evil := "https://nuage.attaquant.example"
	status, _, _ := e.do("POST", "/admin/structures/le-beta/services/"+svc.ID, &ref, url.Values{"url": {evil}})
	if status != http.StatusSeeOther {
		t.Fatalf("referent's address change: %d", status)
	}
	moved, err := e.st.GetService(ctx, svc.ID)
	e.must(err)
	if moved.BaseURL != evil {
		t.Fatalf("base URL: %q", moved.BaseURL)
	}
	// What the provisioning job (provision.Provisioner.connector) does
	// with the service as stored.
	conn, err := provision.Connector(box, moved, apps.Config{HTTPClient: rec})
	if err == nil {
		_ = conn.Check(ctx)
	} else if !errors.Is(err, provision.ErrNoCredentials) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stolen) > 0 {
		t.Errorf("the hoster's provisioning credentials were sent to the referent's address: %q", stolen)
	}
}

// A hoster admin's move keeps them (the hoster gave them).
func TestAdminMoveKeepsProvisioningCredentials(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	admin := e.person("root", "active", true)
	s := e.structure("le-beta")
	svc := e.service(s, "nextcloud", "Nuage")
	box, err := provision.Box(bytes.Repeat([]byte{7}, 32))
	e.must(err)
	sealed, err := provision.Seal(box, svc, provision.Secret{Credentials: apps.Credentials{Username: "a", Password: "b"}})
	e.must(err)
	_, err = e.st.UpdateService(ctx, svc.ID, func(x *store.Service) error { x.ProvisioningSecret = sealed; return nil })
	e.must(err)
	status, _, _ := e.do("POST", "/admin/structures/le-beta/services/"+svc.ID, &admin, url.Values{"url": {"https://nuage.le-beta.example"}})
	moved, err := e.st.GetService(ctx, svc.ID)
	e.must(err)
	if status != http.StatusSeeOther || moved.BaseURL != "https://nuage.le-beta.example" || moved.ProvisioningSecret == nil {
		t.Errorf("admin move: %d %q credentials kept: %v", status, moved.BaseURL, moved.ProvisioningSecret != nil)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
