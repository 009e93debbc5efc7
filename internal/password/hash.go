package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Errors returned by a Hasher.
var (
	// ErrBusy means no hashing slot became free within the wait bound (or
	// before the context ended): the caller answers 429 or 503.
	ErrBusy = errors.New("password: too many password hashes in progress, try again shortly")
	// ErrMalformed means a stored hash is not an argon2id PHC string this
	// package can verify.
	ErrMalformed = errors.New("password: malformed argon2id hash")
)

// DefaultMaxWait is how long Hash, Verify and Dummy wait for a slot, when
// the queue in front of the slots has room and the context no earlier
// deadline. The queue holds one caller per slot (MaxQueue's default), so a
// queued caller normally waits for one hash: 25 ms with DefaultParams on a
// quiet core, a few hundred on a loaded one; the bound only cuts a stall.
// (Before the queue, every caller waited up to 2 s: a crowd of refusals
// waited seconds each.)
// Callers that find the queue full do not wait at all.
const DefaultMaxWait = time.Second

// Params are argon2id's parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are the parameters sesame hashes with: m=19456 KiB (19 MiB),
// t=2, p=1, a 16-byte salt and a 32-byte key (OWASP's first argon2id
// choice, and what the directory's argon2 module is configured with).
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// withDefaults fills zero fields from DefaultParams.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// Limits on the parameters Verify accepts from a stored hash, so that a
// corrupted or hostile value cannot make one verification take gigabytes or
// minutes.
const (
	maxVerifyMemory  = 256 * 1024 // KiB, unless the Hasher's own is higher
	maxVerifyTime    = 32
	maxVerifyThreads = 32
	minSaltLen       = 8
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 128
)

// Hasher hashes and verifies passwords with argon2id, running at most a
// fixed number of hashes at once. It is safe for concurrent use.
type Hasher struct {
	// MaxWait bounds how long Hash, Verify and Dummy wait for a free slot
	// when the context has no earlier deadline. Zero means DefaultMaxWait.
	// Set it before the Hasher is used.
	MaxWait time.Duration
	// MaxQueue bounds how many callers wait for a slot at once: one more,
	// finding every slot taken and the queue full, gets ErrBusy at once,
	// without waiting. Zero means as many as there are slots; negative,
	// none (no free slot means ErrBusy). Set it before the Hasher is used.
	MaxQueue int

	params Params
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string

	inFlight atomic.Int64 // hashes running now
	peak     atomic.Int64 // highest inFlight seen
	waiting  atomic.Int64 // callers queued for a slot now
	occupied atomic.Int64 // callers holding a slot or queued for one
	refused  atomic.Int64 // ErrBusy answers so far
	waited   atomic.Int64 // callers that had to queue for their slot

	// keyHook, when set (by tests), is called where argon2 is about to
	// allocate its memory, with whether a slot is held.
	keyHook func(slotHeld bool)
}

// Stats are a Hasher's counters since it was made.
type Stats struct {
	Slots    int   // hashes that may run at once
	InFlight int64 // hashes running now
	Waiting  int64 // callers queued for a slot now
	Waited   int64 // callers that queued before getting their slot
	Refused  int64 // ErrBusy answers: no slot in time, or the queue full
}

// Stats returns the Hasher's counters.
func (h *Hasher) Stats() Stats {
	return Stats{Slots: cap(h.sem), InFlight: h.inFlight.Load(), Waiting: h.waiting.Load(),
		Waited: h.waited.Load(), Refused: h.refused.Load()}
}

// NewHasher returns a Hasher with p (zero fields take DefaultParams' values)
// that runs at most maxConcurrent hashes at once; maxConcurrent <= 0 means
// the number of CPUs. Memory held by hashing therefore stays below
// maxConcurrent × p.Memory KiB.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: p.withDefaults(), sem: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Saturated reports whether a hash asked for now would be refused at once:
// every slot taken and the queue in front of them full. It is a hint (the
// next instant may differ), for callers that can refuse more cheaply before
// doing the work that leads to the hash.
func (h *Hasher) Saturated() bool {
	return h.occupied.Load() >= int64(cap(h.sem))+h.queueBound()
}

// queueBound is how many callers may wait for a slot at once.
func (h *Hasher) queueBound() int64 {
	switch {
	case h.MaxQueue < 0:
		return 0
	case h.MaxQueue == 0:
		return int64(cap(h.sem))
	}
	return int64(h.MaxQueue)
}

// acquire takes a slot. When none is free it joins the queue in front of
// the slots, if that has room, and waits until ctx ends or the wait bound
// passes; a full queue is ErrBusy at once. Nothing is allocated for the
// hash before the slot is held.
func (h *Hasher) acquire(ctx context.Context) error {
	if h.occupied.Add(1) > int64(cap(h.sem))+h.queueBound() {
		h.occupied.Add(-1)
		h.refused.Add(1)
		return ErrBusy
	}
	select {
	case h.sem <- struct{}{}:
	default:
		h.waiting.Add(1)
		err := h.wait(ctx)
		h.waiting.Add(-1)
		if err != nil {
			h.occupied.Add(-1)
			h.refused.Add(1)
			return err
		}
		h.waited.Add(1)
	}
	n := h.inFlight.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

// wait waits for a slot, until ctx ends or the wait bound passes.
func (h *Hasher) wait(ctx context.Context) error {
	wait := h.MaxWait
	if wait <= 0 {
		wait = DefaultMaxWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (%w)", ErrBusy, ctx.Err())
	case <-t.C:
		return ErrBusy
	}
}

// key runs argon2id; the caller holds a slot. The m KiB block argon2
// works in is allocated here, inside the slot.
func (h *Hasher) key(plain string, salt []byte, p Params, keyLen uint32) []byte {
	if h.keyHook != nil {
		h.keyHook(len(h.sem) > 0 && h.inFlight.Load() > 0)
	}
	return argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, keyLen)
}

func (h *Hasher) release() {
	h.inFlight.Add(-1)
	<-h.sem
	h.occupied.Add(-1)
}

// Hash returns the PHC string of plain with a fresh random salt. The whole
// of plain is hashed, whatever its length. It returns ErrBusy when no slot
// is free in time.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := h.key(plain, salt, h.params, h.params.KeyLen)
	h.release()
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether plain matches phc, an argon2id PHC string (a
// leading "{ARGON2}" LDAP scheme is accepted). The parameters are read from
// phc, and the keys are compared in constant time. A malformed phc gives
// ErrMalformed; no free slot in time gives ErrBusy.
func (h *Hasher) Verify(ctx context.Context, phc, plain string) (bool, error) {
	p, salt, want, err := decodePHC(phc)
	if err != nil {
		return false, err
	}
	maxMem := uint32(maxVerifyMemory)
	if h.params.Memory > maxMem {
		maxMem = h.params.Memory
	}
	if p.Memory > maxMem {
		return false, fmt.Errorf("%w: memory %d KiB above the %d KiB this server verifies", ErrMalformed, p.Memory, maxMem)
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := h.key(plain, salt, p, uint32(len(want)))
	h.release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Dummy spends what a Verify with the Hasher's parameters spends, and
// discards the result. Call it for an unknown account or a missing hash so
// that the answer takes as long as for a known one. Its error is Verify's
// (ErrBusy when no slot came free): an unknown account must get the same
// "busy" answer as a known one.
func (h *Hasher) Dummy(ctx context.Context) error {
	h.dummyOnce.Do(func() {
		salt := make([]byte, h.params.SaltLen)
		_, _ = rand.Read(salt)
		key := make([]byte, h.params.KeyLen)
		_, _ = rand.Read(key)
		h.dummy = encodePHC(h.params, salt, key)
	})
	_, err := h.Verify(ctx, h.dummy, "sesame dummy password")
	return err
}

// NeedsRehash reports whether phc was made with parameters other than the
// Hasher's (so a successful login may store a fresh hash), or cannot be read.
func (h *Hasher) NeedsRehash(phc string) bool {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return true
	}
	return p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads ||
		uint32(len(salt)) != h.params.SaltLen || uint32(len(key)) != h.params.KeyLen
}

var b64 = base64.RawStdEncoding

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (optionally after
// "{ARGON2}"), checking every field against sane bounds.
func decodePHC(phc string) (Params, []byte, []byte, error) {
	var p Params
	s := phc
	if len(s) >= 8 && strings.EqualFold(s[:8], "{ARGON2}") {
		s = s[8:]
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm %q is not argon2id", ErrMalformed, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q is not v=%d", ErrMalformed, parts[2], argon2.Version)
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformed, parts[3])
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %s: %w", ErrMalformed, k, err)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("%w: parallelism %d", ErrMalformed, n)
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter %q", ErrMalformed, k)
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] {
		return p, nil, nil, fmt.Errorf("%w: parameters %q lack m, t or p", ErrMalformed, parts[3])
	}
	if p.Time < 1 || p.Time > maxVerifyTime || p.Threads < 1 || p.Threads > maxVerifyThreads || p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of bounds", ErrMalformed, parts[3])
	}
	salt, err := b64.DecodeString(strings.TrimRight(parts[4], "="))
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	key, err := b64.DecodeString(strings.TrimRight(parts[5], "="))
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: key", ErrMalformed)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
