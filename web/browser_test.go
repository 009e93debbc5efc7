package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/store"
	"sesame/internal/testenv"
)

// browser starts Debian's headless Chromium for a French-speaking visitor
// on a 320 px phone screen.
func browser(t *testing.T) context.Context {
	t.Helper()
	return testenv.Chromium(t, 90*time.Second)
}

// screenshot saves a PNG under SESAME_SCREENSHOT_DIR (when set) for a human
// to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	testenv.Screenshot(t, ctx, name)
}

// The activation page in a real browser at 320 px: no horizontal
// scrolling, the style sheet applied (the CSP lets it through), type the
// password twice, submit, see the success page.
func TestBrowserActivation(t *testing.T) {
	e := newEnv(t)
	p := e.person("lucie.garnier", "lucie@example.org", store.StateInvited)
	link := e.srv.URL + "/activate/" + e.issue(p, store.PurposeActivate)
	ctx := browser(t)

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("password")),
	); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 320 {
		t.Errorf("the page is %d px wide at a 320 px viewport (horizontal scrolling)", width)
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor`))
	if err != nil {
		t.Fatal(err)
	}
	if bg != "rgb(11, 79, 156)" {
		t.Errorf("submit button background %q: the style sheet was not applied", bg)
	}
	tap, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('button[type=submit]').getBoundingClientRect().height`))
	if err != nil {
		t.Fatal(err)
	}
	if tap < 44 {
		t.Errorf("submit button is %v px high, want a tap target of at least 44", tap)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[name=username]').offsetParent !== null`))
	if err != nil {
		t.Fatal(err)
	}
	if shown {
		t.Error("the hidden username field (for password managers) is visible")
	}
	screenshot(t, ctx, "activate-320")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.SendKeys(chromedp.ID("confirm"), goodPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".success")),
	); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h1, "Votre compte est activé") {
		t.Fatalf("heading after submit: %q", h1)
	}
	width, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 320 {
		t.Errorf("the success page is %d px wide at 320 px", width)
	}
	screenshot(t, ctx, "done-320")
	if got := e.getPerson(p.ID); got.State != store.StateActive {
		t.Fatalf("person not active after the browser flow: %+v", got)
	}

	// The used link, then the friendly page.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("identifier"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "invalid-320")
}

// The home page and an unknown address at 320 px: no horizontal
// scrolling, and the way out (the forgotten-password page) one tap away.
func TestBrowserHomeAndUnknown(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)
	for _, path := range []string{"/", "/nope"} {
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(320, 720, chromedp.EmulateMobile),
			chromedp.Navigate(e.srv.URL+path),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/forgot"]`)),
		); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 320 {
			t.Errorf("%s is %d px wide at a 320 px viewport", path, width)
		}
		screenshot(t, ctx, map[string]string{"/": "home-320", "/nope": "notfound-320"}[path])
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/forgot"]`)), chromedp.WaitVisible(chromedp.ID("identifier"))); err != nil {
		t.Fatalf("the link to the forgotten-password page: %v", err)
	}
}
