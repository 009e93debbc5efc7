package apps

import (
	"fmt"
	"io"

	"sesame/internal/store"
)

// genericKind is any OpenID Connect relying party: the standard settings,
// one role, no quirk and no provisioning.
var genericKind = Kind{
	Name:  KindGeneric,
	Title: "OpenID Connect",
	Roles: []string{"user"},
	Aliases: map[string]string{
		"user": "user", "utilisateur": "user", "utilisatrice": "user", "membre": "user", "member": "user",
	},
	FrenchRoles: map[string]string{"user": "utilisateur"},
	DefaultRole: "user",
	Client: func(string) Client {
		return Client{RequirePKCE: true, RefreshTokens: true, AuthMethod: "client_secret_basic"}
	},
	comment: "#",
	setup: func(w io.Writer, issuer string, s store.Service, secret string) {
		fmt.Fprintf(w, `# OpenID Connect client
issuer:        %s
discovery:     %s/.well-known/openid-configuration
client_id:     %s
client_secret: %s
auth method:   %s
`, issuer, issuer, s.ClientID, secret, s.AuthMethod)
	},
}
