package main

import (
	"fmt"
	"io"
)

// The sentences "sesame demo" prints, French first, then English (kept
// apart from demo.go's logic).

// demoBanner is what the demo prints once it serves.
type demoBanner struct {
	Base, Dir, MailDir string
	Keep               bool
	Person, Link       string // Link is empty once the person has activated their account
	RP                 string
	AdminLink          string // empty while demoAdminLogin is not set
}

// writeDemoBanner prints the demo's addresses and links.
func writeDemoBanner(w io.Writer, b demoBanner) {
	fmt.Fprintf(w, `
sesame demo : prêt / ready — %s

`, b.Base)
	if b.Keep {
		fmt.Fprintf(w, "Données (conservées) / Data (kept): %s\n", b.Dir)
	} else {
		fmt.Fprintf(w, "Données (supprimées à l'arrêt) / Data (removed on exit): %s\n", b.Dir)
	}
	fmt.Fprintf(w, "Courriels (fichiers .eml) / Emails (.eml files): %s\n", b.MailDir)
	if b.AdminLink != "" {
		fmt.Fprintf(w, `
Administration (hébergeur) / Administration (hoster):
  %s
`, b.AdminLink)
	}
	if b.Link != "" {
		fmt.Fprintf(w, `
1. Activez le compte de %[1]s : ouvrez ce lien et choisissez un mot de passe.
   Activate %[1]s's account: open this link and choose a password.
  %[2]s
`, b.Person, b.Link)
	} else {
		fmt.Fprintf(w, `
1. Le compte de %[1]s est déjà activé : connectez-vous avec son mot de passe.
   %[1]s's account is already activated: log in with its password.
`, b.Person)
	}
	fmt.Fprintf(w, `
2. Connectez-vous à l'application de démonstration, qui affiche ce que sesame lui dit de vous.
   Log in to the demo application, which shows what sesame tells it about you.
  %s

Ctrl-C arrête la démo. / Ctrl-C stops the demo.
`, b.RP)
}

// writeDemoStopped says the demo stopped, and where its data is left.
func writeDemoStopped(w io.Writer, dir string, keep bool) {
	if keep {
		fmt.Fprintf(w, "\nDémo arrêtée ; données conservées dans %[1]s. / Demo stopped; data kept in %[1]s.\n", dir)
		return
	}
	fmt.Fprintln(w, "\nDémo arrêtée ; dossier supprimé. / Demo stopped; folder removed.")
}
