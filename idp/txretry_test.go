package idp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/mfa"
	"sesame/internal/store"
)

// retryingStore runs the next transaction, once armed, as a retry after a
// serialization failure does: a first attempt that is rolled back, what
// another request does meanwhile (between), then the second attempt.
type retryingStore struct {
	store.Store
	armed   atomic.Bool
	between func()
}

var errSerialization = errors.New("test: serialization failure (rolled back)")

func (s *retryingStore) InTx(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	if !s.armed.CompareAndSwap(true, false) {
		return s.Store.InTx(ctx, fn)
	}
	_ = s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return errSerialization
	})
	s.between()
	return s.Store.InTx(ctx, fn)
}

// A code exchange whose transaction is re-run (PostgreSQL retries it after
// a serialization failure) decides on the second attempt alone: when
// another request burned the code meanwhile (a failed exchange consumes
// it), no token comes out of what the rolled-back first attempt had read.
func TestExchangeRetryDecidesAfresh(t *testing.T) {
	st := &retryingStore{Store: openStore(t)}
	f := newFixtureOn(t, st)
	code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
	st.between = func() {
		if _, err := st.Store.ConsumeAuthCode(context.Background(), sha(code), "", f.clock.Now()); err != nil {
			t.Errorf("burn the code: %v", err)
		}
	}
	st.armed.Store(true)
	status, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	if st.armed.Load() {
		t.Fatal("the exchange ran no transaction")
	}
	if status != 400 || errCode(body) != "invalid_grant" {
		t.Fatalf("exchange of a code burned during its retry: %d %s", status, fmtJSON(body))
	}
}

// A refresh whose transaction re-runs after the token was rotated by
// another request meanwhile is refused (reuse), its family revoked.
func TestRefreshRetryDecidesAfresh(t *testing.T) {
	st := &retryingStore{Store: openStore(t)}
	f := newFixtureOn(t, st)
	code := f.codeFor(f.loggedIn(), f.gen, genRedirect)
	_, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	rt := body["refresh_token"].(string)
	st.between = func() {
		if _, err := st.Store.UseRefreshToken(context.Background(), sha(rt), f.clock.Now()); err != nil {
			t.Errorf("use the token meanwhile: %v", err)
		}
	}
	st.armed.Store(true)
	status, b2 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st.armed.Load() {
		t.Fatal("no transaction ran")
	}
	if status != 400 || errCode(b2) != "invalid_grant" {
		t.Fatalf("refresh of a token used during its retry: %d %s", status, fmtJSON(b2))
	}
}

// A recovery code spent by another request between the attempts of the
// second step's transaction is refused (replayed), and one notice only.
func TestRecoveryCodeRetryDecidesAfresh(t *testing.T) {
	st := &retryingStore{Store: openStore(t)}
	f := newFixtureOn(t, st)
	f.enrolTOTP(f.alice)
	codes := f.recoveryCodes(f.alice)
	c := f.rp(f.gen, secretGen, genRedirect)
	b := f.browser()
	res, _, _ := c.startLogin(b, "alice.martin")
	if !res.isSecondStep() {
		t.Fatalf("second step: %d", res.status)
	}
	st.between = func() {
		if err := st.Store.UseRecoveryCode(context.Background(), f.alice.ID, mfa.HashRecoveryCode(codes[0]), f.clock.Now()); err != nil {
			t.Errorf("spend the code meanwhile: %v", err)
		}
	}
	st.armed.Store(true)
	r := b.second(codes[0])
	if st.armed.Load() {
		t.Fatal("no transaction ran")
	}
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "déjà servi") {
		t.Fatalf("a recovery code spent during the retry: %d %.300s", r.status, r.body)
	}
	if js, _ := f.st.ListJobs(context.Background(), store.JobFilter{Kind: jobs.KindMailRecoveryUsed}); len(js) != 0 {
		t.Fatalf("%d recovery notices queued, want 0 (the between() spend queues none)", len(js))
	}
}

// An authorization whose finishing transaction re-runs after the person's
// grant was removed meanwhile is refused: no code from the first attempt.
func TestFinishRetryDecidesAfresh(t *testing.T) {
	st := &retryingStore{Store: openStore(t)}
	f := newFixtureOn(t, st)
	b := f.loggedIn()
	st.between = func() {
		if err := st.Store.DeleteGrant(context.Background(), f.alice.ID, f.gen.ID); err != nil {
			t.Errorf("remove the grant meanwhile: %v", err)
		}
	}
	st.armed.Store(true)
	v := authParams(f.gen.ClientID, genRedirect)
	res := b.get(f.authURL(v))
	if st.armed.Load() {
		t.Fatal("no transaction ran")
	}
	if res.status != http.StatusForbidden || (res.location != nil && res.location.Query().Get("code") != "") {
		t.Fatalf("authorization after the grant went during its retry: %d %s", res.status, res.location)
	}
}
