package onboarding

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is an import's result as shown to people and kept with the import
// record: counts per action, header warnings, and one entry per row.
type Report struct {
	Summary  Summary       `json:"summary"`
	Warnings []ReportIssue `json:"warnings,omitempty"`
	Rows     []ReportRow   `json:"rows"`
}

// Summary counts rows per action, and warnings.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Unchanged int `json:"unchanged"`
	Disable   int `json:"disable"`
	Error     int `json:"error"`
	Warning   int `json:"warning"`
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

func issues(ps []Problem, lang string, withRow bool) []ReportIssue {
	out := make([]ReportIssue, 0, len(ps))
	for _, p := range ps {
		is := ReportIssue{Column: p.Column, Message: p.Msg.Text(lang)}
		if withRow {
			is.Row = p.Row
		}
		out = append(out, is)
	}
	return out
}

// Report renders the plan in lang ("fr" or "en").
func (p *Plan) Report(lang string) Report {
	c := p.Counts()
	r := Report{
		Summary: Summary{Create: c["create"], Update: c["update"], Unchanged: c["unchanged"],
			Disable: c["disable"], Error: c["error"], Warning: c["warning"]},
		Warnings: issues(p.Warnings, lang, true),
		Rows:     []ReportRow{},
	}
	if len(p.FileErrors) > 0 {
		row := 0
		if p.FileErrors[0].Row > 0 {
			row = p.FileErrors[0].Row
		}
		r.Rows = append(r.Rows, ReportRow{Row: row, Action: ActError, Grants: []ReportGrant{}, Changes: []Change{},
			Errors: issues(p.FileErrors, lang, false), Warnings: []ReportIssue{}})
	}
	for _, pr := range p.Rows {
		rr := ReportRow{Row: pr.Row, Action: pr.Action, Email: pr.Email, Username: pr.Username,
			Grants: []ReportGrant{}, Changes: pr.Changes, Errors: issues(pr.Errors, lang, false),
			Warnings: issues(pr.Warnings, lang, false)}
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
	return r
}

// JSON encodes the report, indented.
func (r Report) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// textLabels are the text table's words in French and English.
var textLabels = map[string][]string{
	"fr": {"LIGNE", "ACTION", "E-MAIL", "IDENTIFIANT", "DROITS", "DÉTAILS", "créations", "mises à jour", "inchangés", "désactivations", "erreurs", "avertissements"},
	"en": {"ROW", "ACTION", "EMAIL", "USERNAME", "RIGHTS", "DETAILS", "create", "update", "unchanged", "disable", "error", "warning"},
}

// WriteText writes the report as a readable table.
func (r Report) WriteText(w io.Writer, lang string) error {
	l := textLabels["fr"]
	if lang == "en" {
		l = textLabels["en"]
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l[0], l[1], l[2], l[3], l[4], l[5])
	for _, row := range r.Rows {
		var rights []string
		for _, g := range row.Grants {
			rights = append(rights, g.Service+":"+g.Role)
		}
		var details []string
		for _, c := range row.Changes {
			switch {
			case c.From != "" && c.To != "":
				details = append(details, fmt.Sprintf("%s: %s → %s", c.Field, c.From, c.To))
			case c.To != "":
				details = append(details, fmt.Sprintf("%s: + %s", c.Field, c.To))
			default:
				details = append(details, fmt.Sprintf("%s: − %s", c.Field, c.From))
			}
		}
		for _, e := range row.Errors {
			details = append(details, prefixColumn(e))
		}
		for _, e := range row.Warnings {
			details = append(details, "⚠ "+prefixColumn(e))
		}
		rowNum := "-"
		if row.Row > 0 {
			rowNum = fmt.Sprint(row.Row)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rowNum, row.Action, dash(row.Email), dash(row.Username),
			dash(strings.Join(rights, ", ")), strings.Join(details, " ; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, wi := range r.Warnings {
		fmt.Fprintf(w, "⚠ %d: %s\n", wi.Row, wi.Message)
	}
	s := r.Summary
	_, err := fmt.Fprintf(w, "%s %d, %s %d, %s %d, %s %d, %s %d, %s %d\n", l[6], s.Create, l[7], s.Update,
		l[8], s.Unchanged, l[9], s.Disable, l[10], s.Error, l[11], s.Warning)
	return err
}

func prefixColumn(e ReportIssue) string {
	if e.Column == "" {
		return e.Message
	}
	return e.Column + ": " + e.Message
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
