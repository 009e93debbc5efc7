package onboarding

import (
	"reflect"
	"testing"

	"sesame/internal/store"
)

func TestParseRights(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []RightItem
	}{
		{"empty", "", nil},
		{"one service", "nextcloud", []RightItem{{Service: "nextcloud"}}},
		{"service and role", "wordpress:editor", []RightItem{{"wordpress", "editor"}}},
		{"spaces around", " wordpress : éditeur ", []RightItem{{"wordpress", "éditeur"}}},
		{"comma list", "nextcloud,wordpress:author", []RightItem{{"nextcloud", ""}, {"wordpress", "author"}}},
		{"semicolon list", "nextcloud;paheko:Trésorier", []RightItem{{"nextcloud", ""}, {"paheko", "Trésorier"}}},
		{"pipe list", "a|b:c", []RightItem{{"a", ""}, {"b", "c"}}},
		{"newline list", "nextcloud:admin\nwordpress\r\npaheko", []RightItem{{"nextcloud", "admin"}, {"wordpress", ""}, {"paheko", ""}}},
		{"empty items dropped", ",, nextcloud ,;", []RightItem{{"nextcloud", ""}}},
		{"nbsp before colon", "wordpress\u00a0: auteur", []RightItem{{"wordpress", "auteur"}}},
		{"fullwidth colon", "wordpress\uff1aauteur", []RightItem{{"wordpress", "auteur"}}},
		{"role only", ":admin", []RightItem{{"", "admin"}}},
		{"colon in role kept", "generic:a:b", []RightItem{{"generic", "a:b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseRights(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRights(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveRole(t *testing.T) {
	nc := store.Service{Kind: store.KindNextcloud, Name: "Nextcloud"}
	wp := store.Service{Kind: store.KindWordPress, Name: "Site"}
	wpDefault := store.Service{Kind: store.KindWordPress, DefaultRole: "author"}
	pk := store.Service{Kind: store.KindPaheko, Roles: []string{"Membre", "Trésorier", "Administrateurs"}, DefaultRole: "Membre"}
	pkNoDefault := store.Service{Kind: store.KindPaheko, Roles: []string{"Membre"}}
	gen := store.Service{Kind: store.KindGeneric}
	tests := []struct {
		name   string
		svc    store.Service
		role   string
		want   string
		wantOK bool
	}{
		{"nc default", nc, "", "user", true},
		{"nc admin", nc, "admin", "admin", true},
		{"nc administrateur", nc, "Administrateur", "admin", true},
		{"nc utilisateur", nc, "utilisateur", "user", true},
		{"nc unknown", nc, "editor", "", false},
		{"wp default", wp, "", "subscriber", true},
		{"wp service default", wpDefault, "", "author", true},
		{"wp éditeur", wp, "éditeur", "editor", true},
		{"wp EDITEUR", wp, "EDITEUR", "editor", true},
		{"wp auteur", wp, "Auteur", "author", true},
		{"wp abonné", wp, "abonné", "subscriber", true},
		{"wp contributeur", wp, "contributeur", "contributor", true},
		{"wp administrateur", wp, "administrateur", "administrator", true},
		{"wp admin", wp, "admin", "administrator", true},
		{"wp unknown", wp, "chef", "", false},
		{"paheko category", pk, "tresorier", "Trésorier", true},
		{"paheko category exact", pk, "Administrateurs", "Administrateurs", true},
		{"paheko default", pk, "", "Membre", true},
		{"paheko no default", pkNoDefault, "", "", false},
		{"paheko unknown category", pk, "editor", "", false},
		{"generic", gen, "", "user", true},
		{"generic membre", gen, "membre", "user", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ResolveRole(tc.svc, tc.role)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ResolveRole(%s, %q) = %q, %v; want %q, %v", tc.svc.Kind, tc.role, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestServiceIndex(t *testing.T) {
	ix := newServiceIndex([]store.Service{
		{ID: "1", Slug: "cloud", Name: "Nextcloud", Kind: store.KindNextcloud},
		{ID: "2", Slug: "site", Name: "Site web", Kind: store.KindWordPress},
		{ID: "3", Slug: "blog", Name: "Blog", Kind: store.KindWordPress},
		{ID: "4", Slug: "compta", Name: "Comptabilité", Kind: store.KindPaheko},
	})
	for name, want := range map[string]string{
		"cloud": "1", "NEXTCLOUD": "1", "nextcloud": "1", "site web": "2", "Site-Web": "2", "blog": "3",
		"comptabilite": "4", "Paheko": "4", "compta": "4",
	} {
		svc, found, _ := ix.lookup(name)
		if !found || svc.ID != want {
			t.Errorf("lookup(%q) = %q, %v; want %q", name, svc.ID, found, want)
		}
	}
	if _, found, ambiguous := ix.lookup("wordpress"); found || !ambiguous {
		t.Error("lookup(wordpress) is not ambiguous although two services have that kind")
	}
	if _, found, _ := ix.lookup("mastodon"); found {
		t.Error("lookup(mastodon) found a service")
	}
}
