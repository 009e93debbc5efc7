package idp

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

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
