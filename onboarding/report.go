package onboarding

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sesame/internal/apps"
	"sesame/internal/store"
)

// MaxReportProblems bounds the errors and warnings a report details (those
// of the file first, then row by row); the summary counts the others in
// Omitted. A report, shown or stored, thus stays small whatever the file.
const MaxReportProblems = 1000

// Report is an import's result as shown to people and kept with the import
// record: counts per action, header warnings, and one entry per row.
type Report struct {
	Summary  Summary       `json:"summary"`
	Warnings []ReportIssue `json:"warnings,omitempty"`
	Rows     []ReportRow   `json:"rows"`
	// ServiceKinds gives each service's kind by slug, so that roles can be
	// named in the reader's language.
	ServiceKinds map[string]store.ServiceKind `json:"service_kinds,omitempty"`
}

// Summary counts rows per action, and warnings.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Unchanged int `json:"unchanged"`
	Disable   int `json:"disable"`
	Error     int `json:"error"`
	Warning   int `json:"warning"`
	// Omitted counts the errors and warnings past MaxReportProblems,
	// counted but not detailed.
	Omitted int `json:"omitted_problems,omitempty"`
	// OmittedRows counts the rows an import record does not keep (see
	// Stored).
	OmittedRows int `json:"omitted_rows,omitempty"`
}

// ReportRow is one row of the report. Row is the spreadsheet row, 0 for a
// person missing from the file (disable) or the file as a whole.
type ReportRow struct {
	Row      int           `json:"row"`
	Action   Action        `json:"action"`
	Email    string        `json:"email"`
	Username string        `json:"username"`
	Grants   []ReportGrant `json:"grants"`
	Changes  []Change      `json:"changes"`
	Errors   []ReportIssue `json:"errors"`
	Warnings []ReportIssue `json:"warnings"`
}

// ReportGrant is a right in a report.
type ReportGrant struct {
	Service string `json:"service"`
	Role    string `json:"role"`
}

// ReportIssue is an error or warning in a report, in the reader's language.
type ReportIssue struct {
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// Report renders the plan in lang ("fr" or "en"), detailing at most
// MaxReportProblems errors and warnings.
func (p *Plan) Report(lang string) Report {
	c := p.Counts()
	r := Report{
		Summary: Summary{Create: c["create"], Update: c["update"], Unchanged: c["unchanged"],
			Disable: c["disable"], Error: c["error"], Warning: c["warning"]},
		Rows:         []ReportRow{},
		ServiceKinds: map[string]store.ServiceKind{},
	}
	budget := MaxReportProblems
	issues := func(ps []Problem, withRow bool) []ReportIssue {
		n := min(len(ps), budget)
		budget -= n
		r.Summary.Omitted += len(ps) - n
		out := make([]ReportIssue, 0, n)
		for _, p := range ps[:n] {
			is := ReportIssue{Column: p.Column, Message: p.Msg.Text(lang)}
			if withRow {
				is.Row = p.Row
			}
			out = append(out, is)
		}
		return out
	}
	var fileErrors []ReportIssue
	if len(p.FileErrors) > 0 {
		fileErrors = issues(p.FileErrors, false)
	}
	r.Warnings = issues(p.Warnings, true)
	if len(r.Warnings) == 0 {
		r.Warnings = nil
	}
	if len(p.FileErrors) > 0 {
		row := 0
		if p.FileErrors[0].Row > 0 {
			row = p.FileErrors[0].Row
		}
		r.Rows = append(r.Rows, ReportRow{Row: row, Action: ActError, Grants: []ReportGrant{}, Changes: []Change{},
			Errors: fileErrors, Warnings: []ReportIssue{}})
	}
	for _, pr := range p.Rows {
		rr := ReportRow{Row: pr.Row, Action: pr.Action, Email: pr.Email, Username: pr.Username,
			Grants: []ReportGrant{}, Changes: pr.Changes, Errors: issues(pr.Errors, false),
			Warnings: issues(pr.Warnings, false)}
		if rr.Changes == nil {
			rr.Changes = []Change{}
		}
		if pr.Action != ActDisable {
			for _, g := range pr.Grants {
				rr.Grants = append(rr.Grants, ReportGrant{Service: g.Service.Slug, Role: g.Role})
			}
		}
		r.Rows = append(r.Rows, rr)
	}
	for _, s := range p.Services {
		r.ServiceKinds[s.Slug] = s.Kind
	}
	if len(r.ServiceKinds) == 0 {
		r.ServiceKinds = nil
	}
	return r
}

// Stored is what an applied or refused import keeps with its record: the
// summary, the header's warnings, and the first MaxReportProblems rows that
// have something to say (a change, an error or a warning); the others are
// counted in Summary.OmittedRows. Unchanged rows without a warning are
// left out: the summary counts them. The record thus stays small whatever
// import.max_rows allows.
func (r Report) Stored() Report {
	out := Report{Summary: r.Summary, Warnings: r.Warnings, ServiceKinds: r.ServiceKinds, Rows: []ReportRow{}}
	for _, row := range r.Rows {
		if row.Action == ActUnchanged && len(row.Errors)+len(row.Warnings) == 0 {
			continue
		}
		if len(out.Rows) == MaxReportProblems {
			out.Summary.OmittedRows++
			continue
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// SummaryOnly is what a dry run keeps with its import record: the counts,
// not the rows (a preview is shown, not archived).
func (r Report) SummaryOnly() Report {
	return Report{Summary: r.Summary, Rows: []ReportRow{}}
}

// JSON encodes the report, indented.
func (r Report) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// words are the text report's words in one language: the JSON report keeps
// identifiers (create, grant:nextcloud, invited...), the text report speaks
// its reader's language throughout.
type words struct {
	header  [6]string
	summary [6]string
	colon   string // ": " in English, " : " in French
	actions map[Action]string
	fields  map[string]string
	grant   string                       // "right SERVICE"
	values  map[string]map[string]string // field -> value -> word
	// frenchRoles names built-in roles by their kind's French names.
	frenchRoles bool
	headerW     string // "row %d" before a header warning
	omitted     string
}

var textWords = map[string]words{
	"fr": {
		header:  [6]string{"LIGNE", "ACTION", "E-MAIL", "IDENTIFIANT", "DROITS", "DÉTAILS"},
		summary: [6]string{"créations", "mises à jour", "inchangés", "désactivations", "erreurs", "avertissements"},
		colon:   " : ",
		actions: map[Action]string{ActCreate: "création", ActUpdate: "mise à jour", ActUnchanged: "inchangé",
			ActDisable: "désactivation", ActError: "erreur"},
		fields: map[string]string{"given_name": "prénom", "family_name": "nom", "display_name": "nom affiché",
			"language": "langue", "quota": "quota", "state": "état", "membership": "structure"},
		grant: "droit %s",
		values: map[string]map[string]string{
			"language": {"fr": "français", "en": "anglais"},
			"state":    {"invited": "invité·e", "active": "actif·ve", "disabled": "désactivé·e"},
		},
		frenchRoles: true,
		headerW:     "ligne %d",
		omitted:     "… et %d autres erreurs ou avertissements, non détaillés : corrigez d'abord ceux-ci.",
	},
	"en": {
		header:  [6]string{"ROW", "ACTION", "EMAIL", "USERNAME", "RIGHTS", "DETAILS"},
		summary: [6]string{"create", "update", "unchanged", "disable", "error", "warning"},
		colon:   ": ",
		actions: map[Action]string{ActCreate: "create", ActUpdate: "update", ActUnchanged: "unchanged",
			ActDisable: "disable", ActError: "error"},
		fields: map[string]string{"given_name": "first name", "family_name": "last name", "display_name": "display name",
			"language": "language", "quota": "quota", "state": "state", "membership": "structure"},
		grant: "right %s",
		values: map[string]map[string]string{
			"language": {"fr": "French", "en": "English"},
		},
		headerW: "row %d",
		omitted: "… and %d more errors or warnings, not detailed: fix these first.",
	},
}

// role names a role in the reader's language: a built-in role of the
// service's kind is translated (with a name the rights column accepts), a
// role of the structure's own (a Paheko category) is shown as it is.
func (w words) role(kinds map[string]store.ServiceKind, service, role string) string {
	if !w.frenchRoles {
		return role
	}
	if k, ok := apps.Lookup(string(kinds[service])); ok {
		if t, ok := k.FrenchRoles[role]; ok {
			return t
		}
	}
	return role
}

// change spells one change: "droit nextcloud : administrateur → utilisateur".
func (w words) change(kinds map[string]store.ServiceKind, c Change) string {
	label, value := w.fields[c.Field], func(v string) string { return v }
	if svc, ok := strings.CutPrefix(c.Field, "grant:"); ok {
		label = fmt.Sprintf(w.grant, svc)
		value = func(v string) string { return w.role(kinds, svc, v) }
	} else if vs, ok := w.values[c.Field]; ok {
		value = func(v string) string {
			if t, ok := vs[v]; ok {
				return t
			}
			return v
		}
	}
	if label == "" {
		label = c.Field
	}
	switch {
	case c.From != "" && c.To != "":
		return label + w.colon + value(c.From) + " → " + value(c.To)
	case c.To != "":
		return label + w.colon + "+ " + value(c.To)
	default:
		return label + w.colon + "− " + value(c.From)
	}
}

// WriteText writes the report as a readable table in lang ("fr", the
// default, or "en"), every word in that language.
func (r Report) WriteText(w io.Writer, lang string) error {
	l, ok := textWords[lang]
	if !ok {
		l = textWords["fr"]
	}
	issue := func(e ReportIssue) string {
		if e.Column == "" {
			return e.Message
		}
		return e.Column + l.colon + e.Message
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(l.header[:], "\t"))
	for _, row := range r.Rows {
		var rights []string
		for _, g := range row.Grants {
			rights = append(rights, g.Service+":"+l.role(r.ServiceKinds, g.Service, g.Role))
		}
		var details []string
		for _, c := range row.Changes {
			details = append(details, l.change(r.ServiceKinds, c))
		}
		for _, e := range row.Errors {
			details = append(details, issue(e))
		}
		for _, e := range row.Warnings {
			details = append(details, "⚠ "+issue(e))
		}
		rowNum := "-"
		if row.Row > 0 {
			rowNum = fmt.Sprint(row.Row)
		}
		action := l.actions[row.Action]
		if action == "" {
			action = string(row.Action)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rowNum, action, dash(row.Email), dash(row.Username),
			dash(strings.Join(rights, ", ")), strings.Join(details, " ; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, wi := range r.Warnings {
		fmt.Fprintf(w, "⚠ %s%s%s\n", fmt.Sprintf(l.headerW, wi.Row), l.colon, wi.Message)
	}
	s := r.Summary
	if s.Omitted > 0 {
		fmt.Fprintf(w, l.omitted+"\n", s.Omitted)
	}
	_, err := fmt.Fprintf(w, "%s %d, %s %d, %s %d, %s %d, %s %d, %s %d\n", l.summary[0], s.Create, l.summary[1], s.Update,
		l.summary[2], s.Unchanged, l.summary[3], s.Disable, l.summary[4], s.Error, l.summary[5], s.Warning)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
