package limitsbench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/store/postgres"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/web"
)

type migrated interface {
	store.Store
	Migrate(context.Context) error
}

func open(b *testing.B, backend string) store.Store {
	b.Helper()
	ctx := context.Background()
	var st migrated
	var err error
	if backend == "postgres" {
		st, err = postgres.Open(ctx, testenv.Postgres(b), nil)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "sesame.db"), nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkLimits: per backend, a spend (a failed login spends two) and a
// look (a login checks two) on one of 1,000 keys, a spend from 8 goroutines on one key (a burst
// from one address, all replicas queueing on one row), and the reference,
// a bare round trip (Ping). Then the in-process limiter and one argon2id
// hash at the default parameters.
func BenchmarkLimits(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"postgres", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			st := open(b, backend)
			b.Run("Ping", func(b *testing.B) {
				for b.Loop() {
					if err := st.Ping(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("TakeTokenSpend", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++
					if _, _, err := st.TakeToken(ctx, fmt.Sprintf("ip:%d", i%1000), 1e9, time.Nanosecond, 1, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("TakeTokenCheck", func(b *testing.B) {
				for i := range 1000 {
					if _, _, err := st.TakeToken(ctx, fmt.Sprintf("ip:%d", i), 10, time.Minute, 1, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
				i := 0
				for b.Loop() {
					i++
					if _, _, err := st.TakeToken(ctx, fmt.Sprintf("ip:%d", i%1000), 10, time.Minute, 0, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("SharedLimiterAllowOneKeyParallel8", func(b *testing.B) {
				l := web.NewSharedLimiter(st, "bench", 1_000_000_000, time.Nanosecond, nil)
				b.SetParallelism(4) // 4 goroutines per CPU: 8 on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						l.Allow("ip:192.0.2.1")
					}
				})
			})
		})
	}
	b.Run("InProcessAllow", func(b *testing.B) {
		l := web.NewRateLimiter(10, time.Minute, nil)
		i := 0
		for b.Loop() {
			i++
			l.Check(fmt.Sprintf("ip:%d", i%1000))
		}
	})
	b.Run("Argon2idHash", func(b *testing.B) {
		h := password.NewHasher(password.DefaultParams(), 0)
		for b.Loop() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
