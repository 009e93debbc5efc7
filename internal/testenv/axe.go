package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// AxeCoreEnv names the environment variable that holds the path of
// axe-core's axe.min.js (the npm package axe-core, which scripts/test
// installs into a cache folder and names here).
const AxeCoreEnv = "SESAME_AXE_CORE"

// AxeCorePath is where axe.min.js is looked for: $SESAME_AXE_CORE, else
// the cache folder scripts/test installs it into
// (${XDG_CACHE_HOME:-~/.cache}/sesame/npm/node_modules/axe-core).
func AxeCorePath() string {
	if p := os.Getenv(AxeCoreEnv); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "sesame", "npm", "node_modules", "axe-core", "axe.min.js")
}

// AxeCore returns the source of axe-core, for a browser test to inject
// into a page and run. It skips t, or fails it under
// SESAME_REQUIRE_SERVICES=1, when the file is missing.
func AxeCore(t testing.TB) string {
	t.Helper()
	path := AxeCorePath()
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		Missing(t, "axe-core at %q (scripts/test installs it with npm): %v", path, err)
		return ""
	}
	return string(b)
}
