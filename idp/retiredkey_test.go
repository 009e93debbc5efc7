package idp

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A key past its RetireAfter verifies nothing, whether or not this replica
// has re-read the keys since (a reload every replicas.key_reload, one that
// failed and keeps the old set).
func TestRetiredKeyRefusedBeforeReload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	hint, old, err := f.p.sign(AlgRS256, "JWT", map[string]any{"iss": f.issuer, "sub": f.alice.ID, "aud": f.nc.ClientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	km := &KeyManager{Store: f.st, MasterKey: f.p.cfg.MasterKey, Now: f.clock.Now, PublishDelay: 10 * time.Minute, KeepAfter: 2 * time.Hour}
	if _, err := km.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.p.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.verify(hint, "JWT", true); err != nil {
		t.Fatalf("a hint of the key being replaced is refused: %v", err)
	}
	// Past the old key's life, before the next reload.
	f.clock.Advance(10*time.Minute + 2*time.Hour + time.Second)
	if _, err := f.p.verify(hint, "JWT", true); !errors.Is(err, errBadToken) {
		t.Errorf("a hint signed by %s, retired, is still accepted: %v", old.kid, err)
	}
}
