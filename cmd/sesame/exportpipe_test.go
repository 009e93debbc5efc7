package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// "sesame export X -o PATH" where PATH is a named pipe (or a device such
// as /dev/null) wrote into it before writePrivateFile; the pipe must not
// be replaced by a regular file holding the people's data (for
// /dev/null, as root, that would replace the device node itself).
func TestExportIntoANamedPipeWritesIntoIt(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "export.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // the reader (gpg, a backup tool...)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := writePrivateFile(fifo, []byte("jean@example.org\n")); err != nil {
		t.Fatalf("export into a named pipe: %v", err)
	}
	fi, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced by a file of mode %v holding the export", fi.Mode())
	}
	select {
	case s := <-got:
		if s != "jean@example.org\n" {
			t.Errorf("the reader got %q", s)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("the reader of the pipe never got the export")
		// unblock the reader
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	}
}
