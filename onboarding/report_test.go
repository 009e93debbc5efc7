package onboarding

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestReportText(t *testing.T) {
	b, err := os.ReadFile("testdata/golden/update.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var fr, en strings.Builder
	if err := r.WriteText(&fr, "fr"); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&en, "en"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LIGNE", "elodie.herve", "grant:nextcloud: admin → user", "language: fr → en", "mises à jour 2"} {
		if !strings.Contains(fr.String(), want) {
			t.Errorf("French text lacks %q:\n%s", want, fr.String())
		}
	}
	if !strings.Contains(en.String(), "update 2") || !strings.Contains(en.String(), "USERNAME") {
		t.Errorf("English text:\n%s", en.String())
	}
}
