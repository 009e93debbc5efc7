package idp

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"sesame/internal/store"
)

// A code issued in an SSO session and redeemed after that session ended
// (logout) must give no tokens: the logout revoked the session's token
// families, and a family created afterwards would escape it.
func TestCodeRedeemedAfterLogout(t *testing.T) {
	f := newFixture(t)
	b := f.loggedIn()
	code := f.codeFor(b, f.gen, genRedirect)
	if res := b.post(f.issuer+"/logout", url.Values{"confirm": {"1"}}); res.status != http.StatusOK {
		t.Fatalf("logout: %d", res.status)
	}
	st, body := f.exchange(f.gen, secretGen, code, genRedirect, "")
	if st == http.StatusOK {
		st2, _ := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {body["refresh_token"].(string)}})
		st3, _ := f.userinfo(body["access_token"].(string))
		t.Fatalf("code redeemed after logout: tokens issued (refresh: %d, userinfo: %d)", st2, st3)
	}
	if st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Fatalf("exchange after logout: %d %v", st, body)
	}
}

// A password change ends the person's other sessions "and their tokens":
// a token family whose SSO session already idled out and was purged (the
// relying party kept refreshing) must be revoked too.
func TestPasswordChangeRevokesOrphanFamilies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	attacker := f.loggedIn()
	_, body := f.exchange(f.gen, secretGen, f.codeFor(attacker, f.gen, genRedirect), genRedirect, "")
	rt := body["refresh_token"].(string)
	f.clock.Advance(40 * time.Hour) // the SSO session idles out (8 h) and is purged (a day later)
	st, b2 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, b2)
	}
	rt = b2["refresh_token"].(string)
	if _, err := f.st.DeleteExpiredOIDC(ctx, f.clock.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Alice changes her password in the portal, from her own session.
	victim := f.loggedIn()
	_, own := f.exchange(f.gen, secretGen, f.codeFor(victim, f.gen, genRedirect), genRedirect, "")
	if err := f.p.EndOtherSessions(ctx, mustRequest(t, victim, f.issuer), f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); st == http.StatusOK {
		t.Fatalf("the other session's refresh token survived the password change: %d", st)
	}
	// The session the change was made from keeps its tokens.
	if st, b4 := f.tokenReq(f.gen.ClientID, secretGen, true, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {own["refresh_token"].(string)}}); st != http.StatusOK {
		t.Fatalf("the current session's refresh token: %d %v", st, b4)
	}
}

// A login step (password given, second factor pending) must not outlive
// a password change: someone who knew the old password must not finish
// the login after the person changed it (and had every session ended).
func TestStepDiesWithPasswordChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.rp(f.gen, secretGen, genRedirect)
	attacker := f.browser()
	// Alice has no factor yet; the client asks for two: the attacker, who
	// knows her password, is walked through enrolment.
	res, state, verifier := c.startLogin(attacker, "alice.martin", oauth2.SetAuthURLParam("acr_values", ACRTwoFactor))
	if !res.isEnrolment() {
		t.Fatalf("want the enrolment: %d", res.status)
	}
	// Alice resets her password; every session of hers ends.
	f.clock.Advance(time.Minute)
	if _, err := f.st.UpdatePerson(ctx, f.alice.ID, func(p *store.Person) error {
		p.PasswordHash, p.PasswordChangedAt = f.hash("a brand new passphrase 42"), f.clock.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.p.EndAllSessions(ctx, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	done, _ := attacker.enrol(res)
	if done.status == http.StatusOK {
		res = attacker.post(f.issuer+"/second-factor", url.Values{"action": {"continue"}})
		if res.location != nil && res.location.Query().Get("code") != "" {
			claims := c.finishFlow(res, state, verifier)
			t.Fatalf("the old password's login step finished after the password change: tokens for %v", claims["sub"])
		}
	}
	factors, _ := f.st.ListSecondFactors(ctx, f.alice.ID)
	if len(factors) != 0 {
		t.Fatalf("the old password's login step enrolled a factor after the password change: %d", len(factors))
	}
}
