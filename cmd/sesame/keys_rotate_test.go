package main

import (
	"regexp"
	"testing"
	"time"
)

// TestKeysRotateSaysWhenKeysSign: "keys rotate" printed now+--publish-delay
// as the time each new key signs from, whatever the key manager did: the
// first key of an algorithm signs at once, and a delay that is not positive
// (0, for a key to replace at once) is taken as 10 minutes, so the old key
// went on signing while the hoster read that the new one had taken over.
// The times printed are the stored ones, and a delay or keep that is not
// positive is refused (exit 2).
func TestKeysRotateSaysWhenKeysSign(t *testing.T) {
	cliEnv(t, "")
	signsFrom := func(out string) []time.Time {
		t.Helper()
		var ts []time.Time
		for _, m := range regexp.MustCompile(`signs from (\S+)\.`).FindAllStringSubmatch(out, -1) {
			ts = append(ts, mustTime(t, m[1]))
		}
		if len(ts) != 2 {
			t.Fatalf("keys rotate printed %d keys:\n%s", len(ts), out)
		}
		return ts
	}
	near := func(got, want time.Time) bool { return got.Sub(want).Abs() < 5*time.Second }

	// No key yet: the first keys sign at once.
	now := time.Now()
	for _, ts := range signsFrom(mustRun(t, "keys", "rotate")) {
		if !near(ts, now) {
			t.Errorf("first keys: printed %s, want about now (%s): they sign at once", ts, now.UTC())
		}
	}
	for _, bad := range [][]string{{"--publish-delay", "0"}, {"--publish-delay", "-5m"}, {"--keep", "0"}} {
		wantExit(t, 2, append([]string{"keys", "rotate"}, bad...)...)
	}
	now = time.Now()
	for _, ts := range signsFrom(mustRun(t, "keys", "rotate", "--publish-delay", "20m")) {
		if !near(ts, now.Add(20*time.Minute)) {
			t.Errorf("--publish-delay 20m: printed %s, want about %s", ts, now.Add(20*time.Minute).UTC())
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
