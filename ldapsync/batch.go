package ldapsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// PersonBatch is how many ldap.person jobs HandlePersonBatch is given at
// most at once (the runner's maxBatch).
const PersonBatch = 500

// HandlePersonBatch is the batch handler of jobs.KindLDAPPerson: it does
// what HandlePerson does for each job of the batch, sharing the work. The
// people's entries are read from the directory with one search, written
// with up to Workers writes in flight, and their group changes gathered per
// group, so that each group gets as few modifies as fit the request timeout
// (not one per person). It returns one result per job, at the same index:
// nil when done, jobs.Permanent for what retrying cannot fix (a bad
// payload, a person missing from the store, a foreign entry in the way, an
// entry the directory refuses: that person's job only), and any other
// error (the directory unreachable) to retry.
func (s *Syncer) HandlePersonBatch(ctx context.Context, batch []store.Job) []error {
	return s.PreparePersonBatch(ctx, batch)(ctx)
}

// PreparePersonBatch is HandlePersonBatch in two steps (a
// jobs.BatchPreparer): it reads the batch's people from the store and
// returns the step that brings them to the directory. The job runner
// prepares the next batches while the running ones write to the directory.
func (s *Syncer) PreparePersonBatch(ctx context.Context, batch []store.Job) func(context.Context) []error {
	errs := make([]error, len(batch))
	who := make([]string, len(batch)) // the person of each job
	gone := make([]*jobs.GonePerson, len(batch))
	ids := make([]string, 0, len(batch))
	for i, j := range batch {
		var ref jobs.PersonRef
		if err := json.Unmarshal(j.Payload, &ref); err != nil || ref.PersonID == "" {
			errs[i] = fmt.Errorf("%w: job %d: bad %s payload %q", ErrRejected, j.ID, j.Kind, j.Payload)
			continue
		}
		if ref.Gone != nil {
			gone[i] = ref.Gone
			continue
		}
		who[i] = ref.PersonID
		ids = append(ids, ref.PersonID)
	}
	converge := s.prepareSync(ctx, ids)
	return func(ctx context.Context) []error {
		byID := converge(ctx)
		for i := range batch {
			if gone[i] != nil {
				errs[i] = s.ConvergeGone(ctx, *gone[i])
			} else if errs[i] == nil {
				errs[i] = byID[who[i]]
			}
			if errors.Is(errs[i], ErrRejected) {
				errs[i] = jobs.Permanent(errs[i])
			}
		}
		return errs
	}
}

// SyncPeople brings several people of the store to the directory, as
// SyncPerson does for one, and returns the error of each person who could
// not be (by ID; absent when done).
func (s *Syncer) SyncPeople(ctx context.Context, ids []string) map[string]error {
	return s.prepareSync(ctx, ids)(ctx)
}

// prepareSync reads the people ids from the store and returns the step of
// SyncPeople that writes them to the directory.
func (s *Syncer) prepareSync(ctx context.Context, ids []string) func(context.Context) map[string]error {
	errs := map[string]error{}
	if s.Source == nil {
		for _, id := range ids {
			errs[id] = errors.New("ldapsync: no store to read from")
		}
		return func(context.Context) map[string]error { return errs }
	}
	loaded, err := s.loadPeople(ctx, ids)
	var people []Person
	var pids []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err != nil {
			errs[id] = err
			continue
		}
		p, lerr := loaded[id].p, loaded[id].err
		if lerr == nil {
			lerr = checkPasswordHash(p.PasswordHash)
			if lerr != nil {
				lerr = fmt.Errorf("%w (person %s)", lerr, p.Username)
			}
		}
		if lerr != nil {
			errs[id] = lerr
			continue
		}
		people = append(people, p)
		pids = append(pids, id)
	}
	return func(ctx context.Context) map[string]error {
		for i, err := range s.ConvergePeople(ctx, people) {
			if err != nil {
				errs[pids[i]] = err
			}
		}
		return errs
	}
}

// bulkLoad is the batch size from which loadPeople reads the batch's
// people, memberships and grants with a handful of queries (loadState with
// their ids) rather than three queries per person.
var bulkLoad = 50

type loadedPerson struct {
	p   Person
	err error
}

// loadPeople reads the desired state of the people ids (each found, or
// its own ErrRejected when missing). An error of the store as a whole is
// returned for all.
func (s *Syncer) loadPeople(ctx context.Context, ids []string) (map[string]loadedPerson, error) {
	out := make(map[string]loadedPerson, len(ids))
	if len(ids) >= bulkLoad && len(ids) <= store.MaxFilterIDs {
		st, sids, err := loadState(ctx, s.Source, "", ids)
		if err != nil {
			return nil, err
		}
		for i, id := range sids {
			out[id] = loadedPerson{p: st.People[i]}
		}
		for _, id := range ids {
			if _, ok := out[id]; !ok {
				out[id] = loadedPerson{err: fmt.Errorf("%w: no person %q in the store", ErrRejected, id)}
			}
		}
		return out, nil
	}
	src := &cachedSource{Source: s.Source, services: map[string]store.Service{}, structures: map[string]store.Structure{}}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		p, err := LoadPerson(ctx, src, id)
		if err != nil && !errors.Is(err, ErrRejected) {
			return nil, err
		}
		out[id] = loadedPerson{p: p, err: err}
	}
	return out, nil
}

// cachedSource keeps the services and structures a batch reads, which its
// people mostly share.
type cachedSource struct {
	Source
	services   map[string]store.Service
	structures map[string]store.Structure
}

func (c *cachedSource) GetService(ctx context.Context, id string) (store.Service, error) {
	if v, ok := c.services[id]; ok {
		return v, nil
	}
	v, err := c.Source.GetService(ctx, id)
	if err == nil {
		c.services[id] = v
	}
	return v, err
}

func (c *cachedSource) GetStructure(ctx context.Context, id string) (store.Structure, error) {
	if v, ok := c.structures[id]; ok {
		return v, nil
	}
	v, err := c.Source.GetStructure(ctx, id)
	if err == nil {
		c.structures[id] = v
	}
	return v, err
}

// ConvergePeople does what ConvergePerson does for each of people (their
// password hashes already checked), sharing the work: one search reads
// their entries, the entry writes go up to Workers at a time, one search
// reads the managed groups that name any of them, and each group's changes
// for all of them go in as few modifies as fit the request timeout. It
// returns one error per person, at the same index. An unreachable directory
// fails everybody not done yet (to retry); a foreign entry or an entry the
// directory refuses fails that person only.
func (s *Syncer) ConvergePeople(ctx context.Context, people []Person) []error {
	errs := make([]error, len(people))
	failAll := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	if len(people) == 0 {
		return errs
	}
	if err := ctx.Err(); err != nil {
		return failAll(err)
	}
	l := s.Layout
	pl := s.planner()
	// Until this call hands in its group changes, writers of groups wait
	// a little for them (see memberWriter).
	tk := s.members.entering()
	defer tk.done()

	// The people's entries, with one search, then the writes. Another
	// writer (a structure job, a sync) may add or remove an entry between
	// the two: read again and finish.
	var (
		changes []Change
		who     []int // index in people of each change
		ch      = s.groupChunker()
	)
	for attempt := 1; ; attempt++ {
		cur, err := s.readPeople(people)
		if err != nil {
			return failAll(err)
		}
		changes, who = changes[:0], who[:0]
		for i, p := range people {
			dn := l.PersonDN(p.Username)
			c, ok := pl.personChange(p, dn, cur[dnKey(dn)])
			switch {
			case !ok:
			case c.Op == OpConflict:
				errs[i] = fmt.Errorf("%w: %s: %s", ErrRejected, dn, c.Reason)
			default:
				c.Refused = "" // the directory says, not the prediction
				changes = append(changes, c)
				who = append(who, i)
			}
		}
		for _, c := range changes {
			if c.Op == OpAdd {
				if err := s.ensureContainer(l.People(), "people"); err != nil {
					return failAll(err)
				}
				break
			}
		}
		_, err = applyPhase(ctx, s.Dir, changes, max(1, s.Workers), &progressCount{}, ch)
		if err == nil {
			break
		}
		if attempt == 3 || !ldap.IsErrorAnyOf(err, ldap.LDAPResultEntryAlreadyExists, ldap.LDAPResultNoSuchObject) {
			return failAll(err)
		}
		for i := range errs {
			errs[i] = nil
		}
	}
	inGroups := make([]bool, len(people)) // whose memberships to bring to the store's state
	for i := range people {
		inGroups[i] = errs[i] == nil
	}
	for k, c := range changes {
		if c.Refused == "" {
			continue
		}
		i := who[k]
		errs[i] = &RefusedError{Refused: []Change{c}}
		if c.Op == OpAdd {
			inGroups[i] = false // no entry: no group may name it
		}
	}

	// Memberships: the managed groups that name any of them now, against
	// those that should.
	var dns []string
	for i, p := range people {
		if inGroups[i] {
			dns = append(dns, l.PersonDN(p.Username))
		}
	}
	if len(dns) == 0 {
		return errs
	}
	have, err := s.readMemberships(dns)
	if err != nil {
		for i := range people {
			if inGroups[i] && errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	type groupChange struct {
		memberChange
		who []int // index in people of each person named
	}
	groups := map[string]*groupChange{}
	get := func(k, dn string) *groupChange {
		gc, ok := groups[k]
		if !ok {
			gc = &groupChange{memberChange: memberChange{dn: dn}}
			groups[k] = gc
		}
		return gc
	}
	for i, p := range people {
		if !inGroups[i] {
			continue
		}
		dn := l.PersonDN(p.Username)
		pk := dnKey(dn)
		want := map[string]bool{}
		if !p.Disabled {
			for _, g := range p.Groups {
				gdn := l.GroupDN(g.Structure, g.Service, g.Role)
				gk := dnKey(gdn)
				if want[gk] {
					continue
				}
				want[gk] = true
				if !have[gk].members[pk] {
					gc := get(gk, gdn)
					gc.g = g
					gc.add = append(gc.add, dn)
					gc.who = append(gc.who, i)
				}
			}
		}
		for gk, hg := range have {
			if hg.members[pk] && !want[gk] {
				gc := get(gk, hg.dn)
				gc.del = append(gc.del, dn)
				gc.who = append(gc.who, i)
			}
		}
	}
	// Every group's changes are handed in at once, in one order (by DN),
	// so that the batches running beside this one meet at each group and
	// share its writes.
	keys := sortedKeys(groups)
	mcs := make([]memberChange, len(keys))
	for i, gk := range keys {
		mcs[i] = groups[gk].memberChange
	}
	var down error
	for i, err := range s.members.change(tk, mcs, func(g Group, gdn string, add, del []string) error {
		return s.changeMembers(g, gdn, add, del, ch)
	}) {
		if err == nil {
			continue
		}
		for _, p := range groups[keys[i]].who {
			if errs[p] == nil {
				errs[p] = err
			}
		}
		if IsUnavailable(err) && down == nil {
			down = err
		}
	}
	if down != nil {
		return failAll(down)
	}
	return errs
}

// readPeople reads the entries of people under ou=people with one search,
// by dnKey (a missing ou=people holds nobody).
func (s *Syncer) readPeople(people []Person) (map[string]*ldap.Entry, error) {
	l := s.Layout
	var f strings.Builder
	f.WriteString("(|")
	for _, p := range people {
		f.WriteString("(uid=" + EscapeFilterValue(p.Username) + ")")
	}
	f.WriteString(")")
	res, err := s.Dir.Search(ldap.NewSearchRequest(l.People(), ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, f.String(), personReadAttrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return map[string]*ldap.Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldapsync: read people: %w", err)
	}
	out := make(map[string]*ldap.Entry, len(res.Entries))
	for _, e := range res.Entries {
		out[dnKey(e.DN)] = e
	}
	return out, nil
}

// heldGroup is a managed group and which of the people asked about it
// names (by dnKey).
type heldGroup struct {
	dn      string
	members map[string]bool
}

// readMemberships reads the managed groups that name any of dns, with one
// search, by dnKey.
func (s *Syncer) readMemberships(dns []string) (map[string]heldGroup, error) {
	var f strings.Builder
	f.WriteString("(&(objectClass=groupOfNames)(|")
	asked := map[string]bool{}
	for _, dn := range dns {
		f.WriteString("(member=" + EscapeFilterValue(dn) + ")")
		asked[dnKey(dn)] = true
	}
	f.WriteString("))")
	res, err := s.Dir.Search(ldap.NewSearchRequest(s.Layout.Structures(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, f.String(), []string{"member", markerAttr}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, fmt.Errorf("ldapsync: read groups: %w", err)
	}
	out := map[string]heldGroup{}
	if res == nil {
		return out, nil
	}
	for _, e := range res.Entries {
		if !managed(e) {
			continue
		}
		hg := heldGroup{dn: e.DN, members: map[string]bool{}}
		for _, m := range e.GetEqualFoldAttributeValues("member") {
			if k := dnKey(m); asked[k] {
				hg.members[k] = true
			}
		}
		out[dnKey(e.DN)] = hg
	}
	return out, nil
}

// changeMembers adds and removes members of one group, in as few modifies
// as ch allows; a missing group is created (with its structure entry) when
// members are to be added.
func (s *Syncer) changeMembers(g Group, gdn string, add, del []string, ch *chunker) error {
	if len(add) > 0 {
		if err := s.checkGroupOwned(gdn); err != nil {
			return err
		}
	}
	c := &Change{Op: OpModify, Kind: KindGroup, DN: gdn, AddMembers: add, RemoveMembers: del}
	err := applyChange(s.Dir, c, ch)
	if err == nil || len(add) == 0 || !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return err
	}
	if err := s.ensureGroup(g, gdn); err != nil {
		return err
	}
	return applyChange(s.Dir, c, ch)
}
