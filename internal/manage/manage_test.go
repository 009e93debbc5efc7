package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/onboarding"
)

func open(t *testing.T, backend string) store.Store {
	t.Helper()
	ctx := context.Background()
	var db interface {
		store.Store
		Migrate(context.Context) error
	}
	if backend == "postgres" {
		pg, err := postgres.Open(ctx, testenv.Postgres(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		db = pg
	} else {
		lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		db = lite
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func jobKinds(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	js, err := st.ListJobs(context.Background(), store.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, j := range js {
		out[j.Kind]++
	}
	return out
}

func TestManage(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testManage(t, backend) })
	}
}

func testManage(t *testing.T, backend string) {
	ctx := context.Background()
	st := open(t, backend)
	m := &manage.Manager{Store: st, Links: &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-key")}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// admin add creates an invited person and sends a link.
	inv, err := m.AddAdmin(ctx, "cli:test", "Root@Hoster.example")
	must(err)
	if !inv.Created || !inv.Linked || !inv.Person.Admin || inv.Person.Username != "root" {
		t.Fatalf("admin add = %+v", inv)
	}
	if k := jobKinds(t, st); k[jobs.KindMailActivate] != 1 {
		t.Fatalf("jobs after admin add: %v", k)
	}
	if _, err := m.AddAdmin(ctx, "cli:test", "not an address"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad email: %v", err)
	}
	if _, err := m.RemoveAdmin(ctx, "cli:test", "root@hoster.example"); !errors.Is(err, manage.ErrLastAdmin) {
		t.Fatalf("remove last admin: %v", err)
	}
	_, err = m.AddAdmin(ctx, "cli:test", "second@hoster.example")
	must(err)
	admins, err := m.ListAdmins(ctx)
	must(err)
	if len(admins) != 2 {
		t.Fatalf("admins = %+v", admins)
	}
	p, err := m.RemoveAdmin(ctx, "cli:test", "second@hoster.example")
	must(err)
	if p.Admin {
		t.Fatal("admin flag kept")
	}

	// referents
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	must(st.CreateStructure(ctx, &s))
	svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "cloud", Name: "Cloud", ClientID: "c1"}
	must(st.CreateService(ctx, &svc))
	inv, err = m.AddReferent(ctx, "cli:test", s.ID, "ref@lebeta.example")
	must(err)
	ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: inv.Person.ID})
	if len(ms) != 1 || !ms[0].Referent {
		t.Fatalf("referent membership = %+v", ms)
	}
	_, err = m.RemoveReferent(ctx, "cli:test", s.ID, "ref@lebeta.example")
	must(err)
	ms, _ = st.ListMemberships(ctx, store.MembershipFilter{PersonID: inv.Person.ID})
	if len(ms) != 1 || ms[0].Referent {
		t.Fatalf("after referent remove = %+v", ms)
	}
	ref := inv.Person
	must(st.PutGrant(ctx, store.Grant{PersonID: ref.ID, ServiceID: svc.ID, Role: "user"}))

	// update, disable, enable, delete
	name := "=cmd|' /C calc'!A0"
	up, err := m.UpdatePerson(ctx, "cli:test", ref.ID, manage.PersonChange{GivenName: &name})
	must(err)
	if up.GivenName != name {
		t.Fatalf("given name = %q", up.GivenName)
	}
	taken := "root@hoster.example"
	if _, err := m.UpdatePerson(ctx, "cli:test", ref.ID, manage.PersonChange{Email: &taken}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken email: %v", err)
	}
	if _, err := m.Delete(ctx, "cli:test", ref.ID); !errors.Is(err, manage.ErrNotDisabled) {
		t.Fatalf("delete an invited person: %v", err)
	}
	before := jobKinds(t, st)[jobs.KindOIDCEndSessions]
	d, err := m.Disable(ctx, "cli:test", ref.ID)
	must(err)
	if d.State != store.StateDisabled || jobKinds(t, st)[jobs.KindOIDCEndSessions] != before+1 {
		t.Fatalf("disable: %+v %v", d, jobKinds(t, st))
	}
	if _, err := m.Resend(ctx, "cli:test", ref.ID, ""); !errors.Is(err, manage.ErrNotInvited) {
		t.Fatalf("resend to a disabled person: %v", err)
	}
	en, err := m.Enable(ctx, "cli:test", ref.ID)
	must(err)
	if en.State != store.StateInvited {
		t.Fatalf("enable without password = %s", en.State)
	}
	exp, err := m.Resend(ctx, "cli:test", ref.ID, s.ID)
	must(err)
	if exp.IsZero() {
		t.Fatal("no expiry")
	}
	n, err := m.ResendPending(ctx, "cli:test", s.ID, nil)
	must(err)
	if n != 1 {
		t.Fatalf("resend pending = %d", n)
	}
	_, err = m.Disable(ctx, "cli:test", ref.ID)
	must(err)
	_, err = m.Delete(ctx, "cli:test", ref.ID)
	must(err)
	if _, err := st.GetPerson(ctx, ref.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted person: %v", err)
	}
	es, _ := st.ListAudit(ctx, store.AuditFilter{Action: "person.delete"})
	if len(es) != 1 || es[0].Actor != "cli:test" {
		t.Fatalf("audit of delete = %+v", es)
	}
	// A directory job that needs no store empties the entry, whatever ran
	// before (the disable's job may not have).
	js, _ := st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindLDAPPerson})
	goneJobs := 0
	for _, j := range js {
		var pr jobs.PersonRef
		if json.Unmarshal(j.Payload, &pr) == nil && pr.Gone != nil {
			if pr.PersonID != ref.ID || pr.Gone.Username != ref.Username || pr.Gone.Email != ref.Email {
				t.Errorf("the deletion's directory job: %s", j.Payload)
			}
			goneJobs++
		}
	}
	if goneJobs != 1 {
		t.Errorf("%d directory jobs for the deleted person's entry, want 1", goneJobs)
	}

	// structure update, service and structure removal
	newName, contact := "Le Bêta <b>", "bureau@lebeta.example"
	s2, err := m.UpdateStructure(ctx, "cli:test", s.ID, manage.StructureChange{Name: &newName, Contact: &contact})
	must(err)
	if s2.Name != newName || s2.Contact != contact {
		t.Fatalf("structure update = %+v", s2)
	}
	_, err = m.RemoveService(ctx, "cli:test", svc.ID)
	must(err)
	if _, err := st.GetServiceByClientID(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client of a removed service: %v", err)
	}
	_, err = m.RemoveStructure(ctx, "cli:test", s.ID)
	must(err)
	if _, err := st.GetStructure(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed structure: %v", err)
	}
}

// TestSyncImportKeepsAdmins: a hoster admin who leaves their last
// structure in a sync import keeps their account.
func TestSyncImportKeepsAdmins(t *testing.T) {
	ctx := context.Background()
	st := open(t, "sqlite")
	tokens := &onboarding.Tokens{Key: []byte("0123456789abcdef0123456789abcdef-key")}
	s := store.Structure{Slug: "s", Name: "S"}
	if err := st.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	im := &onboarding.Importer{Store: st, Tokens: tokens, Now: func() time.Time { return time.Now() }}
	csv := []byte("email;prénom;nom\nadmin@x.example;Ada;Min\nmember@x.example;Mem;Ber\n")
	if _, err := im.Import(ctx, onboarding.Request{Structure: "s", Data: csv, Actor: "cli:test"}); err != nil {
		t.Fatal(err)
	}
	m := &manage.Manager{Store: st, Links: tokens}
	if _, err := m.AddAdmin(ctx, "cli:test", "admin@x.example"); err != nil {
		t.Fatal(err)
	}
	res, err := im.Import(ctx, onboarding.Request{Structure: "s", Data: []byte("email\nother@x.example\n"),
		Mode: store.ModeSync, Actor: "cli:test", SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != onboarding.StatusApplied {
		t.Fatalf("status %s", res.Status)
	}
	a, _ := st.GetPersonByEmail(ctx, "admin@x.example")
	b, _ := st.GetPersonByEmail(ctx, "member@x.example")
	if a.State == store.StateDisabled || b.State != store.StateDisabled {
		t.Fatalf("after sync: admin %s, member %s", a.State, b.State)
	}
	if ms, _ := st.ListMemberships(ctx, store.MembershipFilter{PersonID: a.ID}); len(ms) != 0 {
		t.Fatalf("the admin's membership should end: %+v", ms)
	}
}

// TestServices: a service gets its kind's client defaults, a free slug and
// the client id STRUCTURE.SLUG; a new address moves only the registered
// addresses under the old one.
func TestServices(t *testing.T) {
	ctx := context.Background()
	st := open(t, "sqlite")
	m := &manage.Manager{Store: st, ClientSecretHash: func(s string) string { return "hash:" + s }}
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := st.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	a, secret, err := m.AddService(ctx, "cli:test", s.ID, manage.NewService{Kind: "nextcloud", Name: "Nuage", BaseURL: "https://cloud.example/"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Slug != "nextcloud" || a.ClientID != "le-beta.nextcloud" || a.ClientSecretHash != "hash:"+secret || len(secret) != 43 ||
		a.BaseURL != "https://cloud.example" || len(a.RedirectURIs) == 0 || a.DefaultRole == "" {
		t.Fatalf("first service: %+v", a)
	}
	b, _, err := m.AddService(ctx, "cli:test", s.ID, manage.NewService{Kind: "nextcloud", Name: "Archives", BaseURL: "https://archives.example"})
	if err != nil || b.Slug != "archives" || b.ClientID != "le-beta.archives" {
		t.Fatalf("second service of the kind: %+v %v", b, err)
	}
	// "Nextcloud Admin" beside "nextcloud" may not be nextcloud-admin, the
	// first one's admin role group in the directory; nor "Nextcloud" again
	// (nextcloud2 is fine: no dash).
	c, _, err := m.AddService(ctx, "cli:test", s.ID, manage.NewService{Kind: "nextcloud", Name: "Nextcloud Admin", BaseURL: "https://c.example"})
	if err != nil || c.Slug != "nextcloudadmin" {
		t.Fatalf("a service named after another's role group: %+v %v", c, err)
	}
	d, _, err := m.AddService(ctx, "cli:test", s.ID, manage.NewService{Kind: "nextcloud", Name: "Nextcloud", BaseURL: "https://d.example"})
	if err != nil || d.Slug != "nextcloud2" {
		t.Fatalf("a second Nextcloud named Nextcloud: %+v %v", d, err)
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{{"nextcloud", "nextcloud-admin", true}, {"site-ecole", "site", true}, {"a", "a", true},
		{"nextcloud", "nextcloud2", false}, {"site", "siteweb", false}, {"compta", "nextcloud", false}} {
		if got := store.ServiceSlugsClash(c.a, c.b); got != c.want {
			t.Errorf("ServiceSlugsClash(%q, %q) = %v", c.a, c.b, got)
		}
	}
	// A generic client has no redirect address of its own: the one given,
	// on the service's site.
	g, _, err := m.AddService(ctx, "cli:test", s.ID, manage.NewService{Kind: "generic", Name: "Appli", BaseURL: "https://appli.example",
		RedirectURI: " https://appli.example/auth/callback?x=1 "})
	if err != nil || len(g.RedirectURIs) != 1 || g.RedirectURIs[0] != "https://appli.example/auth/callback?x=1" {
		t.Fatalf("generic service with a redirect address: %+v %v", g, err)
	}
	for _, bad := range []manage.NewService{{Kind: "nope", Name: "x", BaseURL: "https://x.example"},
		{Kind: "generic", Name: "", BaseURL: "https://x.example"}, {Kind: "generic", Name: "x", BaseURL: "javascript:alert(1)"},
		{Kind: "paheko", Name: "Compta", BaseURL: "https://compta.example"},
		{Kind: "generic", Name: "x", BaseURL: "https://x.example", RedirectURI: "https://evil.example/cb"},
		{Kind: "generic", Name: "x", BaseURL: "https://x.example", RedirectURI: "http://x.example/cb"},
		{Kind: "generic", Name: "x", BaseURL: "https://x.example", RedirectURI: "https://x.example/cb#frag"},
		{Kind: "generic", Name: "x", BaseURL: "https://x.example", RedirectURI: "https://u@x.example/cb"},
		{Kind: "generic", Name: "x", BaseURL: "https://x.example", RedirectURI: "/cb"}} {
		if _, _, err := m.AddService(ctx, "cli:test", s.ID, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	_, err = st.UpdateService(ctx, a.ID, func(x *store.Service) error {
		x.RedirectURIs = append(x.RedirectURIs, "https://elsewhere.example/cb")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := m.ChangeServiceURL(ctx, "cli:test", a.ID, "https://nuage.example")
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range moved.RedirectURIs[:len(moved.RedirectURIs)-1] {
		if !strings.HasPrefix(u, "https://nuage.example/") {
			t.Errorf("redirect %d not moved: %s", i, u)
		}
	}
	if last := moved.RedirectURIs[len(moved.RedirectURIs)-1]; last != "https://elsewhere.example/cb" {
		t.Errorf("another site's address moved: %s", last)
	}

	// Renaming keeps the slug and client id, refuses an empty name and
	// another service's name or slug.
	renamed, err := m.RenameService(ctx, "cli:test", a.ID, "  Nuage   du Bêta ")
	if err != nil || renamed.Name != "Nuage du Bêta" || renamed.Slug != "nextcloud" || renamed.ClientID != "le-beta.nextcloud" {
		t.Fatalf("rename: %+v %v", renamed, err)
	}
	for _, bad := range []string{"ARCHIVES", "archives", "Archives"} {
		if _, err := m.RenameService(ctx, "cli:test", a.ID, bad); !errors.Is(err, store.ErrConflict) {
			t.Errorf("rename to %q: %v", bad, err)
		}
	}
	if _, err := m.RenameService(ctx, "cli:test", a.ID, " "); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
	// Both changes at once are one transaction: a refused name leaves the
	// address as it was.
	newURL, taken := "https://ailleurs.example", "Archives"
	if _, err := m.UpdateService(ctx, "cli:test", a.ID, manage.ServiceChange{URL: &newURL, Name: &taken}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("address and a taken name: %v", err)
	}
	if got, err := st.GetService(ctx, a.ID); err != nil || got.BaseURL != "https://nuage.example" {
		t.Errorf("a refused update moved the service: %q %v", got.BaseURL, err)
	}
	es, err := st.ListAudit(ctx, store.AuditFilter{Action: "service.update"})
	if err != nil || len(es) != 2 || es[0].Details["name"] != "Nuage du Bêta" {
		t.Errorf("audit of the rename: %+v %v", es, err)
	}
}
