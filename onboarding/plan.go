package onboarding

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sesame/internal/store"
)

// Action is what an import does with a row.
type Action string

// The actions of a plan.
const (
	ActCreate    Action = "create"    // a new person, or one known elsewhere linked to the structure
	ActUpdate    Action = "update"    // fields or rights change
	ActUnchanged Action = "unchanged" // nothing to do
	ActDisable   Action = "disable"   // sync mode: missing from the file, leaves the structure
	ActError     Action = "error"     // not applied
)

// Change is one field or right that an update changes. From is left empty
// for a person who was not yet a member of the structure, so that nothing
// another structure wrote is revealed.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// PlannedRow is one row of a plan.
type PlannedRow struct {
	Row      int
	Action   Action
	Email    string
	Username string
	Grants   []Grant // the rights the person will have on the structure's services
	Changes  []Change
	Errors   []Problem
	Warnings []Problem

	person    store.Person // the person as it will be written
	isNew     bool         // CreatePerson
	linked    bool         // known from another structure, not yet a member
	fields    bool         // UpdatePerson needed
	putGrants []store.Grant
	delGrants []string // service IDs
	newAccess []string // services newly granted to an existing person
	leaves    bool     // disable: the membership ends
}

// Plan is what an import would do to the store.
type Plan struct {
	Structure  store.Structure
	Services   []store.Service // the structure's services
	Mode       store.ImportMode
	Rows       []PlannedRow
	FileErrors []Problem
	Warnings   []Problem
	// What the file's header said, for a preview: the suite it was
	// exported from, which address columns it has (with both, the import
	// may choose, Request.Address), the columns read through the mapping,
	// and those still not recognised.
	Source           string
	HasWorkEmail     bool
	HasPersonalEmail bool
	Mapped           []string
	Unknown          []string
}

// HasErrors reports whether the plan has a file error or an error row.
func (p *Plan) HasErrors() bool {
	if len(p.FileErrors) > 0 {
		return true
	}
	for _, r := range p.Rows {
		if r.Action == ActError {
			return true
		}
	}
	return false
}

// Invited counts the people the plan creates, each sent an activation
// link (a linked existing account, counted as "create", gets none).
func (p *Plan) Invited() int {
	n := 0
	for _, r := range p.Rows {
		if r.isNew && r.Action == ActCreate {
			n++
		}
	}
	return n
}

// Counts returns the number of rows per action, and of warnings.
func (p *Plan) Counts() map[string]int {
	c := map[string]int{string(ActCreate): 0, string(ActUpdate): 0, string(ActUnchanged): 0,
		string(ActDisable): 0, string(ActError): 0, "warning": len(p.Warnings)}
	if len(p.FileErrors) > 0 {
		c[string(ActError)]++
	}
	for _, r := range p.Rows {
		c[string(r.Action)]++
		c["warning"] += len(r.Warnings)
	}
	return c
}

// ComputePlan compares a parsed sheet with the store, as seen from tx: each
// row becomes create, update, unchanged or error, and in sync mode the
// structure's members missing from the file become disable. Usernames of
// new people are chosen here, unique across all structures and within the
// file.
//
// A row whose email is an existing account not yet in the structure links
// it. Unless hoster is set (the CLI, a hoster admin), the plan does not name
// such an account (no username: a referent uploading addresses learns no
// more than that an account exists), and it refuses to link one that
// belongs to no structure (its structure was removed, a sync took it out,
// a former hoster admin), used or only invited: the link would make it
// this structure's alone, enabled again, and its referents would then
// manage its email (an invited one's activation link goes to the new
// address), password and second factors. The one exception is the
// structure's own former member: the account this structure's removal
// left in no structure (store.FormerMembership; none has taken it since),
// which it held alone before. That row links it again, named, with a
// warning that says so, and enables it as the hoster's link does.
func ComputePlan(ctx context.Context, tx store.Tx, st store.Structure, sh *Sheet, mode store.ImportMode, hoster bool, self string) (*Plan, error) {
	p := &Plan{Structure: st, Mode: mode, FileErrors: sh.FileErrors, Warnings: sh.Warnings,
		Source: sh.Source, HasWorkEmail: sh.HasWorkEmail, HasPersonalEmail: sh.HasPersonalEmail,
		Mapped: sh.Mapped, Unknown: sh.Unknown}
	services, err := tx.ListServices(ctx, st.ID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: plan: list services: %w", err)
	}
	p.Services = services
	if len(sh.FileErrors) > 0 {
		return p, nil
	}
	p.Rows = make([]PlannedRow, 0, len(sh.Rows))
	people, err := tx.ListPeople(ctx, store.PeopleFilter{})
	if err != nil {
		return nil, fmt.Errorf("onboarding: plan: list people: %w", err)
	}
	byEmail := make(map[string]store.Person, len(people))
	usernames := make(map[string]bool, len(people)+len(sh.Rows))
	for _, x := range people {
		byEmail[store.FoldEmail(x.Email)] = x
		usernames[x.Username] = true
	}
	// A person stored before domains were written in ASCII is found under
	// the ASCII form a file now gives (never a second account).
	for _, x := range people {
		if a := asciiKey(x.Email); a != store.FoldEmail(x.Email) {
			if _, taken := byEmail[a]; !taken {
				byEmail[a] = x
			}
		}
	}
	members, err := tx.ListMemberships(ctx, store.MembershipFilter{})
	if err != nil {
		return nil, fmt.Errorf("onboarding: plan: list memberships: %w", err)
	}
	isMember := make(map[string]bool, len(members))
	memberships := make(map[string]int, len(members)) // person -> structures
	for _, m := range members {
		memberships[m.PersonID]++
		if m.StructureID == st.ID {
			isMember[m.PersonID] = true
		}
	}
	// The people this structure's removal left in no structure, whom its
	// referents may link again (see the comment above).
	formers, err := tx.ListFormerMemberships(ctx, st.ID)
	if err != nil {
		return nil, fmt.Errorf("onboarding: plan: list former memberships: %w", err)
	}
	former := make(map[string]bool, len(formers))
	for _, f := range formers {
		former[f.PersonID] = true
	}
	grants, err := tx.ListGrants(ctx, store.GrantFilter{StructureID: st.ID})
	if err != nil {
		return nil, fmt.Errorf("onboarding: plan: list grants: %w", err)
	}
	current := map[string]map[string]string{} // person -> service -> role
	for _, g := range grants {
		if current[g.PersonID] == nil {
			current[g.PersonID] = map[string]string{}
		}
		current[g.PersonID][g.ServiceID] = g.Role
	}
	svcByID := map[string]store.Service{}
	for _, s := range services {
		svcByID[s.ID] = s
	}

	// Usernames asked explicitly by new people are kept out of the derived
	// ones, whatever the order of the rows.
	// A person known under a row's other address (the work one when the
	// link goes to the personal one, or the reverse) is the same person.
	lookup := func(r Row) (store.Person, bool) {
		if x, ok := byEmail[r.Email]; ok {
			return x, true
		}
		if r.AltEmail != "" {
			x, ok := byEmail[r.AltEmail]
			return x, ok
		}
		return store.Person{}, false
	}
	reserved := map[string]bool{}
	for _, r := range sh.Rows {
		if _, known := lookup(r); !known && r.Username != "" && len(r.Errors) == 0 {
			reserved[r.Username] = true
		}
	}
	// Two rows that designate one account (one row's address is another's
	// other address) would both write it, the last one winning: both are
	// errors, as duplicate addresses are.
	samePerson := map[int]Problem{}
	byPerson := map[string][]int{}
	for i, r := range sh.Rows {
		if x, ok := lookup(r); ok {
			byPerson[x.ID] = append(byPerson[x.ID], i)
		}
	}
	for _, idx := range byPerson {
		if len(idx) < 2 {
			continue
		}
		rows := make([]string, len(idx))
		for k, i := range idx {
			rows[k] = strconv.Itoa(sh.Rows[i].Row)
		}
		for _, i := range idx {
			r := sh.Rows[i]
			if slices.ContainsFunc(r.Errors, func(e Problem) bool { return e.Msg.ID == MsgEmailDuplicate }) {
				continue
			}
			via := r.Email
			if _, ok := byEmail[via]; !ok {
				via = r.AltEmail
			}
			samePerson[i] = Problem{Row: r.Row, Column: r.emailCol, Msg: msg(MsgSamePerson, strings.Join(rows, ", "), via)}
		}
	}
	inFile := map[string]bool{}
	for i, r := range sh.Rows {
		if pb, ok := samePerson[i]; ok {
			r.Errors = append(slices.Clone(r.Errors), pb)
		}
		if r.Email != "" {
			inFile[r.Email] = true
		}
		if r.AltEmail != "" {
			inFile[r.AltEmail] = true
		}
		// A row in error still names its person: the address it designates
		// once what is wrong is set aside (the key the duplicate check
		// uses). A sync skipping invalid rows must not take that person
		// for one who left.
		if r.emailKey != "" {
			inFile[r.emailKey] = true
		}
		// So does its other address, even when that cell has an error:
		// the person may be known under it (an earlier import chose it).
		if r.altKey != "" {
			inFile[r.altKey] = true
		}
		pr := PlannedRow{Row: r.Row, Email: r.Email, Warnings: r.Warnings, Grants: sortedGrants(r.Grants)}
		if len(r.Errors) > 0 {
			pr.Action, pr.Errors = ActError, r.Errors
			p.Rows = append(p.Rows, pr)
			continue
		}
		existing, known := lookup(r)
		switch {
		case !known:
			u := r.Username
			if len(u) > MaxUsernameLen {
				pr.Action = ActError
				pr.Errors = append(pr.Errors, Problem{Row: r.Row, Column: string(FieldUsername), Msg: msg(MsgTooLong, MaxUsernameLen)})
				p.Rows = append(p.Rows, pr)
				continue
			}
			if u != "" && usernames[u] {
				pr.Action = ActError
				pr.Errors = append(pr.Errors, Problem{Row: r.Row, Column: string(FieldUsername), Msg: msg(MsgUsernameTaken, u)})
				p.Rows = append(p.Rows, pr)
				continue
			}
			if u == "" {
				u = NextFreeUsername(BaseUsername(r.GivenName, r.FamilyName, r.Email), func(c string) bool { return usernames[c] || reserved[c] })
			}
			usernames[u] = true
			lang := r.Language
			if lang == "" {
				lang = "fr"
			}
			pr.person = store.Person{Username: u, Email: r.Email, GivenName: r.GivenName, FamilyName: r.FamilyName,
				DisplayName: r.DisplayName, Language: lang, Quota: r.Quota, State: store.StateInvited}
			pr.isNew, pr.Action, pr.Username = true, ActCreate, u
			for _, g := range pr.Grants {
				pr.putGrants = append(pr.putGrants, store.Grant{ServiceID: g.Service.ID, Role: g.Role})
			}
		default:
			member := isMember[existing.ID]
			unattached := !member && memberships[existing.ID] == 0 && !existing.Admin
			rejoins := unattached && former[existing.ID]
			if unattached && !hoster && !rejoins {
				pr.Action = ActError
				pr.Errors = append(pr.Errors, Problem{Row: r.Row, Column: string(FieldEmail), Msg: msg(MsgUnattached)})
				p.Rows = append(p.Rows, pr)
				continue
			}
			pr.person, pr.Username = existing, existing.Username
			// The structure's own former member: it knew the username.
			named := member || hoster || rejoins
			if !named {
				pr.Username = ""
			}
			switch {
			case r.Username == "" || named && r.Username == existing.Username:
			case named:
				pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Column: string(FieldUsername), Msg: msg(MsgUsernameImmutable, existing.Username, r.Username)})
			default:
				// Even when it is the account's: silence would confirm a guess.
				pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Column: string(FieldUsername), Msg: msg(MsgUsernameKept, r.Username)})
			}
			switch {
			case rejoins:
				pr.linked = true
				pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Msg: msg(MsgRejoins)})
			case !member:
				pr.linked = true
				pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Msg: msg(MsgLinked)})
			}
			others := memberships[existing.ID]
			if member {
				others--
			}
			// A referent's import owns no hoster admin (Authorize keeps them
			// from the referent), and nobody changes their own account or
			// rights by an import (the person page refuses both).
			owns, hasRights := member && memberships[existing.ID] == 1 && (hoster || !existing.Admin), sh.HasRights
			if self != "" && existing.ID == self {
				owns, hasRights = false, false
				pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Msg: msg(MsgSelf)})
			}
			planExisting(&pr, r, st.Slug, member, owns, others > 0, hasRights, current[existing.ID], svcByID)
		}
		if len(pr.Grants) == 0 {
			// An account that opens nothing: most likely a forgotten cell.
			pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Msg: msg(MsgNoRights)})
		}
		p.Rows = append(p.Rows, pr)
	}

	if mode == store.ModeSync {
		var leaving []store.Person
		for _, x := range people {
			if isMember[x.ID] && !inFile[store.FoldEmail(x.Email)] && !inFile[asciiKey(x.Email)] {
				if self != "" && x.ID == self {
					// Nobody takes themselves out (the person page
					// refuses it): a referent whose file forgot them
					// would lose the structure they were managing.
					p.Warnings = append(p.Warnings, Problem{Msg: msg(MsgSelfStays)})
					continue
				}
				leaving = append(leaving, x)
			}
		}
		sort.Slice(leaving, func(i, j int) bool { return leaving[i].Username < leaving[j].Username })
		for _, x := range leaving {
			pr := PlannedRow{Action: ActDisable, Email: x.Email, Username: x.Username, person: x, leaves: true}
			pr.Changes = append(pr.Changes, Change{Field: "membership", From: st.Slug})
			for _, sid := range sortedKeys(current[x.ID]) {
				pr.delGrants = append(pr.delGrants, sid)
				pr.Changes = append(pr.Changes, Change{Field: "grant:" + svcByID[sid].Slug, From: current[x.ID][sid]})
			}
			// A hoster admin is not a member by being an admin: leaving
			// their last structure ends a membership, never their account.
			if memberships[x.ID] <= 1 && x.State != store.StateDisabled && !x.Admin {
				pr.Changes = append(pr.Changes, Change{Field: "state", From: string(x.State), To: string(store.StateDisabled)})
				pr.person.State = store.StateDisabled
				pr.fields = true
			}
			p.Rows = append(p.Rows, pr)
		}
	}
	return p, nil
}

// asciiKey is a stored address as a file now spells it: folded, with its
// domain in ASCII when it converts.
func asciiKey(email string) string {
	k := store.FoldEmail(email)
	if a, _, _, ok := asciiEmail(k); ok {
		return a
	}
	return k
}

// planExisting fills the changes of a row whose person exists. Personal
// fields (names, language, quota) are updated only when this structure is
// the person's only one (owns): a person shared with other structures keeps
// what they hold, so two structures' files never undo each other and
// re-importing stays a no-op. For a person not yet a member (linked), no
// former value is reported, so nothing another structure wrote is revealed.
// A disabled person is enabled again only when no other structure has
// them (shared) and they are not a hoster admin.
func planExisting(pr *PlannedRow, r Row, slug string, member, owns, shared, hasRights bool, cur map[string]string, svcByID map[string]store.Service) {
	x := &pr.person
	change := func(field, from, to string) {
		c := Change{Field: field, To: to}
		if member {
			c.From = from
		}
		pr.Changes = append(pr.Changes, c)
	}
	if owns {
		set := func(field string, dst *string, v string) {
			if v != "" && *dst != v {
				change(field, *dst, v)
				*dst = v
				pr.fields = true
			}
		}
		set("given_name", &x.GivenName, r.GivenName)
		set("family_name", &x.FamilyName, r.FamilyName)
		set("display_name", &x.DisplayName, r.DisplayName)
		set("language", &x.Language, r.Language)
		set("quota", &x.Quota, r.Quota)
	}
	if !member {
		pr.Changes = append(pr.Changes, Change{Field: "membership", To: slug})
	}
	switch {
	case x.State == store.StateDisabled && r.disabled:
		// The file (an export going back in) says the person is disabled:
		// they stay so, as the file shows them.
	case x.State == store.StateDisabled && (shared || x.Admin):
		// Enabling a hoster admin, or a person another structure shares,
		// is not this structure's to decide (the administration's person
		// page refuses it to a referent too): they stay disabled.
		pr.Warnings = append(pr.Warnings, Problem{Row: r.Row, Msg: msg(MsgStaysDisabled)})
	case x.State == store.StateDisabled:
		to := store.StateInvited
		if x.PasswordHash != "" {
			to = store.StateActive
		}
		change("state", string(x.State), string(to))
		x.State = to
		pr.fields = true
	}
	if hasRights || !member {
		want := map[string]bool{}
		for _, g := range pr.Grants {
			want[g.Service.ID] = true
			old, had := cur[g.Service.ID]
			if had && old == g.Role {
				continue
			}
			pr.putGrants = append(pr.putGrants, store.Grant{PersonID: x.ID, ServiceID: g.Service.ID, Role: g.Role})
			change("grant:"+g.Service.Slug, old, g.Role)
			if !had {
				pr.newAccess = append(pr.newAccess, g.Service.ID)
			}
		}
		if hasRights {
			for _, sid := range sortedKeys(cur) {
				if !want[sid] {
					pr.delGrants = append(pr.delGrants, sid)
					change("grant:"+svcByID[sid].Slug, cur[sid], "")
				}
			}
		}
	}
	// What the person will hold on the structure's services.
	if !hasRights && member {
		pr.Grants = nil
		for _, sid := range sortedKeys(cur) {
			pr.Grants = append(pr.Grants, Grant{Service: svcByID[sid], Role: cur[sid]})
		}
	}
	switch {
	case pr.linked:
		pr.Action = ActCreate
	case len(pr.Changes) > 0:
		pr.Action = ActUpdate
	default:
		pr.Action = ActUnchanged
	}
}

func sortedGrants(m map[string]Grant) []Grant {
	out := make([]Grant, 0, len(m))
	for _, g := range m {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service.Slug < out[j].Service.Slug })
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
