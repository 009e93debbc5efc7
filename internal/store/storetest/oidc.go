package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
)

// RunOIDC is the conformance suite of the OpenID provider's state
// (store.OIDC), run like Run: each subtest on a fresh store of its own.
func RunOIDC(t *testing.T, opener Opener) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	open := func(t *testing.T) store.Store {
		t.Parallel()
		return opener(t, NewClock().Now)
	}
	oidcOf := func(t *testing.T, s any) store.OIDC {
		t.Helper()
		o, ok := s.(store.OIDC)
		if !ok {
			t.Fatalf("%T does not implement store.OIDC", s)
		}
		return o
	}
	inTx := func(t *testing.T, st store.Store, fn func(o store.OIDC) error) error {
		t.Helper()
		return st.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return fn(oidcOf(t, tx)) })
	}
	h := func(s string) []byte {
		b := make([]byte, 32)
		copy(b, s)
		return b
	}

	t.Run("SigningKeys", func(t *testing.T) {
		st := open(t)
		o := oidcOf(t, st)
		k1 := store.SigningKey{KID: "k1", Alg: "RS256", PrivateKey: []byte{1, 2, 3}, NotBefore: now}
		k2 := store.SigningKey{KID: "k2", Alg: "ES256", PrivateKey: []byte{4}, NotBefore: now.Add(time.Hour)}
		for _, k := range []*store.SigningKey{&k2, &k1} {
			if err := o.CreateSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.CreateSigningKey(ctx, &store.SigningKey{KID: "k1", Alg: "RS256", PrivateKey: []byte{9}, NotBefore: now}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate kid: %v", err)
		}
		keys, err := o.ListSigningKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0].KID != "k1" || keys[1].KID != "k2" {
			t.Fatalf("list: %v %+v", err, keys)
		}
		if string(keys[0].PrivateKey) != "\x01\x02\x03" || !keys[0].NotBefore.Equal(now) || !keys[0].RetireAfter.IsZero() || keys[0].CreatedAt.IsZero() {
			t.Errorf("round trip: %+v", keys[0])
		}
		if err := o.RetireSigningKey(ctx, "k1", now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := o.RetireSigningKey(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retire unknown: %v", err)
		}
		if n, err := o.DeleteSigningKeysRetiredBefore(ctx, now.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("delete early: %d %v", n, err)
		}
		if n, err := o.DeleteSigningKeysRetiredBefore(ctx, now.Add(3*time.Hour)); err != nil || n != 1 {
			t.Errorf("delete: %d %v", n, err)
		}
		keys, _ = o.ListSigningKeys(ctx)
		if len(keys) != 1 || keys[0].KID != "k2" {
			t.Errorf("after delete: %+v", keys)
		}
	})

	t.Run("AuthRequestsAndCodes", func(t *testing.T) {
		st := open(t)
		o := oidcOf(t, st)
		ar := store.AuthRequest{ID: "ar1", ClientID: "c1", RedirectURI: "https://x.example/cb?a=1", Scopes: []string{"openid", "email"},
			State: "s", Nonce: "n", CodeChallenge: "ch", CodeChallengeMethod: "S256", ResponseType: "code", Prompt: []string{"login"},
			MaxAge: -1, BrowserHash: h("browser"), ExpiresAt: now.Add(time.Hour)}
		if err := o.CreateAuthRequest(ctx, &ar); err != nil {
			t.Fatal(err)
		}
		if err := o.CreateAuthRequest(ctx, &store.AuthRequest{ID: "ar1", ExpiresAt: now}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate: %v", err)
		}
		got, err := o.GetAuthRequest(ctx, "ar1")
		if err != nil || got.RedirectURI != ar.RedirectURI || len(got.Scopes) != 2 || got.Prompt[0] != "login" || got.MaxAge != -1 ||
			string(got.BrowserHash) != string(ar.BrowserHash) || got.CodeChallenge != "ch" || got.Nonce != "n" || got.Done {
			t.Fatalf("get: %v %+v", err, got)
		}
		if _, err := o.GetAuthRequest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
		got, err = o.UpdateAuthRequest(ctx, "ar1", func(a *store.AuthRequest) error {
			a.PersonID, a.AuthTime, a.SID, a.Done = "p1", now, "sid1", true
			return nil
		})
		if err != nil || !got.Done || got.PersonID != "p1" || !got.AuthTime.Equal(now) || got.SID != "sid1" {
			t.Fatalf("update: %v %+v", err, got)
		}
		if _, err := o.UpdateAuthRequest(ctx, "ar1", func(a *store.AuthRequest) error { a.ID = "other"; return nil }); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("id change: %v", err)
		}
		boom := errors.New("boom")
		if _, err := o.UpdateAuthRequest(ctx, "ar1", func(a *store.AuthRequest) error { a.Done = false; return boom }); !errors.Is(err, boom) {
			t.Errorf("fn error: %v", err)
		}
		if got, _ := o.GetAuthRequest(ctx, "ar1"); !got.Done {
			t.Error("an aborted update was written")
		}

		code := store.AuthCode{Hash: h("code1"), AuthRequestID: "ar1", ClientID: "c1", ExpiresAt: now.Add(time.Minute)}
		if err := o.CreateAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		if err := o.CreateAuthCode(ctx, code); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate code: %v", err)
		}
		if _, err := o.ConsumeAuthCode(ctx, h("nope"), "f", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown code: %v", err)
		}
		// Concurrent consumers: exactly one wins, the others learn the
		// winner's family.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, used := 0, 0
		var fams []string
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var c store.AuthCode
				err := inTx(t, st, func(o store.OIDC) error {
					var err error
					c, err = o.ConsumeAuthCode(ctx, h("code1"), "fam"+string(rune('a'+i)), now)
					if errors.Is(err, store.ErrTokenUsed) {
						return nil
					}
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("consume: %v", err)
				case c.UsedAt.IsZero():
					t.Errorf("consumed code without UsedAt: %+v", c)
				default:
					fams = append(fams, c.FamilyID)
					if c.FamilyID == "fam"+string(rune('a'+i)) {
						wins++
					} else {
						used++
					}
				}
			}()
		}
		wg.Wait()
		if wins != 1 || used != 9 {
			t.Fatalf("wins %d used %d (%v)", wins, used, fams)
		}
		for _, f := range fams {
			if f != fams[0] {
				t.Errorf("consumers saw different families: %v", fams)
				break
			}
		}
		c, err := o.ConsumeAuthCode(ctx, h("code1"), "late", now)
		if !errors.Is(err, store.ErrTokenUsed) || c.FamilyID == "" || c.FamilyID == "late" || c.AuthRequestID != "ar1" {
			t.Errorf("replay: %v %+v", err, c)
		}
		if err := o.CreateAuthCode(ctx, store.AuthCode{Hash: h("code2"), AuthRequestID: "ar1", ClientID: "c1", ExpiresAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.ConsumeAuthCode(ctx, h("code2"), "f", now); !errors.Is(err, store.ErrTokenExpired) {
			t.Errorf("expired code: %v", err)
		}
	})

	t.Run("SSOSessions", func(t *testing.T) {
		st := open(t)
		o := oidcOf(t, st)
		s := store.SSOSession{Hash: h("s1"), SID: "sid1", PersonID: "p1", AuthTime: now, CreatedAt: now, LastSeenAt: now,
			IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
		if err := o.CreateSSOSession(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if err := o.CreateSSOSession(ctx, &store.SSOSession{Hash: h("s2"), SID: "sid1", PersonID: "p1", ExpiresAt: now}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate sid: %v", err)
		}
		s3 := store.SSOSession{Hash: h("s3"), SID: "sid3", PersonID: "p1", AuthTime: now, CreatedAt: now, LastSeenAt: now,
			IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		s4 := store.SSOSession{Hash: h("s4"), SID: "sid4", PersonID: "p2", AuthTime: now, CreatedAt: now, LastSeenAt: now,
			IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		for _, x := range []*store.SSOSession{&s3, &s4} {
			if err := o.CreateSSOSession(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.TouchSSOSession(ctx, h("s1"), now.Add(time.Minute), now.Add(2*time.Hour), "c1"); err != nil {
			t.Fatal(err)
		}
		if err := o.TouchSSOSession(ctx, h("s1"), now.Add(2*time.Minute), now.Add(3*time.Hour), "c2"); err != nil {
			t.Fatal(err)
		}
		if err := o.TouchSSOSession(ctx, h("s1"), now.Add(3*time.Minute), now.Add(4*time.Hour), "c1"); err != nil {
			t.Fatal(err)
		}
		if err := o.TouchSSOSession(ctx, h("nope"), now, now, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("touch unknown: %v", err)
		}
		got, err := o.GetSSOSession(ctx, h("s1"))
		if err != nil || !got.LastSeenAt.Equal(now.Add(3*time.Minute)) || !got.IdleExpiresAt.Equal(now.Add(4*time.Hour)) ||
			len(got.Clients) != 2 || got.Clients[0] != "c1" || got.Clients[1] != "c2" || !got.ExpiresAt.Equal(s.ExpiresAt) || got.SID != "sid1" {
			t.Fatalf("get: %v %+v", err, got)
		}
		if got, err := o.GetSSOSessionBySID(ctx, "sid1"); err != nil || string(got.Hash) != string(h("s1")) {
			t.Errorf("by sid: %v %+v", err, got)
		}
		del, err := o.DeleteSSOSession(ctx, h("s1"))
		if err != nil || len(del.Clients) != 2 {
			t.Errorf("delete: %v %+v", err, del)
		}
		if _, err := o.DeleteSSOSession(ctx, h("s1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		if _, err := o.GetSSOSession(ctx, h("s1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get deleted: %v", err)
		}
		gone, err := o.DeletePersonSSOSessions(ctx, "p1")
		if err != nil || len(gone) != 1 || gone[0].SID != "sid3" {
			t.Errorf("delete person: %v %+v", err, gone)
		}
		if _, err := o.GetSSOSession(ctx, h("s4")); err != nil {
			t.Errorf("another person's session went: %v", err)
		}
	})

	t.Run("TokenFamilies", func(t *testing.T) {
		st := open(t)
		o := oidcOf(t, st)
		fam := store.TokenFamily{ID: "f1", ClientID: "c1", PersonID: "p1", SID: "sid1", Scopes: []string{"openid"}, AuthTime: now,
			ExpiresAt: now.Add(24 * time.Hour)}
		if err := o.CreateTokenFamily(ctx, &fam); err != nil {
			t.Fatal(err)
		}
		f2 := store.TokenFamily{ID: "f2", ClientID: "c2", PersonID: "p1", SID: "sid2", ExpiresAt: now.Add(time.Hour)}
		f3 := store.TokenFamily{ID: "f3", ClientID: "c2", PersonID: "p2", SID: "sid3", ExpiresAt: now.Add(time.Hour)}
		for _, f := range []*store.TokenFamily{&f2, &f3} {
			if err := o.CreateTokenFamily(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.CreateTokenFamily(ctx, &store.TokenFamily{ID: "f1", ExpiresAt: now}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate family: %v", err)
		}
		got, err := o.GetTokenFamily(ctx, "f1")
		if err != nil || got.ClientID != "c1" || got.Scopes[0] != "openid" || !got.AuthTime.Equal(now) || !got.RevokedAt.IsZero() {
			t.Fatalf("get: %v %+v", err, got)
		}
		if err := o.CreateRefreshToken(ctx, store.RefreshToken{Hash: h("rt1"), FamilyID: "f1", ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := o.CreateRefreshToken(ctx, store.RefreshToken{Hash: h("rt9"), FamilyID: "nope", ExpiresAt: now}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refresh token of unknown family: %v", err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, reused := 0, 0
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var rt store.RefreshToken
				var used bool
				err := inTx(t, st, func(o store.OIDC) error {
					var err error
					rt, err = o.UseRefreshToken(ctx, h("rt1"), now)
					used = errors.Is(err, store.ErrTokenUsed)
					if used {
						return nil
					}
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("use: %v", err)
				case rt.FamilyID != "f1":
					t.Errorf("token without its family: %+v", rt)
				case used:
					reused++
				default:
					ok++
				}
			}()
		}
		wg.Wait()
		if ok != 1 || reused != 9 {
			t.Fatalf("ok %d reused %d", ok, reused)
		}
		if _, err := o.UseRefreshToken(ctx, h("nope"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown: %v", err)
		}
		if err := o.CreateRefreshToken(ctx, store.RefreshToken{Hash: h("rt2"), FamilyID: "f1", ExpiresAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.UseRefreshToken(ctx, h("rt2"), now); !errors.Is(err, store.ErrTokenExpired) {
			t.Errorf("expired: %v", err)
		}
		if _, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{}, now); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("empty filter: %v", err)
		}
		if n, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ID: "f1"}, now); err != nil || n != 1 {
			t.Errorf("revoke by id: %d %v", n, err)
		}
		if n, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ID: "f1"}, now.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("revoke again: %d %v", n, err)
		}
		if got, _ := o.GetTokenFamily(ctx, "f1"); !got.RevokedAt.Equal(now) {
			t.Errorf("revoked at %v", got.RevokedAt)
		}
		if n, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{SID: "sid2"}, now); err != nil || n != 1 {
			t.Errorf("revoke by sid: %d %v", n, err)
		}
		if n, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: "p2"}, now); err != nil || n != 1 {
			t.Errorf("revoke by person: %d %v", n, err)
		}
		// A person's families but one session's (a password changed from
		// that session): ExceptSID narrows, and is no filter alone.
		for _, f := range []store.TokenFamily{{ID: "f4", PersonID: "p3", SID: "sid4"}, {ID: "f5", PersonID: "p3", SID: "sid5"}} {
			f.ClientID, f.ExpiresAt = "c1", now.Add(time.Hour)
			if err := o.CreateTokenFamily(ctx, &f); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{ExceptSID: "sid4"}, now); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ExceptSID alone: %v", err)
		}
		if n, err := o.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: "p3", ExceptSID: "sid4"}, now); err != nil || n != 1 {
			t.Errorf("revoke by person except a session: %d %v", n, err)
		}
		if kept, _ := o.GetTokenFamily(ctx, "f4"); !kept.RevokedAt.IsZero() {
			t.Errorf("the excepted session's family was revoked at %v", kept.RevokedAt)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		st := open(t)
		o := oidcOf(t, st)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(o.CreateAuthRequest(ctx, &store.AuthRequest{ID: "old", MaxAge: -1, ExpiresAt: now.Add(-time.Hour)}))
		must(o.CreateAuthRequest(ctx, &store.AuthRequest{ID: "new", MaxAge: -1, ExpiresAt: now.Add(time.Hour)}))
		must(o.CreateAuthCode(ctx, store.AuthCode{Hash: h("old"), AuthRequestID: "old", ExpiresAt: now.Add(-time.Hour)}))
		must(o.CreateSSOSession(ctx, &store.SSOSession{Hash: h("idle"), SID: "a", PersonID: "p", IdleExpiresAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}))
		must(o.CreateSSOSession(ctx, &store.SSOSession{Hash: h("live"), SID: "b", PersonID: "p", IdleExpiresAt: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}))
		must(o.CreateTokenFamily(ctx, &store.TokenFamily{ID: "oldf", ExpiresAt: now.Add(-time.Hour)}))
		must(o.CreateRefreshToken(ctx, store.RefreshToken{Hash: h("oldrt"), FamilyID: "oldf", ExpiresAt: now.Add(-time.Hour)}))
		must(o.CreateTokenFamily(ctx, &store.TokenFamily{ID: "newf", ExpiresAt: now.Add(time.Hour)}))
		n, err := o.DeleteExpiredOIDC(ctx, now)
		if err != nil || n != 5 {
			t.Errorf("deleted %d, %v; want 5", n, err)
		}
		if _, err := o.GetAuthRequest(ctx, "new"); err != nil {
			t.Error(err)
		}
		if _, err := o.GetSSOSession(ctx, h("live")); err != nil {
			t.Error(err)
		}
		if _, err := o.GetTokenFamily(ctx, "newf"); err != nil {
			t.Error(err)
		}
		if _, err := o.GetTokenFamily(ctx, "oldf"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired family kept: %v", err)
		}
	})
}
