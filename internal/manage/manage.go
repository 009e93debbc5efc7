package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/onboarding"
)

// LinkIssuer issues an emailed single-use link and queues its email in tx
// (onboarding.Tokens does).
type LinkIssuer interface {
	Issue(ctx context.Context, tx store.Tx, personID, structureID string, purpose store.TokenPurpose) (time.Time, error)
}

// Manager runs the operations against a store.
type Manager struct {
	Store store.Store
	// Links issues activation links; needed by AddAdmin, AddReferent (for
	// a new or invited person) and Resend.
	Links LinkIssuer
	// ClientSecretHash hashes a new service's client secret as the
	// provider verifies it (idp.HashClientSecret); needed by AddService.
	ClientSecretHash func(secret string) string
	Now              func() time.Time
}

// Errors of the operations. Each wraps a store sentinel, so the web's one
// error function gives it the right status.
var (
	// ErrNotDisabled: only a disabled person may be deleted.
	ErrNotDisabled = fmt.Errorf("%w: only a disabled person can be deleted", store.ErrConflict)
	// ErrNotInvited: an activation link goes only to a person who has not
	// activated their account.
	ErrNotInvited = fmt.Errorf("%w: the person is not waiting for activation", store.ErrConflict)
	// ErrLastAdmin: the last hoster admin cannot be removed.
	ErrLastAdmin = fmt.Errorf("%w: the last hoster admin cannot be removed", store.ErrConflict)
	// ErrBadEmail: an address without a local part and a domain.
	ErrBadEmail = fmt.Errorf("%w: not an email address", store.ErrInvalid)
	// ErrNotMember: the person is not a member of that structure.
	ErrNotMember = fmt.Errorf("%w: not a member of the structure", store.ErrNotFound)
)

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

type (
	ipKey        struct{}
	structureKey struct{}
)

// WithStructure returns ctx carrying the structure a web page acts for:
// the audit entries of the operations run with it that concern a person
// are recorded as that structure's too (its referents see them).
func WithStructure(ctx context.Context, structureID string) context.Context {
	return context.WithValue(ctx, structureKey{}, structureID)
}

// WithIP returns ctx carrying the client address of a web request, which
// the operations run with it record in their audit entries.
func WithIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

func audit(ctx context.Context, tx store.Tx, actor, action, target string, details map[string]any) error {
	ip, _ := ctx.Value(ipKey{}).(string)
	e := &store.AuditEntry{Actor: actor, Action: action, Target: target, Details: details, IP: ip}
	if !strings.HasPrefix(target, "structure:") {
		e.StructureID, _ = ctx.Value(structureKey{}).(string)
	}
	if err := tx.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("manage: audit %s: %w", action, err)
	}
	return nil
}

func enqueue(ctx context.Context, tx store.Tx, kind, dedupe string, payload any) error {
	if _, err := jobs.Enqueue(ctx, tx, kind, dedupe, payload); err != nil {
		return fmt.Errorf("manage: enqueue %s: %w", kind, err)
	}
	return nil
}

func ldapPerson(ctx context.Context, tx store.Tx, personID string) error {
	return enqueue(ctx, tx, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(personID), jobs.PersonRef{PersonID: personID})
}

// provisionEverywhere queues the provisioning of a person's accounts on
// every service they hold a grant on or have an account recorded on.
func provisionEverywhere(ctx context.Context, tx store.Tx, personID string) error {
	return eachAccount(ctx, tx, personID, func(svc store.Service, _ store.Provision) error {
		return jobs.QueueProvision(ctx, tx, personID, svc)
	})
}

// eachAccount calls fn with every service a person holds a grant on or has
// an account recorded on, and the record (zero when there is none).
func eachAccount(ctx context.Context, tx store.Tx, personID string, fn func(store.Service, store.Provision) error) error {
	recs := map[string]store.Provision{}
	grants, err := tx.ListGrants(ctx, store.GrantFilter{PersonID: personID})
	if err != nil {
		return fmt.Errorf("manage: list grants: %w", err)
	}
	for _, g := range grants {
		recs[g.ServiceID] = store.Provision{}
	}
	list, err := tx.ListProvisions(ctx, store.ProvisionFilter{PersonID: personID})
	if err != nil {
		return fmt.Errorf("manage: list provisions: %w", err)
	}
	for _, r := range list {
		recs[r.ServiceID] = r
	}
	for id, rec := range recs {
		svc, err := tx.GetService(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("manage: get service: %w", err)
		}
		if err := fn(svc, rec); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) inTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return m.Store.InTx(ctx, fn)
}

// checkEmail returns the trimmed address, or ErrBadEmail.
func checkEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t\r\n<>,;\"") || strings.Contains(domain, "@") {
		return "", fmt.Errorf("%w: %q", ErrBadEmail, email)
	}
	return email, nil
}

// findOrCreate returns the person with email, creating an invited one (a
// username derived from the address) when there is none.
func findOrCreate(ctx context.Context, tx store.Tx, email string) (store.Person, bool, error) {
	p, err := tx.GetPersonByEmail(ctx, email)
	if err == nil {
		return p, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return p, false, fmt.Errorf("manage: look up %s: %w", email, err)
	}
	base := onboarding.BaseUsername("", "", store.FoldEmail(email))
	taken, err := tx.UsernamesWithPrefix(ctx, base)
	if err != nil {
		return p, false, fmt.Errorf("manage: usernames: %w", err)
	}
	set := map[string]bool{}
	for _, u := range taken {
		set[u] = true
	}
	p = store.Person{Username: onboarding.NextFreeUsername(base, func(u string) bool { return set[u] }),
		Email: email, Language: "fr", State: store.StateInvited}
	if err := tx.CreatePerson(ctx, &p); err != nil {
		return p, false, fmt.Errorf("manage: create person: %w", err)
	}
	return p, true, nil
}

// Invite says what AddAdmin and AddReferent did.
type Invite struct {
	Person  store.Person
	Created bool      // the person did not exist
	Linked  bool      // an activation link was sent (the person is invited)
	Expires time.Time // the link's expiry, when Linked
}

func (m *Manager) inviteIfNeeded(ctx context.Context, tx store.Tx, inv *Invite, structureID string) error {
	if inv.Person.State != store.StateInvited {
		return nil
	}
	if m.Links == nil {
		return errors.New("manage: no link issuer configured")
	}
	exp, err := m.Links.Issue(ctx, tx, inv.Person.ID, structureID, store.PurposeActivate)
	if err != nil {
		return err
	}
	inv.Linked, inv.Expires = true, exp
	return nil
}

// AddAdmin makes the person with email a hoster admin, creating them when
// there is none; an invited person (new or not) is sent an activation
// link. A disabled person is refused (enable them first).
func (m *Manager) AddAdmin(ctx context.Context, actor, email string) (Invite, error) {
	email, err := checkEmail(email)
	if err != nil {
		return Invite{}, err
	}
	var inv Invite
	err = m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		inv = Invite{}
		p, created, err := findOrCreate(ctx, tx, email)
		if err != nil {
			return err
		}
		if p.State == store.StateDisabled {
			return fmt.Errorf("%w: %s is disabled: enable them first", store.ErrConflict, p.Username)
		}
		if p, err = tx.UpdatePerson(ctx, p.ID, func(x *store.Person) error { x.Admin = true; return nil }); err != nil {
			return fmt.Errorf("manage: make admin: %w", err)
		}
		inv.Person, inv.Created = p, created
		if err := m.inviteIfNeeded(ctx, tx, &inv, ""); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "admin.add", "person:"+p.ID, map[string]any{"created": created, "link": inv.Linked})
	})
	return inv, err
}

// ListAdmins returns the hoster admins by username.
func (m *Manager) ListAdmins(ctx context.Context) ([]store.Person, error) {
	return m.Store.ListPeople(ctx, store.PeopleFilter{Admin: true})
}

// RemoveAdmin takes the admin flag from the person with email (their
// account and memberships stay). The last admin stays: ErrLastAdmin.
func (m *Manager) RemoveAdmin(ctx context.Context, actor, email string) (store.Person, error) {
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if p, err = tx.GetPersonByEmail(ctx, email); err != nil {
			return fmt.Errorf("manage: look up %s: %w", email, err)
		}
		if !p.Admin {
			return nil
		}
		admins, err := tx.ListPeople(ctx, store.PeopleFilter{Admin: true})
		if err != nil {
			return fmt.Errorf("manage: list admins: %w", err)
		}
		if len(admins) <= 1 {
			return ErrLastAdmin
		}
		if p, err = tx.UpdatePerson(ctx, p.ID, func(x *store.Person) error { x.Admin = false; return nil }); err != nil {
			return fmt.Errorf("manage: remove admin: %w", err)
		}
		return audit(ctx, tx, actor, "admin.remove", "person:"+p.ID, nil)
	})
	return p, err
}

// AddReferent makes the person with email a referent of the structure,
// creating the person (invited, with an activation link) and their
// membership when needed.
func (m *Manager) AddReferent(ctx context.Context, actor, structureID, email string) (Invite, error) {
	email, err := checkEmail(email)
	if err != nil {
		return Invite{}, err
	}
	var inv Invite
	err = m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		inv = Invite{}
		st, err := tx.GetStructure(ctx, structureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		p, created, err := findOrCreate(ctx, tx, email)
		if err != nil {
			return err
		}
		if p.State == store.StateDisabled {
			return fmt.Errorf("%w: %s is disabled: enable them first", store.ErrConflict, p.Username)
		}
		if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: st.ID, Referent: true}); err != nil {
			return fmt.Errorf("manage: put membership: %w", err)
		}
		if err := ldapPerson(ctx, tx, p.ID); err != nil {
			return err
		}
		inv.Person, inv.Created = p, created
		if err := m.inviteIfNeeded(ctx, tx, &inv, st.ID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "referent.add", "structure:"+st.Slug,
			map[string]any{"person_id": p.ID, "created": created, "link": inv.Linked})
	})
	return inv, err
}

// RemoveReferent takes the referent flag from the person's membership of
// the structure; they stay a member. ErrNotMember when they are not one.
func (m *Manager) RemoveReferent(ctx context.Context, actor, structureID, email string) (store.Person, error) {
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		st, err := tx.GetStructure(ctx, structureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		if p, err = tx.GetPersonByEmail(ctx, email); err != nil {
			return fmt.Errorf("manage: look up %s: %w", email, err)
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID, StructureID: st.ID})
		if err != nil {
			return fmt.Errorf("manage: list memberships: %w", err)
		}
		if len(ms) == 0 {
			return ErrNotMember
		}
		if err := tx.PutMembership(ctx, store.Membership{PersonID: p.ID, StructureID: st.ID}); err != nil {
			return fmt.Errorf("manage: put membership: %w", err)
		}
		return audit(ctx, tx, actor, "referent.remove", "structure:"+st.Slug, map[string]any{"person_id": p.ID})
	})
	return p, err
}

// PersonChange is a change of a person's name or email; nil fields stay.
type PersonChange struct {
	GivenName   *string
	FamilyName  *string
	DisplayName *string
	Email       *string
}

// UpdatePerson changes a person's names or email (the username never
// changes) and queues their directory entry and application accounts.
// A new email revokes the links already sent (to the former address); an
// invited person is sent a new activation link. A taken email gives
// store.ErrConflict.
func (m *Manager) UpdatePerson(ctx context.Context, actor, personID string, c PersonChange) (store.Person, error) {
	if c.Email != nil {
		e, err := checkEmail(*c.Email)
		if err != nil {
			return store.Person{}, err
		}
		c.Email = &e
	}
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		changed, former := map[string]any{}, ""
		var err error
		p, err = tx.UpdatePerson(ctx, personID, func(x *store.Person) error {
			former = x.Email
			set := func(field string, dst *string, v *string) {
				if v == nil {
					return
				}
				nv := onboarding.Clean(*v)
				if nv != *dst {
					changed[field] = nv
					*dst = nv
				}
			}
			set("given_name", &x.GivenName, c.GivenName)
			set("family_name", &x.FamilyName, c.FamilyName)
			set("display_name", &x.DisplayName, c.DisplayName)
			set("email", &x.Email, c.Email)
			return nil
		})
		if err != nil {
			return fmt.Errorf("manage: update person: %w", err)
		}
		if len(changed) == 0 {
			return nil
		}
		if err := ldapPerson(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := provisionEverywhere(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := audit(ctx, tx, actor, "person.update", "person:"+p.ID, changed); err != nil {
			return err
		}
		if _, ok := changed["email"]; !ok {
			return nil
		}
		// The links already emailed went to the former address, which may
		// be the wrong one (a typo) or no longer theirs: none may work any
		// more. An invited person gets a new activation link at the new
		// address.
		if _, err := tx.RevokeTokens(ctx, p.ID); err != nil {
			return fmt.Errorf("manage: revoke links: %w", err)
		}
		if p.State == store.StateInvited && m.Links != nil {
			_, err := m.resend(ctx, tx, actor, p.ID, "")
			return err
		}
		if p.PasswordHash == "" || strings.EqualFold(former, p.Email) {
			return nil // the former address may be a typo, or the same mailbox
		}
		// The account was used: its former address is told (if it was not
		// them, the new address could reset the password from now on).
		return enqueue(ctx, tx, jobs.KindMailEmailChanged, "", jobs.EmailChange{PersonID: p.ID, Former: former})
	})
	return p, err
}

// Disable disables a person: they may no longer log in, their sessions end
// everywhere, they leave every directory group and their application
// accounts are disabled (jobs). Disabling a disabled person does nothing.
func (m *Manager) Disable(ctx context.Context, actor, personID string) (store.Person, error) {
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		was := store.PersonState("")
		var err error
		p, err = tx.UpdatePerson(ctx, personID, func(x *store.Person) error {
			was, x.State = x.State, store.StateDisabled
			return nil
		})
		if err != nil {
			return fmt.Errorf("manage: disable: %w", err)
		}
		if was == store.StateDisabled {
			return nil
		}
		// The links already emailed stop working: enabled again, the
		// person needs a new one (Resend, or "forgotten password").
		if _, err := tx.RevokeTokens(ctx, p.ID); err != nil {
			return fmt.Errorf("manage: revoke links: %w", err)
		}
		if err := enqueue(ctx, tx, jobs.KindOIDCEndSessions, jobs.DedupeOIDCEndSessions(p.ID), jobs.PersonRef{PersonID: p.ID}); err != nil {
			return err
		}
		if err := ldapPerson(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := provisionEverywhere(ctx, tx, p.ID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "person.disable", "person:"+p.ID, map[string]any{"from": string(was)})
	})
	return p, err
}

// Enable enables a disabled person again: active when they have a
// password, else invited (send them a link with Resend).
func (m *Manager) Enable(ctx context.Context, actor, personID string) (store.Person, error) {
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		was := store.PersonState("")
		var err error
		p, err = tx.UpdatePerson(ctx, personID, func(x *store.Person) error {
			was = x.State
			if x.State == store.StateDisabled {
				x.State = store.StateInvited
				if x.PasswordHash != "" {
					x.State = store.StateActive
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("manage: enable: %w", err)
		}
		if was != store.StateDisabled {
			return nil
		}
		if err := ldapPerson(ctx, tx, p.ID); err != nil {
			return err
		}
		if err := provisionEverywhere(ctx, tx, p.ID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "person.enable", "person:"+p.ID, map[string]any{"to": string(p.State)})
	})
	return p, err
}

// Delete deletes a disabled person (ErrNotDisabled otherwise) with their
// memberships, grants, tokens, provisioning records and SSO sessions. Their
// directory entry was emptied when they were disabled and stays so; their
// accounts in the applications stay disabled. Jobs queued with the deletion
// see to both, in case the disable's own had not run. The audit entry keeps
// their username and email.
func (m *Manager) Delete(ctx context.Context, actor, personID string) (store.Person, error) {
	var p store.Person
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if p, err = tx.GetPerson(ctx, personID); err != nil {
			return fmt.Errorf("manage: get person: %w", err)
		}
		if p.State != store.StateDisabled {
			return ErrNotDisabled
		}
		if _, err := tx.DeletePersonSSOSessions(ctx, p.ID); err != nil {
			return fmt.Errorf("manage: end sessions: %w", err)
		}
		if _, err := tx.RevokeTokenFamilies(ctx, store.TokenFamilyFilter{PersonID: p.ID}, m.now()); err != nil {
			return fmt.Errorf("manage: revoke tokens: %w", err)
		}
		gp := jobs.GonePerson{Username: p.Username, GivenName: p.GivenName, FamilyName: p.FamilyName,
			DisplayName: p.DisplayName, Email: p.Email}
		// The directory job queued when they were disabled may not have
		// run yet (a directory down, a quick hand): one more, which needs
		// no store to find the entry, leaves it emptied — no password, in
		// no group — whatever ran before.
		if err := enqueue(ctx, tx, jobs.KindLDAPPerson, "", jobs.PersonRef{PersonID: p.ID, Gone: &gp}); err != nil {
			return err
		}
		// Likewise each application's job: the one queued at the disable
		// finds nobody once the person is gone; these carry what they need
		// to find the account and take its access away.
		if err := eachAccount(ctx, tx, p.ID, func(svc store.Service, rec store.Provision) error {
			return jobs.QueueProvisionGone(ctx, tx, p.ID, svc, jobs.GoneAccount{GonePerson: gp,
				RemoteID: rec.RemoteID, Owned: rec.Owned, Role: rec.Role})
		}); err != nil {
			return err
		}
		if err := tx.DeletePerson(ctx, p.ID); err != nil {
			return fmt.Errorf("manage: delete person: %w", err)
		}
		return audit(ctx, tx, actor, "person.delete", "person:"+p.ID,
			map[string]any{"username": p.Username, "email": p.Email})
	})
	return p, err
}

// Resend issues a new activation link to an invited person (ErrNotInvited
// otherwise) and queues its email; their older links stop working.
// structureID names the structure the email speaks for ("" for the
// person's first).
func (m *Manager) Resend(ctx context.Context, actor, personID, structureID string) (time.Time, error) {
	var exp time.Time
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		exp, err = m.resend(ctx, tx, actor, personID, structureID)
		return err
	})
	return exp, err
}

func (m *Manager) resend(ctx context.Context, tx store.Tx, actor, personID, structureID string) (time.Time, error) {
	p, err := tx.GetPerson(ctx, personID)
	if err != nil {
		return time.Time{}, fmt.Errorf("manage: get person: %w", err)
	}
	if p.State != store.StateInvited {
		return time.Time{}, ErrNotInvited
	}
	if structureID == "" {
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{PersonID: p.ID})
		if err != nil {
			return time.Time{}, fmt.Errorf("manage: list memberships: %w", err)
		}
		if len(ms) > 0 {
			structureID = ms[0].StructureID
		}
	}
	if m.Links == nil {
		return time.Time{}, errors.New("manage: no link issuer configured")
	}
	exp, err := m.Links.Issue(ctx, tx, p.ID, structureID, store.PurposeActivate)
	if err != nil {
		return time.Time{}, err
	}
	return exp, audit(ctx, tx, actor, "person.link.activate", "person:"+p.ID, nil)
}

// SharedPeople returns which of people are members of more than one
// structure (web.Target.PersonShared: a referent of one may not manage
// them), reading their memberships store.MaxFilterIDs at a time.
func SharedPeople(ctx context.Context, ms store.Memberships, people []store.Person) (map[string]bool, error) {
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	count := map[string]int{}
	for chunk := range slices.Chunk(ids, store.MaxFilterIDs) {
		list, err := ms.ListMemberships(ctx, store.MembershipFilter{PersonIDs: chunk})
		if err != nil {
			return nil, fmt.Errorf("manage: memberships: %w", err)
		}
		for _, m := range list {
			count[m.PersonID]++
		}
	}
	shared := make(map[string]bool, len(count))
	for id, n := range count {
		shared[id] = n > 1
	}
	return shared, nil
}

// ResendPending sends a new activation link to every invited member of the
// structure that may allows (nil allows all: the CLI, a hoster admin), and
// returns how many. may is told whether the person is a member of another
// structure too, read in the same transaction as the sending.
func (m *Manager) ResendPending(ctx context.Context, actor, structureID string, may func(p store.Person, shared bool) bool) (int, error) {
	n := 0
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		n = 0
		people, err := tx.ListPeople(ctx, store.PeopleFilter{StructureID: structureID, State: store.StateInvited})
		if err != nil {
			return fmt.Errorf("manage: list people: %w", err)
		}
		var shared map[string]bool
		if may != nil {
			if shared, err = SharedPeople(ctx, tx, people); err != nil {
				return err
			}
		}
		for _, p := range people {
			if may != nil && !may(p, shared[p.ID]) {
				continue
			}
			if _, err := m.resend(ctx, tx, actor, p.ID, structureID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// StructureChange is a change of a structure's name or contact; nil fields
// stay.
type StructureChange struct {
	Name      *string
	Contact   *string
	MFAPolicy *store.MFAPolicy
}

// UpdateStructure changes a structure's name or contact.
func (m *Manager) UpdateStructure(ctx context.Context, actor, structureID string, c StructureChange) (store.Structure, error) {
	if c.Contact != nil && strings.TrimSpace(*c.Contact) != "" {
		e, err := checkEmail(*c.Contact)
		if err != nil {
			return store.Structure{}, err
		}
		c.Contact = &e
	}
	var s store.Structure
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		changed := map[string]any{}
		var err error
		s, err = tx.UpdateStructure(ctx, structureID, func(x *store.Structure) error {
			if c.Name != nil && onboarding.Clean(*c.Name) != x.Name {
				x.Name = onboarding.Clean(*c.Name)
				changed["name"] = x.Name
			}
			if c.Contact != nil && strings.TrimSpace(*c.Contact) != x.Contact {
				x.Contact = strings.TrimSpace(*c.Contact)
				changed["contact"] = x.Contact
			}
			if c.MFAPolicy != nil && *c.MFAPolicy != x.MFAPolicy {
				x.MFAPolicy = *c.MFAPolicy
				changed["mfa_policy"] = string(x.MFAPolicy)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("manage: update structure: %w", err)
		}
		if len(changed) == 0 {
			return nil
		}
		return audit(ctx, tx, actor, "structure.update", "structure:"+s.Slug, changed)
	})
	return s, err
}

// RemoveStructure deletes a structure with its services (their clients
// stop working), memberships and grants. Its former members' directory
// entries are brought up to date (jobs); the people themselves stay.
func (m *Manager) RemoveStructure(ctx context.Context, actor, structureID string) (store.Structure, error) {
	var s store.Structure
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if s, err = tx.GetStructure(ctx, structureID); err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{StructureID: s.ID})
		if err != nil {
			return fmt.Errorf("manage: list memberships: %w", err)
		}
		// The entry first, while the slug still names the structure.
		if err := audit(ctx, tx, actor, "structure.remove", "structure:"+s.Slug,
			map[string]any{"name": s.Name, "members": len(ms)}); err != nil {
			return err
		}
		if err := tx.DeleteStructure(ctx, s.ID); err != nil {
			return fmt.Errorf("manage: delete structure: %w", err)
		}
		for _, mb := range ms {
			if err := ldapPerson(ctx, tx, mb.PersonID); err != nil {
				return err
			}
		}
		return nil
	})
	return s, err
}

// RemoveService deletes a service: its OpenID Connect client stops working
// at once, its grants go, and the directory groups and entries of the
// people who held them are brought up to date (jobs). The accounts in the
// application itself are left as they are.
func (m *Manager) RemoveService(ctx context.Context, actor, serviceID string) (store.Service, error) {
	var svc store.Service
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if svc, err = tx.GetService(ctx, serviceID); err != nil {
			return fmt.Errorf("manage: get service: %w", err)
		}
		st, err := tx.GetStructure(ctx, svc.StructureID)
		if err != nil {
			return fmt.Errorf("manage: get structure: %w", err)
		}
		grants, err := tx.ListGrants(ctx, store.GrantFilter{ServiceID: svc.ID})
		if err != nil {
			return fmt.Errorf("manage: list grants: %w", err)
		}
		if err := tx.DeleteService(ctx, svc.ID); err != nil {
			return fmt.Errorf("manage: delete service: %w", err)
		}
		for _, g := range grants {
			if err := ldapPerson(ctx, tx, g.PersonID); err != nil {
				return err
			}
		}
		if err := enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(st.ID),
			jobs.StructureRef{StructureID: st.ID}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "service.remove", "structure:"+st.Slug,
			map[string]any{"service": svc.Slug, "client_id": svc.ClientID, "grants": len(grants)})
	})
	return svc, err
}

// RetryJob gives a dead job a fresh set of attempts.
func (m *Manager) RetryJob(ctx context.Context, actor string, jobID int64) error {
	return m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		j, err := tx.GetJob(ctx, jobID)
		if err != nil {
			return fmt.Errorf("manage: get job: %w", err)
		}
		if err := tx.RequeueJob(ctx, j.ID); err != nil {
			return fmt.Errorf("manage: requeue job: %w", err)
		}
		return audit(ctx, tx, actor, "job.retry", fmt.Sprintf("job:%d", j.ID), map[string]any{"kind": j.Kind})
	})
}

// CreateStructure creates a structure (slug: [a-z0-9-], 1 to 63
// characters) and queues its directory entry. A taken slug gives
// store.ErrConflict.
func (m *Manager) CreateStructure(ctx context.Context, actor, slug, name, contact string) (store.Structure, error) {
	name = onboarding.Clean(name)
	if !validSlug(slug) || name == "" {
		return store.Structure{}, fmt.Errorf("%w: a structure needs a slug of [a-z0-9-] and a name", store.ErrInvalid)
	}
	if strings.TrimSpace(contact) != "" {
		c, err := checkEmail(contact)
		if err != nil {
			return store.Structure{}, err
		}
		contact = store.FoldEmail(c)
	}
	s := store.Structure{Slug: slug, Name: name, Contact: strings.TrimSpace(contact)}
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		s.ID = ""
		if err := tx.CreateStructure(ctx, &s); err != nil {
			return fmt.Errorf("manage: create structure: %w", err)
		}
		if err := enqueue(ctx, tx, jobs.KindLDAPStructure, jobs.DedupeLDAPStructure(s.ID),
			jobs.StructureRef{StructureID: s.ID}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "structure.create", "structure:"+slug, map[string]any{"name": name, "contact": s.Contact})
	})
	return s, err
}

func validSlug(s string) bool {
	if len(s) < 1 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// FailedJobs returns the dead jobs that concern a structure: its own, its
// services', and its members' (newest first, at most limit; 0 means 200).
func (m *Manager) FailedJobs(ctx context.Context, structureID string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = 200
	}
	dead, err := m.Store.ListJobs(ctx, store.JobFilter{State: store.JobDead, Limit: 100000})
	if err != nil {
		return nil, fmt.Errorf("manage: list jobs: %w", err)
	}
	ms, err := m.Store.ListMemberships(ctx, store.MembershipFilter{StructureID: structureID})
	if err != nil {
		return nil, fmt.Errorf("manage: list memberships: %w", err)
	}
	svcs, err := m.Store.ListServices(ctx, structureID)
	if err != nil {
		return nil, fmt.Errorf("manage: list services: %w", err)
	}
	member := map[string]bool{}
	for _, x := range ms {
		member[x.PersonID] = true
	}
	service := map[string]bool{}
	for _, s := range svcs {
		service[s.ID] = true
	}
	var out []store.Job
	for i := len(dead) - 1; i >= 0 && len(out) < limit; i-- {
		j := dead[i]
		var ref struct {
			PersonID    string `json:"person_id"`
			StructureID string `json:"structure_id"`
			ServiceID   string `json:"service_id"`
		}
		_ = json.Unmarshal(j.Payload, &ref)
		// A member's job is the structure's unless it names another
		// structure (a shared person's email from that one).
		if ref.StructureID == structureID || service[ref.ServiceID] ||
			(ref.ServiceID == "" && ref.StructureID == "" && member[ref.PersonID]) {
			out = append(out, j)
		}
	}
	return out, nil
}

// ResetMFA removes every second factor and recovery code of a person (a
// lost phone), ends their sessions everywhere and tells them by email;
// their grace period starts again at their next login. It returns how many
// factors went (0: nothing was done, nobody is told).
func (m *Manager) ResetMFA(ctx context.Context, actor, personID string) (int, error) {
	var n int
	err := m.inTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if _, err = tx.GetPerson(ctx, personID); err != nil {
			return fmt.Errorf("manage: reset second factor: %w", err)
		}
		if n, err = tx.DeleteSecondFactors(ctx, personID); err != nil || n == 0 {
			return err
		}
		if _, err := tx.UpdatePerson(ctx, personID, func(x *store.Person) error { x.MFAGraceUntil = time.Time{}; return nil }); err != nil {
			return err
		}
		ref := jobs.PersonRef{PersonID: personID}
		if err := enqueue(ctx, tx, jobs.KindOIDCEndSessions, jobs.DedupeOIDCEndSessions(personID), ref); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, jobs.KindMailMFAReset, "", ref); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "person.mfa.reset", "person:"+personID, map[string]any{"factors": n})
	})
	return n, err
}
