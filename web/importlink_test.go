package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sesame/internal/manage"
	"sesame/internal/store"
)

// A referent's import cannot take an account that belongs to no structure
// any more (here: its structure removed by the hoster): linked, it would be
// the referent's structure's alone, and its email, password and second
// factor theirs to change — a password reset to an address of their choice
// away from a takeover. The row is refused and names nobody; the preview
// names no account it links (a referent uploading addresses learns that an
// account exists, not its username); the hoster's own import links it.
func TestReferentImportCannotTakeAnAccountOfNoStructure(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	a, b, c := e.structure("alpha"), e.structure("beta"), e.structure("gamma")
	ref := e.person("refa", store.StateActive, false)
	e.member(ref, a, true)
	olga := e.person("olga.secret", store.StateActive, false)
	e.member(olga, b, false)
	stella := e.person("stella.secret", store.StateActive, false)
	e.member(stella, c, false)
	if _, err := (&manage.Manager{Store: e.st}).RemoveStructure(ctx, "admin:root", b.ID); err != nil {
		t.Fatal(err)
	}

	id := e.uploadCSV("alpha", &ref, "email;prénom;nom\nolga.secret@example.org;O;G\nstella.secret@example.org;S;G\n")
	status, _, body := e.do("GET", "/admin/structures/alpha/import/"+id, &ref, nil)
	if status != http.StatusOK || !strings.Contains(body, "seul l&#39;hébergeur peut le rattacher") {
		t.Fatalf("preview: %d\n%s", status, body)
	}
	for _, leak := range []string{"olga.secret<", "stella.secret<", "« olga.secret »", "« stella.secret »"} {
		if strings.Contains(body, leak) {
			i := strings.Index(body, leak)
			t.Errorf("the preview names an account it links: %q in %s", leak, body[max(0, i-300):i+50])
		}
	}
	// Uploads that only probe addresses leave a trace: one per upload,
	// however often its preview is shown again.
	e.do("GET", "/admin/structures/alpha/import/"+id, &ref, nil)
	previews, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "import.preview"})
	if len(previews) != 1 || previews[0].Actor != "referent:refa" && !strings.Contains(previews[0].Actor, "refa") ||
		previews[0].Details["linked"] != float64(1) && previews[0].Details["linked"] != 1 {
		t.Errorf("audit of the preview: %+v", previews)
	}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{"skip_invalid": {"1"}}); status >= 400 {
		t.Fatalf("confirm: %d", status)
	}
	change := url.Values{"given_name": {"Pwned"}, "family_name": {"X"}, "display_name": {""}, "email": {"attacker@evil.example"}}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/people/"+olga.ID, &ref, change); status != http.StatusNotFound {
		t.Errorf("the referent changed the email of the account of no structure: %d", status)
	}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/people/"+stella.ID, &ref, change); status != http.StatusForbidden {
		t.Errorf("the referent changed the email of a person gamma shares: %d", status)
	}
	for _, p := range []store.Person{olga, stella} {
		if got, _ := e.st.GetPerson(ctx, p.ID); got.Email != p.Email {
			t.Errorf("%s's email is now %s", p.Username, got.Email)
		}
	}
	if ms, _ := e.st.ListMemberships(ctx, store.MembershipFilter{PersonID: olga.ID}); len(ms) != 0 {
		t.Errorf("the account of no structure was linked: %+v", ms)
	}

	// The hoster links it from the same page.
	admin := e.person("root", store.StateActive, true)
	id = e.uploadCSV("alpha", &admin, "email;prénom;nom\nolga.secret@example.org;O;G\n")
	_, _, body = e.do("GET", "/admin/structures/alpha/import/"+id, &admin, nil)
	if !strings.Contains(body, "olga.secret") || strings.Contains(body, "seul l&#39;hébergeur") {
		t.Fatalf("the hoster's preview:\n%s", body)
	}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &admin, url.Values{}); status >= 400 {
		t.Fatalf("the hoster's confirm: %d", status)
	}
	if ms, _ := e.st.ListMemberships(ctx, store.MembershipFilter{PersonID: olga.ID, StructureID: a.ID}); len(ms) != 1 {
		t.Errorf("the hoster's import did not link it: %+v", ms)
	}
}

// An invited account (never activated) that belongs to no structure any
// more is refused to a referent's import too. Linked, it was the
// referent's structure's alone: its email theirs to change on the person
// page, which sends the activation link to the new address, where the
// referent sets the password of an account another structure created.
func TestReferentImportCannotTakeAnInvitedAccountOfNoStructure(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	a, b := e.structure("alpha"), e.structure("beta")
	ref := e.person("refa", store.StateActive, false)
	e.member(ref, a, true)
	ivan := e.person("ivan.invited", store.StateInvited, false)
	e.member(ivan, b, false)
	if _, err := (&manage.Manager{Store: e.st}).RemoveStructure(ctx, "admin:root", b.ID); err != nil {
		t.Fatal(err)
	}

	id := e.uploadCSV("alpha", &ref, "email;prénom;nom\nivan.invited@example.org;I;I\n")
	if status, _, body := e.do("GET", "/admin/structures/alpha/import/"+id, &ref, nil); status != http.StatusOK ||
		!strings.Contains(body, "seul l&#39;hébergeur peut le rattacher") {
		t.Errorf("preview: %d\n%s", status, body)
	}
	e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{"skip_invalid": {"1"}})
	change := url.Values{"given_name": {"I"}, "family_name": {"I"}, "display_name": {""}, "email": {"attacker@evil.example"}}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/people/"+ivan.ID, &ref, change); status != http.StatusNotFound {
		t.Errorf("the referent changed the email of the invited account of no structure: %d", status)
	}
	if got, _ := e.st.GetPerson(ctx, ivan.ID); got.Email != ivan.Email || got.PasswordHash != "" {
		t.Errorf("the invited account is now %+v", got)
	}
	if ms, _ := e.st.ListMemberships(ctx, store.MembershipFilter{PersonID: ivan.ID}); len(ms) != 0 {
		t.Errorf("the invited account of no structure was linked: %+v", ms)
	}
}

// A structure's referent re-adds the member its own sync took out (its
// former member, in no structure since): the preview says so and names
// them, and the confirmed import links them again, enabled.
func TestReferentImportReaddsFormerMember(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ctx := context.Background()
	a := e.structure("alpha")
	ref := e.person("refa", store.StateActive, false)
	e.member(ref, a, true)
	olga := e.person("olga.former", store.StateActive, false)
	e.member(olga, a, false)
	// What a sync that left her out does.
	if _, err := e.st.UpdatePerson(ctx, olga.ID, func(x *store.Person) error { x.State = store.StateDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteMembership(ctx, olga.ID, a.ID); err != nil {
		t.Fatal(err)
	}

	id := e.uploadCSV("alpha", &ref, "email;prénom;nom\nolga.former@example.org;O;F\n")
	status, _, body := e.do("GET", "/admin/structures/alpha/import/"+id, &ref, nil)
	if status != http.StatusOK || !strings.Contains(body, "était membre de la structure") || !strings.Contains(body, "olga.former") ||
		strings.Contains(body, "seul l&#39;hébergeur") {
		t.Fatalf("preview: %d\n%s", status, body)
	}
	if status, _, _ := e.do("POST", "/admin/structures/alpha/import/"+id+"/confirm", &ref, url.Values{}); status >= 400 {
		t.Fatalf("confirm: %d", status)
	}
	if got, _ := e.st.GetPerson(ctx, olga.ID); got.State != store.StateActive || got.PasswordHash != olga.PasswordHash {
		t.Errorf("re-added: %s", got.State)
	}
	if ms, _ := e.st.ListMemberships(ctx, store.MembershipFilter{PersonID: olga.ID, StructureID: a.ID}); len(ms) != 1 {
		t.Errorf("not linked again: %+v", ms)
	}
}
