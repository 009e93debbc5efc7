package mail

import (
	"context"
	"errors"
	"fmt"

	gomail "github.com/wneessen/go-mail"
)

// BatchSender is a Sender that reports one result per message, so that a
// caller sending many messages at once (the mail jobs) knows which ones
// went out.
type BatchSender interface {
	Sender
	// SendEach sends msgs over one connection and returns one result per
	// message, at its index: nil when the server accepted it, else an
	// *Error (see IsPermanent and MaybeDelivered).
	SendEach(ctx context.Context, msgs []Message) []error
}

// SendEach sends msgs with s, reporting per message: through SendEach when
// s is a BatchSender, else one Send per message.
func SendEach(ctx context.Context, s Sender, msgs []Message) []error {
	if b, ok := s.(BatchSender); ok {
		return b.SendEach(ctx, msgs)
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = s.Send(ctx, m)
	}
	return errs
}

var _ BatchSender = (*SMTP)(nil)

// SendEach sends msgs over one connection (an idle one when it can), with
// RSET between messages, and returns one result per message. When the
// connection breaks in the middle, the messages that never reached the end
// of their data are sent once more over a new connection; a message whose
// data was sent but whose answer was lost is not (MaybeDelivered: sending
// it again may deliver it twice, which is the caller's decision).
func (s *SMTP) SendEach(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	todo := make([]int, 0, len(msgs))
	built := make([]*gomail.Msg, len(msgs))
	for i, m := range msgs {
		gm, err := build(m)
		if err != nil {
			errs[i] = err
			continue
		}
		built[i] = gm
		todo = append(todo, i)
	}
	for round := 0; len(todo) > 0; round++ {
		todo = s.sendRound(ctx, msgs, built, todo, errs)
		if round == 1 || ctx.Err() != nil {
			break
		}
		if len(todo) > 0 {
			// Built anew: go-mail keeps a message's state in it.
			for _, i := range todo {
				gm, err := build(msgs[i])
				if err != nil {
					errs[i] = err
					continue
				}
				built[i] = gm
			}
		}
	}
	return errs
}

// sendRound sends the messages todo names over one connection, sets their
// results in errs, and returns those worth sending again on a new
// connection: they failed with no reply from the server before their data
// ended, on a connection that broke.
func (s *SMTP) sendRound(ctx context.Context, msgs []Message, built []*gomail.Msg, todo []int, errs []error) []int {
	fail := func(err error) []int {
		for _, i := range todo {
			errs[i] = &Error{MessageID: msgs[i].MessageID, Err: err}
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("before sending: %w", err))
	}
	batch := make([]*gomail.Msg, len(todo))
	for k, i := range todo {
		batch[k] = built[i]
	}
	pc, reused, err := s.conn(ctx)
	if err != nil {
		return fail(err)
	}
	sendErr := s.sendOn(ctx, pc, batch)
	var se *gomail.SendError
	if reused && errors.As(sendErr, &se) && se.Reason == gomail.ErrConnCheck {
		// The idle connection had died (NOOP failed): nothing was sent on
		// it, so dial once more.
		_ = pc.c.Close()
		if pc, err = s.dial(ctx); err != nil {
			return fail(err)
		}
		sendErr = s.sendOn(ctx, pc, batch)
	}
	healthy := ctx.Err() == nil
	var again []int
	undelivered := 0
	for k, i := range todo {
		gm := batch[k]
		if gm.IsDelivered() {
			errs[i] = nil
			continue
		}
		undelivered++
		e := classify(msgs[i].MessageID, gm.SendError())
		errs[i] = e
		if e.Code == 0 {
			healthy = false // not a server reply: the connection's state is unknown
			if !e.Permanent && !e.MaybeDelivered {
				again = append(again, i)
			}
		}
	}
	if sendErr != nil && undelivered == 0 {
		// A failure outside any message (the connection check, or RSET
		// after a delivered message): every message went out, but the
		// connection is not fit for reuse.
		healthy = false
	}
	if healthy {
		s.putIdle(pc)
	} else {
		_ = pc.c.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	return again
}
