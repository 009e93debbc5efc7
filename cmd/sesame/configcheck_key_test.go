package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/config"
)

// TestConfigCheckMasterKey: serve refuses to start on a master key
// (secrets.key_file) that others may read (0640, like the configuration
// file beside it in docs/sesame.service) or that is not 32 bytes, so config
// check must report it (exit 1, naming the key) instead of "The
// configuration is valid.". A missing key is valid: serve creates it.
func TestConfigCheckMasterKey(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "secret.key")
	cfg := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\nsecrets:\n  key_file: "+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "config", "check", "--config", cfg); code != 0 || !strings.Contains(out, "The configuration is valid.") {
		t.Fatalf("config check without a key yet: exit %d %q %q", code, out, errOut)
	}
	for _, c := range []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"group-readable", make([]byte, config.KeySize), 0o640, "chmod 600"},
		{"truncated", make([]byte, 10), 0o600, "holds 10 bytes"},
	} {
		_ = os.Remove(key)
		if err := os.WriteFile(key, c.data, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(key, c.mode); err != nil {
			t.Fatal(err)
		}
		if _, err := config.LoadOrCreateKey(key); err == nil {
			t.Fatalf("%s: serve's key loading accepts it; the test is wrong", c.name)
		}
		code, out, errOut := runCLI(t, "config", "check", "--config", cfg)
		if code != 1 || strings.Contains(out, "The configuration is valid.") || !strings.Contains(errOut, "secrets.key_file") ||
			!strings.Contains(errOut, c.want) {
			t.Errorf("%s key: exit %d, stdout %q, stderr %q; want 1 naming secrets.key_file (%q)", c.name, code, out, errOut, c.want)
		}
	}
	if err := os.WriteFile(key, make([]byte, config.KeySize), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "config", "check", "--config", cfg); code != 0 || !strings.Contains(out, "The configuration is valid.") {
		t.Fatalf("config check with a good key: exit %d %q %q", code, out, errOut)
	}
}
