package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"sesame/internal/store"
)

// TestAuditPageSaysProvisioningCredentials: "sesame service credentials"
// records service.credentials.set with the details take_over and accounts
// (cmd/sesame/service_provision.go), on the structure's audit page, which
// its referents read in French: the details are labelled in words, not
// shown as the code's keys.
func TestAuditPageSaysProvisioningCredentials(t *testing.T) {
	e := newAdminEnv(t, "sqlite")
	ref, a := e.referentOf("a")
	e.must(e.st.AppendAudit(context.Background(), &store.AuditEntry{Actor: "cli:root", Action: "service.credentials.set",
		Target: "structure:a", StructureID: a.ID, Details: map[string]any{"service": "cloud", "take_over": false, "accounts": 3}}))
	for lang, wants := range map[string][]string{
		"":         {`<li title="take_over">Reprise des comptes existants : non</li>`, `<li title="accounts">Comptes à provisionner : 3</li>`},
		"?lang=en": {`<li title="take_over">Existing accounts taken over: no</li>`, `<li title="accounts">Accounts to provision: 3</li>`},
	} {
		status, _, body := e.do("GET", "/admin/structures/a/audit"+lang, &ref, nil)
		for _, want := range wants {
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("audit page%s: %d, no %s\n%s", lang, status, want, body)
			}
		}
	}
}
