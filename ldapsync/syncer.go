package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"

	"sesame/internal/jobs"
	"sesame/internal/store"
)

// Syncer brings the directory to the desired state. Its fields are its
// dependencies; Source is needed only by the store-driven methods.
type Syncer struct {
	Dir    Directory
	Layout Layout
	// Scheme is SchemeArgon2 or SchemeNone (see Config.PasswordScheme).
	Scheme string
	// Workers is how many entry writes a bulk convergence keeps in flight.
	Workers int
	Source  Source
	Log     *slog.Logger
	// Progress, when set, is called by Converge after each change of the
	// plan is dealt with (applied, refused or skipped), with how many are
	// done out of the plan's total, from one goroutine at a time. It must
	// return quickly (a terminal display rate-limits itself).
	Progress func(done, total int)

	// members coalesces the group changes of concurrent ConvergePeople
	// calls; ch sizes their group writes, from what the writes before
	// measured (see groupChunker).
	members memberWriter
	chOnce  sync.Once
	ch      *chunker
}

// groupChunker returns the chunker shared by every ConvergePeople call:
// what one batch measured of the directory's pace sizes the next batch's
// writes, where a chunker of its own started each batch at its cautious
// first size (125 values) and cost it two modifies per group.
func (s *Syncer) groupChunker() *chunker {
	s.chOnce.Do(func() { s.ch = newChunker(s.Dir) })
	return s.ch
}

// New returns a Syncer writing through conn with conn's configuration.
func New(conn *Conn, src Source, log *slog.Logger) *Syncer {
	cfg := conn.Config()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{Dir: conn, Layout: Layout{Base: cfg.BaseDN}, Scheme: cfg.PasswordScheme,
		Workers: cfg.Workers, Source: src, Log: log}
}

func (s *Syncer) planner() planner {
	scheme := s.Scheme
	if scheme == "" {
		scheme = SchemeArgon2
	}
	return planner{l: s.Layout, scheme: scheme}
}

func (s *Syncer) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Diff returns what differs between want and the directory. Only entries
// within want's scope are read; only managed entries are ever planned for
// modification or deletion.
func (s *Syncer) Diff(ctx context.Context, want State) (Plan, error) {
	for _, p := range want.People {
		if err := checkPasswordHash(p.PasswordHash); err != nil {
			return Plan{}, fmt.Errorf("%w (person %s)", err, p.Username)
		}
	}
	if err := ctx.Err(); err != nil {
		return Plan{}, err
	}
	snap, err := readSnapshot(s.Dir, s.Layout, want.Scope)
	if err != nil {
		return Plan{}, err
	}
	return s.planner().plan(want, snap), nil
}

// RefusedError is Converge's error when everything was applied except the
// entries the directory refused (each marked Refused in the plan). It wraps
// ErrRejected: retrying cannot help until their data changes.
type RefusedError struct {
	Refused []Change
	// Rest says the other changes of a convergence were applied.
	Rest bool
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ldapsync: the directory refused %d entr%s", len(e.Refused),
		map[bool]string{true: "y", false: "ies"}[len(e.Refused) == 1])
	if e.Rest {
		b.WriteString(" (everything else was applied)")
	}
	b.WriteString(": ")
	for i, c := range e.Refused {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.refusalLine())
	}
	return b.String()
}

func (e *RefusedError) Unwrap() error { return ErrRejected }

// refusalLine names a refused change and gives the directory's reason.
func (c Change) refusalLine() string {
	who := c.DN
	if c.Person != "" {
		who = "person " + c.Person
	}
	return who + ": " + c.Refused
}

// Converge makes the directory match want: it computes the plan and applies
// it, people in parallel and each group's membership changes as a single
// modify. It returns the plan it applied and how many changes were made.
// Conflicts are left alone and reported in the plan. Entries the directory
// refuses are marked Refused in the plan and reported by a *RefusedError
// once everything else was applied (a person it refused to add is left out
// of the groups); any other error stops the convergence (ErrUnavailable:
// retry it all later).
func (s *Syncer) Converge(ctx context.Context, want State) (Plan, int, error) {
	var (
		plan Plan
		n    int
		err  error
	)
	for attempt := 1; ; attempt++ {
		if plan, err = s.Diff(ctx, want); err != nil {
			return Plan{}, 0, err
		}
		var done int
		done, err = apply(ctx, s.Dir, plan, s.Workers, s.Progress)
		n += done
		// Another writer (a person job beside a sync) changed an entry
		// since it was read: read again and finish.
		if err == nil || attempt == 3 || !ldap.IsErrorAnyOf(err, ldap.LDAPResultEntryAlreadyExists, ldap.LDAPResultNoSuchObject) {
			break
		}
		s.logger().Debug("ldapsync: directory changed during convergence, planning again", "err", err)
	}
	if err == nil {
		if refused := plan.Refusals(); len(refused) > 0 {
			err = &RefusedError{Refused: refused, Rest: true}
		}
	}
	s.logger().Info("ldapsync: converged", "scope", want.Scope, "changes", len(plan.Changes), "applied", n,
		"conflicts", len(plan.Conflicts()), "refused", len(plan.Refusals()), "err", err)
	return plan, n, err
}

// ConvergePerson brings one person's entry, password hash and group
// memberships to p, comparing first and changing only what differs. Groups
// (and their structure entry) that do not exist yet are created. A foreign
// entry in the way gives ErrRejected; an entry the directory refuses gives a
// *RefusedError (ErrRejected too) naming the person and the directory's
// reason: a refused new entry is put in no group, a refused change to an
// existing one leaves it as it was and its memberships are still brought to
// the store's state.
func (s *Syncer) ConvergePerson(ctx context.Context, p Person) error {
	if err := checkPasswordHash(p.PasswordHash); err != nil {
		return fmt.Errorf("%w (person %s)", err, p.Username)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l := s.Layout
	dn := l.PersonDN(p.Username)
	cur, err := readEntry(s.Dir, dn, personReadAttrs)
	if err != nil {
		return err
	}
	var refused error
	if c, ok := s.planner().personChange(p, dn, cur); ok {
		if c.Op == OpConflict {
			return fmt.Errorf("%w: %s: %s", ErrRejected, dn, c.Reason)
		}
		if c.Op == OpAdd {
			if err := s.ensureContainer(l.People(), "people"); err != nil {
				return err
			}
		}
		if err := applyChange(s.Dir, &c, nil); err != nil {
			if !isRefusal(err) {
				return err
			}
			c.Refused = refusalReason(err)
			refused = &RefusedError{Refused: []Change{c}}
			if c.Op == OpAdd {
				// No entry: no group may name it.
				return refused
			}
			// The entry stands as it was: its memberships are
			// still the store's to decide.
		}
	}

	// Memberships: the managed groups that name the person now, against
	// those that should.
	res, err := s.Dir.Search(ldap.NewSearchRequest(l.Structures(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(&(objectClass=groupOfNames)(member="+EscapeFilterValue(dn)+"))", []string{markerAttr}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return fmt.Errorf("ldapsync: read groups of %s: %w", dn, err)
	}
	have := map[string]string{}
	if res != nil {
		for _, e := range res.Entries {
			if managed(e) {
				have[dnKey(e.DN)] = e.DN
			}
		}
	}
	want := map[string]Group{}
	if !p.Disabled {
		for _, g := range p.Groups {
			want[dnKey(l.GroupDN(g.Structure, g.Service, g.Role))] = g
		}
	}
	var foreign error
	for _, k := range sortedKeys(want) {
		if _, ok := have[k]; !ok {
			if err := s.addMember(want[k], dn); err != nil {
				if !errors.Is(err, ErrRejected) {
					return err
				}
				// A foreign group in the way: the other groups still
				// follow the store.
				foreign = errors.Join(foreign, err)
			}
		}
	}
	for _, k := range sortedKeys(have) {
		if _, ok := want[k]; !ok {
			req := ldap.NewModifyRequest(have[k], nil)
			req.Delete("member", []string{dn})
			if err := s.Dir.Modify(req); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
				return fmt.Errorf("ldapsync: remove %s from %s: %w", dn, have[k], err)
			}
		}
	}
	if foreign != nil {
		return errors.Join(refused, foreign)
	}
	return refused
}

// checkGroupOwned refuses (ErrRejected) to add members to a group sesame
// did not create: a foreign entry at a group's DN is never changed, as a
// full sync reports it as a conflict.
func (s *Syncer) checkGroupOwned(gdn string) error {
	cur, err := readEntry(s.Dir, gdn, []string{markerAttr})
	if err != nil {
		return err
	}
	if cur != nil && !managed(cur) {
		return fmt.Errorf("%w: %s exists and was not created by sesame", ErrRejected, gdn)
	}
	return nil
}

// addMember adds member to g, creating the group (and its structure entry)
// when missing.
func (s *Syncer) addMember(g Group, member string) error {
	l := s.Layout
	gdn := l.GroupDN(g.Structure, g.Service, g.Role)
	if err := s.checkGroupOwned(gdn); err != nil {
		return err
	}
	req := ldap.NewModifyRequest(gdn, nil)
	req.Add("member", []string{member})
	err := s.Dir.Modify(req)
	switch {
	case err == nil || ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists):
		return nil
	case !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return fmt.Errorf("ldapsync: add %s to %s: %w", member, gdn, err)
	}
	if err := s.ensureStructure(g); err != nil {
		return err
	}
	greq := ldap.NewAddRequest(gdn, nil)
	greq.Attribute("objectClass", []string{"top", "groupOfNames"})
	greq.Attribute("cn", []string{GroupCN(g.Service, g.Role)})
	greq.Attribute("description", []string{g.description()})
	greq.Attribute(markerAttr, []string{Marker})
	greq.Attribute("member", []string{l.Placeholder(), member})
	if err := s.Dir.Add(greq); err != nil {
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			return fmt.Errorf("ldapsync: add %s: %w", gdn, err)
		}
		// Created meanwhile by another job: add to it.
		if err := s.Dir.Modify(req); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists) {
			return fmt.Errorf("ldapsync: add %s to %s: %w", member, gdn, err)
		}
	}
	return nil
}

// ensureStructure adds g's structure entry (and ou=structures) when
// missing; a foreign entry in its place gives ErrRejected.
func (s *Syncer) ensureStructure(g Group) error {
	l := s.Layout
	if err := s.ensureContainer(l.Structures(), "structures"); err != nil {
		return err
	}
	sdn := l.StructureDN(g.Structure)
	sreq := ldap.NewAddRequest(sdn, nil)
	sreq.Attribute("objectClass", []string{"top", "organization"})
	sreq.Attribute("o", []string{g.Structure})
	sreq.Attribute(markerAttr, []string{Marker})
	if g.StructureName != "" {
		sreq.Attribute("description", []string{g.StructureName})
	}
	if err := s.Dir.Add(sreq); err != nil {
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			return fmt.Errorf("ldapsync: add %s: %w", sdn, err)
		}
		cur, err := readEntry(s.Dir, sdn, groupReadAttrs)
		if err != nil {
			return err
		}
		if cur == nil || !managed(cur) {
			return fmt.Errorf("%w: %s exists and was not created by sesame", ErrRejected, sdn)
		}
	}
	return nil
}

// ensureGroup adds the group gdn of g (naming only the placeholder), and
// its structure entry, when missing.
func (s *Syncer) ensureGroup(g Group, gdn string) error {
	if err := s.ensureStructure(g); err != nil {
		return err
	}
	greq := ldap.NewAddRequest(gdn, nil)
	greq.Attribute("objectClass", []string{"top", "groupOfNames"})
	greq.Attribute("cn", []string{GroupCN(g.Service, g.Role)})
	greq.Attribute("description", []string{g.description()})
	greq.Attribute(markerAttr, []string{Marker})
	greq.Attribute("member", []string{s.Layout.Placeholder()})
	if err := s.Dir.Add(greq); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		return fmt.Errorf("ldapsync: add %s: %w", gdn, err)
	}
	return nil
}

// ensureContainer adds ou=NAME when it is missing.
func (s *Syncer) ensureContainer(dn, ou string) error {
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "organizationalUnit"})
	req.Attribute("ou", []string{ou})
	ok, err := exists(s.Dir, dn)
	if err != nil || ok {
		return err
	}
	if err := s.Dir.Add(req); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		return fmt.Errorf("ldapsync: add %s: %w", dn, err)
	}
	return nil
}

// readEntry reads one entry, nil when it does not exist.
func readEntry(dir Directory, dn string, attrs []string) (*ldap.Entry, error) {
	res, err := dir.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", attrs, nil))
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("ldapsync: read %s: %w", dn, err)
	case len(res.Entries) == 0:
		return nil, nil
	}
	return res.Entries[0], nil
}

// ConvergeGone empties the entry of a person deleted from the store, as a
// disabled person's is (no password, in no managed group; the entry itself
// stays, as for every deleted person): the ldap.person job that manage
// queues at deletion, in case the one queued when they were disabled had
// not run. No entry: nothing to do; an entry sesame does not manage is
// refused (ErrRejected), as ConvergePerson refuses it. If the store (when
// the Syncer has one) holds a person with the username again (deleted,
// then imported anew before this job ran), the entry is theirs now and
// their own job converges it: this one leaves it alone.
func (s *Syncer) ConvergeGone(ctx context.Context, g jobs.GonePerson) error {
	if g.Username == "" {
		return fmt.Errorf("%w: a deleted person without a username", ErrRejected)
	}
	if s.Source != nil {
		_, err := s.Source.GetPersonByUsername(ctx, g.Username)
		if err == nil {
			s.logger().Info("ldapsync: a deleted person's username is someone's again; the entry is left to them",
				"username", g.Username)
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("ldapsync: look up %s: %w", g.Username, err)
		}
	}
	cur, err := readEntry(s.Dir, s.Layout.PersonDN(g.Username), personReadAttrs)
	if err != nil || cur == nil {
		return err
	}
	p := personFromStore(store.Person{Username: g.Username, GivenName: g.GivenName, FamilyName: g.FamilyName,
		DisplayName: g.DisplayName, Email: g.Email, State: store.StateDisabled}, nil)
	if err := s.ConvergePerson(ctx, p); err != nil {
		return err
	}
	s.logger().Info("ldapsync: a deleted person's entry emptied", "username", g.Username)
	return nil
}

// SyncPerson brings one person of the store to the directory (the
// ldap.person job).
func (s *Syncer) SyncPerson(ctx context.Context, personID string) error {
	if s.Source == nil {
		return errors.New("ldapsync: no store to read from")
	}
	p, err := LoadPerson(ctx, s.Source, personID)
	if err != nil {
		return err
	}
	if err := s.ConvergePerson(ctx, p); err != nil {
		return err
	}
	s.logger().Debug("ldapsync: person converged", "person", personID, "username", p.Username)
	return nil
}

// SyncStructure brings one structure's part of the directory (its entry,
// its groups and their members, its people's entries) to the store's state
// (the ldap.structure job).
func (s *Syncer) SyncStructure(ctx context.Context, structureID string) error {
	if s.Source == nil {
		return errors.New("ldapsync: no store to read from")
	}
	st, err := s.Source.GetStructure(ctx, structureID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no structure %q in the store", ErrRejected, structureID)
	}
	if err != nil {
		return fmt.Errorf("ldapsync: load structure %s: %w", structureID, err)
	}
	_, _, err = s.SyncStore(ctx, st.Slug)
	return err
}

// DiffStore compares the store's state (everything, or one structure's
// part when scope is its slug) with the directory.
func (s *Syncer) DiffStore(ctx context.Context, scope string) (Plan, error) {
	if s.Source == nil {
		return Plan{}, errors.New("ldapsync: no store to read from")
	}
	want, err := LoadState(ctx, s.Source, scope)
	if err != nil {
		return Plan{}, err
	}
	return s.Diff(ctx, want)
}

// SyncStore converges the directory to the store's state (everything, or
// one structure's part when scope is its slug).
func (s *Syncer) SyncStore(ctx context.Context, scope string) (Plan, int, error) {
	if s.Source == nil {
		return Plan{}, 0, errors.New("ldapsync: no store to read from")
	}
	want, err := LoadState(ctx, s.Source, scope)
	if err != nil {
		return Plan{}, 0, err
	}
	return s.Converge(ctx, want)
}
