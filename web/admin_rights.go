package web

import (
	"errors"
	"net/http"
	"slices"

	"sesame/internal/apps"
	"sesame/internal/i18n"
	"sesame/internal/manage"
	"sesame/internal/store"
	"sesame/onboarding"
)

// rightRow is one service of the structure on the person page's rights
// form: a choice of its roles, or no access.
type rightRow struct {
	Field   string // the form field: "role." + the service's id
	Service store.Service
	Options []roleOption
}

// roleOption is one role a service offers ("" is no access).
type roleOption struct {
	Value    string
	Label    string
	Selected bool
}

// roleLabel names a role of svc in lang: a built-in role of its kind in
// French by the kind's French name, a role of the service's own (a Paheko
// category) as it is.
func roleLabel(lang string, svc store.Service, role string) string {
	if lang != "en" {
		if t, ok := apps.Of(svc).FrenchRoles[role]; ok {
			return t
		}
	}
	return role
}

// rightRows lists the structure's services with the roles each offers,
// the person's current one selected.
func (a *Admin) rightRows(r *http.Request, grants []store.Grant) ([]rightRow, error) {
	lang := Lang(r)
	list, err := a.Store.ListServices(r.Context(), StructureFrom(r.Context()).ID)
	if err != nil {
		return nil, err
	}
	cur := map[string]string{}
	for _, g := range grants {
		cur[g.ServiceID] = g.Role
	}
	var rows []rightRow
	for _, svc := range list {
		role, had := cur[svc.ID]
		row := rightRow{Field: "role." + svc.ID, Service: svc,
			Options: []roleOption{{Value: "", Label: i18n.T(lang, i18n.AdminRightsNone), Selected: !had}}}
		roles := onboarding.ServiceRoles(svc)
		if had && !slices.Contains(roles, role) {
			// A role the service no longer offers stays shown as it is.
			roles = append(slices.Clone(roles), role)
		}
		for _, x := range roles {
			row.Options = append(row.Options, roleOption{Value: x, Label: roleLabel(lang, svc, x), Selected: had && x == role})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// setRights saves the rights form: for each service of the structure whose
// field is posted, its role or "" for no access (manage.SetGrants).
func (a *Admin) setRights(w http.ResponseWriter, r *http.Request) {
	if err := ParseForm(w, r); err != nil {
		a.Renderer.WriteError(w, r, formError(err))
		return
	}
	ctx := r.Context()
	st, p := StructureFrom(ctx), PersonFrom(ctx)
	list, err := a.Store.ListServices(ctx, st.ID)
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	rights := map[string]string{}
	for _, svc := range list {
		if vs, ok := r.PostForm["role."+svc.ID]; ok && len(vs) > 0 {
			rights[svc.ID] = vs[0]
		}
	}
	_, err = a.Manager.SetGrants(ctx, ActorFrom(ctx).Label(), st.ID, p.ID, rights)
	if errors.Is(err, manage.ErrBadRole) {
		v, verr := a.personView(r)
		if verr != nil {
			a.Renderer.WriteError(w, r, verr)
			return
		}
		v.Done, v.Errors = i18n.Key{}, map[string]string{"rights": i18n.T(Lang(r), i18n.AdminBadRole)}
		a.render(w, r, http.StatusUnprocessableEntity, "admin_person", i18n.AdminPersonTitle, []any{v.Name}, v)
		return
	}
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	done(w, r, a.base(r)+"/people/"+p.ID, "rights")
}
