package mfa

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"sesame/internal/store"
)

const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func TestCheckTOTP(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 15, 0, time.UTC)
	cur := Step(now)
	for _, d := range []int64{-1, 0, 1} {
		code, err := CodeAt(secret, cur+d)
		if err != nil {
			t.Fatal(err)
		}
		step, err := CheckTOTP(secret, code[:3]+" "+code[3:], now)
		if err != nil || step != cur+d {
			t.Errorf("code of step %+d: step %d, %v", d, step-cur, err)
		}
	}
	for _, d := range []int64{-2, 2} {
		code, _ := CodeAt(secret, cur+d)
		if _, err := CheckTOTP(secret, code, now); !errors.Is(err, ErrWrongCode) {
			t.Errorf("code of step %+d accepted", d)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12345a"} {
		if _, err := CheckTOTP(secret, bad, now); !errors.Is(err, ErrWrongCode) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKeyURIAndQR(t *testing.T) {
	s, err := NewTOTPSecret()
	if err != nil || len(s) != 32 {
		t.Fatalf("secret %q %v", s, err)
	}
	k, err := otp.NewKeyFromURL(KeyURI("sso.example.org", "jean.dupont", s))
	if err != nil {
		t.Fatal(err)
	}
	if k.Issuer() != "sso.example.org" || k.AccountName() != "jean.dupont" || k.Secret() != s || k.Period() != 30 || k.Digits() != otp.DigitsSix {
		t.Fatalf("key %s", k)
	}
	svg, err := QRSVG(KeyURI("sso.example.org", "jean.dupont", s), `Code "QR" <à scanner>`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), `aria-label="Code &#34;QR&#34; &lt;à scanner&gt;"`) ||
		!strings.Contains(string(svg), `role="img"`) {
		t.Fatalf("svg %.300s", svg)
	}
}

// What the store keeps of a recovery code is keyed by the master key and
// bound to the person: the same code typed in any form matches, another
// person's or another key's hash does not, nor the unkeyed SHA-256.
func TestRecoveryCodesKeyed(t *testing.T) {
	s, err := NewSecrets([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSecrets([]byte("another master key, 32 bytes long"))
	if err != nil {
		t.Fatal(err)
	}
	codes, hashes := s.NewRecoveryCodes("p1")
	if len(codes) != RecoveryCodes || len(hashes) != RecoveryCodes {
		t.Fatalf("%d codes", len(codes))
	}
	for i, c := range codes {
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		switch h := string(hashes[i]); {
		case string(s.HashRecoveryCode("p1", typed)) != h:
			t.Errorf("%q typed as %q is another code", c, typed)
		case string(s.HashRecoveryCode("p2", c)) == h:
			t.Errorf("%q: the same hash for another person", c)
		case string(other.HashRecoveryCode("p1", c)) == h:
			t.Errorf("%q: the same hash under another master key", c)
		case string(HashRecoveryCode(c)) == h:
			t.Errorf("%q: stored as its unkeyed SHA-256", c)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	if len(codes) != RecoveryCodes || len(hashes) != RecoveryCodes {
		t.Fatalf("%d codes", len(codes))
	}
	shape := regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Errorf("code %q", c)
		}
		seen[c] = true
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if string(HashRecoveryCode(typed)) != string(hashes[i]) || !LooksLikeRecoveryCode(typed) {
			t.Errorf("%q typed as %q is another code", c, typed)
		}
	}
	if LooksLikeRecoveryCode("123 456") {
		t.Error("a TOTP code looks like a recovery code")
	}
}

func TestEnrolmentSealed(t *testing.T) {
	s, err := NewSecrets([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	text, err := s.SealEnrolment(Enrolment{PersonID: "p1", Secret: secret, Expires: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.OpenEnrolment("p1", text, now); err != nil || e.Secret != secret {
		t.Fatalf("open: %+v %v", e, err)
	}
	for name, try := range map[string]func() error{
		"another person": func() error { _, err := s.OpenEnrolment("p2", text, now); return err },
		"expired":        func() error { _, err := s.OpenEnrolment("p1", text, now.Add(2*time.Minute)); return err },
		"damaged":        func() error { _, err := s.OpenEnrolment("p1", text[:len(text)-2]+"AA", now); return err },
		"not base64":     func() error { _, err := s.OpenEnrolment("p1", "%%%", now); return err },
	} {
		if err := try(); !errors.Is(err, ErrEnrolment) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A stored TOTP secret opens only on its own row.
	f, err := s.NewTOTPFactor("p1", "Tel", secret, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.totpSecret(f); err != nil || got != secret {
		t.Fatalf("open factor: %q %v", got, err)
	}
	f.ID = "another"
	if _, err := s.totpSecret(f); err == nil {
		t.Fatal("a secret moved to another row opens")
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"  Mon téléphone \n":    "Mon téléphone",
		"a\x00b\tc":             "abc",
		strings.Repeat("é", 70): strings.Repeat("é", 60),
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
	if factorName(" ", "TOTP") != "TOTP" {
		t.Error("an empty name is not the default")
	}
}

func TestPasskeyRPID(t *testing.T) {
	for u, want := range map[string]string{"http://localhost:8080": "localhost", "https://sso.example.org/": "sso.example.org",
		"http://127.0.0.1:8080": "", "http://[::1]:8080": "", "": ""} {
		got, err := PasskeyRPID(u)
		if got != want || (want == "") != errors.Is(err, ErrPasskeysOff) {
			t.Errorf("PasskeyRPID(%q) = %q, %v", u, got, err)
		}
	}
}

// policyReader is a person's memberships and structures, as PolicyOf reads
// them.
type policyReader struct {
	ms         []store.Membership
	structures map[string]store.Structure
}

func (r policyReader) ListMemberships(context.Context, store.MembershipFilter) ([]store.Membership, error) {
	return r.ms, nil
}

func (r policyReader) GetStructure(_ context.Context, id string) (store.Structure, error) {
	return r.structures[id], nil
}

func TestPolicyOf(t *testing.T) {
	st := map[string]store.Structure{"a": {ID: "a"}, "off": {ID: "off", MFAPolicy: store.MFAOff},
		"req": {ID: "req", MFAPolicy: store.MFARequired}}
	for _, c := range []struct {
		name   string
		admin  bool
		admins store.MFAPolicy
		ms     []store.Membership
		want   store.MFAPolicy
	}{
		{"nobody's member", false, "", nil, store.MFAOffered},
		{"member", false, "", []store.Membership{{StructureID: "a"}}, store.MFAOffered},
		{"referent", false, "", []store.Membership{{StructureID: "a", Referent: true}}, store.MFARequired},
		{"referent where off", false, "", []store.Membership{{StructureID: "off", Referent: true}}, store.MFAOff},
		{"the strictest of two", false, "", []store.Membership{{StructureID: "off"}, {StructureID: "req"}}, store.MFARequired},
		{"admin", true, "", nil, store.MFARequired},
		{"admin, admins off", true, store.MFAOff, nil, store.MFAOff},
		{"admin off, member where required", true, store.MFAOff, []store.Membership{{StructureID: "req"}}, store.MFARequired},
	} {
		got, err := PolicyOf(context.Background(), policyReader{c.ms, st}, store.Person{ID: "p", Admin: c.admin}, c.admins)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, got, err, c.want)
		}
	}
}
