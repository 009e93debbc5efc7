package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// FileSender writes each message as an .eml file in a directory, named
// after its Message-ID (so a retried job overwrites rather than
// duplicates), and prints a one-line notice with the subject, the
// recipient and the message's links to echo.
type FileSender struct {
	dir  string
	echo io.Writer
	mu   sync.Mutex // serialises echo lines
}

var _ Sender = (*FileSender)(nil)

// NewFileSender returns a sender writing to dir (created when missing) and
// echoing to echo (nil for none).
func NewFileSender(dir string, echo io.Writer) Sender {
	return &FileSender{dir: dir, echo: echo}
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"')]+`)

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
	tmp, err := os.CreateTemp(f.dir, ".tmp-*.eml")
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
	if f.echo != nil {
		links := linkRE.FindAllString(m.Text, -1)
		line := fmt.Sprintf("mail to %s: %q (%s)", headerValue(m.To), headerValue(m.Subject), name)
		if len(links) > 0 {
			line += " links: " + strings.Join(links, " ")
		}
		f.mu.Lock()
		fmt.Fprintln(f.echo, line)
		f.mu.Unlock()
	}
	return nil
}
