package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

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
	vs, err := testenv.Axe(ctx, axe)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s: axe-core: %s (%s): %s on %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
	testenv.Screenshot(t, ctx, "demo-"+name+"-320")
}

// TestDemoBrowser follows the demo's banner in headless Chromium at 320 px:
// the activation link, a password typed twice, then the demo application,
// the login form of sesame, and the claims page; axe-core finds no
// violation on the demo application's pages.
func TestDemoBrowser(t *testing.T) {
	axe := testenv.AxeCore(t)
	ctx := testenv.Chromium(t, 150*time.Second)
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
