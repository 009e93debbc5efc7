package main

import (
	"bytes"
	"testing"
	"time"
)

// TestLDAPSyncProgressLine: the terminal progress of `ldap sync` redraws one
// line at most once per interval, always shows the last change, and ends
// with a newline only when it drew something.
func TestLDAPSyncProgressLine(t *testing.T) {
	var b bytes.Buffer
	progress, end := progressLine(&b, time.Hour)
	for i := 1; i <= 3; i++ {
		progress(i, 3)
	}
	end()
	if got, want := b.String(), "\rsync: 1/3 changes (33 %)\rsync: 3/3 changes (100 %)\n"; got != want {
		t.Fatalf("progress output %q, want %q", got, want)
	}

	b.Reset()
	_, end = progressLine(&b, time.Hour)
	end()
	if b.Len() != 0 {
		t.Fatalf("an empty sync printed %q", b.String())
	}
}
