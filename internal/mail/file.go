package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
)

// FileSender writes each message as an .eml file in a directory, named
// after its Message-ID (so a retried job overwrites rather than
// duplicates), and logs the file's path. It never logs the message's
// content: an activation or reset link in the log would open the account
// to whoever reads the log.
type FileSender struct {
	dir string
	log *slog.Logger
}

var _ Sender = (*FileSender)(nil)

// NewFileSender returns a sender writing to dir (created when missing) and
// logging each file it writes to logger (nil for none).
func NewFileSender(dir string, logger *slog.Logger) Sender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FileSender{dir: dir, log: logger}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// Send writes every message; one that cannot be built or written is
// reported, the others are still written.
func (f *FileSender) Send(ctx context.Context, msgs ...Message) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return &Error{Err: fmt.Errorf("create %s: %w", f.dir, err)}
	}
	var errs []error
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, &Error{MessageID: m.MessageID, Err: err})
			continue
		}
		if err := f.write(m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f *FileSender) write(m Message) error {
	gm, err := build(m)
	if err != nil {
		return err
	}
	id, _ := messageID(m.MessageID) // checked by build
	name := filepath.Join(f.dir, unsafeName.ReplaceAllString(id, "_")+".eml")
	// Not named *.eml until complete: a reader that lists the folder
	// (a script, a test) never opens half a message, nor one renamed away.
	tmp, err := os.CreateTemp(f.dir, ".tmp-*.part")
	if err != nil {
		return &Error{MessageID: m.MessageID, Err: fmt.Errorf("write: %w", err)}
	}
	_, werr := gm.WriteTo(tmp)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return &Error{MessageID: m.MessageID, Err: fmt.Errorf("write %s: %w", name, err)}
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return &Error{MessageID: m.MessageID, Err: fmt.Errorf("write %s: %w", name, err)}
	}
	f.log.Info("mail: email written to a file (mail.driver is file); open it to read the message",
		"file", name, "message_id", "<"+id+">")
	return nil
}
