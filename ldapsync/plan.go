package ldapsync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Op is what a Change does to one entry.
type Op string

// The operations of a plan.
const (
	OpAdd      Op = "add"      // the entry is missing
	OpModify   Op = "modify"   // attributes or members differ
	OpDelete   Op = "delete"   // a managed entry sesame no longer wants
	OpConflict Op = "conflict" // a foreign entry is in the way: left alone
)

// The kinds of entry.
const (
	KindContainer = "container"
	KindStructure = "structure"
	KindGroup     = "group"
	KindPerson    = "person"
)

// AttrChange is one attribute that differs. Secret values (userPassword)
// are never shown, only whether they are set.
type AttrChange struct {
	Name     string
	Old, New []string
	Secret   bool
}

// Change is one difference between the store and the directory, and the
// operation that removes it.
type Change struct {
	Op            Op
	Kind          string
	DN            string
	Attrs         []AttrChange
	AddMembers    []string
	RemoveMembers []string
	Reason        string // for conflicts
	// Refused, when not empty, says why the directory refuses this change:
	// its own message once it did (Converge), or, in a diff, what sesame
	// knows it will refuse (a mail that is not ASCII). The entry's other
	// changes and every other entry go on without it.
	Refused string
	// Person names the person of a KindPerson change: "USERNAME <EMAIL>",
	// the email quoted in ASCII so that invisible characters show.
	Person string

	entry map[string][]string // the full entry to add (schema names)
	phase int
}

// Plan is the ordered list of changes that brings the directory to the
// desired state.
type Plan struct {
	Changes []Change
}

// Empty reports whether the directory already is in the desired state
// (conflicts aside, which sesame cannot resolve).
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Conflicts returns the changes sesame will not make.
func (p Plan) Conflicts() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Op == OpConflict {
			out = append(out, c)
		}
	}
	return out
}

// Refusals returns the changes the directory refused (after Converge) or
// will refuse (in a diff).
func (p Plan) Refusals() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Refused != "" {
			out = append(out, c)
		}
	}
	return out
}

// Counts returns the number of changes per operation.
func (p Plan) Counts() map[Op]int {
	m := map[Op]int{}
	for _, c := range p.Changes {
		m[c.Op]++
	}
	return m
}

// String renders the plan for people: one line per entry, then one
// indented line per attribute and member.
func (p Plan) String() string {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.String())
	}
	return b.String()
}

// String renders one change.
func (c Change) String() string {
	var b strings.Builder
	switch c.Op {
	case OpAdd:
		fmt.Fprintf(&b, "+ %s %s (missing)\n", c.Kind, c.DN)
	case OpModify:
		fmt.Fprintf(&b, "~ %s %s\n", c.Kind, c.DN)
	case OpDelete:
		fmt.Fprintf(&b, "- %s %s (extra)\n", c.Kind, c.DN)
	case OpConflict:
		fmt.Fprintf(&b, "! %s %s: %s\n", c.Kind, c.DN, c.Reason)
	}
	for _, a := range c.Attrs {
		fmt.Fprintf(&b, "    %s: %s -> %s\n", a.Name, showValues(a.Old, a.Secret), showValues(a.New, a.Secret))
	}
	for _, m := range c.AddMembers {
		fmt.Fprintf(&b, "    + member %s\n", m)
	}
	for _, m := range c.RemoveMembers {
		fmt.Fprintf(&b, "    - member %s\n", m)
	}
	if c.Refused != "" {
		fmt.Fprintf(&b, "    ! refused by the directory: %s\n", c.Refused)
	}
	return b.String()
}

func showValues(v []string, secret bool) string {
	switch {
	case len(v) == 0:
		return "(none)"
	case secret:
		return "(a hash)"
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// Phases of application: parents before children, people before the groups
// that name them, deletions last.
const (
	phaseContainer = iota
	phaseStructure
	phasePerson
	phaseGroupAdd
	phaseGroupModify
	phaseGroupDelete
	phaseStructureDelete
	phasePersonDelete
	phaseConflict
)

// snapshot is what the directory holds, by dnKey.
type snapshot struct {
	containers map[string]bool
	people     map[string]*ldap.Entry
	structures map[string]*ldap.Entry
	groups     map[string]*ldap.Entry
}

var (
	personReadAttrs = []string{"objectClass", "uid", "cn", "sn", "givenName", "displayName", "mail", "userPassword", markerAttr}
	groupReadAttrs  = []string{"objectClass", "o", "cn", "description", "member", markerAttr}
)

func managed(e *ldap.Entry) bool {
	return slices.ContainsFunc(e.GetEqualFoldAttributeValues(markerAttr), func(v string) bool {
		return strings.EqualFold(v, Marker)
	})
}

func hasClass(e *ldap.Entry, class string) bool {
	return slices.ContainsFunc(e.GetEqualFoldAttributeValues("objectClass"), func(v string) bool {
		return strings.EqualFold(v, class)
	})
}

// readSnapshot reads the part of the directory the scope covers: every
// entry directly under ou=people, and the structures (one when scope names
// it) with their groups.
func readSnapshot(dir Directory, l Layout, scope string) (*snapshot, error) {
	s := &snapshot{
		containers: map[string]bool{},
		people:     map[string]*ldap.Entry{},
		structures: map[string]*ldap.Entry{},
		groups:     map[string]*ldap.Entry{},
	}
	for _, dn := range []string{l.People(), l.Structures()} {
		ok, err := exists(dir, dn)
		if err != nil {
			return nil, err
		}
		s.containers[dnKey(dn)] = ok
	}
	if s.containers[dnKey(l.People())] {
		res, err := dir.Search(ldap.NewSearchRequest(l.People(), ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", personReadAttrs, nil))
		if err != nil {
			return nil, fmt.Errorf("ldapsync: read people: %w", err)
		}
		for _, e := range res.Entries {
			s.people[dnKey(e.DN)] = e
		}
	}
	base := l.Structures()
	if scope != "" {
		base = l.StructureDN(scope)
	}
	if s.containers[dnKey(l.Structures())] {
		res, err := dir.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(|(objectClass=organization)(objectClass=groupOfNames))", groupReadAttrs, nil))
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, fmt.Errorf("ldapsync: read structures: %w", err)
		}
		if res != nil {
			for _, e := range res.Entries {
				switch {
				case hasClass(e, "groupOfNames"):
					s.groups[dnKey(e.DN)] = e
				case hasClass(e, "organization"):
					s.structures[dnKey(e.DN)] = e
				}
			}
		}
	}
	return s, nil
}

// exists reports whether an entry exists.
func exists(dir Directory, dn string) (bool, error) {
	_, err := dir.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	switch {
	case err == nil:
		return true, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return false, nil
	}
	return false, fmt.Errorf("ldapsync: read %s: %w", dn, err)
}

// planner computes a plan.
type planner struct {
	l      Layout
	scheme string
}

// plan compares the desired state with a snapshot.
func (pl planner) plan(want State, snap *snapshot) Plan {
	var changes []Change
	l := pl.l

	for _, c := range []struct{ dn, ou string }{{l.People(), "people"}, {l.Structures(), "structures"}} {
		if !snap.containers[dnKey(c.dn)] {
			changes = append(changes, Change{Op: OpAdd, Kind: KindContainer, DN: c.dn, phase: phaseContainer,
				entry: map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {c.ou}}})
		}
	}

	// Structures and the groups they should hold.
	type wantGroup struct {
		g       Group
		dn      string
		members map[string]string // dnKey -> DN
	}
	wantStructs := map[string]Structure{}
	wantGroups := map[string]*wantGroup{}
	addGroup := func(g Group) *wantGroup {
		dn := l.GroupDN(g.Structure, g.Service, g.Role)
		k := dnKey(dn)
		wg, ok := wantGroups[k]
		if !ok {
			wg = &wantGroup{g: g, dn: dn, members: map[string]string{dnKey(l.Placeholder()): l.Placeholder()}}
			wantGroups[k] = wg
		}
		if _, ok := wantStructs[g.Structure]; !ok {
			wantStructs[g.Structure] = Structure{Slug: g.Structure, Name: g.StructureName}
		}
		return wg
	}
	for _, st := range want.Structures {
		wantStructs[st.Slug] = st
		for _, g := range st.Groups {
			addGroup(g)
		}
	}
	wantPeople := map[string]Person{}
	for _, p := range want.People {
		dn := l.PersonDN(p.Username)
		k := dnKey(dn)
		wantPeople[k] = p
		if p.Disabled {
			continue
		}
		if cur, ok := snap.people[k]; ok && (!managed(cur) || !hasClass(cur, "inetOrgPerson")) {
			// A foreign entry holds this DN: naming it in a group would
			// give that entry the person's access.
			continue
		}
		for _, g := range p.Groups {
			if want.Scope != "" && g.Structure != want.Scope {
				continue
			}
			addGroup(g).members[dnKey(dn)] = dn
		}
	}

	for _, slug := range sortedKeys(wantStructs) {
		st := wantStructs[slug]
		dn := l.StructureDN(slug)
		cur, ok := snap.structures[dnKey(dn)]
		switch {
		case !ok:
			e := map[string][]string{"objectClass": {"top", "organization"}, "o": {slug}, markerAttr: {Marker}}
			if st.Name != "" {
				e["description"] = []string{st.Name}
			}
			changes = append(changes, Change{Op: OpAdd, Kind: KindStructure, DN: dn, entry: e, phase: phaseStructure})
		case !managed(cur):
			changes = append(changes, conflict(KindStructure, dn, phaseStructure))
		default:
			if a, diff := attrDiff("description", cur, oneValue(st.Name), false); diff {
				changes = append(changes, Change{Op: OpModify, Kind: KindStructure, DN: dn, Attrs: []AttrChange{a}, phase: phaseStructure})
			}
		}
	}

	for _, k := range sortedKeys(wantPeople) {
		p := wantPeople[k]
		dn := l.PersonDN(p.Username)
		if c, ok := pl.personChange(p, dn, snap.people[k]); ok {
			changes = append(changes, c)
		}
	}

	for _, k := range sortedKeys(wantGroups) {
		wg := wantGroups[k]
		cur, ok := snap.groups[k]
		desc := wg.g.description()
		switch {
		case !ok:
			members := sortedValues(wg.members)
			changes = append(changes, Change{Op: OpAdd, Kind: KindGroup, DN: wg.dn, phase: phaseGroupAdd,
				AddMembers: members,
				entry: map[string][]string{"objectClass": {"top", "groupOfNames"}, "cn": {GroupCN(wg.g.Service, wg.g.Role)},
					"description": {desc}, markerAttr: {Marker}, "member": members}})
		case !managed(cur):
			changes = append(changes, conflict(KindGroup, wg.dn, phaseGroupModify))
		default:
			c := Change{Op: OpModify, Kind: KindGroup, DN: wg.dn, phase: phaseGroupModify}
			if a, diff := attrDiff("description", cur, []string{desc}, false); diff {
				c.Attrs = append(c.Attrs, a)
			}
			have := map[string]string{}
			for _, m := range cur.GetEqualFoldAttributeValues("member") {
				have[dnKey(m)] = m
			}
			for _, mk := range sortedKeys(wg.members) {
				if _, ok := have[mk]; !ok {
					c.AddMembers = append(c.AddMembers, wg.members[mk])
				}
			}
			for _, mk := range sortedKeys(have) {
				if _, ok := wg.members[mk]; !ok {
					c.RemoveMembers = append(c.RemoveMembers, have[mk])
				}
			}
			if len(c.Attrs)+len(c.AddMembers)+len(c.RemoveMembers) > 0 {
				changes = append(changes, c)
			}
		}
	}

	// Extra managed entries. Groups and structures are within the scope
	// read; people only in a full sync.
	for _, k := range sortedKeys(snap.groups) {
		if e := snap.groups[k]; wantGroups[k] == nil && managed(e) {
			changes = append(changes, Change{Op: OpDelete, Kind: KindGroup, DN: e.DN, phase: phaseGroupDelete})
		}
	}
	for _, k := range sortedKeys(snap.structures) {
		e := snap.structures[k]
		if !managed(e) {
			continue
		}
		found := false
		for slug := range wantStructs {
			if dnKey(l.StructureDN(slug)) == k {
				found = true
				break
			}
		}
		if !found {
			changes = append(changes, Change{Op: OpDelete, Kind: KindStructure, DN: e.DN, phase: phaseStructureDelete})
		}
	}
	if want.Scope == "" {
		for _, k := range sortedKeys(snap.people) {
			if e := snap.people[k]; managed(e) {
				if _, ok := wantPeople[k]; !ok {
					changes = append(changes, Change{Op: OpDelete, Kind: KindPerson, DN: e.DN, phase: phasePersonDelete})
				}
			}
		}
	}
	slices.SortStableFunc(changes, func(a, b Change) int { return cmp.Compare(a.phase, b.phase) })
	return Plan{Changes: changes}
}

func conflict(kind, dn string, phase int) Change {
	return Change{Op: OpConflict, Kind: kind, DN: dn, phase: phaseConflict,
		Reason: "an entry not created by sesame (no businessCategory=sesame) is in the way; sesame leaves it alone"}
}

// personChange compares one person with its entry (nil when missing).
func (pl planner) personChange(p Person, dn string, cur *ldap.Entry) (Change, bool) {
	c, ok := pl.personChange1(p, dn, cur)
	if ok && c.Op != OpConflict {
		c.Person = p.label()
		c.Refused = predictRefusal(c)
	}
	return c, ok
}

func (pl planner) personChange1(p Person, dn string, cur *ldap.Entry) (Change, bool) {
	attrs := personAttrs(p, pl.scheme)
	if cur == nil {
		e := map[string][]string{
			"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson"},
			"uid":         {p.Username},
			markerAttr:    {Marker},
		}
		var shown []AttrChange
		for _, a := range attrNames {
			if v, ok := attrs[a.key]; ok && len(v) > 0 {
				e[a.name] = v
				shown = append(shown, AttrChange{Name: a.name, New: v, Secret: a.key == "userpassword"})
			}
		}
		return Change{Op: OpAdd, Kind: KindPerson, DN: dn, entry: e, Attrs: shown, phase: phasePerson}, true
	}
	if !managed(cur) || !hasClass(cur, "inetOrgPerson") {
		return conflict(KindPerson, dn, phasePerson), true
	}
	c := Change{Op: OpModify, Kind: KindPerson, DN: dn, phase: phasePerson}
	for _, a := range attrNames {
		want, ok := attrs[a.key]
		if !ok {
			continue
		}
		if ac, diff := attrDiff(a.name, cur, want, a.key == "userpassword"); diff {
			c.Attrs = append(c.Attrs, ac)
		}
	}
	return c, len(c.Attrs) > 0
}

// attrDiff compares the values of one attribute of cur with want.
func attrDiff(name string, cur *ldap.Entry, want []string, secret bool) (AttrChange, bool) {
	have := cur.GetEqualFoldAttributeValues(name)
	if secret {
		// slapd's argon2 module may leave NUL bytes after the value.
		for i, v := range have {
			if j := strings.IndexByte(v, 0); j >= 0 {
				have[i] = v[:j]
			}
		}
	}
	a, b := slices.Clone(have), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return AttrChange{}, false
	}
	return AttrChange{Name: name, Old: have, New: want, Secret: secret}, true
}

func oneValue(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
