package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// fastParams keep tests quick where the cost itself is not under test.
var fastParams = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	h := NewHasher(DefaultParams(), 2)
	ctx := context.Background()
	long := strings.Repeat("Une très longue phrase de passe 🐘 ", 40) // > 1000 bytes
	for _, plain := range []string{"correct horse battery staple", long, "é", ""} {
		phc, err := h.Hash(ctx, plain)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !phcRE.MatchString(phc) {
			t.Fatalf("Hash gave %q, not the PHC form", phc)
		}
		if ok, err := h.Verify(ctx, phc, plain); err != nil || !ok {
			t.Fatalf("Verify(right password) = %v, %v", ok, err)
		}
		if ok, err := h.Verify(ctx, phc, plain+"x"); err != nil || ok {
			t.Fatalf("Verify(wrong password) = %v, %v", ok, err)
		}
		if ok, err := h.Verify(ctx, "{ARGON2}"+phc, plain); err != nil || !ok {
			t.Fatalf("Verify({ARGON2} form) = %v, %v", ok, err)
		}
		if h.NeedsRehash(phc) {
			t.Fatal("a fresh hash needs no rehash")
		}
	}
	// Never truncated: passwords that differ only in their last rune, past
	// 1000 bytes, do not verify against each other.
	phc, err := h.Hash(ctx, long+"a")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := h.Verify(ctx, phc, long+"b"); ok {
		t.Fatal("a long password verified with a different last character: truncated")
	}
}

func TestHashMatchesRawArgon2(t *testing.T) {
	h := NewHasher(Params{}, 1) // zero params take the defaults
	if h.Params() != DefaultParams() {
		t.Fatalf("zero Params gave %+v", h.Params())
	}
	phc, err := h.Hash(context.Background(), "motdepasse-de-test")
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		t.Fatal(err)
	}
	want := argon2.IDKey([]byte("motdepasse-de-test"), salt, 2, 19456, 1, 32)
	if string(key) != string(want) || p.Memory != 19456 || p.Time != 2 || p.Threads != 1 {
		t.Fatalf("hash is not argon2id m=19456,t=2,p=1 of the password: %q", phc)
	}
}

func TestVerifyReadsParamsFromHash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(fastParams, 1)
	phc, err := old.Hash(ctx, "ancien mot de passe")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(DefaultParams(), 1)
	if ok, err := h.Verify(ctx, phc, "ancien mot de passe"); err != nil || !ok {
		t.Fatalf("Verify of a hash with other params = %v, %v", ok, err)
	}
	if !h.NeedsRehash(phc) {
		t.Fatal("a hash with other params needs a rehash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(fastParams, 1)
	good, _ := h.Hash(context.Background(), "x")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, phc := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2y$10$abcdefghijklmnopqrstuu5xF9dZbqjvV1b0YbPQxlE3m8Gz3Jt3G",
		"argon2i":        "$argon2i$v=19$m=1024,t=1,p=1$" + salt + "$" + key,
		"old version":    "$argon2id$v=16$m=1024,t=1,p=1$" + salt + "$" + key,
		"missing t":      "$argon2id$v=19$m=1024,p=1$" + salt + "$" + key,
		"unknown param":  "$argon2id$v=19$m=1024,t=1,p=1,x=2$" + salt + "$" + key,
		"repeated param": "$argon2id$v=19$m=1024,m=2048,t=1,p=1$" + salt + "$" + key,
		"zero time":      "$argon2id$v=19$m=1024,t=0,p=1$" + salt + "$" + key,
		"huge memory":    "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"huge time":      "$argon2id$v=19$m=1024,t=1000,p=1$" + salt + "$" + key,
		"bad salt":       "$argon2id$v=19$m=1024,t=1,p=1$!!!!$" + key,
		"short salt":     "$argon2id$v=19$m=1024,t=1,p=1$YWJj$" + key,
		"short key":      "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$YWJj",
		"extra field":    good + "$x",
		"no leading $":   strings.TrimPrefix(good, "$"),
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), phc, "x")
			if ok || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify(%q) = %v, %v; want ErrMalformed", phc, ok, err)
			}
		})
	}
}

// TestConcurrencyBound runs many hashes at once and checks that no more than
// the bound ever ran together, and that the bound was reached.
func TestConcurrencyBound(t *testing.T) {
	const max, n = 3, 24
	h := NewHasher(Params{Memory: 4096, Time: 2, Threads: 1}, max)
	h.MaxWait, h.MaxQueue = time.Minute, n
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := h.Hash(context.Background(), "parallel")
				errs <- err
			} else {
				h.Dummy(context.Background())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := h.peak.Load(); p > max || p < 2 {
		t.Fatalf("peak concurrency %d; want 2..%d", p, max)
	}
	if f := h.inFlight.Load(); f != 0 {
		t.Fatalf("%d hashes still counted in flight", f)
	}
}

func TestBusy(t *testing.T) {
	h := NewHasher(fastParams, 1)
	h.MaxWait = 30 * time.Millisecond
	if err := h.acquire(context.Background()); err != nil { // hold the only slot
		t.Fatal(err)
	}
	if _, err := h.Hash(context.Background(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no free slot: %v; want ErrBusy", err)
	}
	phc := encodePHC(fastParams, make([]byte, 16), make([]byte, 32))
	if _, err := h.Verify(context.Background(), phc, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with no free slot: %v; want ErrBusy", err)
	}
	// The context's deadline, when earlier, bounds the wait too.
	h.MaxWait = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash past the context deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("waited %s despite a 20ms deadline", d)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("Hash once the slot is free: %v", err)
	}
}

// TestBusyWithDefaults: with the defaults (no MaxWait, no MaxQueue set),
// the queue in front of the slots holds as many callers as there are
// slots, each for DefaultMaxWait at most; one more is refused at once.
func TestBusyWithDefaults(t *testing.T) {
	h := NewHasher(fastParams, 2)
	ctx := context.Background()
	for range 2 { // hold both slots
		if err := h.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	phc := encodePHC(fastParams, make([]byte, 16), make([]byte, 32))
	// Two callers queue, and give up after DefaultMaxWait.
	var wg sync.WaitGroup
	queued := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			_, err := h.Verify(ctx, phc, "x")
			queued <- err
		})
	}
	for h.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// The queue is full: refused at once, however often.
	for range 100 {
		start := time.Now()
		if _, err := h.Verify(ctx, phc, "x"); !errors.Is(err, ErrBusy) {
			t.Fatalf("Verify with the queue full: %v; want ErrBusy", err)
		}
		if d := time.Since(start); d > DefaultMaxWait/2 {
			t.Fatalf("refusal with the queue full took %s; want at once", d)
		}
	}
	wg.Wait()
	close(queued)
	for err := range queued {
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("queued Verify: %v; want ErrBusy after DefaultMaxWait", err)
		}
	}
	if st := h.Stats(); st.Refused != 102 || st.Waiting != 0 || st.InFlight != 2 || st.Slots != 2 {
		t.Fatalf("stats %+v", st)
	}
	// A queued caller gets the slot freed while it waits.
	h.MaxWait = time.Minute
	done := make(chan error, 1)
	go func() { _, err := h.Verify(ctx, phc, "x"); done <- err }()
	for h.waiting.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	h.release()
	if err := <-done; err != nil {
		t.Fatalf("queued Verify once a slot was freed: %v", err)
	}
	if st := h.Stats(); st.Waited != 1 {
		t.Fatalf("stats %+v: want one caller that waited", st)
	}
	// MaxQueue < 0: no queue at all.
	h.MaxQueue = -1
	if err := h.acquire(ctx); err != nil { // both slots held again
		t.Fatal(err)
	}
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no queue and no free slot: %v", err)
	}
}

// TestNoArgonMemoryBeforeSlot: argon2 allocates its block (m KiB) only once
// a slot is held, and a refused call allocates next to nothing.
func TestNoArgonMemoryBeforeSlot(t *testing.T) {
	h := NewHasher(DefaultParams(), 1)
	var calls, outside int
	var mu sync.Mutex
	h.keyHook = func(held bool) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if !held {
			outside++
		}
	}
	ctx := context.Background()
	phc, err := h.Hash(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, phc, "x"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := h.Dummy(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 3 || outside != 0 {
		t.Fatalf("argon2 ran %d times, %d of them without a slot", calls, outside)
	}
	// Every slot and the queue taken: refused calls allocate a few hundred
	// bytes (the parsed hash), never argon2's 19 MiB.
	h.MaxQueue = -1
	if err := h.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.release()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 50
	for range n {
		if _, err := h.Verify(ctx, phc, "x"); !errors.Is(err, ErrBusy) {
			t.Fatalf("Verify: %v; want ErrBusy", err)
		}
		if err := h.Dummy(ctx); !errors.Is(err, ErrBusy) {
			t.Fatalf("Dummy: %v; want ErrBusy", err)
		}
		if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
			t.Fatalf("Hash: %v; want ErrBusy", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / (3 * n); per > 4096 {
		t.Fatalf("a refused call allocated %d bytes", per)
	}
	if calls != 3 {
		t.Fatalf("argon2 ran for a refused call (%d runs)", calls)
	}
}

func BenchmarkHasherHash(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHasherHashParallel measures hashes/s with every CPU busy, through
// the concurrency bound (its default: one slot per CPU).
func BenchmarkHasherHashParallel(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	h.MaxWait, h.MaxQueue = time.Hour, 1024
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawIDKey(b *testing.B) {
	p := DefaultParams()
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
}

func BenchmarkHasherVerify(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	phc, _ := h.Hash(context.Background(), "correct horse battery staple")
	for b.Loop() {
		if ok, err := h.Verify(context.Background(), phc, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
