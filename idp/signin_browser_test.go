package idp

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sesame/internal/testenv"
)

// TestBrowserSignIn: sesame's own sign-in page has the shared header bar,
// fits 320 px and has no accessibility violation, in French and English.
func TestBrowserSignIn(t *testing.T) {
	axe := testenv.AxeCore(t)
	f := newFixture(t, sharedKeys(t))
	f.withAccountPages(t) // the style sheet and the /forgot link's page
	ctx := testenv.Chromium(t, 150*time.Second)
	for _, lang := range []string{"fr", "en"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(f.issuer+"/signin?next=%2Fadmin&lang="+lang),
			chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
			t.Fatal(err)
		}
		checkPage(t, ctx, axe, "signin", lang, "")
	}
}
