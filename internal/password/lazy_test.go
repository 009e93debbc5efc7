package password

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"sesame/internal/third_party/zxcvbn/matching"
)

// firstCheckEnv, when set, makes the test binary a fresh process that makes
// one first Check, writes a firstCheckReport to the file it names and exits
// without running the tests (see TestMain).
const firstCheckEnv = "SESAME_PASSWORD_FIRST_CHECK_REPORT"

// firstCheckReport is what a fresh process saw around its first Check.
type firstCheckReport struct {
	ListsBefore, DictsBefore bool  // the embedded lists and zxcvbn's dictionaries built before the first Check
	ListsAfter, DictsAfter   bool  // ... and after it
	HeapBefore, HeapAfter    int64 // live heap (HeapAlloc after a GC), in bytes
	First, Second            time.Duration
	Problem                  string // a refusal of the accepted passphrase
}

func TestMain(m *testing.M) {
	if path := os.Getenv(firstCheckEnv); path != "" {
		os.Exit(firstCheckChild(path))
	}
	os.Exit(m.Run())
}

func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// firstCheckChild runs in the fresh process: nothing has called Check yet.
func firstCheckChild(path string) int {
	const plain = "Le chat de ma grand-mère dort toujours près du radiateur"
	r := firstCheckReport{ListsBefore: dictionariesLoaded(), DictsBefore: matching.DictionariesLoaded()}
	r.HeapBefore = liveHeap()
	start := time.Now()
	p := DefaultPolicy().Check(plain, person...)
	r.First = time.Since(start)
	if p != nil {
		r.Problem = p.Message("en")
	}
	start = time.Now()
	DefaultPolicy().Check(plain, person...)
	r.Second = time.Since(start)
	r.ListsAfter, r.DictsAfter = dictionariesLoaded(), matching.DictionariesLoaded()
	r.HeapAfter = liveHeap()
	b, err := json.Marshal(r)
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// firstCheckInFreshProcess runs the test binary again as a fresh process
// (package initialisation included) and returns what it saw.
func firstCheckInFreshProcess(tb testing.TB) firstCheckReport {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), firstCheckEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("fresh process: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var r firstCheckReport
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatal(err)
	}
	if r.Problem != "" {
		tb.Fatalf("the first Check refused an accepted passphrase: %s", r.Problem)
	}
	return r
}

// TestPolicyIsLazy checks that the password policy costs nothing until the
// first Check: neither the embedded lists nor zxcvbn's frequency
// dictionaries (about 11 MB of maps) are built at package initialisation,
// and both are after one Check.
func TestPolicyIsLazy(t *testing.T) {
	r := firstCheckInFreshProcess(t)
	t.Logf("live heap %.1f MiB before the first Check, %.1f MiB after; first Check %v, second %v",
		float64(r.HeapBefore)/(1<<20), float64(r.HeapAfter)/(1<<20), r.First, r.Second)
	if r.ListsBefore || r.DictsBefore {
		t.Fatalf("built before the first Check: embedded lists %v, zxcvbn dictionaries %v", r.ListsBefore, r.DictsBefore)
	}
	if !r.ListsAfter || !r.DictsAfter {
		t.Fatalf("not built by the first Check: embedded lists %v, zxcvbn dictionaries %v", r.ListsAfter, r.DictsAfter)
	}
	// The whole test binary (testing, testenv, ldap, ...) lives in far less
	// than the dictionaries alone: a package that builds tables at
	// initialisation again would show here.
	if r.HeapBefore > 4<<20 {
		t.Errorf("live heap before the first Check is %.1f MiB; want < 4 MiB", float64(r.HeapBefore)/(1<<20))
	}
}

// BenchmarkPolicyFirstCheck measures what the first Check of a process pays:
// building the embedded lists and zxcvbn's dictionaries, then checking. Each
// iteration starts a fresh process; only the first Check is timed.
func BenchmarkPolicyFirstCheck(b *testing.B) {
	var first, second time.Duration
	var heap int64
	n := 0
	for b.Loop() {
		r := firstCheckInFreshProcess(b)
		first += r.First
		second += r.Second
		heap += r.HeapAfter - r.HeapBefore
		n++
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(n), "ms/first-check")
	b.ReportMetric(float64(second.Microseconds())/1000/float64(n), "ms/second-check")
	b.ReportMetric(float64(heap)/(1<<20)/float64(n), "MiB-live-after-first")
}

// After DictionaryIdle without a Check, both sets of dictionaries are
// dropped and their memory is handed back; the next Check builds them
// again and judges as before.
func TestDictionariesReleasedWhenIdle(t *testing.T) {
	setIdle := func(d time.Duration) {
		listsMu.Lock()
		DictionaryIdle = d
		listsMu.Unlock()
	}
	old := DictionaryIdle
	t.Cleanup(func() { setIdle(old) })
	// A long idle period while checking (a slow machine must not release
	// them mid-test), then a short one, armed as a Check would arm it.
	setIdle(time.Hour)
	const plain = "Le chat de ma grand-mère dort toujours près du radiateur"
	if p := DefaultPolicy().Check(plain, person...); p != nil {
		t.Fatal(p.Message("en"))
	}
	if !dictionariesLoaded() || !matching.DictionariesLoaded() {
		t.Fatal("a Check did not build the dictionaries")
	}
	loaded := liveHeap()
	setIdle(100 * time.Millisecond)
	currentLists()
	deadline := time.Now().Add(5 * time.Second)
	for dictionariesLoaded() || matching.DictionariesLoaded() {
		if time.Now().After(deadline) {
			t.Fatal("the dictionaries are still loaded 5 s after the last Check")
		}
		time.Sleep(20 * time.Millisecond)
	}
	released := liveHeap()
	t.Logf("live heap %.1f MiB with the dictionaries, %.1f MiB after their release",
		float64(loaded)/(1<<20), float64(released)/(1<<20))
	if loaded-released < 5<<20 {
		t.Errorf("releasing the dictionaries freed %.1f MiB; want more than 5", float64(loaded-released)/(1<<20))
	}
	setIdle(time.Hour)
	if p := DefaultPolicy().Check(plain, person...); p != nil {
		t.Errorf("after a release, the passphrase: %s", p.Message("en"))
	}
	if !dictionariesLoaded() || !matching.DictionariesLoaded() {
		t.Error("the Check after a release did not build the dictionaries again")
	}
	if p := DefaultPolicy().Check("motdepasse123", person...); p != problemCommon {
		t.Errorf("after a release, a common password: %v", p)
	}
}
