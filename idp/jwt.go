package idp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// sign serialises claims as a compact JWS with the active key of alg.
func (p *Provider) sign(alg, typ string, claims any) (string, *signingKey, error) {
	k, err := p.keys.active(alg, p.now())
	if err != nil {
		return "", nil, err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", nil, fmt.Errorf("idp: marshal claims: %w", err)
	}
	signer := k.signer
	switch typ {
	case "logout+jwt":
		signer = k.logout
	case "at+jwt":
		signer = k.access
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", nil, fmt.Errorf("idp: sign: %w", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		return "", nil, fmt.Errorf("idp: serialize: %w", err)
	}
	return s, k, nil
}

var errBadToken = errors.New("idp: invalid token")

// verify checks a compact JWS against the published keys, its typ header
// (when wantTyp is set), its issuer and (unless ignoreExp) its expiry, and
// returns its claims.
func (p *Provider) verify(token, wantTyp string, ignoreExp bool) (*readClaims, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %v", errBadToken, err)
	}
	h := jws.Signatures[0].Header
	k := p.keys.byKID(h.KeyID)
	// A key past its retirement verifies nothing, even before the next
	// reload drops it (or when reloads fail).
	if k == nil || string(k.alg) != h.Algorithm || (!k.retireAfter.IsZero() && !p.now().Before(k.retireAfter)) {
		return nil, fmt.Errorf("%w: unknown key %q", errBadToken, h.KeyID)
	}
	if wantTyp != "" {
		if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != wantTyp {
			return nil, fmt.Errorf("%w: type %q", errBadToken, typ)
		}
	}
	payload, err := jws.Verify(k.priv.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadToken, err)
	}
	var claims readClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errBadToken, err)
	}
	if claims.Issuer != p.issuer {
		return nil, fmt.Errorf("%w: issuer %q", errBadToken, claims.Issuer)
	}
	if !ignoreExp && !claims.fresh(p.now()) {
		return nil, fmt.Errorf("%w: expired", errBadToken)
	}
	return &claims, nil
}

// atHash is the at_hash of an access token for alg (both algorithms use
// SHA-256).
func atHash(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
