package idp

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// slowKeysStore answers the key reload only once its context ends, as a
// database does when the server stops during a reload.
type slowKeysStore struct {
	store.Store
	reloading chan struct{}
}

func (s *slowKeysStore) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	select {
	case s.reloading <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRunStopsQuietly: a reload cut short by the end of Run's context (a
// replica stopping) logs no error; the shutdown is no failure.
func TestRunStopsQuietly(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t)
	st := &slowKeysStore{Store: f.st, reloading: make(chan struct{}, 1)}
	p := f.p
	p.st = st
	p.cfg.KeyReload = 5 * time.Millisecond
	p.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	select {
	case <-st.reloading:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not reload the keys")
	}
	cancel()
	<-done
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("stopping during a reload logged an error:\n%s", logs.String())
	}
}
