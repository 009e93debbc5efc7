package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Required reports whether missing components must fail tests rather than
// skip them.
func Required() bool { return os.Getenv("SESAME_REQUIRE_SERVICES") == "1" }

// Missing skips t, or fails it when components are required.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("required component missing (SESAME_REQUIRE_SERVICES=1): %s", msg)
	}
	t.Skipf("component missing: %s", msg)
}

// ClosedPort returns a loopback TCP port on which nothing listens, and
// nothing can until the test ends: the port is bound by a socket that
// never listens, so a connection to it is refused. (A port that was free
// a moment ago may be taken meanwhile by another test process, which
// then answers.)
func ClosedPort(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("testenv: closed port: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("testenv: closed port: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("testenv: closed port: %v", err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}

// ProcessCPUTime is the processor time (user and system, all threads) the
// process pid has used so far, from /proc/PID/stat, in clock ticks of
// 10 ms.
func ProcessCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command (field 2) is in parentheses and may hold spaces: the
	// fields counted from 3 start after the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, uerr := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, serr := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(uerr, serr); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	const ticks = 100 // USER_HZ: 100 on Linux whatever the kernel's HZ
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// FreePort returns a loopback TCP port that was free a moment ago, and
// never one it returned before in this process: two components of one test
// given the same port would fight for it (the loser exits, and the test
// fails later with a "connection refused" that does not say why).
func FreePort(t testing.TB) int {
	t.Helper()
	givenMu.Lock()
	defer givenMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[port] {
			given[port] = true
			return port
		}
	}
	t.Fatal("testenv: free port: every port offered was given before")
	return 0
}

var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// LookBinary finds a program in PATH, then in the given extra directories.
func LookBinary(name string, extra ...string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range extra {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}

// WaitTCP waits until addr accepts connections or the deadline passes.
func WaitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: %s not answering after %s: %w", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ShortTempDir returns a temporary directory with a short path (Unix socket
// paths are limited to 107 bytes), removed when the test ends.
func ShortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sesame")
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
