package notify

import (
	"context"
	"net/mail"
	"strings"
	"testing"

	"sesame/internal/jobs"
	"sesame/internal/manage"
	"sesame/internal/store"
)

// sentTo returns the one message mailpit holds for addr: subject, text,
// HTML and raw header block.
func (e *env) sentTo(t *testing.T, addr string) (subject, text, html string, hdr mail.Header) {
	t.Helper()
	for _, s := range e.mp.Messages() {
		for _, to := range s.To {
			if to.Address == addr {
				m := e.mp.Message(s.ID)
				msg, err := mail.ReadMessage(strings.NewReader(string(e.mp.Raw(s.ID))))
				if err != nil {
					t.Fatal(err)
				}
				return s.Subject, m.Text, m.HTML, msg.Header
			}
		}
	}
	t.Fatalf("no message to %s", addr)
	return
}

// TestExpiredLinkSaysWhereToGetANewOne: activation, reminder and reset
// links expire; each email must say where to get a new link (/resend for an
// activation, /forgot for a reset), in the text and the HTML part, in both
// languages. The reminder even says no other reminder will come.
func TestExpiredLinkSaysWhereToGetANewOne(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	type want struct{ addr, page string }
	var cases []want
	for _, lang := range []string{"fr", "en"} {
		a := e.person(f, "Ana", "A", "ana."+lang, "ana-"+lang+"@example.org", lang)
		e.issue(a, f, store.PurposeActivate)
		r := e.person(f, "Rémi", "R", "remi."+lang, "remi-"+lang+"@example.org", lang)
		if err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := e.tokens.IssueWith(ctx, tx, r.ID, f.structure.ID, store.PurposeActivate, jobs.KindMailReminder)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		z := e.person(f, "Zoé", "Z", "zoe."+lang, "zoe-"+lang+"@example.org", lang)
		if _, err := e.st.UpdatePerson(e.ctx, z.ID, func(p *store.Person) error { p.State = store.StateActive; return nil }); err != nil {
			t.Fatal(err)
		}
		e.issue(z, f, store.PurposeReset)
		cases = append(cases, want{a.Email, "/resend"}, want{r.Email, "/resend"}, want{z.Email, "/forgot"})
	}
	e.drain()
	for _, c := range cases {
		subject, text, html, _ := e.sentTo(t, c.addr)
		if !strings.Contains(text, publicURL+c.page) {
			t.Errorf("%q (to %s): the text part never says where to get a new link once it expired (%s):\n%s", subject, c.addr, c.page, text)
		}
		if !strings.Contains(html, `href="`+publicURL+c.page+`"`) {
			t.Errorf("%q (to %s): the HTML part has no link to %s for an expired link", subject, c.addr, c.page)
		}
	}
}

// TestActivationWithoutStructure: a new hoster admin (`sesame admin
// add EMAIL`) belongs to no structure; their activation email must still
// read as sentences, in both languages.
func TestActivationWithoutStructure(t *testing.T) {
	e := newEnv(t)
	m := &manage.Manager{Store: e.st, Links: e.tokens}
	for _, c := range []struct{ addr, lang string }{{"nouvelle@example.org", "fr"}, {"newadmin@example.org", "en"}} {
		inv, err := m.AddAdmin(e.ctx, "cli", c.addr)
		if err != nil || !inv.Linked {
			t.Fatalf("AddAdmin: %+v, %v", inv, err)
		}
		if _, err := e.st.UpdatePerson(e.ctx, inv.Person.ID, func(p *store.Person) error { p.Language = c.lang; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	e.drain()
	for _, addr := range []string{"nouvelle@example.org", "newadmin@example.org"} {
		subject, text, html, _ := e.sentTo(t, addr)
		for _, bad := range []string{"\n vous a ouvert", "\n has opened"} {
			if strings.Contains(text, bad) {
				t.Errorf("%q: the text part opens with a sentence missing its subject (%q):\n%s", subject, bad, text)
			}
		}
		if strings.Contains(html, "<strong></strong>") {
			t.Errorf("%q: the HTML part names an empty structure:\n%s", subject, html)
		}
	}
}

// TestReplyToReferent: the emails say "do not reply", yet people
// reply; when the structure's contact is one address, a reply must reach it
// (Reply-To), not the unattended sender. A contact that is not one clean
// address sets no Reply-To.
func TestReplyToReferent(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org", [2]string{"Nextcloud", "https://cloud.lebeta.org"})
	p := e.person(f, "Camille", "Dupont", "camille", "camille@example.org", "fr")
	e.issue(p, f, store.PurposeActivate)
	h := e.structure("Hostile", "x@example.org\r\nBcc: c@example.net")
	q := e.person(h, "Eve", "E", "eve", "eve@example.org", "fr")
	e.issue(q, h, store.PurposeActivate)
	e.drain()
	_, text, _, hdr := e.sentTo(t, "camille@example.org")
	if !strings.Contains(text, "une réponse à ce message va à contact@lebeta.org") || strings.Contains(text, "ne pas y répondre") {
		t.Errorf("the footer does not say where a reply goes:\n%s", text)
	}
	rt, err := hdr.AddressList("Reply-To")
	if err != nil || len(rt) != 1 || rt[0].Address != "contact@lebeta.org" {
		t.Errorf("Reply-To %q (%v); want the structure's contact contact@lebeta.org", hdr.Get("Reply-To"), err)
	}
	_, text, _, hdr = e.sentTo(t, "eve@example.org")
	if !strings.Contains(text, "merci de ne pas y répondre") {
		t.Errorf("without a Reply-To, the footer does not ask not to reply:\n%s", text)
	}
	if v := hdr.Get("Reply-To"); v != "" {
		t.Errorf("a contact that is not one address gave Reply-To %q", v)
	}
	if v := hdr.Get("Bcc"); v != "" {
		t.Errorf("Bcc header injected: %q", v)
	}
}

// TestResetNamesTheStructure: a reset email must let the person
// recognise where it comes from: the structure's name (the only name they
// know; the sender is "Sesame") appears in its subject.
func TestResetNamesTheStructure(t *testing.T) {
	e := newEnv(t)
	f := e.structure("Le Bêta", "contact@lebeta.org")
	for _, lang := range []string{"fr", "en"} {
		z := e.person(f, "Zoé", "Z", "zoe."+lang, "zoe-"+lang+"@example.org", lang)
		if _, err := e.st.UpdatePerson(e.ctx, z.ID, func(p *store.Person) error { p.State = store.StateActive; return nil }); err != nil {
			t.Fatal(err)
		}
		e.issue(z, f, store.PurposeReset)
	}
	e.drain()
	for _, addr := range []string{"zoe-fr@example.org", "zoe-en@example.org"} {
		subject, _, _, _ := e.sentTo(t, addr)
		if !strings.Contains(subject, "Le Bêta") {
			t.Errorf("reset subject %q does not name the structure", subject)
		}
	}
}
