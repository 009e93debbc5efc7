package idp

import (
	"context"
	"strings"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/password"
	"sesame/internal/store"
)

// A login with a hash made under older (weaker) parameters stores a fresh
// hash with the current ones and queues the directory update; a current
// hash is left alone.
func TestLoginUpgradesOldPasswordHash(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	old := password.NewHasher(password.Params{Memory: 512, Time: 1, Threads: 1}, 2)
	oldHash, err := old.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error { p.PasswordHash = oldHash; return nil }); err != nil {
		t.Fatal(err)
	}
	ldapJobs := func() int {
		js, err := f.st.ListJobs(ctx, store.JobFilter{Kind: jobs.KindLDAPPerson})
		if err != nil {
			t.Fatal(err)
		}
		return len(js)
	}

	b := f.loggedIn()
	got, err := f.st.GetPerson(ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash == oldHash || !strings.Contains(got.PasswordHash, "m=1024,t=1,p=1") || f.hasher.NeedsRehash(got.PasswordHash) {
		t.Fatalf("after the login the hash is %q; want the current parameters", got.PasswordHash)
	}
	if ok, err := f.hasher.Verify(ctx, got.PasswordHash, testPassword); !ok || err != nil {
		t.Fatalf("the upgraded hash does not verify the password: %v", err)
	}
	if n := ldapJobs(); n != 1 {
		t.Fatalf("%d directory jobs after the upgrade, want 1", n)
	}

	// The next login finds a current hash: nothing is written.
	b.get(f.authURL(authParams(f.gen.ClientID, genRedirect, "prompt", "login")))
	f.loggedIn()
	again, _ := f.st.GetPerson(ctx, f.alice.ID)
	if again.PasswordHash != got.PasswordHash || ldapJobs() != 1 {
		t.Errorf("a login with a current hash rewrote it or queued a job")
	}
}
