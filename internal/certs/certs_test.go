package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

func TestReadCA(t *testing.T) {
	dir := t.TempDir()
	good, _ := testenv.SelfSigned(t)
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pool, err := ReadCA(good); err != nil || pool == nil {
		t.Errorf("a PEM certificate: %v", err)
	}
	for path, want := range map[string]string{
		empty:                         "holds no PEM certificate",
		dir:                           "read CA file",
		filepath.Join(dir, "missing"): "read CA file",
	} {
		if _, err := ReadCA(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadCA(%s) = %v, want %q", path, err, want)
		}
	}
}
