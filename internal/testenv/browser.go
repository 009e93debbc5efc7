package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium (package chromium).
const ChromiumPath = "/usr/bin/chromium"

// Chromium starts Debian's headless Chromium with a fresh profile, for a
// French-speaking visitor on a phone: a 320 px wide window, emulated as a
// mobile viewport. The browser is stopped when t ends, or when watchdog
// has passed (a watchdog rather than a deadline on the first call, which
// would bound the whole browser's life). It skips t, or fails it under
// SESAME_REQUIRE_SERVICES=1, when Chromium is missing.
func Chromium(t testing.TB, watchdog time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		Missing(t, "chromium (apt-get install chromium): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(ChromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		// A French-speaking visitor; the pages follow Accept-Language.
		chromedp.Flag("accept-lang", "fr-FR,fr"), chromedp.Flag("lang", "fr-FR"),
		chromedp.WindowSize(320, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	dog := time.AfterFunc(watchdog, cancelCtx)
	t.Cleanup(func() { dog.Stop(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile)); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// AxeViolation is one rule axe-core found broken on a page, with the
// elements (CSS selectors) that break it.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Axe injects axe-core (the source AxeCore returns) into the page shown in
// ctx and returns its violations, of any impact.
func Axe(ctx context.Context, axe string) ([]AxeViolation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;typeof axe === 'object'")); err != nil {
		return nil, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))`,
		chromedp.EvalAwaitPromise))
}

// CheckAxe runs Axe on the page shown in ctx and reports each violation as
// an error of t, named name.
func CheckAxe(t testing.TB, ctx context.Context, axe, name string) {
	t.Helper()
	vs, err := Axe(ctx, axe)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe-core: %s (%s): %s on %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// PageWidth is the scroll width of the page shown in ctx (wider than the
// viewport means the page scrolls sideways on a phone).
func PageWidth(ctx context.Context) (int, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
}

// Screenshot saves the page shown in ctx as name.png under
// $SESAME_SCREENSHOT_DIR, for a human to look at; it does nothing when the
// variable is unset.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SESAME_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("%s: screenshot: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Errorf("%s: screenshot: %v", name, err)
	}
}
