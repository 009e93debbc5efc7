package web

import (
	"context"
	"fmt"
	"mime"
	"net/http"

	"sesame/internal/store"
	"sesame/onboarding"
)

// The board's export is decided by ActViewStructure: it holds what the
// board shows (names, addresses, states, rights), so whoever may read the
// board may take it away as a spreadsheet; ActManagePeople is for
// changing people, which an export does not.
func init() {
	AdminRoutes = append(AdminRoutes, Route{"GET", "/admin/structures/{slug}/export.csv", ActViewStructure, (*Admin).export})
}

// export sends the structure's people and states as the spreadsheet
// "sesame export" writes (onboarding.WriteExportCSV: UTF-8 with a byte
// order mark, ";", formulas neutralised), headers in the page's language,
// and records who took it (structure.export, as the command line does).
func (a *Admin) export(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := StructureFrom(ctx)
	var rows []onboarding.ExportRow
	err := a.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		_, rows, err = onboarding.ExportPeople(ctx, tx, st.Slug, a.now())
		return err
	})
	if err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	ip := ClientIP
	if a.ClientIP != nil {
		ip = a.ClientIP
	}
	if err := a.Store.AppendAudit(ctx, &store.AuditEntry{Actor: ActorFrom(ctx).Label(), Action: "structure.export",
		Target: "structure:" + st.Slug, IP: ip(r), Details: map[string]any{"rows": len(rows)}}); err != nil {
		a.Renderer.WriteError(w, r, err)
		return
	}
	name := fmt.Sprintf("%s-%s.csv", st.Slug, a.now().Format("2006-01-02"))
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	if err := onboarding.WriteExportCSV(w, rows, Lang(r)); err != nil {
		a.logger().Warn("admin: export interrupted", "structure", st.Slug, "err", err)
	}
}
