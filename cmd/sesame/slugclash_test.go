package main

import (
	"strings"
	"testing"
)

// TestCLIServiceSlugClash: a slug that is another service's followed by
// "-" would share a directory group (SLUG-ROLE) with it; the command
// refuses it and says why, and a slug without the dash is fine.
func TestCLIServiceSlugClash(t *testing.T) {
	cliEnv(t, "")
	mustRun(t, "structure", "add", "le-beta", "--name", "Le Bêta")
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://cloud.example.org/")
	code, out, errOut := sesame(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud Admin",
		"--url", "https://cloud2.example.org/", "--slug", "nextcloud-admin")
	if code != 2 || !strings.Contains(out+errOut, "directory group") {
		t.Errorf("a clashing --slug: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = sesame(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud Admin",
		"--url", "https://cloud2.example.org/")
	if code != 2 || !strings.Contains(out+errOut, "--slug") {
		t.Errorf("a clashing slug from the name: exit %d\n%s%s", code, out, errOut)
	}
	mustRun(t, "service", "add", "le-beta", "nextcloud", "--name", "Nextcloud Admin", "--url", "https://cloud2.example.org/",
		"--slug", "nextcloudadmin")
}
