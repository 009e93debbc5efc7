package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"sesame/internal/certs"
)

// The TLS modes of SMTPConfig.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only to a relay on the loopback interface
)

// Defaults of SMTPConfig.
const (
	DefaultTimeout     = 15 * time.Second
	DefaultIdleTimeout = 30 * time.Second
	maxIdleConns       = 4
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int    // 0 means 587, 465 or 25 after TLS
	TLS      string // "starttls" (default), "tls" or "none"
	Username string // empty means no authentication
	Password string
	Timeout  time.Duration // per network operation; 0 means DefaultTimeout
	CAFile   string        // PEM bundle trusted instead of the system roots, for a private relay

	// IdleTimeout is how long a connection is kept open between sends for
	// the next one to reuse; 0 means DefaultIdleTimeout, and a negative value
	// closes the connection after every Send.
	IdleTimeout time.Duration
}

// SMTP is the SMTP Sender. It keeps a few connections open between calls
// (reused when younger than IdleTimeout and still answering NOOP); Close
// closes them.
type SMTP struct {
	cfg    SMTPConfig
	client *gomail.Client
	addr   string

	mu     sync.Mutex
	idle   []*pooledConn
	closed bool
}

type pooledConn struct {
	c        *smtp.Client
	lastUsed time.Time
}

var _ Sender = (*SMTP)(nil)

// ErrConfig means the SMTP configuration cannot work.
var ErrConfig = errors.New("mail: invalid SMTP configuration")

// NewSMTP checks cfg and returns an SMTP sender; it does not connect yet.
// TLS "none" is refused unless Host is a loopback address or "localhost".
func NewSMTP(cfg SMTPConfig) (Sender, error) {
	s, err := newSMTP(cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func newSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, fmt.Errorf("%w: host is empty", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrConfig, cfg.Port)
	}
	tlsConf := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := certs.ReadCA(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		tlsConf.RootCAs = pool
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tlsConf)}
	port := cfg.Port
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		if port == 0 {
			port = gomail.DefaultPortTLS
		}
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = gomail.DefaultPortSSL
		}
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("%w: TLS %q is only allowed to a loopback host, not %q (use starttls or tls)", ErrConfig, cfg.TLS, cfg.Host)
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if port == 0 {
			port = gomail.DefaultPort
		}
	default:
		return nil, fmt.Errorf("%w: TLS %q is not starttls, tls or none", ErrConfig, cfg.TLS)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if cfg.TLS == TLSNone {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only, checked above
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &SMTP{cfg: cfg, client: c, addr: net.JoinHostPort(cfg.Host, fmt.Sprint(port))}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Send delivers msgs over one connection, reusing an idle one when it can.
// It returns nil when every message was accepted by the server, or an error
// joining one *Error per message that was not (see IsPermanent). A message
// that cannot be built is not sent; the others still are.
func (s *SMTP) Send(ctx context.Context, msgs ...Message) error {
	var errs []error
	built := make([]*gomail.Msg, 0, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		gm, err := build(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		built = append(built, gm)
		ids = append(ids, m.MessageID)
	}
	if len(built) == 0 {
		return errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(append(errs, &Error{Err: fmt.Errorf("before sending: %w", err)})...)
	}

	pc, reused, err := s.conn(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	sendErr := s.sendOn(ctx, pc, built)
	var se *gomail.SendError
	if reused && errors.As(sendErr, &se) && se.Reason == gomail.ErrConnCheck {
		// The idle connection had died (NOOP failed): nothing was sent on
		// it, so dial once more.
		_ = pc.c.Close()
		if pc, err = s.dial(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
		sendErr = s.sendOn(ctx, pc, built)
	}

	healthy := ctx.Err() == nil
	undelivered := 0
	for i, gm := range built {
		if gm.IsDelivered() {
			continue
		}
		undelivered++
		e := classify(ids[i], gm.SendError())
		if e.Code == 0 {
			healthy = false // not a server reply: the connection's state is unknown
		}
		errs = append(errs, e)
	}
	if sendErr != nil && undelivered == 0 {
		// A failure outside any message (the connection check, or RSET after
		// a delivered message).
		healthy = false
		var se *gomail.SendError
		if !errors.As(sendErr, &se) || se.Reason != gomail.ErrSMTPReset {
			errs = append(errs, &Error{Err: sendErr})
		}
	}
	if healthy {
		s.putIdle(pc)
	} else {
		_ = pc.c.Close()
	}
	return errors.Join(errs...)
}

// sendOn sends on pc, closing the connection if ctx ends meanwhile (go-mail
// itself only knows the per-operation timeout).
func (s *SMTP) sendOn(ctx context.Context, pc *pooledConn, msgs []*gomail.Msg) error {
	stop := context.AfterFunc(ctx, func() { _ = pc.c.Close() })
	defer stop()
	return s.client.SendWithSMTPClient(pc.c, msgs...)
}

// classify turns go-mail's per-message error into an *Error.
func classify(id string, err error) *Error {
	if err == nil {
		err = errors.New("not delivered")
	}
	e := &Error{MessageID: id, Err: err}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return e
	}
	e.Code = se.ErrorCode()
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		e.Permanent = true
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		// 5xx to the recipient or to the message itself: this message is
		// refused for good. A 4xx is a "try later".
		e.Permanent = e.Code >= 500 && e.Code < 600
	}
	// The data's closing "." went out (go-mail writes it, then reads the
	// reply) but no reply code came back: the server may have queued the
	// message before the connection dropped.
	e.MaybeDelivered = se.Reason == gomail.ErrSMTPDataClose && e.Code == 0
	return e
}

// conn returns an idle connection young enough to reuse, or a new one.
func (s *SMTP) conn(ctx context.Context) (*pooledConn, bool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, &Error{Err: errors.New("sender is closed")}
	}
	var stale []*pooledConn
	var pc *pooledConn
	for len(s.idle) > 0 {
		last := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(last.lastUsed) < s.cfg.IdleTimeout {
			pc = last
			break
		}
		stale = append(stale, last)
	}
	s.mu.Unlock()
	for _, c := range stale {
		_ = s.client.CloseWithSMTPClient(c.c)
	}
	if pc != nil {
		return pc, true, nil
	}
	pc, err := s.dial(ctx)
	return pc, false, err
}

func (s *SMTP) dial(ctx context.Context) (*pooledConn, error) {
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// Refused, unreachable, TLS or login failures: all temporary, as
		// an administrator may fix them while the message waits.
		return nil, &Error{Err: fmt.Errorf("connect to %s (%s): %w", s.addr, s.cfg.TLS, err)}
	}
	return &pooledConn{c: c, lastUsed: time.Now()}, nil
}

func (s *SMTP) putIdle(pc *pooledConn) {
	if s.cfg.IdleTimeout < 0 {
		_ = s.client.CloseWithSMTPClient(pc.c)
		return
	}
	pc.lastUsed = time.Now()
	s.mu.Lock()
	if s.closed || len(s.idle) >= maxIdleConns {
		s.mu.Unlock()
		_ = s.client.CloseWithSMTPClient(pc.c)
		return
	}
	s.idle = append(s.idle, pc)
	s.mu.Unlock()
}

// Close closes the idle connections (with QUIT); later Sends fail.
func (s *SMTP) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	var errs []error
	for _, pc := range idle {
		if err := s.client.CloseWithSMTPClient(pc.c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mail: close: %w", err)
	}
	return nil
}
