package onboarding

import (
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// RightItem is one "service[:role]" item of a rights cell, as written.
type RightItem struct {
	Service string // as written, cleaned
	Role    string // as written, cleaned; empty when the item names no role
}

// ParseRights splits a rights cell into items. Items are separated by ",",
// ";", "|" or new lines; an item is "service" or "service:role" (a full-width
// or spaced colon is accepted). Empty items are dropped.
func ParseRights(cell string) []RightItem {
	fields := strings.FieldsFunc(norm.NFC.String(cell), func(r rune) bool {
		return r == ',' || r == ';' || r == '|' || r == '\n' || r == '\r'
	})
	var items []RightItem
	for _, f := range fields {
		f = strings.ReplaceAll(f, "\uff1a", ":")
		svc, role, _ := strings.Cut(f, ":")
		it := RightItem{Service: Clean(svc), Role: Clean(role)}
		if it.Service == "" && it.Role == "" {
			continue
		}
		items = append(items, it)
	}
	return items
}

// ServiceRoles returns the roles svc accepts, in canonical form: its own
// Roles when set (for Paheko, the structure's category names), else its
// kind's built-in roles.
func ServiceRoles(svc store.Service) []string {
	if len(svc.Roles) > 0 {
		return svc.Roles
	}
	return apps.Of(svc).Roles
}

// ResolveRole returns svc's canonical role for what a cell says, matched
// without case or accents, French and English names alike (éditeur =
// editor). An empty role gives the service's default role. ok is false when
// the role is unknown or no default exists.
func ResolveRole(svc store.Service, role string) (canonical string, ok bool) {
	kind := apps.Of(svc)
	if strings.TrimSpace(role) == "" {
		if svc.DefaultRole != "" {
			return svc.DefaultRole, true
		}
		d := kind.DefaultRole
		if len(svc.Roles) > 0 {
			if d != "" && slices.Contains(svc.Roles, d) {
				return d, true
			}
			if kind.RolesPerService {
				return "", false
			}
			return svc.Roles[0], true
		}
		return d, d != ""
	}
	key := fold(role)
	// The service's own roles first (Paheko categories, custom roles).
	for _, r := range svc.Roles {
		if fold(r) == key {
			return r, true
		}
	}
	if c, found := kind.Role(key); found {
		if len(svc.Roles) == 0 || slices.Contains(svc.Roles, c) {
			return c, true
		}
	}
	return "", false
}

// serviceIndex finds a structure's services by slug, name or kind (the kind
// only when one service of the structure has it), matched without case or
// accents.
type serviceIndex struct {
	services []store.Service
	byKey    map[string][]int // folded slug or name -> indexes
	byKind   map[string][]int // folded kind -> indexes
}

func newServiceIndex(services []store.Service) *serviceIndex {
	ix := &serviceIndex{services: services, byKey: map[string][]int{}, byKind: map[string][]int{}}
	for i, s := range services {
		for _, key := range []string{fold(s.Slug), fold(s.Name)} {
			if key != "" && !slices.Contains(ix.byKey[key], i) {
				ix.byKey[key] = append(ix.byKey[key], i)
			}
		}
		k := fold(string(s.Kind))
		ix.byKind[k] = append(ix.byKind[k], i)
	}
	return ix
}

// names lists the services for a message: "Nextcloud, Site web (wordpress)"
// (the slug is shown when it differs from the name).
func (ix *serviceIndex) names() string {
	if len(ix.services) == 0 {
		return "-"
	}
	var out []string
	for _, s := range ix.services {
		n := s.Name
		if fold(s.Slug) != fold(s.Name) {
			n += " (" + s.Slug + ")"
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

// lookup returns the service a name designates; found is false when none
// does, ambiguous is true when several do. A slug or name wins over a kind.
func (ix *serviceIndex) lookup(name string) (svc store.Service, found, ambiguous bool) {
	key := fold(name)
	m := ix.byKey[key]
	if len(m) == 0 {
		m = ix.byKind[key]
	}
	switch len(m) {
	case 0:
		return store.Service{}, false, false
	case 1:
		return ix.services[m[0]], true, false
	default:
		return store.Service{}, false, true
	}
}
