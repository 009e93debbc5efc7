package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// LossySMTP is a minimal SMTP server for the faults mailpit cannot produce.
// It speaks just enough SMTP for sesame's sender (EHLO, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT, no TLS). After the end of a message's data it stores the
// message, then either answers 250 or, while LoseReplies is above zero,
// closes the connection without answering: the server has the message but
// the client never learns it (the "lost 250"). While RefuseConnections is
// above zero, a new connection is greeted with 421 and closed. It listens
// on a loopback port and stops when the test ends.
type LossySMTP struct {
	Host string
	Port int

	l    net.Listener
	mu   sync.Mutex
	msgs [][]byte
	lose int
	skip int // messages answered before the losses start
	deny int
	wg   sync.WaitGroup
}

// StartLossySMTP starts a LossySMTP for t that loses the reply to the first
// lose messages.
func StartLossySMTP(t testing.TB, lose int) *LossySMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: lossy smtp: %v", err)
	}
	s := &LossySMTP{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, l: l, lose: lose}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = l.Close()
		s.wg.Wait()
	})
	return s
}

// Messages returns the data of every message whose data was received to
// its end, those whose reply was lost included, in order.
func (s *LossySMTP) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.msgs...)
}

// LoseReplies makes the server lose the reply to the next n messages.
func (s *LossySMTP) LoseReplies(n int) {
	s.mu.Lock()
	s.lose = n
	s.mu.Unlock()
}

// LoseRepliesAfter makes the server answer the next skip messages, then
// lose the reply to the n after them (a connection that drops in the
// middle of a batch).
func (s *LossySMTP) LoseRepliesAfter(skip, n int) {
	s.mu.Lock()
	s.skip, s.lose = skip, n
	s.mu.Unlock()
}

// RefuseConnections makes the server refuse the next n connections (421).
func (s *LossySMTP) RefuseConnections(n int) {
	s.mu.Lock()
	s.deny = n
	s.mu.Unlock()
}

func (s *LossySMTP) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

// session runs one connection; it returns when the connection must close.
func (s *LossySMTP) session(c net.Conn) {
	r := bufio.NewReader(c)
	reply := func(lines ...string) bool {
		_, err := fmt.Fprint(c, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	s.mu.Lock()
	refuse := s.deny > 0
	if refuse {
		s.deny--
	}
	s.mu.Unlock()
	if refuse {
		reply("421 4.3.2 lossy: service not available, try later")
		return
	}
	if !reply("220 lossy ESMTP ready") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			reply("250-lossy", "250-8BITMIME", "250 SMTPUTF8")
		case "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		case "DATA":
			if !reply("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return // the data never ended: no message
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, data.Bytes())
			lost := s.lose > 0 && s.skip == 0
			if s.skip > 0 {
				s.skip--
			} else if lost {
				s.lose--
			}
			s.mu.Unlock()
			if lost {
				return // stored, but the 250 never leaves
			}
			reply("250 2.0.0 queued")
		default:
			reply("502 5.5.1 command not implemented")
		}
	}
}
