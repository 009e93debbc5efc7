package onboarding

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"sesame/internal/store"
)

// ExportState is where a person stands, as the export and the status board
// say it.
type ExportState string

// The states of an export row.
const (
	ExportInvited     ExportState = "invited"      // activation link still valid
	ExportLinkExpired ExportState = "link_expired" // invited, the link expired (or was never sent)
	ExportActive      ExportState = "active"
	ExportDisabled    ExportState = "disabled"
)

// ExportRow is one member of a structure as the export writes them.
type ExportRow struct {
	GivenName   string
	FamilyName  string
	DisplayName string
	Email       string
	Username    string
	Language    string
	Quota       string
	// Rights are the person's roles on the structure's services, as the
	// import reads them ("nextcloud:admin, site:editor").
	Rights   string
	State    ExportState
	Referent bool
	// LinkExpires is the expiry of the newest activation link while the
	// person has not activated; zero otherwise.
	LinkExpires time.Time
	CreatedAt   time.Time
}

// ExportSource is what ExportPeople reads; a store.Tx or store.Store is
// one.
type ExportSource interface {
	GetStructureBySlug(ctx context.Context, slug string) (store.Structure, error)
	ListServices(ctx context.Context, structureID string) ([]store.Service, error)
	ListPeople(ctx context.Context, f store.PeopleFilter) ([]store.Person, error)
	ListMemberships(ctx context.Context, f store.MembershipFilter) ([]store.Membership, error)
	ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error)
	LatestActivations(ctx context.Context, structureID string) (map[string]store.Activation, error)
}

// ExportPeople lists a structure's members with their rights and states,
// by username. now decides whether a link has expired. For a consistent
// view, pass a store.Tx from InTx.
func ExportPeople(ctx context.Context, src ExportSource, slug string, now time.Time) (store.Structure, []ExportRow, error) {
	st, err := src.GetStructureBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil, fmt.Errorf("%w: %q", ErrUnknownStructure, slug)
	}
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: %w", err)
	}
	services, err := src.ListServices(ctx, st.ID)
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: services: %w", err)
	}
	slugOf := map[string]string{}
	for _, s := range services {
		slugOf[s.ID] = s.Slug
	}
	people, err := src.ListPeople(ctx, store.PeopleFilter{StructureID: st.ID})
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: people: %w", err)
	}
	members, err := src.ListMemberships(ctx, store.MembershipFilter{StructureID: st.ID})
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: memberships: %w", err)
	}
	referent := map[string]bool{}
	for _, m := range members {
		referent[m.PersonID] = m.Referent
	}
	grants, err := src.ListGrants(ctx, store.GrantFilter{StructureID: st.ID})
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: grants: %w", err)
	}
	rights := map[string][]string{}
	for _, g := range grants {
		item := slugOf[g.ServiceID]
		if g.Role != "" {
			item += ":" + g.Role
		}
		rights[g.PersonID] = append(rights[g.PersonID], item)
	}
	acts, err := src.LatestActivations(ctx, st.ID)
	if err != nil {
		return st, nil, fmt.Errorf("onboarding: export: activations: %w", err)
	}
	rows := make([]ExportRow, 0, len(people))
	for _, p := range people {
		r := ExportRow{GivenName: p.GivenName, FamilyName: p.FamilyName, DisplayName: p.DisplayName,
			Email: p.Email, Username: p.Username, Language: p.Language, Quota: p.Quota,
			Referent: referent[p.ID], CreatedAt: p.CreatedAt}
		items := rights[p.ID]
		slices.Sort(items)
		r.Rights = strings.Join(items, ", ")
		r.State = PersonExportState(p, acts[p.ID], now)
		if r.State == ExportInvited || r.State == ExportLinkExpired {
			r.LinkExpires = acts[p.ID].ExpiresAt
		}
		rows = append(rows, r)
	}
	return st, rows, nil
}

// PersonExportState says where p stands given their newest activation
// token (zero when none) at now.
func PersonExportState(p store.Person, a store.Activation, now time.Time) ExportState {
	switch {
	case p.State == store.StateDisabled:
		return ExportDisabled
	case p.State == store.StateActive:
		return ExportActive
	case a.ExpiresAt.IsZero() || !now.Before(a.ExpiresAt):
		return ExportLinkExpired
	}
	return ExportInvited
}

// exportHeaders are the export's columns in French and English. The first
// eight are read back by the import; the others are ignored by it.
var exportHeaders = [2][]string{
	{"Prénom", "Nom", "Nom complet", "Courriel", "Identifiant", "Langue", "Quota", "Droits",
		"État", "Référent", "Lien valable jusqu'au (UTC)", "Créé le (UTC)"},
	{"First name", "Last name", "Display name", "Email", "Username", "Language", "Quota", "Rights",
		"State", "Referent", "Link valid until (UTC)", "Created (UTC)"},
}

var exportStates = map[ExportState][2]string{
	ExportInvited:     {"invité", "invited"},
	ExportLinkExpired: {"lien expiré", "link expired"},
	ExportActive:      {"actif", "active"},
	ExportDisabled:    {"désactivé", "disabled"},
}

// exportStateHeader holds the folded headers of the export's state column,
// and exportDisabledWord its folded words for a disabled person: an
// export goes back in as it is, so a row the file says is disabled does not
// enable its person again (planExisting).
var exportStateHeader, exportDisabledWord = map[string]bool{}, map[string]bool{}

// ownExportIgnored holds the folded headers of the export's columns the
// import does not read.
var ownExportIgnored = map[string]bool{}

func init() {
	// The import ignores the export's own extra columns without a warning,
	// so that an export goes back in as it is.
	for _, hs := range exportHeaders {
		for _, h := range hs[8:] {
			ownExportIgnored[fold(h)] = true
		}
		exportStateHeader[fold(hs[8])] = true
	}
	for _, w := range exportStates[ExportDisabled] {
		exportDisabledWord[fold(w)] = true
	}
}

// WriteExportCSV writes rows as a spreadsheet Excel opens as it is: UTF-8
// with a byte order mark, ";" separated, CRLF line ends, headers in lang
// ("fr", the default, or "en"). A cell that a spreadsheet would read as a
// formula (starting with "=", "+", "-", "@", a tab or a carriage return)
// is written with a leading "'", which the import removes again.
func WriteExportCSV(w io.Writer, rows []ExportRow, lang string) error {
	li := 0
	if lang == "en" {
		li = 1
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("onboarding: export: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	if err := cw.Write(exportHeaders[li]); err != nil {
		return fmt.Errorf("onboarding: export: %w", err)
	}
	yes := [2]string{"oui", "yes"}[li]
	for _, r := range rows {
		ref := ""
		if r.Referent {
			ref = yes
		}
		rec := []string{r.GivenName, r.FamilyName, r.DisplayName, r.Email, r.Username, r.Language, r.Quota,
			r.Rights, exportStates[r.State][li], ref, exportTime(r.LinkExpires), exportTime(r.CreatedAt)}
		for i := range rec {
			rec[i] = NeutraliseCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("onboarding: export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("onboarding: export: %w", err)
	}
	return nil
}

func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// NeutraliseCell prefixes with "'" a value a spreadsheet would run as a
// formula: one starting with "=", "+", "-", "@", a tab or a carriage
// return (CSV injection).
func NeutraliseCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// unneutralise removes the "'" NeutraliseCell adds, so an exported file
// imports back to the same values.
func unneutralise(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
