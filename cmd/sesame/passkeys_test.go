package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// TestServePasskeysSetting: mfa.passkeys decides for the provider's login
// page and the portal alike: with public_url naming a host, auto shows the
// passkey form, off shows none; an IP address turns them off whatever auto
// says.
func TestServePasskeysSetting(t *testing.T) {
	bin := buildBinary(t)
	for _, c := range []struct {
		host, setting string
		want          bool
	}{
		{"localhost", "auto", true},
		{"localhost", "off", false},
		{"127.0.0.1", "auto", false},
	} {
		t.Run(c.host+"/"+c.setting, func(t *testing.T) {
			port := testenv.FreePort(t)
			base := fmt.Sprintf("http://%s:%d", c.host, port)
			env := cleanEnv("SESAME_DATA_DIR="+filepath.Join(t.TempDir(), "data"), fmt.Sprintf("SESAME_LISTEN=127.0.0.1:%d", port),
				"SESAME_PUBLIC_URL="+base, "SESAME_MFA_PASSKEYS="+c.setting)
			e2eRun(t, bin, env, "migrate")
			srv := startE2EServer(t, bin, env, base)
			code, body := get(t, base+"/signin?next=%2F")
			if code != 200 || strings.Contains(body, `data-passkey="get"`) != c.want {
				t.Errorf("sign-in page: %d, passkey form %v, want %v", code, !c.want, c.want)
			}
			srv.stop()
		})
	}
}
