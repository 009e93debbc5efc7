package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/onboarding"
)

func TestCLIUserResendReset(t *testing.T) {
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
	people := map[string]*store.Person{}
	for _, p := range []store.Person{
		{Username: "alice.martin", Email: "alice@example.org", State: store.StateInvited},
		{Username: "bruno.roy", Email: "bruno@example.org", State: store.StateActive, PasswordHash: "$argon2id$x"},
		{Username: "carla.gris", Email: "carla@example.org", State: store.StateDisabled},
	} {
		if err := db.CreatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := db.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: s.ID}); err != nil {
			t.Fatal(err)
		}
		people[p.Username] = &p
	}
	db.Close()

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "resend", "ALICE@example.org"}, 0, "activation link for alice.martin is on its way"},
		{[]string{"user", "resend", "alice.martin"}, 0, "activation link for alice.martin"},
		{[]string{"user", "resend", "bruno.roy"}, 1, `sesame user reset bruno.roy`},
		{[]string{"user", "reset", "bruno@example.org"}, 0, "password reset link for bruno.roy"},
		{[]string{"user", "reset", "alice.martin"}, 1, `sesame user resend alice.martin`},
		{[]string{"user", "reset", "carla.gris"}, 1, "disabled"},
		{[]string{"user", "resend", "carla@example.org"}, 1, "disabled"},
		{[]string{"user", "reset", "nobody@example.org"}, 1, "no person"},
		{[]string{"user", "resend"}, 2, ""},
		{[]string{"user", "reset", "a", "b"}, 2, ""},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d, out %q, err %q; want %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}

	db = open()
	defer db.Close()
	master, err := config.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := &onboarding.Tokens{Key: onboarding.TokenKey(master)}
	links := func(kind, personID string) []string {
		js, err := db.ListJobs(ctx, store.JobFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, j := range js {
			var m jobs.TokenMail
			if err := json.Unmarshal(j.Payload, &m); err != nil {
				t.Fatal(err)
			}
			if m.PersonID == personID {
				secrets = append(secrets, tokens.Secret(m.Nonce))
			}
		}
		return secrets
	}
	alice := links(jobs.KindMailActivate, people["alice.martin"].ID)
	bruno := links(jobs.KindMailReset, people["bruno.roy"].ID)
	if len(alice) != 2 || len(bruno) != 1 {
		t.Fatalf("links: alice %d, bruno %d", len(alice), len(bruno))
	}
	if n := len(links(jobs.KindMailActivate, people["carla.gris"].ID)) + len(links(jobs.KindMailReset, people["carla.gris"].ID)); n != 0 {
		t.Fatalf("%d links for a disabled person", n)
	}
	// Nothing secret was printed, and only the newest link works.
	code, out, errOut := runCLI(t, "user", "resend", "alice.martin")
	if code != 0 {
		t.Fatal(errOut)
	}
	alice = links(jobs.KindMailActivate, people["alice.martin"].ID)
	for _, secret := range alice {
		if strings.Contains(out+errOut, secret) {
			t.Fatal("the link's secret was printed")
		}
	}
	for i, secret := range alice {
		_, err := db.ConsumeToken(ctx, onboarding.Hash(secret), store.PurposeActivate, time.Now())
		if (err == nil) != (i == len(alice)-1) {
			t.Errorf("link %d of %d: consume error %v", i+1, len(alice), err)
		}
	}
	audit, err := db.ListAudit(ctx, store.AuditFilter{Action: "person.link.reset"})
	if err != nil || len(audit) != 1 || !strings.HasPrefix(audit[0].Actor, "cli:") {
		t.Fatalf("audit %+v %v", audit, err)
	}
}
