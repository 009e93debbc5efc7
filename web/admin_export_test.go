package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestAdminExport: the board links to the export; the file is the
// command line's spreadsheet (byte order mark, ";", a hostile name
// neutralised), an attachment, and its taking is in the audit log.
func TestAdminExport(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	ref := e.person("ref", store.StateActive, false)
	s := e.structure("le-beta")
	e.member(ref, s, true)
	evil := store.Person{Username: "evil", Email: "evil@example.org", GivenName: `=cmd|' /C calc'!A0`, FamilyName: "Dupont",
		Language: "fr", State: store.StateInvited}
	e.must(e.st.CreatePerson(ctx, &evil))
	e.member(evil, s, false)
	svc := e.service(s, "cloud", "Nuage")
	e.must(e.st.PutGrant(ctx, store.Grant{PersonID: evil.ID, ServiceID: svc.ID, Role: "user"}))

	base := "/admin/structures/le-beta"
	if _, _, body := e.do("GET", base, &ref, nil); !strings.Contains(body, `href="`+base+`/export.csv?lang=fr"`) {
		t.Errorf("the board has no export link:\n%s", body)
	}
	req, err := http.NewRequest("GET", e.srv.URL+base+"/export.csv", nil)
	e.must(err)
	req.AddCookie(&http.Cookie{Name: testCookie, Value: ref.ID})
	resp, err := http.DefaultClient.Do(req)
	e.must(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d\n%s", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, `le-beta-`) {
		t.Errorf("Content-Disposition: %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type: %q", ct)
	}
	if !strings.HasPrefix(body, "\ufeff") {
		t.Errorf("no byte order mark: %q", body[:min(len(body), 20)])
	}
	header, _, _ := strings.Cut(body, "\r\n")
	if strings.Count(header, ";") < 7 || !strings.Contains(header, ";Courriel;") {
		t.Errorf("header: %q", header)
	}
	if !strings.Contains(body, `'=cmd|' /C calc'!A0`) || strings.Contains(body, `;=cmd`) || strings.Contains(body, "\ufeff=cmd") {
		t.Errorf("the hostile name is not neutralised:\n%s", body)
	}
	if !strings.Contains(body, "cloud:user") {
		t.Errorf("rights missing:\n%s", body)
	}
	es, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "structure.export"})
	if len(es) != 1 || es[0].Actor != "referent:ref" || es[0].IP != "127.0.0.1" || es[0].StructureID != s.ID {
		t.Errorf("audit: %+v", es)
	}
}
