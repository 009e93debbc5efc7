package web

import (
	"net/http"
	"strings"

	"sesame/internal/i18n"
	"sesame/internal/store"
	"sesame/onboarding"
)

// countView is one line of an import's summary.
type countView struct {
	Label i18n.Key
	N     int
	Class string
}

func counts(s onboarding.Summary) []countView {
	return []countView{
		{i18n.ImportActCreate, s.Create, "create"},
		{i18n.ImportActUpdate, s.Update, "update"},
		{i18n.ImportActUnchanged, s.Unchanged, "unchanged"},
		{i18n.ImportActDisable, s.Disable, "disable"},
		{i18n.ImportActError, s.Error, "error"},
		{i18n.ImportWarnings, s.Warning, "warning"},
	}
}

var actionKeys = map[onboarding.Action]i18n.Key{
	onboarding.ActCreate:    i18n.ImportActCreate,
	onboarding.ActUpdate:    i18n.ImportActUpdate,
	onboarding.ActUnchanged: i18n.ImportActUnchanged,
	onboarding.ActDisable:   i18n.ImportActDisable,
	onboarding.ActError:     i18n.ImportActError,
}

// issueView is a problem of the file or of its header, with its row.
type issueView struct {
	Row     int
	Column  string
	Message string
}

// rowView is one row of the preview table, every text in the page's
// language.
type rowView struct {
	Row      int
	Action   i18n.Key
	Class    string
	Email    string
	Username string
	Rights   string
	Changes  []string
	Errors   []string
	Warnings []string
}

// previewView is the data of admin_import_preview.html.
type previewView struct {
	Confirm, Cancel, Again string
	FileName               string
	Sync                   bool
	Counts                 []countView
	FileErrors             []issueView
	HeaderWarnings         []issueView
	Leaving                []leaverView // sync: who leaves
	Rows                   []rowView
	ErrorRows              int
	CanConfirm             bool // no file error
	Omitted                int
	Alert                  i18n.Message
	// The options form (…/options): the export the file comes from, the
	// address choice when the file has both addresses, and a choice per
	// column to map.
	Options     string
	Source      i18n.Key
	HasSource   bool
	ShowAddress bool
	Personal    bool
	Columns     []columnView
	Fields      []fieldView
}

// columnView is a column whose reading the preview offers to choose,
// named map.N by its place N; Field is its current choice ("" for none).
type columnView struct {
	N      int
	Header string
	Field  string
}

// fieldView is one choice of a column's select.
type fieldView struct {
	Value string
	Label i18n.Key
}

// fieldChoices are the choices of a column's select: none, then the
// fields onboarding.MapField accepts, ignore last.
var fieldChoices = []fieldView{
	{"", i18n.ImportFieldNone},
	{string(onboarding.FieldGiven), i18n.ImportFieldGiven},
	{string(onboarding.FieldFamily), i18n.ImportFieldFamily},
	{string(onboarding.FieldFullName), i18n.ImportFieldFullName},
	{string(onboarding.FieldEmail), i18n.ImportFieldEmail},
	{string(onboarding.FieldPersonalEmail), i18n.ImportFieldPersonal},
	{string(onboarding.FieldUsername), i18n.ImportFieldUsername},
	{string(onboarding.FieldRights), i18n.ImportFieldRights},
	{string(onboarding.FieldLanguage), i18n.ImportFieldLanguage},
	{string(onboarding.FieldQuota), i18n.ImportFieldQuota},
	{string(onboarding.FieldIgnore), i18n.ImportFieldIgnore},
}

var sourceKeys = map[string]i18n.Key{
	onboarding.SourceGoogle:    i18n.ImportSourceGoogle,
	onboarding.SourceMicrosoft: i18n.ImportSourceMicrosoft,
}

// leaverView is a person a sync import takes out of the structure;
// Disabled when they belong to no other structure.
type leaverView struct {
	Email, Username string
	Disabled        bool
}

// importDoneView is the data of admin_import_done.html.
type importDoneView struct {
	Counts   []countView
	FileName string
	Board    string // the structure's board, when known
	Again    string
	LinkDays int // how long the activation links sent last, in days (0: not known)
}

// colon is ": " in English, " : " in French.
func colon(lang string) string {
	if lang == "en" {
		return ": "
	}
	return " : "
}

func issue(lang string, e onboarding.ReportIssue) string {
	if e.Column == "" {
		return e.Message
	}
	col := e.Column
	// A problem the plan finds names the column by its field ("username",
	// "email"): name it as the options form does, in the page's language.
	for _, f := range fieldChoices {
		if f.Value != "" && f.Value == col {
			col = i18n.T(lang, f.Label)
		}
	}
	return col + colon(lang) + e.Message
}

func (ip *ImportPages) renderPreview(w http.ResponseWriter, r *http.Request, status int, st store.Structure, p *pendingImport, alert i18n.Message) {
	lang := Lang(r)
	rep := p.plan.Report(lang)
	base := ImportPath(st.Slug) + "/" + p.id
	v := previewView{Confirm: base + "/confirm", Cancel: base + "/cancel", Again: ImportPath(st.Slug),
		FileName: p.fileName, Sync: p.mode == store.ModeSync, Counts: counts(rep.Summary),
		ErrorRows: rep.Summary.Error, CanConfirm: len(p.plan.FileErrors) == 0, Omitted: rep.Summary.Omitted,
		Alert: alert, Rows: make([]rowView, 0, len(rep.Rows)), Options: base + "/options",
		ShowAddress: p.plan.HasWorkEmail && p.plan.HasPersonalEmail,
		Personal:    p.options.address == onboarding.AddressPersonal}
	v.Source, v.HasSource = sourceKeys[p.plan.Source]
	for i, h := range mappable(p) {
		v.Columns = append(v.Columns, columnView{N: i, Header: h, Field: string(p.options.mapping[h])})
	}
	if len(v.Columns) > 0 {
		v.Fields = fieldChoices
	}
	for _, wi := range rep.Warnings {
		v.HeaderWarnings = append(v.HeaderWarnings, issueView{Row: wi.Row, Message: wi.Message})
	}
	// A file error stops the plan before its rows: the report's only row
	// is the file's.
	for _, e := range p.plan.FileErrors {
		v.FileErrors = append(v.FileErrors, issueView{Row: e.Row,
			Message: issue(lang, onboarding.ReportIssue{Column: e.Column, Message: e.Msg.Text(lang)})})
	}
	for _, row := range rep.Rows {
		if len(p.plan.FileErrors) > 0 {
			break
		}
		rv := rowView{Row: row.Row, Action: actionKeys[row.Action], Class: string(row.Action), Email: row.Email,
			Username: row.Username}
		var rights []string
		for _, g := range row.Grants {
			rights = append(rights, g.Service+colon(lang)+rep.RoleText(lang, g.Service, g.Role))
		}
		rv.Rights = strings.Join(rights, ", ")
		for _, c := range row.Changes {
			rv.Changes = append(rv.Changes, rep.ChangeText(lang, c))
		}
		for _, e := range row.Errors {
			rv.Errors = append(rv.Errors, issue(lang, e))
		}
		for _, e := range row.Warnings {
			rv.Warnings = append(rv.Warnings, issue(lang, e))
		}
		if row.Action == onboarding.ActDisable {
			lv := leaverView{Email: row.Email, Username: row.Username}
			for _, c := range row.Changes {
				lv.Disabled = lv.Disabled || (c.Field == "state" && c.To == string(store.StateDisabled))
			}
			v.Leaving = append(v.Leaving, lv)
		}
		v.Rows = append(v.Rows, rv)
	}
	ip.Renderer.Render(w, r, status, "admin_import_preview", &Page{Title: i18n.ImportPreviewTitle,
		Structure: st.Name, Here: base, Data: v})
}
