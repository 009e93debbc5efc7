package sqldb

import (
	"context"
	"database/sql"

	"sesame/internal/store"
)

const serviceCols = "id, structure_id, kind, slug, name, base_url, default_role, roles, role_mapping, " +
	"client_id, client_secret_hash, redirect_uris, post_logout_uris, backchannel_logout_uri, " +
	"require_pkce, refresh_tokens, require_mfa, signing_alg, auth_method, provisioning_secret, provision_take_over, referent_address, created_at, updated_at"

func scanService(s scanner) (store.Service, error) {
	var v store.Service
	var clientID sql.NullString
	err := s.Scan(&v.ID, &v.StructureID, &v.Kind, &v.Slug, &v.Name, &v.BaseURL, &v.DefaultRole,
		js(&v.Roles), js(&v.RoleMapping), &clientID, &v.ClientSecretHash, js(&v.RedirectURIs),
		js(&v.PostLogoutURIs), &v.BackchannelLogoutURI, &v.RequirePKCE, &v.RefreshTokens,
		&v.RequireMFA, &v.SigningAlg, &v.AuthMethod, bs(&v.ProvisioningSecret), &v.ProvisionTakeOver, &v.ReferentAddress, ts(&v.CreatedAt), ts(&v.UpdatedAt))
	v.ClientID = clientID.String
	return v, err
}

func checkService(v *store.Service) error {
	switch {
	case v.StructureID == "":
		return invalid("service %q: no structure", v.Slug)
	case v.Slug == "":
		return invalid("service of structure %q: empty slug", v.StructureID)
	case !v.Kind.Valid():
		return invalid("service %q: unknown kind %q", v.Slug, v.Kind)
	}
	return nil
}

// serviceArgs are the values of every column but id and created_at, in
// serviceCols order.
func (e *ex) serviceArgs(v *store.Service) ([]any, error) {
	var enc [4]string
	for i, x := range []any{v.Roles, v.RoleMapping, v.RedirectURIs, v.PostLogoutURIs} {
		s, err := jv(x)
		if err != nil {
			return nil, err
		}
		enc[i] = s
	}
	var clientID any
	if v.ClientID != "" {
		clientID = v.ClientID
	}
	var secret any
	if v.ProvisioningSecret != nil {
		secret = v.ProvisioningSecret
	}
	return []any{v.StructureID, string(v.Kind), v.Slug, v.Name, v.BaseURL, v.DefaultRole, enc[0], enc[1],
		clientID, v.ClientSecretHash, enc[2], enc[3], v.BackchannelLogoutURI, v.RequirePKCE, v.RefreshTokens,
		v.RequireMFA, v.SigningAlg, v.AuthMethod, secret, v.ProvisionTakeOver, v.ReferentAddress}, nil
}

// CreateService inserts s, filling ID (when empty) and timestamps.
func (t *Tx) CreateService(ctx context.Context, s *store.Service) error {
	if err := checkService(s); err != nil {
		return err
	}
	v := *s
	if v.ID == "" {
		v.ID = newID()
	}
	v.CreatedAt = t.db.now()
	v.UpdatedAt = v.CreatedAt
	err := t.run(ctx, func(e *ex) error {
		args, err := e.serviceArgs(&v)
		if err != nil {
			return err
		}
		args = append(append([]any{v.ID}, args...), e.tv(v.CreatedAt), e.tv(v.UpdatedAt))
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, "INSERT INTO services ("+serviceCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
			return e.wrap(err, "create service %q", v.Slug)
		})
	})
	if err == nil {
		*s = v
	}
	return err
}

// GetService returns a service by id.
func (t *Tx) GetService(ctx context.Context, id string) (store.Service, error) {
	return one(ctx, t, scanService, "SELECT "+serviceCols+" FROM services WHERE id = ?", id, "get service %q", id)
}

// GetServiceByClientID returns a service by its OIDC client id.
func (t *Tx) GetServiceByClientID(ctx context.Context, clientID string) (store.Service, error) {
	return one(ctx, t, scanService, "SELECT "+serviceCols+" FROM services WHERE client_id = ?", clientID, "get service by client id %q", clientID)
}

// ListServices returns the services of a structure (or of all) by slug.
func (t *Tx) ListServices(ctx context.Context, structureID string) ([]store.Service, error) {
	var out []store.Service
	err := t.single(ctx, func(e *ex) error {
		var err error
		if structureID == "" {
			out, err = all(scanService)(e.query(ctx, "SELECT "+serviceCols+" FROM services ORDER BY slug, structure_id"))
		} else {
			out, err = all(scanService)(e.query(ctx, "SELECT "+serviceCols+" FROM services WHERE structure_id = ? ORDER BY slug", structureID))
		}
		return e.wrap(err, "list services")
	})
	return out, err
}

// UpdateService reads the service, hands it to fn and writes back what fn
// left, atomically. Changing the ID gives ErrInvalid.
func (t *Tx) UpdateService(ctx context.Context, id string, fn func(*store.Service) error) (store.Service, error) {
	var v store.Service
	err := t.run(ctx, func(e *ex) error {
		old, err := scanService(e.row(ctx, "SELECT "+serviceCols+" FROM services WHERE id = ?", id))
		if err != nil {
			return e.wrap(err, "update service %q", id)
		}
		v = old
		if err := fn(&v); err != nil {
			return err
		}
		if v.ID != old.ID {
			return invalid("update service %q: the id cannot change", id)
		}
		if err := checkService(&v); err != nil {
			return err
		}
		v.CreatedAt = old.CreatedAt
		v.UpdatedAt = t.db.now()
		args, err := e.serviceArgs(&v)
		if err != nil {
			return err
		}
		args = append(args, e.tv(v.UpdatedAt), id)
		return e.guard(ctx, func() error {
			_, err := e.exec(ctx, `UPDATE services SET structure_id = ?, kind = ?, slug = ?, name = ?, base_url = ?,
				default_role = ?, roles = ?, role_mapping = ?, client_id = ?, client_secret_hash = ?,
				redirect_uris = ?, post_logout_uris = ?, backchannel_logout_uri = ?, require_pkce = ?,
				refresh_tokens = ?, require_mfa = ?, signing_alg = ?, auth_method = ?, provisioning_secret = ?, provision_take_over = ?, referent_address = ?, updated_at = ?
				WHERE id = ?`, args...)
			return e.wrap(err, "update service %q", id)
		})
	})
	if err != nil {
		return store.Service{}, err
	}
	return v, nil
}

// DeleteService removes a service with its grants and provisioning
// records; ErrNotFound when there was none.
func (t *Tx) DeleteService(ctx context.Context, id string) error {
	return t.singleWrite(ctx, func(e *ex) error {
		res, err := e.exec(ctx, "DELETE FROM services WHERE id = ?", id)
		if err == nil {
			err = mustAffect(res)
		}
		return e.wrap(err, "delete service %q", id)
	})
}
