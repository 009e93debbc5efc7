package idp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"sesame/internal/store"
	"sesame/internal/testenv"
)

// browserClient starts a relying party on loopback (a real HTTP server;
// the caller adds its /cb), registered as a generic service of Alice's
// structure named name, which Alice may use.
func (f *fixture) browserClient(t *testing.T, slug, name string) (*http.ServeMux, *rp) {
	t.Helper()
	rpMux := http.NewServeMux()
	rpSrv := httptest.NewServer(rpMux)
	t.Cleanup(rpSrv.Close)
	svc := store.Service{StructureID: f.structure.ID, Kind: store.KindGeneric, Slug: slug, Name: name,
		ClientID: slug + "-client", ClientSecretHash: HashClientSecret(slug + "-secret"), RedirectURIs: []string{rpSrv.URL + "/cb"},
		SigningAlg: AlgES256, AuthMethod: "client_secret_basic"}
	if err := f.st.CreateService(context.Background(), &svc); err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutGrant(context.Background(), store.Grant{PersonID: f.alice.ID, ServiceID: svc.ID, Role: "user"}); err != nil {
		t.Fatal(err)
	}
	return rpMux, f.rp(svc, slug+"-secret", rpSrv.URL+"/cb")
}

// TestBrowserLogin drives Debian's headless Chromium through the login
// form and back to a test client, which exchanges the code with go-oidc.
func TestBrowserLogin(t *testing.T) {
	bctx := testenv.Chromium(t, 90*time.Second)
	f := newFixture(t)

	rpMux, client := f.browserClient(t, "browser", "Appli navigateur")
	verifier := oauth2.GenerateVerifier()
	rpMux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "browser-state" {
			http.Error(w, "bad state", 400)
			return
		}
		tok, err := client.conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		idt, err := client.verifier.Verify(r.Context(), tok.Extra("id_token").(string))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var c struct {
			Username string `json:"preferred_username"`
		}
		_ = idt.Claims(&c)
		fmt.Fprintf(w, "<html><body><p id=hello>Bonjour %s</p></body></html>", c.Username)
	})

	authURL := client.conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))
	if err := chromedp.Do(bctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
		t.Fatal(err)
	}
	user, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("username"), "autocomplete"))
	if err != nil {
		t.Fatal(err)
	}
	pass, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.ID("password"), "autocomplete"))
	if err != nil {
		t.Fatal(err)
	}
	userAC, passAC := user.Value, pass.Value
	if err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("username"), "alice.martin"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("hello")),
	); err != nil {
		t.Fatal(err)
	}
	hello, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("hello")))
	if err != nil {
		t.Fatal(err)
	}
	if userAC != "username" || passAC != "current-password" {
		t.Errorf("autocomplete %q / %q", userAC, passAC)
	}
	if !strings.Contains(hello, "Bonjour alice.martin") {
		t.Errorf("the client shows %q", hello)
	}
}
