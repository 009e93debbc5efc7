package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email. Text and HTML are its two alternative bodies; both
// are required.
type Message struct {
	MessageID string // "<id@host>" or "id@host"; stable per job
	From      string // "Name <addr>" or "addr"
	To        string // the recipient's address
	ToName    string // the recipient's display name, may be empty
	Subject   string
	Text      string
	HTML      string
	Date      time.Time // zero means now
	Headers   map[string]string
}

// Sender delivers messages. Several messages given to one call travel over
// one connection.
type Sender interface {
	Send(ctx context.Context, msgs ...Message) error
}

// Error is a failure to deliver one message, or to reach the server.
type Error struct {
	MessageID string // empty when no message was concerned
	Permanent bool   // retrying will not help
	Code      int    // the SMTP reply code, 0 when the server gave none
	// MaybeDelivered is true when the message's data was sent to its end
	// but the server's answer never came (the connection dropped, or timed
	// out, after the final "."): the server may have accepted the message,
	// so sending it again may deliver it twice.
	MaybeDelivered bool
	Err            error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.MessageID != "" && e.MaybeDelivered {
		return fmt.Sprintf("mail: %s failure for %s, after its data was sent (the server may have accepted it): %v", kind, e.MessageID, e.Err)
	}
	if e.MessageID != "" {
		return fmt.Sprintf("mail: %s failure for %s: %v", kind, e.MessageID, e.Err)
	}
	return fmt.Sprintf("mail: %s failure: %v", kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err (or any error it wraps or joins) says a
// message was refused for good, so retrying it is pointless. Errors that do
// not come from this package are taken as temporary.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Permanent
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			if IsPermanent(x) {
				return true
			}
		}
	}
	return false
}

// MaybeDelivered reports whether err (or any error it wraps or joins) says
// a message's data was sent to its end without the server's answer coming
// back: the server may hold the message although the send failed.
func MaybeDelivered(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) && e.MaybeDelivered {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, x := range j.Unwrap() {
			if MaybeDelivered(x) {
				return true
			}
		}
	}
	return false
}

// ErrInvalidMessage means a message lacks something or has an invalid
// address; it is permanent.
var ErrInvalidMessage = errors.New("mail: invalid message")

// headerValue removes line breaks and other control characters, so that a
// value cannot start a new header.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// messageID returns the id without angle brackets, checked.
func messageID(id string) (string, error) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	local, host, ok := strings.Cut(id, "@")
	if !ok || local == "" || host == "" || strings.ContainsAny(id, "<> \t\r\n\"\\,;:") || strings.Count(id, "@") != 1 {
		return "", fmt.Errorf("%w: Message-ID %q", ErrInvalidMessage, id)
	}
	return id, nil
}

// build turns m into a go-mail message, or gives a permanent *Error.
func build(m Message) (*gomail.Msg, error) {
	bad := func(format string, args ...any) error {
		return &Error{MessageID: m.MessageID, Permanent: true, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)}
	}
	id, err := messageID(m.MessageID)
	if err != nil {
		return nil, &Error{MessageID: m.MessageID, Permanent: true, Err: err}
	}
	if m.Text == "" || m.HTML == "" {
		return nil, bad("both a text and an HTML body are required")
	}
	from, err := mail.ParseAddress(headerValue(m.From))
	if err != nil {
		return nil, bad("From %q: %v", m.From, err)
	}
	to, err := mail.ParseAddress(headerValue(m.To))
	if err != nil || to.Name != "" {
		return nil, bad("To %q is not a bare address", m.To)
	}
	to.Name = headerValue(m.ToName)
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(headerValue(m.Subject))
	msg.SetMessageIDWithValue(id)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	for k, v := range m.Headers {
		if !validHeaderName(k) {
			return nil, bad("header name %q", k)
		}
		switch strings.ToLower(k) {
		case "from", "to", "cc", "bcc", "subject", "message-id", "date", "auto-submitted",
			"content-type", "content-transfer-encoding", "mime-version":
			return nil, bad("header %q is set by the sender itself", k)
		}
		msg.SetGenHeader(gomail.Header(k), headerValue(v))
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// validHeaderName accepts RFC 5322 field names (printable ASCII but ':').
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r <= ' ' || r > '~' || r == ':' {
			return false
		}
	}
	return true
}
