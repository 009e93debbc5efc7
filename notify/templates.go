package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templateFS embed.FS

// The emails, by template name.
const (
	emailActivate        = "activate"
	emailReset           = "reset"
	emailAccess          = "access"
	emailPasswordChanged = "password-changed"
	emailReminder        = "reminder"
	emailDigest          = "digest"
	emailMFAReset        = "mfa-reset"
	emailRecoveryUsed    = "recovery-used"
	emailEmailChanged    = "email-changed"
)

var (
	emails    = []string{emailActivate, emailReset, emailAccess, emailPasswordChanged, emailReminder, emailDigest, emailMFAReset, emailRecoveryUsed, emailEmailChanged}
	languages = []string{"fr", "en"}
)

// emailTemplates holds one parsed text and HTML template per email and
// language.
type emailTemplates struct {
	text map[string]*texttemplate.Template // key "lang/email"
	html map[string]*htmltemplate.Template
}

type buttonData struct{ URL, Label string }

var funcs = map[string]any{
	"button": func(url, label string) buttonData { return buttonData{URL: url, Label: label} },
}

// parseTemplates parses every email in every language; a missing or broken
// one is an error naming it.
func parseTemplates() (*emailTemplates, error) {
	t := &emailTemplates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, lang := range languages {
		for _, e := range emails {
			key := lang + "/" + e
			tt, err := texttemplate.New(e+".txt").Option("missingkey=error").Funcs(funcs).
				ParseFS(templateFS, "templates/"+key+".txt")
			if err != nil {
				return nil, fmt.Errorf("notify: template %s.txt: %w", key, err)
			}
			ht, err := htmltemplate.New("layout.html").Option("missingkey=error").Funcs(funcs).
				ParseFS(templateFS, "templates/layout.html", "templates/"+key+".html")
			if err != nil {
				return nil, fmt.Errorf("notify: template %s.html: %w", key, err)
			}
			for _, name := range []string{"subject", "content", "footer"} {
				if ht.Lookup(name) == nil {
					return nil, fmt.Errorf("notify: template %s.html defines no %q", key, name)
				}
			}
			if tt.Lookup("subject") == nil {
				return nil, fmt.Errorf("notify: template %s.txt defines no \"subject\"", key)
			}
			t.text[key], t.html[key] = tt, ht
		}
	}
	return t, nil
}

// rendered is one email's subject and bodies.
type rendered struct{ Subject, Text, HTML string }

func (t *emailTemplates) render(lang, email string, data any) (rendered, error) {
	key := lang + "/" + email
	tt, ht := t.text[key], t.html[key]
	if tt == nil || ht == nil {
		return rendered{}, fmt.Errorf("notify: no template %s", key)
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", data); err != nil {
		return rendered{}, fmt.Errorf("notify: render %s subject: %w", key, err)
	}
	if err := tt.Execute(&text, data); err != nil {
		return rendered{}, fmt.Errorf("notify: render %s.txt: %w", key, err)
	}
	if err := ht.ExecuteTemplate(&html, "layout", data); err != nil {
		return rendered{}, fmt.Errorf("notify: render %s.html: %w", key, err)
	}
	return rendered{
		Subject: strings.Join(strings.Fields(subj.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}
