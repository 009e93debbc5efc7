package main

import (
	"log/slog"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/web"
)

// TestLimiterFollowsConfig: the server keeps its rate limits in the store
// on PostgreSQL (shared by replicas) and in the process on SQLite, unless
// replicas.shared_limits says otherwise.
func TestLimiterFollowsConfig(t *testing.T) {
	for _, tc := range []struct {
		driver, shared string
		want           bool
	}{
		{"postgres", "auto", true}, {"sqlite", "auto", false}, {"postgres", "off", false}, {"sqlite", "on", true},
	} {
		cfg := config.Default()
		cfg.Store.Driver, cfg.Replicas.SharedLimits = tc.driver, tc.shared
		m := &Main{Config: cfg, Logger: slog.New(slog.DiscardHandler)}
		l := m.limiter("login", 10, time.Minute)
		sl, shared := l.(*web.SharedLimiter)
		if _, local := l.(*web.RateLimiter); shared == local || shared != tc.want {
			t.Errorf("%s, shared_limits %s: %T, want shared %v", tc.driver, tc.shared, l, tc.want)
			continue
		}
		if shared && (sl.Name != "login" || sl.Burst != 10 || sl.Per != time.Minute || sl.Fallback == nil) {
			t.Errorf("%s, shared_limits %s: %+v", tc.driver, tc.shared, sl)
		}
	}
}
