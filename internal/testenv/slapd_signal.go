package testenv

import "syscall"

// Freeze stops the running slapd with SIGSTOP: it keeps its port, and the
// kernel still accepts connections on it, but nothing is answered (a hung
// server, unlike a stopped one). Thaw resumes it. Stop (and the test's end)
// kills a frozen slapd as well.
func (s *Slapd) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a slapd frozen by Freeze (SIGCONT).
func (s *Slapd) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Slapd) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("testenv: slapd is not running (signal %v)", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("testenv: signal slapd: %v", err)
	}
}
