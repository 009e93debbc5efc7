package mfa

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// QRSVG draws content as a QR code in an inline SVG element (the pages'
// Content-Security-Policy allows images from sesame only, and an enrolment
// secret must not travel in a URL): one path of dark modules, a quiet zone
// of four modules, scaled by the page. label is its accessible name.
func QRSVG(content, label string) (template.HTML, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("mfa: QR code: %w", err)
	}
	b := code.Bounds()
	n := b.Dx()
	const quiet = 4
	var d strings.Builder
	for y := range n {
		for x := range n {
			if r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA(); r == 0 {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	size := n + 2*quiet
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" class="qr" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		size, size, template.HTMLEscapeString(label), size, size, d.String())), nil
}
