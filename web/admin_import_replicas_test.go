package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/onboarding"
	"sesame/web"
)

// newReplicaPair returns two import pages over one store, each on a server
// of its own, as two replicas behind a load balancer without sticky
// sessions: a and b share the store, the clock and the importer's
// configuration, nothing in memory.
func newReplicaPair(t *testing.T, backend string, opts ...func(*web.ImportPages)) (a, b *importEnv) {
	t.Helper()
	a = newImportEnvOn(t, backend, func(ip *web.ImportPages) {
		box, err := web.ImportBox(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		ip.Pending, ip.PendingBox = ip.Store.(store.Store), box
		for _, o := range opts {
			o(ip)
		}
	})
	b = &importEnv{env: a.env}
	pb := *a.pages
	pb.Importer = &onboarding.Importer{Store: a.st, Tokens: a.tokens, Now: a.clock.Now, Logger: a.importer.Logger}
	b.pages, b.importer = &pb, pb.Importer
	mux := http.NewServeMux()
	b.pages.Mount(mux)
	web.StaticHandler{}.Mount(mux)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return a, b
}

// The upload and its preview reach replica A, the confirmation replica B:
// B plans the file again from the store and applies it, once.
func TestImportAcrossReplicas(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		a, b := newReplicaPair(t, backend)
		preview := a.previewPath("alice", "add", sheetWithError)
		r := b.getAs("alice", preview)
		mustStatus(t, r, http.StatusOK)
		mustContain(t, r, "pas-une-adresse")
		// The error row must be skipped, on B as on A.
		mustStatus(t, b.postAs("alice", preview+"/confirm", url.Values{}), http.StatusUnprocessableEntity)
		mustStatus(t, a.getAs("alice", preview), http.StatusOK)

		preview = a.previewPath("alice", "add", sheetFixed)
		mustStatus(t, a.getAs("alice", preview), http.StatusOK)
		// Another session sees nothing, on either replica.
		mustStatus(t, b.getAs("mallory", preview), http.StatusNotFound)
		mustStatus(t, b.postAs("mallory", preview+"/confirm", url.Values{}), http.StatusNotFound)
		mustStatus(t, b.postAs("mallory", preview+"/cancel", url.Values{}), http.StatusSeeOther)
		if len(a.people()) != 0 {
			t.Fatal("another session applied the import")
		}
		r = b.postAs("alice", preview+"/confirm", url.Values{})
		mustStatus(t, r, http.StatusOK)
		mustContain(t, r, "personnes.csv")
		if p := a.people(); len(p) != 3 {
			t.Fatalf("people after the confirmation on B: %v", p)
		}
		// Replayed on A: gone, applied once.
		mustStatus(t, a.postAs("alice", preview+"/confirm", url.Values{}), http.StatusNotFound)
		if ims := a.imports(); len(ims) != 1 {
			t.Fatalf("%d import records, want 1", len(ims))
		}
	})
}

// Options chosen on B, confirmation on A: the options travel with the
// preview; a cancellation on B forgets it for A.
func TestImportAcrossReplicasOptionsCancel(t *testing.T) {
	a, b := newReplicaPair(t, "sqlite")
	preview := a.previewPath("alice", "add", sheetFixed)
	r := b.postAs("alice", preview+"/options", url.Values{"address": {string(onboarding.AddressPersonal)}})
	mustStatus(t, r, http.StatusSeeOther)
	fresh := r.header.Get("Location")
	if fresh == preview || !strings.HasPrefix(fresh, importBase+"/") {
		t.Fatalf("options redirect to %q", fresh)
	}
	mustStatus(t, a.getAs("alice", preview), http.StatusNotFound)
	mustStatus(t, a.getAs("alice", fresh), http.StatusOK)
	mustStatus(t, b.postAs("alice", fresh+"/cancel", url.Values{}), http.StatusSeeOther)
	mustStatus(t, a.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusNotFound)
	if len(a.people()) != 0 {
		t.Fatal("a cancelled preview was applied")
	}
}

// An expired preview answers "send the file again" on the other replica,
// and the sweep forgets it.
func TestImportAcrossReplicasExpiry(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		a, b := newReplicaPair(t, backend)
		preview := a.previewPath("alice", "add", sheetFixed)
		a.clock.Advance(29 * time.Minute)
		mustStatus(t, b.getAs("alice", preview), http.StatusOK)
		a.clock.Advance(time.Minute)
		r := b.postAs("alice", preview+"/confirm", url.Values{})
		mustStatus(t, r, http.StatusNotFound)
		mustContain(t, r, "n&#39;est plus disponible", "envoyez le fichier à nouveau")
		if len(a.people()) != 0 {
			t.Fatal("an expired preview was applied")
		}
		n, err := a.st.SweepPendingImports(context.Background(), a.clock.Now())
		if err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v; want 1", n, err)
		}
	})
}

// The accounts change between the preview on A and its confirmation on B:
// nothing is applied and the new preview is shown.
func TestImportAcrossReplicasChanged(t *testing.T) {
	a, b := newReplicaPair(t, "sqlite")
	preview := a.previewPath("alice", "add", sheetFixed)
	if _, err := a.importer.Import(context.Background(), onboarding.Request{Structure: "le-beta",
		Data: []byte("Courriel;Prénom;Nom;Droits\nzoe@lebeta.example;Zoé;Castaño;wordpress\n"), Actor: "cli:bob"}); err != nil {
		t.Fatal(err)
	}
	r := b.postAs("alice", preview+"/confirm", url.Values{})
	mustStatus(t, r, http.StatusSeeOther)
	fresh := r.header.Get("Location")
	if fresh == preview || !strings.HasPrefix(fresh, importBase+"/") {
		t.Fatalf("a changed confirmation redirects to %q", fresh)
	}
	if p := a.people(); len(p) != 1 {
		t.Fatalf("a stale preview was applied: %v", p)
	}
	r = a.getAs("alice", fresh)
	mustStatus(t, r, http.StatusOK)
	mustContain(t, r, "Les comptes ont changé depuis l&#39;aperçu")
	mustStatus(t, b.postAs("alice", fresh+"/confirm", url.Values{}), http.StatusOK)
	if p := a.people(); len(p) != 3 {
		t.Fatalf("people after confirming the new preview: %v", p)
	}
}

// The bounds hold across replicas: past MaxPending the upload on the
// other replica is refused (503), and a session's third preview drops its
// first, wherever it was made.
func TestImportAcrossReplicasBounds(t *testing.T) {
	a, b := newReplicaPair(t, "sqlite", func(ip *web.ImportPages) { ip.MaxPending = 2 })
	first := a.previewPath("alice", "add", sheetFixed)
	second := b.previewPath("alice", "add", sheetFixed)
	third := a.previewPath("alice", "add", sheetFixed)
	mustStatus(t, b.getAs("alice", first), http.StatusNotFound)
	mustStatus(t, b.getAs("alice", second), http.StatusOK)
	mustStatus(t, b.getAs("alice", third), http.StatusOK)
	r := b.upload("bob", "add", "personnes.csv", sheetFixed)
	mustStatus(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After on a full store")
	}
}

// The database holds the file sealed, never its text; another master key
// cannot read it (the preview is then an error, not someone's data).
func TestImportPendingSealed(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		a, b := newReplicaPair(t, backend)
		preview := a.previewPath("alice", "add", sheetFixed)
		db, ok := a.st.(interface{ SQL() *sql.DB })
		if !ok {
			t.Fatalf("%T has no SQL handle", a.st)
		}
		var data []byte
		var fileName string
		if err := db.SQL().QueryRow("SELECT data, file_name FROM pending_imports").Scan(&data, &fileName); err != nil {
			t.Fatal(err)
		}
		if fileName != "personnes.csv" || len(data) == 0 {
			t.Fatalf("stored %q, %d bytes", fileName, len(data))
		}
		for _, plain := range []string{"elodie@lebeta.example", "Lefèvre", "Courriel"} {
			if bytes.Contains(data, []byte(plain)) {
				t.Fatalf("the stored file shows %q", plain)
			}
		}
		other, err := web.ImportBox(bytes.Repeat([]byte{8}, 32))
		if err != nil {
			t.Fatal(err)
		}
		b.pages.PendingBox = other
		mux := http.NewServeMux()
		b.pages.Mount(mux)
		b.srv.Config.Handler = mux
		r := b.getAs("alice", preview)
		mustStatus(t, r, http.StatusInternalServerError)
		mustNotContain(t, r, "elodie@lebeta.example")
	})
}

// Confirmations of one preview sent at once to both replicas: one applies
// it, the others find nothing.
func TestImportAcrossReplicasConcurrentConfirm(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		a, b := newReplicaPair(t, backend)
		preview := a.previewPath("alice", "add", sheetFixed)
		const n = 4
		statuses := make(chan int, n)
		for i := range n {
			srv := []*importEnv{a, b}[i%2].srv
			go func() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+preview+"/confirm", strings.NewReader(""))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "alice"})
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		got := map[int]int{}
		for range n {
			got[<-statuses]++
		}
		if got[http.StatusOK] != 1 || got[http.StatusNotFound] != n-1 {
			t.Errorf("statuses of %d confirmations: %v", n, got)
		}
		if ims := a.imports(); len(ims) != 1 || len(a.people()) != 3 {
			t.Errorf("%d import records, %d people", len(ims), len(a.people()))
		}
	})
}
