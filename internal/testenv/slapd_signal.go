package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Freeze stops the running slapd with SIGSTOP: it keeps its port, and the
// kernel still accepts connections on it, but nothing is answered (a hung
// server, unlike a stopped one). It returns once every thread of slapd is
// stopped. Thaw resumes it. Stop (and the test's end) kills a frozen slapd
// as well.
func (s *Slapd) Freeze() {
	s.t.Helper()
	pid := s.signal(syscall.SIGSTOP)
	// The signal is delivered asynchronously: a thread busy with a request
	// may still answer it. Wait until every thread is stopped.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := allStopped(pid)
		if err != nil {
			s.t.Fatalf("testenv: freeze slapd: %v", err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testenv: slapd (pid %d) still running 10s after SIGSTOP", pid)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Thaw resumes a slapd frozen by Freeze (SIGCONT).
func (s *Slapd) Thaw() {
	s.t.Helper()
	s.signal(syscall.SIGCONT)
}

func (s *Slapd) signal(sig syscall.Signal) int {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("testenv: slapd is not running (signal %v)", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("testenv: signal slapd: %v", err)
	}
	return s.cmd.Process.Pid
}

// allStopped reports whether every thread of pid is in the stopped state
// (T in /proc/PID/task/TID/stat).
func allStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false, fmt.Errorf("read the threads of pid %d: %v", pid, err)
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		// "TID (comm) STATE ...": comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("%s: unexpected %q", f, b)
		}
		if b[i+2] != 'T' {
			return false, nil
		}
	}
	return true, nil
}

// CPUTime is the processor time the running slapd has used so far (user
// and system, from /proc/PID/stat). Unlike wall time, it does not count
// what a shared host's other guests took (steal time), so a benchmark can
// compare the work two slapds did when the machine's pace wanders.
func (s *Slapd) CPUTime() time.Duration {
	s.t.Helper()
	s.mu.Lock()
	var pid int
	if s.cmd != nil {
		pid = s.cmd.Process.Pid
	}
	s.mu.Unlock()
	if pid == 0 {
		s.t.Fatal("testenv: slapd is not running (CPU time)")
	}
	d, err := ProcessCPUTime(pid)
	if err != nil {
		s.t.Fatalf("testenv: slapd CPU time: %v", err)
	}
	return d
}
