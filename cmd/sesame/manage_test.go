package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
)

// TestCLIManage runs the admin, referent, structure, service and user
// verbs against a SQLite store and checks what each left in it.
func TestCLIManage(t *testing.T) {
	clearConfigEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SESAME_DATA_DIR", dir)
	if code, _, errOut := runCLI(t, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	ctx := context.Background()
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, filepath.Join(dir, "sesame.db"), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := db.CreateStructure(ctx, &s); err != nil {
		t.Fatal(err)
	}
	svc := store.Service{StructureID: s.ID, Kind: store.KindNextcloud, Slug: "nextcloud", Name: "Nextcloud", ClientID: "le-beta-nextcloud"}
	if err := db.CreateService(ctx, &svc); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"admin", "add", "root@hoster.example"}, 0, "root (root@hoster.example) was created as a hoster admin. An activation link is on its way"},
		{[]string{"admin", "add", "root@hoster.example"}, 0, "is now a hoster admin"},
		{[]string{"admin", "add", "not-an-address"}, 2, "not an email address"},
		{[]string{"admin", "list"}, 0, "root@hoster.example"},
		{[]string{"admin", "remove", "root@hoster.example"}, 1, "last hoster admin"},
		{[]string{"structure", "referent", "add", "le-beta", "camille@lebeta.example"}, 0, "is now a referent of le-beta"},
		{[]string{"structure", "referent", "add", "nope", "camille@lebeta.example"}, 2, "no structure"},
		{[]string{"structure", "referent", "remove", "le-beta", "camille@lebeta.example"}, 0, "no longer a referent"},
		{[]string{"structure", "update", "le-beta", "--name", "Le Bêta 2", "--contact", "bureau@lebeta.example"}, 0, `name "Le Bêta 2", contact bureau@lebeta.example`},
		{[]string{"structure", "update", "le-beta"}, 2, "give --name or --contact"},
		{[]string{"user", "update", "camille@lebeta.example", "--given-name", "=cmd|' /C calc'!A0", "--family-name", "Roy"}, 0, "=cmd|' /C calc'!A0 Roy"},
		{[]string{"user", "update", "camille@lebeta.example", "--email", "root@hoster.example"}, 1, "conflict"},
		{[]string{"user", "update", "camille@lebeta.example"}, 2, "give at least one"},
		{[]string{"user", "delete", "camille@lebeta.example", "--yes"}, 1, "not disabled"},
		{[]string{"user", "delete", "camille@lebeta.example"}, 2, "--yes"},
		{[]string{"user", "disable", "camille@lebeta.example"}, 0, "is disabled"},
		{[]string{"user", "enable", "camille"}, 0, "is invited"},
		{[]string{"user", "mfa", "reset", "camille"}, 0, "has no second factor: nothing to reset"},
		{[]string{"user", "disable", "nobody@example.org"}, 1, "no person"},
		{[]string{"user", "disable", "camille"}, 0, "is disabled"},
		{[]string{"user", "delete", "camille", "--yes"}, 0, "was deleted"},
		{[]string{"service", "update", "le-beta", "nextcloud"}, 2, "give --url, --name or --require-mfa"},
		{[]string{"service", "update", "le-beta", "nextcloud", "--url", "ftp://nuage.example"}, 2, "http(s)"},
		{[]string{"service", "update", "le-beta", "nextcloud", "--name", " "}, 2, "--name cannot be empty"},
		{[]string{"service", "update", "le-beta", "nope", "--name", "Nuage"}, 2, "no service"},
		{[]string{"service", "update", "le-beta", "nextcloud", "--url", "https://nuage.lebeta.example/", "--name", "Nuage du Bêta"}, 0,
			`le-beta/nextcloud: name "Nuage du Bêta", address https://nuage.lebeta.example, client le-beta-nextcloud, two factors required: no`},
		{[]string{"service", "update", "le-beta", "nextcloud", "--require-mfa"}, 0, "two factors required: yes"},
		{[]string{"user", "mfa", "reset", "camille"}, 1, "no person"},
		{[]string{"service", "remove", "le-beta", "nextcloud"}, 2, "--yes"},
		{[]string{"service", "remove", "le-beta", "nextcloud", "--yes"}, 0, "client le-beta-nextcloud no longer works"},
		{[]string{"structure", "remove", "le-beta"}, 2, "--yes"},
		{[]string{"structure", "remove", "le-beta", "--yes"}, 0, "was removed"},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d, out %q, err %q; want %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}

	db = open()
	defer db.Close()
	root, err := db.GetPersonByEmail(ctx, "root@hoster.example")
	if err != nil || !root.Admin {
		t.Fatalf("root = %+v, %v", root, err)
	}
	if _, err := db.GetPersonByUsername(ctx, "camille"); err == nil {
		t.Fatal("camille was not deleted")
	}
	if _, err := db.GetStructureBySlug(ctx, "le-beta"); err == nil {
		t.Fatal("le-beta was not removed")
	}
	es, _ := db.ListAudit(ctx, store.AuditFilter{})
	actions := map[string]bool{}
	for _, e := range es {
		actions[e.Action] = true
	}
	for _, a := range []string{"admin.add", "referent.add", "referent.remove", "structure.update", "person.update",
		"person.disable", "person.enable", "person.delete", "service.update", "service.remove", "structure.remove"} {
		if !actions[a] {
			t.Errorf("no audit entry %s", a)
		}
	}
}
