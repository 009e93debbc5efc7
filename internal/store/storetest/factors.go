package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sesame/internal/store"
)

// factorTests cover the second factors, the recovery codes and the fields
// that say when a second factor is asked and how a person logged in.
var factorTests = []struct {
	name string
	fn   func(*env)
}{
	{"MFAFields", testMFAFields},
	{"MFAOIDCFields", testMFAOIDCFields},
	{"ServiceReferentAddress", testServiceReferentAddress},
	{"SecondFactors", testSecondFactors},
	{"SecondFactorUseConcurrent", testSecondFactorUseConcurrent},
	{"RecoveryCodes", testRecoveryCodes},
	{"RecoveryCodeUseConcurrent", testRecoveryCodeUseConcurrent},
	{"SecondFactorsReset", testSecondFactorsReset},
	{"SecondFactorsGoWithPerson", testSecondFactorsGoWithPerson},
}

// testServiceReferentAddress: whether a service's address was given by a
// referent survives creation, update, listing and lookup by client id,
// and stays as it is when another field changes.
func testServiceReferentAddress(e *env) {
	s := store.Structure{Slug: "a"}
	e.ok(e.st.CreateStructure(e.ctx, &s), "create structure")
	svc := store.Service{StructureID: s.ID, Kind: store.KindGeneric, Slug: "wiki", ClientID: "wiki",
		BaseURL: "https://wiki.example", ReferentAddress: true}
	e.ok(e.st.CreateService(e.ctx, &svc), "create service")
	other := store.Service{StructureID: s.ID, Kind: store.KindGeneric, Slug: "blog", ClientID: "blog"}
	e.ok(e.st.CreateService(e.ctx, &other), "create service")
	if got, _ := e.st.GetService(e.ctx, svc.ID); !got.ReferentAddress {
		e.t.Fatalf("service = %+v", got)
	}
	if got, _ := e.st.GetService(e.ctx, other.ID); got.ReferentAddress {
		e.t.Fatalf("other service = %+v", got)
	}
	_, err := e.st.UpdateService(e.ctx, svc.ID, func(x *store.Service) error { x.Name = "Wiki"; return nil })
	e.ok(err, "rename")
	if got, _ := e.st.GetServiceByClientID(e.ctx, "wiki"); !got.ReferentAddress || got.Name != "Wiki" {
		e.t.Fatalf("service after rename = %+v", got)
	}
	up, err := e.st.UpdateService(e.ctx, svc.ID, func(x *store.Service) error { x.ReferentAddress = false; return nil })
	e.ok(err, "update service")
	list, err := e.st.ListServices(e.ctx, s.ID)
	e.ok(err, "list services")
	for _, x := range list {
		if x.ReferentAddress {
			e.t.Fatalf("listed service %s still marked (update returned %+v)", x.Slug, up)
		}
	}
}

// testMFAFields: a structure's policy (checked), a service's requirement
// and a person's grace period survive creation and update.
func testMFAFields(e *env) {
	s := store.Structure{Slug: "a", MFAPolicy: store.MFARequired}
	e.ok(e.st.CreateStructure(e.ctx, &s), "create structure")
	if got, _ := e.st.GetStructure(e.ctx, s.ID); got != s {
		e.t.Fatalf("structure = %+v, want %+v", got, s)
	}
	e.is(e.st.CreateStructure(e.ctx, &store.Structure{Slug: "b", MFAPolicy: "sometimes"}), store.ErrInvalid, "unknown policy")
	up, err := e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error { x.MFAPolicy = store.MFAOff; return nil })
	e.ok(err, "update policy")
	if got, _ := e.st.GetStructure(e.ctx, s.ID); got != up || got.MFAPolicy != store.MFAOff {
		e.t.Fatalf("structure after update = %+v", got)
	}
	_, err = e.st.UpdateStructure(e.ctx, s.ID, func(x *store.Structure) error { x.MFAPolicy = "sometimes"; return nil })
	e.is(err, store.ErrInvalid, "update to an unknown policy")

	svc := store.Service{StructureID: s.ID, Kind: store.KindGeneric, Slug: "wiki", ClientID: "wiki", RequireMFA: true}
	e.ok(e.st.CreateService(e.ctx, &svc), "create service")
	if got, _ := e.st.GetService(e.ctx, svc.ID); !got.RequireMFA {
		e.t.Fatalf("service = %+v", got)
	}
	_, err = e.st.UpdateService(e.ctx, svc.ID, func(x *store.Service) error { x.RequireMFA = false; return nil })
	e.ok(err, "update service")
	if got, _ := e.st.GetService(e.ctx, svc.ID); got.RequireMFA {
		e.t.Fatalf("service after update = %+v", got)
	}

	grace := e.clock.Now().Add(7 * 24 * time.Hour) // kept to the microsecond
	p := store.Person{Username: "p", Email: "p@example.org", MFAGraceUntil: grace}
	e.ok(e.st.CreatePerson(e.ctx, &p), "create person")
	grace = grace.Truncate(time.Microsecond)
	if got, _ := e.st.GetPerson(e.ctx, p.ID); got != p || !got.MFAGraceUntil.Equal(grace) {
		e.t.Fatalf("person = %+v, want grace until %s", got, grace)
	}
	q := e.person("q")
	if !q.MFAGraceUntil.IsZero() {
		e.t.Fatalf("grace of a new person = %s", q.MFAGraceUntil)
	}
	up2, err := e.st.UpdatePerson(e.ctx, q.ID, func(x *store.Person) error { x.MFAGraceUntil = grace; return nil })
	e.ok(err, "set grace")
	if got, _ := e.st.GetPerson(e.ctx, q.ID); got != up2 || !got.MFAGraceUntil.Equal(grace) {
		e.t.Fatalf("person after update = %+v", got)
	}
	_, err = e.st.UpdatePerson(e.ctx, q.ID, func(x *store.Person) error { x.MFAGraceUntil = time.Time{}; return nil })
	e.ok(err, "clear grace")
	if got, _ := e.st.GetPerson(e.ctx, q.ID); !got.MFAGraceUntil.IsZero() {
		e.t.Fatalf("grace after clearing = %s", got.MFAGraceUntil)
	}
	batch := []*store.Person{{Username: "r", Email: "r@example.org", MFAGraceUntil: grace}, {Username: "s", Email: "s@example.org"}}
	e.ok(e.st.CreatePeople(e.ctx, batch), "create people")
	for _, b := range batch {
		if got, _ := e.st.GetPerson(e.ctx, b.ID); got != *b {
			e.t.Fatalf("person of a batch = %+v, want %+v", got, *b)
		}
	}
}

// testMFAOIDCFields: the AMR of requests, sessions (touched or not) and
// token families, and a request's RequireMFA.
func testMFAOIDCFields(e *env) {
	now := e.now()
	amr := []string{"pwd", "otp", "mfa"}
	ar := store.AuthRequest{ID: "ar", ClientID: "c", MaxAge: -1, ExpiresAt: now.Add(time.Hour), RequireMFA: true}
	e.ok(e.st.CreateAuthRequest(e.ctx, &ar), "create auth request")
	got, err := e.st.GetAuthRequest(e.ctx, "ar")
	e.ok(err, "get auth request")
	if !got.RequireMFA || len(got.AMR) != 0 {
		e.t.Fatalf("auth request = %+v", got)
	}
	_, err = e.st.UpdateAuthRequest(e.ctx, "ar", func(a *store.AuthRequest) error { a.AMR = amr; return nil })
	e.ok(err, "update auth request")
	if got, _ := e.st.GetAuthRequest(e.ctx, "ar"); !slices.Equal(got.AMR, amr) || !got.RequireMFA {
		e.t.Fatalf("auth request after update = %+v", got)
	}
	ar2 := store.AuthRequest{ID: "ar2", MaxAge: -1, ExpiresAt: now.Add(time.Hour), AMR: []string{"pwd"}}
	e.ok(e.st.CreateAuthRequest(e.ctx, &ar2), "create auth request with amr")
	if got, _ := e.st.GetAuthRequest(e.ctx, "ar2"); !slices.Equal(got.AMR, ar2.AMR) || got.RequireMFA {
		e.t.Fatalf("auth request = %+v", got)
	}

	s := store.SSOSession{Hash: hash("s"), SID: "sid", PersonID: "p", AuthTime: now, AMR: amr, ExpiresAt: now.Add(time.Hour)}
	e.ok(e.st.CreateSSOSession(e.ctx, &s), "create session")
	e.ok(e.st.TouchSSOSession(e.ctx, hash("s"), now.Add(time.Minute), now.Add(time.Hour), "c"), "touch session")
	sess, err := e.st.GetSSOSession(e.ctx, hash("s"))
	e.ok(err, "get session")
	if !slices.Equal(sess.AMR, amr) || !slices.Equal(sess.Clients, []string{"c"}) {
		e.t.Fatalf("session = %+v", sess)
	}

	f := store.TokenFamily{ID: "f", ClientID: "c", PersonID: "p", SID: "sid", AMR: amr, ExpiresAt: now.Add(time.Hour)}
	e.ok(e.st.CreateTokenFamily(e.ctx, &f), "create family")
	fam, err := e.st.GetTokenFamily(e.ctx, "f")
	e.ok(err, "get family")
	if !slices.Equal(fam.AMR, amr) {
		e.t.Fatalf("family = %+v", fam)
	}
}

func sameFactor(e *env, got, want store.SecondFactor) {
	e.t.Helper()
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		e.t.Fatalf("second factor\n got %+v\nwant %+v", got, want)
	}
}

// factor enrols a TOTP factor of the person, with counter.
func (e *env) factor(personID string, counter int64) store.SecondFactor {
	e.t.Helper()
	f := store.SecondFactor{PersonID: personID, Kind: store.FactorTOTP, Name: "Téléphone", Secret: []byte("sealed"), Counter: counter}
	e.ok(e.st.CreateSecondFactor(e.ctx, &f), "create second factor")
	return f
}

func testSecondFactors(e *env) {
	p, q := e.person("p"), e.person("q")
	totp := store.SecondFactor{PersonID: p.ID, Kind: store.FactorTOTP, Name: "Téléphone", Secret: []byte{0, 1, 0xff}, Counter: 100}
	e.ok(e.st.CreateSecondFactor(e.ctx, &totp), "create totp")
	if totp.ID == "" || !totp.CreatedAt.Equal(e.now()) || !totp.LastUsedAt.IsZero() {
		e.t.Fatalf("create did not fill id and time: %+v", totp)
	}
	e.clock.Advance(time.Minute)
	key := store.SecondFactor{PersonID: p.ID, Kind: store.FactorPasskey, Name: "Clé", Secret: []byte(`{"pk":1}`),
		CredentialID: []byte{9, 8, 7}, Counter: 3}
	e.ok(e.st.CreateSecondFactor(e.ctx, &key), "create passkey")
	other := e.factor(q.ID, 0)

	for _, c := range []struct {
		f    store.SecondFactor
		want error
		what string
	}{
		{store.SecondFactor{PersonID: "nope", Kind: store.FactorTOTP, Secret: []byte("s")}, store.ErrNotFound, "unknown person"},
		{store.SecondFactor{PersonID: q.ID, Kind: store.FactorPasskey, Secret: []byte("s"), CredentialID: []byte{9, 8, 7}}, store.ErrConflict, "credential id taken"},
		{store.SecondFactor{ID: totp.ID, PersonID: q.ID, Kind: store.FactorTOTP, Secret: []byte("s")}, store.ErrConflict, "id taken"},
		{store.SecondFactor{PersonID: p.ID, Kind: "sms", Secret: []byte("s")}, store.ErrInvalid, "unknown kind"},
		{store.SecondFactor{PersonID: p.ID, Kind: store.FactorTOTP}, store.ErrInvalid, "no secret"},
	} {
		e.is(e.st.CreateSecondFactor(e.ctx, &c.f), c.want, c.what)
	}

	list, err := e.st.ListSecondFactors(e.ctx, p.ID)
	e.ok(err, "list")
	if len(list) != 2 {
		e.t.Fatalf("list = %+v, want the TOTP then the passkey", list)
	}
	sameFactor(e, list[0], totp)
	sameFactor(e, list[1], key)
	if list, _ := e.st.ListSecondFactors(e.ctx, q.ID); len(list) != 1 || list[0].ID != other.ID {
		e.t.Fatalf("list of q = %+v", list)
	}
	if list, err := e.st.ListSecondFactors(e.ctx, "nope"); err != nil || len(list) != 0 {
		e.t.Fatalf("list of nobody = %+v, %v", list, err)
	}
	got, err := e.st.GetSecondFactorByCredential(e.ctx, []byte{9, 8, 7})
	e.ok(err, "get by credential")
	sameFactor(e, got, key)
	_, err = e.st.GetSecondFactorByCredential(e.ctx, []byte{1})
	e.is(err, store.ErrNotFound, "get by unknown credential")

	// The counter only moves forward.
	e.clock.Advance(time.Minute)
	e.is(e.st.UseSecondFactor(e.ctx, p.ID, totp.ID, 100, e.now()), store.ErrTokenUsed, "same counter")
	e.is(e.st.UseSecondFactor(e.ctx, p.ID, totp.ID, 99, e.now()), store.ErrTokenUsed, "lower counter")
	e.ok(e.st.UseSecondFactor(e.ctx, p.ID, totp.ID, 101, e.clock.Now()), "use")
	e.is(e.st.UseSecondFactor(e.ctx, p.ID, totp.ID, 101, e.now()), store.ErrTokenUsed, "replay")
	e.is(e.st.UseSecondFactor(e.ctx, p.ID, other.ID, 1, e.now()), store.ErrNotFound, "another person's factor")
	e.is(e.st.UseSecondFactor(e.ctx, p.ID, "nope", 1, e.now()), store.ErrNotFound, "unknown factor")
	list, _ = e.st.ListSecondFactors(e.ctx, p.ID)
	if list[0].Counter != 101 || !list[0].LastUsedAt.Equal(e.now()) || list[1].Counter != 3 || !list[1].LastUsedAt.IsZero() {
		e.t.Fatalf("after use: %+v", list)
	}
	if got, _ := e.st.ListSecondFactors(e.ctx, q.ID); got[0].Counter != 0 {
		e.t.Fatalf("another person's factor moved: %+v", got)
	}

	// A refused use or enrolment leaves the caller's transaction usable.
	e.ok(e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UseSecondFactor(ctx, p.ID, totp.ID, 101, e.now()); !errors.Is(err, store.ErrTokenUsed) {
			e.t.Errorf("replay in tx: %v", err)
		}
		dup := store.SecondFactor{PersonID: q.ID, Kind: store.FactorPasskey, Secret: []byte("s"), CredentialID: []byte{9, 8, 7}}
		if err := tx.CreateSecondFactor(ctx, &dup); !errors.Is(err, store.ErrConflict) {
			e.t.Errorf("taken credential in tx: %v", err)
		}
		return tx.UseSecondFactor(ctx, p.ID, totp.ID, 102, e.now())
	}), "tx")

	list, _ = e.st.ListSecondFactors(e.ctx, p.ID)
	if list[0].Counter != 102 || list[1].Name != "Clé" {
		e.t.Fatalf("after the transaction: %+v", list)
	}

	e.is(e.st.DeleteSecondFactor(e.ctx, p.ID, other.ID), store.ErrNotFound, "delete another person's factor")
	e.ok(e.st.DeleteSecondFactor(e.ctx, p.ID, key.ID), "delete")
	e.is(e.st.DeleteSecondFactor(e.ctx, p.ID, key.ID), store.ErrNotFound, "delete twice")
	if list, _ := e.st.ListSecondFactors(e.ctx, p.ID); len(list) != 1 || list[0].ID != totp.ID {
		e.t.Fatalf("after delete: %+v", list)
	}
	_, err = e.st.GetSecondFactorByCredential(e.ctx, []byte{9, 8, 7})
	e.is(err, store.ErrNotFound, "get a deleted passkey")
	if list, _ := e.st.ListSecondFactors(e.ctx, q.ID); len(list) != 1 {
		e.t.Fatalf("another person's factor went: %+v", list)
	}
}

// concurrently runs fn n times at once and returns how many calls
// succeeded; every failure must be ErrTokenUsed.
func (e *env) concurrently(n int, fn func() error) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	won := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrTokenUsed):
				e.t.Errorf("concurrent use: %v", err)
			}
		}()
	}
	wg.Wait()
	return won
}

// testSecondFactorUseConcurrent: of concurrent uses of one TOTP code, one
// only is accepted.
func testSecondFactorUseConcurrent(e *env) {
	p := e.person("p")
	f := e.factor(p.ID, 5)
	if won := e.concurrently(8, func() error { return e.st.UseSecondFactor(e.ctx, p.ID, f.ID, 6, e.now()) }); won != 1 {
		e.t.Fatalf("%d uses of one code succeeded", won)
	}
	if list, _ := e.st.ListSecondFactors(e.ctx, p.ID); list[0].Counter != 6 {
		e.t.Fatalf("counter = %d", list[0].Counter)
	}
}

func testRecoveryCodes(e *env) {
	p, q := e.person("p"), e.person("q")
	count := func(personID string, want int) {
		e.t.Helper()
		n, err := e.st.CountRecoveryCodes(e.ctx, personID)
		e.ok(err, "count")
		if n != want {
			e.t.Fatalf("%d unused codes, want %d", n, want)
		}
	}
	count(p.ID, 0)
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("a"), hash("b"), hash("c")}, e.now()), "set")
	e.ok(e.st.SetRecoveryCodes(e.ctx, q.ID, [][]byte{hash("a"), hash("q")}, e.now()), "set for q")
	count(p.ID, 3)

	e.ok(e.st.UseRecoveryCode(e.ctx, p.ID, hash("a"), e.now()), "use")
	e.is(e.st.UseRecoveryCode(e.ctx, p.ID, hash("a"), e.now()), store.ErrTokenUsed, "use twice")
	e.is(e.st.UseRecoveryCode(e.ctx, p.ID, hash("z"), e.now()), store.ErrNotFound, "unknown code")
	e.is(e.st.UseRecoveryCode(e.ctx, p.ID, hash("q"), e.now()), store.ErrNotFound, "another person's code")
	count(p.ID, 2)
	count(q.ID, 2)

	// New codes replace the old ones, used or not.
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("d"), hash("a")}, e.now()), "replace")
	count(p.ID, 2)
	e.is(e.st.UseRecoveryCode(e.ctx, p.ID, hash("b"), e.now()), store.ErrNotFound, "use a replaced code")
	e.ok(e.st.UseRecoveryCode(e.ctx, p.ID, hash("a"), e.now()), "use a code given again")

	e.is(e.st.SetRecoveryCodes(e.ctx, "nope", [][]byte{hash("x")}, e.now()), store.ErrNotFound, "unknown person")
	e.is(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{[]byte("short")}, e.now()), store.ErrInvalid, "not a SHA-256")
	e.is(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("x"), hash("x")}, e.now()), store.ErrConflict, "a code twice")
	count(p.ID, 1) // a refused replacement keeps the codes
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, nil, e.now()), "remove")
	count(p.ID, 0)
	count(q.ID, 2)
}

// testRecoveryCodeUseConcurrent: of concurrent uses of one recovery code,
// one only is accepted.
func testRecoveryCodeUseConcurrent(e *env) {
	p := e.person("p")
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("a"), hash("b")}, e.now()), "set")
	if won := e.concurrently(8, func() error { return e.st.UseRecoveryCode(e.ctx, p.ID, hash("a"), e.now()) }); won != 1 {
		e.t.Fatalf("%d uses of one code succeeded", won)
	}
	if n, _ := e.st.CountRecoveryCodes(e.ctx, p.ID); n != 1 {
		e.t.Fatalf("%d unused codes, want 1", n)
	}
}

// testSecondFactorsReset: DeleteSecondFactors removes a person's factors
// and codes, and nobody else's.
func testSecondFactorsReset(e *env) {
	p, q := e.person("p"), e.person("q")
	e.factor(p.ID, 0)
	e.factor(p.ID, 0)
	e.factor(q.ID, 0)
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("a")}, e.now()), "set")
	e.ok(e.st.SetRecoveryCodes(e.ctx, q.ID, [][]byte{hash("a")}, e.now()), "set")
	n, err := e.st.DeleteSecondFactors(e.ctx, p.ID)
	e.ok(err, "reset")
	if n != 2 {
		e.t.Fatalf("reset removed %d factors, want 2", n)
	}
	if list, _ := e.st.ListSecondFactors(e.ctx, p.ID); len(list) != 0 {
		e.t.Fatalf("factors after reset: %+v", list)
	}
	if n, _ := e.st.CountRecoveryCodes(e.ctx, p.ID); n != 0 {
		e.t.Fatalf("%d codes after reset", n)
	}
	if n, err := e.st.DeleteSecondFactors(e.ctx, p.ID); err != nil || n != 0 {
		e.t.Fatalf("reset again = %d, %v", n, err)
	}
	list, _ := e.st.ListSecondFactors(e.ctx, q.ID)
	if c, _ := e.st.CountRecoveryCodes(e.ctx, q.ID); len(list) != 1 || c != 1 {
		e.t.Fatalf("q lost factors or codes: %+v, %d codes", list, c)
	}
}

// testSecondFactorsGoWithPerson: deleting a person deletes their factors
// and recovery codes.
func testSecondFactorsGoWithPerson(e *env) {
	p, q := e.person("p"), e.person("q")
	f := store.SecondFactor{PersonID: p.ID, Kind: store.FactorPasskey, Secret: []byte("s"), CredentialID: []byte("cred")}
	e.ok(e.st.CreateSecondFactor(e.ctx, &f), "create")
	e.factor(q.ID, 0)
	e.ok(e.st.SetRecoveryCodes(e.ctx, p.ID, [][]byte{hash("a")}, e.now()), "set")
	e.ok(e.st.DeletePerson(e.ctx, p.ID), "delete person")
	if list, _ := e.st.ListSecondFactors(e.ctx, p.ID); len(list) != 0 {
		e.t.Fatalf("factors of a deleted person: %+v", list)
	}
	if n, _ := e.st.CountRecoveryCodes(e.ctx, p.ID); n != 0 {
		e.t.Fatalf("%d codes of a deleted person", n)
	}
	_, err := e.st.GetSecondFactorByCredential(e.ctx, []byte("cred"))
	e.is(err, store.ErrNotFound, "passkey of a deleted person")
	// The credential id is free again.
	g := store.SecondFactor{PersonID: q.ID, Kind: store.FactorPasskey, Secret: []byte("s"), CredentialID: []byte("cred")}
	e.ok(e.st.CreateSecondFactor(e.ctx, &g), "reuse the credential id")
}
