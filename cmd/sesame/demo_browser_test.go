package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// demoChromium starts Debian's headless Chromium, French-speaking, at
// 320 px, with a fresh profile.
func demoChromium(t *testing.T) context.Context {
	t.Helper()
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "chromium: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("accept-lang", "fr-FR,fr"), chromedp.Flag("lang", "fr-FR"), chromedp.WindowSize(320, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	watchdog := time.AfterFunc(150*time.Second, cancelCtx)
	t.Cleanup(func() { watchdog.Stop(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// demoAxeViolation is one rule axe-core found broken, with the elements.
type demoAxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// demoCheckPage runs axe-core on the page shown (no violation of any
// impact), checks it fits 320 px, and saves a screenshot under
// SESAME_SCREENSHOT_DIR when set.
func demoCheckPage(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if width > 320 {
		t.Errorf("%s is %d px wide at a 320 px viewport", name, width)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;typeof axe === 'object'")); err != nil {
		t.Fatalf("%s: inject axe-core: %v", name, err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]demoAxeViolation](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe-core: %s (%s): %s on %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
	if dir := os.Getenv("SESAME_SCREENSHOT_DIR"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "demo-"+name+"-320.png"), png, 0o644)
		}
	}
}

// TestDemoBrowser follows the demo's banner in headless Chromium at 320 px:
// the activation link, a password typed twice, then the demo application,
// the login form of sesame, and the claims page; axe-core finds no
// violation on the demo application's pages.
func TestDemoBrowser(t *testing.T) {
	axe := testenv.AxeCore(t)
	ctx := demoChromium(t)
	t.Setenv("TMPDIR", t.TempDir())
	d := startDemo(t)
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	do("activation page", chromedp.Navigate(d.link), chromedp.WaitVisible(chromedp.ID("password")))
	do("choose a password",
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.SendKeys(chromedp.ID("confirm"), demoPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".success")))

	// A fresh browser session would show sesame's login form; this one
	// may be logged in by the activation: either way, the claims.
	do("demo application", chromedp.Navigate(d.rp), chromedp.WaitVisible(chromedp.CSS(`a[href="/demo/login"]`)))
	demoCheckPage(t, ctx, axe, "welcome")
	do("log in", chromedp.Click(chromedp.CSS(`a[href="/demo/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#username, table`)))
	if form, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#username') !== null`)); err != nil {
		t.Fatal(err)
	} else if form {
		do("login form",
			chromedp.SendKeys(chromedp.ID("username"), "camille.martin"),
			chromedp.SendKeys(chromedp.ID("password"), demoPassword),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS("table")))
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"camille.martin@demo.example", "Camille Martin", "preferred_username"} {
		if !strings.Contains(text, want) {
			t.Errorf("the claims page lacks %q:\n%s", want, text)
		}
	}
	demoCheckPage(t, ctx, axe, "claims")
	d.stop()
}
