package idp

import (
	"context"
	"crypto/sha256"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sesame/internal/mfa"
	"sesame/internal/store"
)

// TestRecoveryCodesNotCheckableOffline: what the store keeps of a
// recovery code must not let someone holding a copy of the database (a
// backup, a replica) check guesses offline, without the master key. The
// TOTP secrets are sealed under the master key for that very reason; a
// recovery code passes the second step just as well. A plain SHA-256 of
// the code, the same for every person, is checked at GPU speed against
// every code of every person at once (31^12 ~ 2^59.5 codes, 10 per
// person).
func TestRecoveryCodesNotCheckableOffline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A referent: walked through enrolment at sign-in, ten codes shown.
	if err := f.st.PutMembership(ctx, store.Membership{PersonID: f.alice.ID, StructureID: f.structure.ID, Referent: true}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	res := b.signIn("alice.martin")
	if !res.isEnrolment() {
		t.Fatalf("enrolment page: %d %.300s", res.status, res.body)
	}
	done, _ := b.enrol(res)
	codes := regexp.MustCompile(`<li><code>([a-z0-9-]{14})</code></li>`).FindAllStringSubmatch(done.body, -1)
	if len(codes) != 10 {
		t.Fatalf("recovery codes: %d", len(codes))
	}
	// An offline guess: the unkeyed SHA-256 of the normalised code. If
	// the stored row matches it, the database alone verifies guesses.
	guess := sha256.Sum256([]byte(strings.ReplaceAll(codes[0][1], "-", "")))
	if err := f.st.UseRecoveryCode(ctx, f.alice.ID, guess[:], f.clock.Now()); err == nil {
		t.Fatalf("the stored recovery code is the plain SHA-256 of the code: checkable offline without the master key")
	}
	// The codes still work at login.
	b2 := f.browser()
	if res := b2.signIn("alice.martin"); !res.isSecondStep() {
		t.Fatalf("second step: %d %.300s", res.status, res.body)
	}
	b2.second(codes[1][1]) // on to /account, not mounted here
	if auth := f.p.SessionAuth(mustRequest(t, b2, f.issuer)); !slices.Contains(auth.AMR, "mfa") {
		t.Fatalf("a recovery code at login: session amr %v", auth.AMR)
	}
}

// Codes stored before the hashes were keyed (the unkeyed SHA-256) still
// open the second step once each, until the person renews them.
func TestUnkeyedRecoveryCodesStillWork(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.enrolTOTP(f.alice)
	codes, hashes := mfa.NewRecoveryCodes()
	if err := f.st.SetRecoveryCodes(ctx, f.alice.ID, hashes, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for try := range 2 {
		b := f.browser()
		if res := b.signIn("alice.martin"); !res.isSecondStep() {
			t.Fatalf("second step: %d %.300s", res.status, res.body)
		}
		b.second(codes[0])
		auth := f.p.SessionAuth(mustRequest(t, b, f.issuer))
		if got := slices.Contains(auth.AMR, "mfa"); got != (try == 0) {
			t.Fatalf("an unkeyed code, use %d: session amr %v", try+1, auth.AMR)
		}
	}
}
