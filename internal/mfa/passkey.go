package mfa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"sesame/internal/secretbox"
	"sesame/internal/store"
)

// ErrPasskey means a passkey's answer was refused: not one of the
// person's (or of anyone's), from another origin, its ceremony expired or
// already used, or its signature counter went back (a cloned key).
var ErrPasskey = errors.New("mfa: passkey refused")

// ErrPasskeysOff means passkeys cannot work with this public address: a
// browser refuses a relying party whose id is an IP address.
var ErrPasskeysOff = errors.New("mfa: passkeys need public_url to name a host, not an IP address")

// ceremonyTTL is how long a passkey prompt stays answerable.
const ceremonyTTL = 5 * time.Minute

// PasskeyRPID is the relying party id passkeys are bound to: the host of
// publicURL. ErrPasskeysOff when it is an IP address (browsers refuse
// those) or missing.
func PasskeyRPID(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return "", ErrPasskeysOff
	}
	return u.Hostname(), nil
}

// Passkeys registers passkeys and checks their answers (WebAuthn). The
// ceremony's state travels sealed in the page's form, like a TOTP
// enrolment; a challenge is claimed in the store once answered, so an
// answer cannot be replayed.
type Passkeys struct {
	wa    *webauthn.WebAuthn
	box   *secretbox.Box
	rpID  string
	codes *Secrets // hashes the recovery codes of a first factor
}

// NewPasskeys returns the passkeys of publicURL (the only origin accepted)
// under name, sealing under master; ErrPasskeysOff when publicURL's host
// is an IP address.
func NewPasskeys(publicURL, name string, master []byte) (*Passkeys, error) {
	rpID, err := PasskeyRPID(publicURL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(publicURL)
	wa, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: name, RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil, fmt.Errorf("mfa: passkeys: %w", err)
	}
	box, err := secretbox.New(master, "passkey ceremony v1")
	if err != nil {
		return nil, fmt.Errorf("mfa: passkeys: %w", err)
	}
	codes, err := NewSecrets(master)
	if err != nil {
		return nil, err
	}
	return &Passkeys{wa: wa, box: box, rpID: rpID, codes: codes}, nil
}

// webUser is a person as the WebAuthn library sees them.
type webUser struct {
	person store.Person
	creds  []webauthn.Credential
	ids    []string // factor ids, by index of creds
}

func (u *webUser) WebAuthnID() []byte                         { return []byte(u.person.ID) }
func (u *webUser) WebAuthnName() string                       { return u.person.Username }
func (u *webUser) WebAuthnDisplayName() string                { return u.person.DisplayName }
func (u *webUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credAD binds a stored credential to its row.
func credAD(personID, id string) string { return "passkey:" + personID + ":" + id }

// user loads person's passkeys from factors.
func (p *Passkeys) user(person store.Person, factors []store.SecondFactor) (*webUser, error) {
	u := &webUser{person: person}
	for _, f := range factors {
		if f.Kind != store.FactorPasskey {
			continue
		}
		plain, err := p.box.Open(credAD(f.PersonID, f.ID), f.Secret)
		if err != nil {
			return nil, fmt.Errorf("mfa: passkey %s: %w", f.ID, err)
		}
		var c webauthn.Credential
		if err := json.Unmarshal(plain, &c); err != nil {
			return nil, fmt.Errorf("mfa: passkey %s: %w", f.ID, err)
		}
		c.Authenticator.SignCount = uint32(f.Counter)
		u.creds, u.ids = append(u.creds, c), append(u.ids, f.ID)
	}
	return u, nil
}

// ceremony is what a passkey prompt's form carries, sealed.
type ceremony struct {
	Kind     string               `json:"k"` // "register", "login", "discover"
	PersonID string               `json:"p,omitempty"`
	Session  webauthn.SessionData `json:"s"`
}

// open reads the ceremony a form sent back: of kind, for personID, not
// expired at now; ErrPasskey otherwise.
func (p *Passkeys) open(kind, personID, text string, now time.Time) (ceremony, error) {
	var c ceremony
	if p.box.OpenJSON("ceremony:"+kind+":"+personID, text, &c) != nil || c.Kind != kind || c.PersonID != personID || !now.Before(c.Session.Expires) {
		return ceremony{}, ErrPasskey
	}
	return c, nil
}

// Prompt is a passkey prompt for a page: the options the browser's
// navigator.credentials call takes (JSON), and the sealed ceremony its
// form sends back with the answer.
type Prompt struct {
	Options  string
	Ceremony string
}

func (p *Passkeys) prompt(kind, personID string, options any, s *webauthn.SessionData, now time.Time) (Prompt, error) {
	s.Expires = now.Add(ceremonyTTL)
	opts, err := json.Marshal(options)
	if err != nil {
		return Prompt{}, err
	}
	sealed, err := p.box.SealJSON("ceremony:"+kind+":"+personID, ceremony{Kind: kind, PersonID: personID, Session: *s})
	if err != nil {
		return Prompt{}, err
	}
	return Prompt{Options: string(opts), Ceremony: sealed}, nil
}

// BeginRegistration prompts person to create a passkey (discoverable, so
// that it can also log in alone, user verification preferred), excluding
// the ones they have.
func (p *Passkeys) BeginRegistration(person store.Person, factors []store.SecondFactor, now time.Time) (Prompt, error) {
	u, err := p.user(person, factors)
	if err != nil {
		return Prompt{}, err
	}
	creation, s, err := p.wa.BeginRegistration(u,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred}),
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		return Prompt{}, fmt.Errorf("mfa: begin passkey registration: %w", err)
	}
	return p.prompt("register", person.ID, creation, s, now)
}

// Claimer records a ceremony's challenge once (store.Claims).
type Claimer interface {
	Claim(ctx context.Context, key string, now time.Time) (bool, error)
}

// claim spends a ceremony's challenge: a second answer to it is refused.
func claim(ctx context.Context, tx Claimer, s webauthn.SessionData, now time.Time) error {
	ok, err := tx.Claim(ctx, "webauthn:"+s.Challenge, now)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: its challenge was answered before", ErrPasskey)
	}
	return nil
}

// FinishRegistration checks the browser's answer to a registration prompt
// and stores the passkey, named name, with ten recovery codes when it is
// the person's first factor (returned; nil otherwise) and an audit entry,
// in one transaction; amr is how the registration proved the person (see
// PasskeyUse). ErrPasskey when the answer is refused.
func (p *Passkeys) FinishRegistration(ctx context.Context, st store.Store, person store.Person, sealed, answer, name, via string,
	now time.Time) (codes, amr []string, err error) {
	c, err := p.open("register", person.ID, sealed, now)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(answer))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrPasskey, err)
	}
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		codes = nil
		factors, err := tx.ListSecondFactors(ctx, person.ID)
		if err != nil {
			return err
		}
		if via == "login" && len(factors) > 0 {
			// As for EnrolTOTP: at login, only a first factor.
			return fmt.Errorf("%w: the person has a second factor already", ErrPasskey)
		}
		u, err := p.user(person, factors)
		if err != nil {
			return err
		}
		cred, err := p.wa.CreateCredential(u, c.Session, parsed)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPasskey, err)
		}
		if err := claim(ctx, tx, c.Session, now); err != nil {
			return err
		}
		amr = passkeyAMR(cred.Flags.BackupEligible, cred.Flags.UserVerified)
		plainCred, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		f := store.SecondFactor{ID: NewFactorID(), PersonID: person.ID, Kind: store.FactorPasskey, Name: factorName(name, "Passkey"),
			CredentialID: cred.ID, Counter: int64(cred.Authenticator.SignCount)}
		if f.Secret, err = p.box.Seal(credAD(person.ID, f.ID), plainCred); err != nil {
			return err
		}
		codes, err = addFactor(ctx, tx, p.codes, f, len(factors) == 0, via, now)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: register passkey: %w", err)
	}
	return codes, amr, nil
}

// passkeyAMR is the RFC 8176 values of a passkey's use: "swk" for one
// that may be synced between devices, "hwk" for one bound to its device,
// and "user" when it verified its user.
func passkeyAMR(backupEligible, userVerified bool) []string {
	amr := []string{"hwk"}
	if backupEligible {
		amr = []string{"swk"}
	}
	if userVerified {
		amr = append(amr, "user")
	}
	return amr
}

// BeginLogin prompts person for one of their passkeys (the second step).
// ErrNotFound when they have none.
func (p *Passkeys) BeginLogin(person store.Person, factors []store.SecondFactor, now time.Time) (Prompt, error) {
	u, err := p.user(person, factors)
	if err != nil {
		return Prompt{}, err
	}
	if len(u.creds) == 0 {
		return Prompt{}, store.ErrNotFound
	}
	assertion, s, err := p.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return Prompt{}, fmt.Errorf("mfa: begin passkey login: %w", err)
	}
	return p.prompt("login", person.ID, assertion, s, now)
}

// BeginDiscoverable prompts for any passkey of this site, the person
// unknown yet: logging in with a passkey alone, which must verify its
// user (a PIN, a fingerprint) to count as two factors.
func (p *Passkeys) BeginDiscoverable(now time.Time) (Prompt, error) {
	assertion, s, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return Prompt{}, fmt.Errorf("mfa: begin passkey login: %w", err)
	}
	return p.prompt("discover", "", assertion, s, now)
}

// PasskeyUse is a passkey's answer accepted: whose, and how it proved
// them.
type PasskeyUse struct {
	PersonID string
	// AMR is the RFC 8176 values of this use: "hwk" for a key bound to
	// its device, "swk" for one that may be synced, "user" when it
	// verified its user.
	AMR          []string
	UserVerified bool
}

// FinishLogin checks an answer to BeginLogin (person given) or, with an
// empty person, to BeginDiscoverable, records the use (its counter must
// move forward when the authenticator keeps one) and spends the challenge.
// ErrPasskey when refused.
func (p *Passkeys) FinishLogin(ctx context.Context, st store.Store, person store.Person, sealed, answer string, now time.Time) (PasskeyUse, error) {
	kind := "login"
	if person.ID == "" {
		kind = "discover"
	}
	c, err := p.open(kind, person.ID, sealed, now)
	if err != nil {
		return PasskeyUse{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(answer))
	if err != nil {
		return PasskeyUse{}, fmt.Errorf("%w: %v", ErrPasskey, err)
	}
	var use PasskeyUse
	var cloned *clonedKey
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		cloned = nil
		owner := person
		if kind == "discover" {
			f, err := tx.GetSecondFactorByCredential(ctx, parsed.RawID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: unknown credential", ErrPasskey)
			}
			if err != nil {
				return err
			}
			if owner, err = tx.GetPerson(ctx, f.PersonID); err != nil {
				return err
			}
		}
		factors, err := tx.ListSecondFactors(ctx, owner.ID)
		if err != nil {
			return err
		}
		u, err := p.user(owner, factors)
		if err != nil {
			return err
		}
		var cred *webauthn.Credential
		if kind == "discover" {
			handler := func(rawID, userHandle []byte) (webauthn.User, error) {
				if string(userHandle) != owner.ID {
					return nil, errors.New("the user handle is not the credential's owner")
				}
				return u, nil
			}
			cred, err = p.wa.ValidateDiscoverableLogin(handler, c.Session, parsed)
		} else {
			cred, err = p.wa.ValidateLogin(u, c.Session, parsed)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPasskey, err)
		}
		if err := claim(ctx, tx, c.Session, now); err != nil {
			return err
		}
		id := ""
		var stored int64
		for i, x := range u.creds {
			if string(x.ID) == string(cred.ID) {
				id, stored = u.ids[i], int64(x.Authenticator.SignCount)
			}
		}
		// An authenticator that keeps a signature counter must move it
		// forward (a cloned key would not). A synced passkey reports 0
		// each time: nothing to compare, the claimed challenge is what
		// stops a replay, and its last-used date is not kept.
		if counter := int64(parsed.Response.AuthenticatorData.Counter); counter > 0 || stored > 0 {
			err := tx.UseSecondFactor(ctx, owner.ID, id, counter, now)
			if errors.Is(err, store.ErrTokenUsed) {
				cloned = &clonedKey{person: owner.ID, factor: id, counter: counter, stored: stored}
				return fmt.Errorf("%w: its signature counter did not move forward (a cloned key?)", ErrPasskey)
			}
			if err != nil {
				return err
			}
		}
		flags := parsed.Response.AuthenticatorData.Flags
		use = PasskeyUse{PersonID: owner.ID, UserVerified: flags.HasUserVerified(),
			AMR: passkeyAMR(flags.HasBackupEligible(), flags.HasUserVerified())}
		return nil
	})
	if cloned != nil {
		// The refusal rolled the login back; what it revealed is kept:
		// a key whose counter goes back may have been copied, which the
		// person and the hoster's admins need to see in the audit log.
		aerr := st.AppendAudit(context.WithoutCancel(ctx), &store.AuditEntry{Time: now, Actor: "system",
			Action: "person.mfa.passkey-cloned", Target: "person:" + cloned.person,
			Details: map[string]any{"factor_id": cloned.factor, "counter": cloned.counter, "stored_counter": cloned.stored}})
		if aerr != nil {
			err = errors.Join(err, fmt.Errorf("mfa: cannot audit a cloned passkey: %w", aerr))
		}
	}
	if err != nil {
		return PasskeyUse{}, fmt.Errorf("mfa: passkey login: %w", err)
	}
	return use, nil
}

// clonedKey is a passkey answer whose signature counter did not move
// forward.
type clonedKey struct {
	person, factor  string
	counter, stored int64
}

// factorName is name trimmed to 60 characters, or def.
func factorName(name, def string) string {
	name = cleanName(name)
	if name == "" {
		return def
	}
	return name
}
