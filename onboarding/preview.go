package onboarding

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"sesame/internal/store"
)

// resolve checks req (its mode, its language) and finds its structure.
func (im *Importer) resolve(ctx context.Context, req *Request) (store.Structure, error) {
	if req.Mode == "" {
		req.Mode = store.ModeAdd
	}
	if req.Mode != store.ModeAdd && req.Mode != store.ModeSync {
		return store.Structure{}, fmt.Errorf("%w: mode %q (add or sync)", ErrBadRequest, req.Mode)
	}
	if req.Lang != "en" {
		req.Lang = "fr"
	}
	if err := checkChoices(*req); err != nil {
		return store.Structure{}, err
	}
	st, err := im.Store.GetStructureBySlug(ctx, req.Structure)
	if errors.Is(err, store.ErrNotFound) {
		return st, fmt.Errorf("%w: %q", ErrUnknownStructure, req.Structure)
	}
	if err != nil {
		return st, fmt.Errorf("onboarding: import: %w", err)
	}
	return st, nil
}

// Preview parses the file and plans it against the store exactly as Import
// does, but applies and records nothing: the web pages show its report, and
// confirm with Import and Request.Expect set to the result's Fingerprint.
// Its Status is StatusDryRun. DryRun, SkipInvalid and Expect are ignored.
// The web pages plan a kept preview again on each view: see RecordPreview
// for its audit entry.
func (im *Importer) Preview(ctx context.Context, req Request) (*Result, error) {
	st, err := im.resolve(ctx, &req)
	if err != nil {
		return nil, err
	}
	res := &Result{Status: StatusDryRun}
	err = im.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := im.plan(ctx, tx, st, req, res)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("onboarding: preview %s: %w", st.Slug, err)
	}
	res.Report = res.Plan.Report(req.Lang)
	return res, nil
}

// RecordPreview writes the audit entry of a preview shown for the first
// time (a file uploaded, or its options changed): import.preview, with the
// file's digest, the counts and how many rows link an existing account. A
// preview tells whoever uploads the file which addresses have an account,
// so uploads that only probe addresses leave a trace.
func (im *Importer) RecordPreview(ctx context.Context, req Request, res *Result) error {
	linked := 0
	for _, r := range res.Plan.Rows {
		if r.linked {
			linked++
		}
	}
	sum := sha256.Sum256(req.Data)
	if err := im.Store.AppendAudit(ctx, &store.AuditEntry{Time: im.now(), Actor: req.Actor, Action: "import.preview",
		Target: "structure:" + res.Plan.Structure.Slug, Details: map[string]any{"file": req.FileName,
			"digest": hex.EncodeToString(sum[:]), "mode": string(cmp.Or(req.Mode, store.ModeAdd)),
			"counts": res.Plan.Counts(), "linked": linked}}); err != nil {
		return fmt.Errorf("onboarding: preview %s: audit: %w", res.Plan.Structure.Slug, err)
	}
	return nil
}

// Fingerprint identifies what the plan would do: its structure and mode,
// and every row's action, person, rights, changes and problems. Two plans
// of the same file have the same fingerprint exactly when applying either
// would write the same things, so a confirmation can check that the
// preview it confirms is still true (Request.Expect).
func (p *Plan) Fingerprint() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	type service struct{ ID, Slug, Role string }
	type row struct {
		Row               int
		Action            Action
		Email, Username   string
		Grants            []service
		Changes           []Change
		Errors, Warnings  []string
		Disabled, Linked  bool
		Put, Del, Granted int
	}
	problems := func(ps []Problem) []string {
		out := make([]string, 0, len(ps))
		for _, x := range ps {
			out = append(out, fmt.Sprintf("%d|%s|%s", x.Row, x.Column, x.Msg.Text("en")))
		}
		return out
	}
	_ = enc.Encode(struct {
		Structure, Mode    string
		Services           []string
		FileErrors, Header []string
	}{p.Structure.ID, string(p.Mode), serviceIDs(p.Services), problems(p.FileErrors), problems(p.Warnings)})
	for _, r := range p.Rows {
		x := row{Row: r.Row, Action: r.Action, Email: r.Email, Username: r.Username, Changes: r.Changes,
			Errors: problems(r.Errors), Warnings: problems(r.Warnings),
			Disabled: r.person.State == store.StateDisabled, Linked: r.linked,
			Put: len(r.putGrants), Del: len(r.delGrants), Granted: len(r.newAccess)}
		for _, g := range r.Grants {
			x.Grants = append(x.Grants, service{g.Service.ID, g.Service.Slug, g.Role})
		}
		_ = enc.Encode(x)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func serviceIDs(ss []store.Service) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID+":"+s.Slug)
	}
	return out
}

// ChangeText spells one change of the report in lang ("fr", the default,
// or "en") as the text report does: "droit nextcloud : administrateur →
// utilisateur".
func (r Report) ChangeText(lang string, c Change) string {
	l, ok := textWords[lang]
	if !ok {
		l = textWords["fr"]
	}
	return l.change(r.ServiceKinds, c)
}

// RoleText names a role of a service of the report in lang, as the text
// report does.
func (r Report) RoleText(lang, service, role string) string {
	l, ok := textWords[lang]
	if !ok {
		l = textWords["fr"]
	}
	return l.role(r.ServiceKinds, service, role)
}
