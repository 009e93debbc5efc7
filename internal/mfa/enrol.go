package mfa

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode"

	"sesame/internal/i18n"
	"sesame/internal/store"
)

// EnrolTOTP checks code against the enrolment sealed for person (the QR
// code they scanned), then stores the factor, named name (or "Application
// d'authentification"), and, when it is their first, ten new recovery
// codes, which it returns (nil otherwise), with an audit entry: all in one
// transaction. via says where ("login", "portal"). ErrEnrolment when
// the enrolment is not theirs or expired, or at login when the person has
// a factor already (enrolling at login is for a first one); ErrWrongCode
// when the code is not the app's.
func (secrets *Secrets) EnrolTOTP(ctx context.Context, st store.Store, person store.Person, enrolment, code, name, via string, now time.Time) ([]string, error) {
	e, err := secrets.OpenEnrolment(person.ID, enrolment, now)
	if err != nil {
		return nil, err
	}
	step, err := CheckTOTP(e.Secret, code, now)
	if err != nil {
		return nil, err
	}
	f, err := secrets.NewTOTPFactor(person.ID, factorName(name, "TOTP"), e.Secret, step, now)
	if err != nil {
		return nil, err
	}
	var codes []string
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		codes = nil
		existing, err := tx.ListSecondFactors(ctx, person.ID)
		if err != nil {
			return err
		}
		if via == "login" && len(existing) > 0 {
			// An enrolment at login is for a first factor, proved by the
			// password alone: once the person has one, only the portal
			// (from a two-factor session) adds another.
			return fmt.Errorf("%w: the person has a second factor already", ErrEnrolment)
		}
		codes, err = addFactor(ctx, tx, secrets, f, len(existing) == 0, via, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: enrol TOTP: %w", err)
	}
	return codes, nil
}

// EnrolmentView is what an enrolment page shows: the QR code, the secret
// to type by hand (in groups of four), and the sealed enrolment its form
// sends back.
type EnrolmentView struct {
	QR        template.HTML
	Secret    string
	Enrolment string
}

// NewEnrolmentView makes a new TOTP secret for person, or shows again the
// one of enrolment when it is still good (a code typed wrong).
func (secrets *Secrets) NewEnrolmentView(issuer string, person store.Person, enrolment string, now time.Time) (EnrolmentView, error) {
	var secret string
	if e, err := secrets.OpenEnrolment(person.ID, enrolment, now); err == nil {
		secret = e.Secret
	} else {
		s, err := NewTOTPSecret()
		if err != nil {
			return EnrolmentView{}, err
		}
		secret = s
	}
	uri := KeyURI(issuer, person.Username, secret)
	qr, err := QRSVG(uri, i18n.T(person.Language, i18n.SecondQRLabel))
	if err != nil {
		return EnrolmentView{}, err
	}
	sealed, err := secrets.SealEnrolment(Enrolment{PersonID: person.ID, Secret: secret, Expires: now.Add(EnrolmentTTL)})
	if err != nil {
		return EnrolmentView{}, err
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return EnrolmentView{QR: qr, Secret: strings.Join(groups, " "), Enrolment: sealed}, nil
}

// addFactor stores f in tx with its audit entry (via: "login", "portal")
// and, when it is the person's first, ten new recovery codes (hashed
// under secrets' key), which it returns.
func addFactor(ctx context.Context, tx store.Tx, secrets *Secrets, f store.SecondFactor, first bool, via string, now time.Time) ([]string, error) {
	if err := tx.CreateSecondFactor(ctx, &f); err != nil {
		return nil, err
	}
	var codes []string
	if first {
		var hashes [][]byte
		codes, hashes = secrets.NewRecoveryCodes(f.PersonID)
		if err := tx.SetRecoveryCodes(ctx, f.PersonID, hashes, now); err != nil {
			return nil, err
		}
	}
	err := tx.AppendAudit(ctx, &store.AuditEntry{Time: now, Actor: "person:" + f.PersonID, Action: "person.mfa.enrol",
		Target: "person:" + f.PersonID, Details: map[string]any{"kind": string(f.Kind), "name": f.Name, "via": via}})
	return codes, err
}

// cleanName is a factor's name as typed, without control characters or
// surrounding spaces, cut to 60 characters (not bytes).
func cleanName(name string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name))
	if r := []rune(name); len(r) > 60 {
		name = strings.TrimSpace(string(r[:60]))
	}
	return name
}
