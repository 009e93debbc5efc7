package manage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"sesame/internal/apps"
	"sesame/internal/jobs"
	"sesame/internal/netguard"
	"sesame/internal/store"
	"sesame/onboarding"
)

// ErrBadService: an unknown kind, an empty name, a base URL that is not an
// absolute http(s) address, or a Paheko service without categories.
var ErrBadService = fmt.Errorf("%w: a service needs a known kind, a name, an http(s) address (and Paheko categories; a redirect address on the same site)", store.ErrInvalid)

// NewService is what AddService needs to create a service.
type NewService struct {
	Kind    string
	Name    string
	BaseURL string
	// Categories are a Paheko service's member categories (its roles).
	Categories []string
	// RedirectURI, when given, replaces the kind's redirect addresses (a
	// generic OpenID Connect client has none of its own): an address on
	// the service's own site (BaseURL's scheme and host), without user info
	// or fragment. The provider checks it again at each login.
	RedirectURI string
	// ByHoster says a hoster (a hoster admin, the CLI) gives the address.
	// Otherwise it is a referent's: the service is marked
	// (store.Service.ReferentAddress) and sesame refuses to connect to an
	// internal network for it.
	ByHoster bool
}

// baseURL checks and trims an application's base URL.
func baseURL(raw string) (string, bool) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false
	}
	return raw, true
}

// InternalAddress reports whether a base URL names a host that is not a
// public address (see InternalHost). sesame itself calls a service's base
// URL (back-channel logouts, provisioning), so only hoster admins may
// register such an address; a host name that resolves to an internal
// address is not caught here.
func InternalAddress(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return true
	}
	return InternalHost(u.Hostname())
}

// InternalHost reports whether a host (a name or an address, without
// port) is localhost, or an IP literal that is loopback, private,
// link-local (the cloud metadata address), shared (100.64/10), unspecified
// or multicast (netguard.InternalIP, what sesame refuses to connect to for
// an address a referent gave), or a numeric host a resolver may read as
// one ("127.1", "0x7f000001").
func InternalHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netguard.InternalIP(a)
	}
	last := host[strings.LastIndex(host, ".")+1:]
	return last == "" || strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == ""
}

// redirectOn checks a redirect address given for a service at base: an
// absolute address of the same scheme and host, without user info,
// fragment or spaces.
func redirectOn(base, raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	b, berr := url.Parse(base)
	if err != nil || berr != nil || u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(raw, "# \t\r\n\"<>\\") {
		return "", false
	}
	return raw, true
}

// AddService creates a service of a structure with its kind's client
// defaults (internal/apps), a slug (the kind, or the name when the kind is
// taken), the client id STRUCTURE.SLUG and a new client secret, returned
// once: the store keeps only ClientSecretHash(secret). It queues the
// structure's directory groups.
func (m *Manager) AddService(ctx context.Context, actor, structureID string, n NewService) (store.Service, string, error) {
	if m.ClientSecretHash == nil {
		return store.Service{}, "", errors.New("manage: no client secret hasher configured")
	}
	kind, ok := apps.Lookup(strings.ToLower(strings.TrimSpace(n.Kind)))
	base, okURL := baseURL(n.BaseURL)
	name := onboarding.Clean(n.Name)
	if !ok || !okURL || name == "" {
		return store.Service{}, "", ErrBadService
	}
	svc := store.Service{StructureID: structureID, Kind: store.ServiceKind(kind.Name), Name: name, BaseURL: base,
		ReferentAddress: !n.ByHoster}
	if kind.RolesPerService {
		for _, c := range n.Categories {
			if c = onboarding.Clean(c); c != "" {
				svc.Roles = append(svc.Roles, c)
			}
		}
		if len(svc.Roles) == 0 {
			return store.Service{}, "", ErrBadService
		}
	}
	if r, ok := onboarding.ResolveRole(svc, ""); ok {
		svc.DefaultRole = r
	} else if len(svc.Roles) > 0 {
		svc.DefaultRole = svc.Roles[0]
	}
	kind.ApplyClient(&svc)
	if strings.TrimSpace(n.RedirectURI) != "" {
		u, ok := redirectOn(base, n.RedirectURI)
		if !ok {
			return store.Service{}, "", ErrBadService
		}
		svc.RedirectURIs = []string{u}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return store.Service{}, "", fmt.Errorf("manage: client secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	svc.ClientSecretHash = m.ClientSecretHash(secret)
	var out store.Service
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		st, err := tx.GetStructure(ctx, structureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		existing, err := tx.ListServices(ctx, st.ID)
		if err != nil {
			return fmt.Errorf("manage: list services: %w", err)
		}
		taken := func(x string) bool {
			for _, e := range existing {
				if store.ServiceSlugsClash(x, e.Slug) {
					return true
				}
			}
			return x == ""
		}
		s := svc
		s.Slug = kind.Name
		if taken(s.Slug) {
			// From the name; without its dashes when they would make it
			// another service's role group ("Nextcloud Admin" beside
			// "nextcloud": nextcloudadmin).
			base := onboarding.Slug(name)
			if taken(base) {
				base = strings.ReplaceAll(base, "-", "")
			}
			s.Slug = onboarding.NextFreeUsername(base, taken)
		}
		s.ClientID = st.Slug + "." + s.Slug
		if err := tx.CreateService(ctx, &s); err != nil {
			return fmt.Errorf("manage: create service: %w", err)
		}
		if err := enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(st.ID), jobs.StructureRef{StructureID: st.ID}); err != nil {
			return err
		}
		out = s
		return audit(ctx, tx, actor, "service.create", "structure:"+st.Slug,
			map[string]any{"service": s.Slug, "kind": string(s.Kind), "name": s.Name, "url": s.BaseURL})
	})
	if err != nil {
		return store.Service{}, "", err
	}
	return out, secret, nil
}

// ChangeServiceURL moves a service to a new base URL: every registered
// redirect, post-logout and back-channel address under the old base moves
// with it (others are left as they are).
func (m *Manager) ChangeServiceURL(ctx context.Context, actor, serviceID, rawURL string) (store.Service, error) {
	return m.UpdateService(ctx, actor, serviceID, ServiceChange{URL: &rawURL})
}

// ServiceChange is what UpdateService changes: the fields left nil stay.
type ServiceChange struct {
	URL  *string // a new base URL (ChangeServiceURL)
	Name *string // a new display name (RenameService)
	// RequireMFA, when set, says whether the service's client gets codes
	// only for sessions opened with two factors.
	RequireMFA *bool
	// ByHoster says a hoster (the CLI, a hoster admin) makes the change.
	// Only then does a move keep the service's provisioning credentials:
	// they are the application's administrator password, given by the
	// hoster for the old address, and the connectors send them to the base
	// URL; a referent's move forgets them (provisioning stops until the
	// hoster gives them again). And a hoster giving URL, even the same
	// one, vouches for it: the service is no longer marked as having a
	// referent's address (store.Service.ReferentAddress). A referent's new
	// address marks it; a referent giving the same address again leaves
	// the mark as it was.
	ByHoster bool
}

// UpdateService makes the changes in one transaction: a refused address or
// name changes nothing.
func (m *Manager) UpdateService(ctx context.Context, actor, serviceID string, c ServiceChange) (store.Service, error) {
	base := ""
	if c.URL != nil {
		var ok bool
		if base, ok = baseURL(*c.URL); !ok {
			return store.Service{}, ErrBadService
		}
	}
	name := ""
	if c.Name != nil {
		if name = onboarding.Clean(*c.Name); name == "" {
			return store.Service{}, ErrBadService
		}
	}
	var out store.Service
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if out, err = tx.GetService(ctx, serviceID); err != nil {
			return fmt.Errorf("manage: get service: %w", err)
		}
		if c.URL != nil {
			if out, err = changeURL(ctx, tx, actor, serviceID, base, c.ByHoster); err != nil {
				return err
			}
		}
		if c.Name != nil {
			if out, err = rename(ctx, tx, actor, serviceID, name); err != nil {
				return err
			}
		}
		if c.RequireMFA != nil && *c.RequireMFA != out.RequireMFA {
			if out, err = tx.UpdateService(ctx, serviceID, func(s *store.Service) error { s.RequireMFA = *c.RequireMFA; return nil }); err != nil {
				return fmt.Errorf("manage: update service: %w", err)
			}
			if err := audit(ctx, tx, actor, "service.update", "service:"+out.ID, map[string]any{"require_mfa": out.RequireMFA}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// changeURL is ChangeServiceURL's work inside tx.
func changeURL(ctx context.Context, tx store.Tx, actor, serviceID, base string, byHoster bool) (store.Service, error) {
	var out store.Service
	err := func() error {
		old, dropped, vouched := "", false, false
		s, err := tx.UpdateService(ctx, serviceID, func(s *store.Service) error {
			old = s.BaseURL
			if s.BaseURL != base && s.ProvisioningSecret != nil && !byHoster {
				s.ProvisioningSecret, dropped = nil, true
			}
			switch {
			case byHoster:
				vouched = s.ReferentAddress
				s.ReferentAddress = false
			case s.BaseURL != base:
				s.ReferentAddress = true
			}
			move := func(u string) string {
				if old != "" && (u == old || strings.HasPrefix(u, old+"/") || strings.HasPrefix(u, old+"?")) {
					return base + strings.TrimPrefix(u, old)
				}
				return u
			}
			for i := range s.RedirectURIs {
				s.RedirectURIs[i] = move(s.RedirectURIs[i])
			}
			for i := range s.PostLogoutURIs {
				s.PostLogoutURIs[i] = move(s.PostLogoutURIs[i])
			}
			s.BackchannelLogoutURI = move(s.BackchannelLogoutURI)
			s.BaseURL = base
			return nil
		})
		if err != nil {
			return fmt.Errorf("manage: update service: %w", err)
		}
		if old == base && !vouched {
			out = s
			return nil
		}
		st, err := tx.GetStructure(ctx, s.StructureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		out = s
		detail := map[string]any{"service": s.Slug, "from": old, "url": base}
		if dropped {
			detail["credentials_dropped"] = true
		}
		if vouched {
			detail["address_confirmed"] = true // a referent's address, vouched for by the hoster
		}
		return audit(ctx, tx, actor, "service.update", "structure:"+st.Slug, detail)
	}()
	return out, err
}

// RenameService changes a service's display name (what people read, and
// what a spreadsheet's column may be called; the slug, the client id and
// the directory groups' names stay). A name another service of the
// structure already has as name or slug (without case) gives
// store.ErrConflict: a spreadsheet's column would name two services. The
// structure's directory groups are queued (their descriptions carry it).
func (m *Manager) RenameService(ctx context.Context, actor, serviceID, name string) (store.Service, error) {
	return m.UpdateService(ctx, actor, serviceID, ServiceChange{Name: &name})
}

// rename is RenameService's work inside tx.
func rename(ctx context.Context, tx store.Tx, actor, serviceID, name string) (store.Service, error) {
	var out store.Service
	err := func() error {
		svc, err := tx.GetService(ctx, serviceID)
		if err != nil {
			return fmt.Errorf("manage: get service: %w", err)
		}
		out = svc
		if svc.Name == name {
			return nil
		}
		others, err := tx.ListServices(ctx, svc.StructureID)
		if err != nil {
			return fmt.Errorf("manage: list services: %w", err)
		}
		for _, o := range others {
			if o.ID != svc.ID && (strings.EqualFold(o.Name, name) || strings.EqualFold(o.Slug, name)) {
				return fmt.Errorf("%w: the service %s is already called %q", store.ErrConflict, o.Slug, name)
			}
		}
		old := svc.Name
		if out, err = tx.UpdateService(ctx, svc.ID, func(s *store.Service) error { s.Name = name; return nil }); err != nil {
			return fmt.Errorf("manage: update service: %w", err)
		}
		st, err := tx.GetStructure(ctx, svc.StructureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		if err := enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(st.ID), jobs.StructureRef{StructureID: st.ID}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "service.update", "structure:"+st.Slug,
			map[string]any{"service": svc.Slug, "name_from": old, "name": name})
	}()
	return out, err
}
