package tokens

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/redact"
)

// Set is what a successful login or refresh gives: the access and refresh tokens and
// their absolute expiry times. The tokens are redact.Secret values, which no printed,
// logged or encoded form of a Set shows (fmt prints them as addresses, encoding/json
// leaves them out); AccessToken and RefreshToken return them.
type Set struct {
	access, refresh redact.Secret

	// TokenType is "Bearer" unless the server says otherwise.
	TokenType string
	// Scope is the granted scope, space-separated.
	Scope string
	// ObtainedAt is when the request that gave the tokens was sent.
	ObtainedAt time.Time
	// AccessExpiry is when the access token expires: from expires_in, else from the
	// JWT's exp claim. Zero when neither is known; such a token is treated as never
	// expiring, as golang.org/x/oauth2 does.
	AccessExpiry time.Time
	// RefreshExpiry is when the refresh token expires: from refresh_expires_in, else
	// from the JWT's exp claim. Zero when unknown or when it does not expire.
	RefreshExpiry time.Time
	// RefreshNeverExpires is set when the server said refresh_expires_in: 0.
	RefreshNeverExpires bool
}

// New makes a Set from an access token and an optional refresh token, with expiry
// times read from their JWT exp claims (zero where there is none), and ObtainedAt from
// the access token's iat claim (zero where there is none), so that the token's
// lifetime is known.
func New(accessToken, refreshToken string) Set {
	t := Set{access: redact.New(accessToken), refresh: redact.New(refreshToken), TokenType: "Bearer"}
	t.AccessExpiry, _ = JWTExpiry(accessToken)
	t.ObtainedAt, _ = jwtTime(accessToken, "iat")
	if refreshToken != "" {
		t.RefreshExpiry, _ = JWTExpiry(refreshToken)
	}
	return t
}

// AccessToken returns the access token.
func (t Set) AccessToken() string { return t.access.Reveal() }

// RefreshToken returns the refresh token, or "" when there is none.
func (t Set) RefreshToken() string { return t.refresh.Reveal() }

// WithoutRefreshToken is t without its refresh token (and its expiry): for a refresh
// token that the server refused for good.
func (t Set) WithoutRefreshToken() Set {
	t.refresh = redact.Secret{}
	t.RefreshExpiry, t.RefreshNeverExpires = time.Time{}, false
	return t
}

// HasRefreshToken tells whether there is a refresh token.
func (t Set) HasRefreshToken() bool { return t.RefreshToken() != "" }

// AccessValidFor tells whether the access token has more than margin left at now.
func (t Set) AccessValidFor(now time.Time, margin time.Duration) bool {
	return t.AccessToken() != "" && (t.AccessExpiry.IsZero() || t.AccessExpiry.Sub(now) > margin)
}

// RefreshValidFor tells whether the refresh token has more than margin left at now
// (an unknown expiry counts as valid: the server will say if it is not).
func (t Set) RefreshValidFor(now time.Time, margin time.Duration) bool {
	return t.HasRefreshToken() && (t.RefreshExpiry.IsZero() || t.RefreshExpiry.Sub(now) > margin)
}

// FromResponse maps the token endpoint's answer to a Set; sent is when the request was
// sent, from which expires_in and refresh_expires_in count (huge values saturate). A
// lifetime that is not positive is read from the token's JWT exp claim, except that
// refresh_expires_in 0 is Keycloak's "does not expire" (RefreshNeverExpires). A caller
// that decodes an answer from a server that may leave a lifetime out (openapi.yaml
// requires both) passes -1 for it, so that it is read from the JWT.
func FromResponse(r *generated.TokenResponse, sent time.Time) Set {
	t := Set{access: redact.New(r.AccessToken.Value()), TokenType: "Bearer", ObtainedAt: sent, Scope: r.Scope}
	if r.RefreshToken != nil {
		t.refresh = redact.New(*r.RefreshToken)
	}
	if r.TokenType != "" {
		t.TokenType = r.TokenType
	}
	if r.ExpiresIn > 0 {
		t.AccessExpiry = sent.Add(seconds(r.ExpiresIn))
	} else {
		t.AccessExpiry, _ = JWTExpiry(t.AccessToken())
	}
	if t.HasRefreshToken() {
		switch {
		case r.RefreshExpiresIn == 0:
			t.RefreshNeverExpires = true
		case r.RefreshExpiresIn > 0:
			t.RefreshExpiry = sent.Add(seconds(r.RefreshExpiresIn))
		default:
			t.RefreshExpiry, _ = JWTExpiry(t.RefreshToken())
		}
	}
	return t
}

// seconds converts a lifetime in seconds to a Duration, saturating at the longest
// Duration (about 292 years) instead of overflowing.
func seconds(n int64) time.Duration {
	if n > int64(math.MaxInt64/time.Second) {
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

// JWTClaims decodes the payload of a JWT into claims (as encoding/json does, with
// numbers kept as json.Number in interface values), reading it as base64url with
// padding tolerated and without checking the signature. It reports whether token was a
// JWT with a JSON payload.
func JWTClaims(token string, claims any) bool {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return false
	}
	payload := strings.TrimRight(parts[1], "=")
	if len(payload) > 64<<10 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(claims) == nil
}

// JWTExpiry reads the exp claim of a JWT (see JWTClaims), as the Python client does.
// ok is false when the token is not a JWT or has no numeric exp.
func JWTExpiry(token string) (exp time.Time, ok bool) { return jwtTime(token, "exp") }

// jwtTime reads a NumericDate claim (exp, iat) of a JWT.
func jwtTime(token, claim string) (time.Time, bool) {
	var claims map[string]any
	if !JWTClaims(token, &claims) {
		return time.Time{}, false
	}
	n, ok := claims[claim].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}
