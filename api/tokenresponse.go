package api

import (
	"strconv"

	"github.com/iqm-finland/authschema/generated"
)

// NewTokenResponse builds a token endpoint's answer from plain values, as Keycloak
// sends it: token_type "Bearer" and not-before-policy 0; refreshToken and sessionState
// are left out when empty (the other members are required by openapi.yaml). Lifetimes
// are in seconds.
func NewTokenResponse(accessToken string, expiresIn int64, refreshToken string, refreshExpiresIn int64, scope, sessionState string) generated.TokenResponse {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return generated.TokenResponse{AccessToken: generated.NewSecret(accessToken), ExpiresIn: expiresIn,
		RefreshExpiresIn: refreshExpiresIn, RefreshToken: opt(refreshToken), TokenType: "Bearer",
		Scope: scope, SessionState: opt(sessionState)}
}

// AppendTokenResponse appends t as JSON to dst without reflection: its required
// members and its set optional ones in openapi.yaml's order (Keycloak's
// AccessTokenResponse order), strings escaped as EncodeJSON does. It is for a server
// that answers into a buffer it reuses (api/receiver does, to answer without
// allocating for the body); EncodeTokenResponse sizes a new one.
func AppendTokenResponse(dst []byte, t *generated.TokenResponse) []byte {
	dst = append(dst, '{')
	str := func(name string, v *string) {
		if v != nil {
			dst = appendJSONString(appendJSONKey(dst, name), *v)
		}
	}
	num := func(name string, v int64) { dst = strconv.AppendInt(appendJSONKey(dst, name), v, 10) }
	// In the order of generated.TokenResponseFields; TestTokenResponseEncoderFollowsSpec
	// pins it.
	dst = appendJSONString(appendJSONKey(dst, "access_token"), t.AccessToken.Value())
	num("expires_in", t.ExpiresIn)
	num("refresh_expires_in", t.RefreshExpiresIn)
	str("refresh_token", t.RefreshToken)
	dst = appendJSONString(appendJSONKey(dst, "token_type"), t.TokenType)
	str("id_token", t.IDToken)
	num("not-before-policy", t.NotBeforePolicy)
	str("session_state", t.SessionState)
	dst = appendJSONString(appendJSONKey(dst, "scope"), t.Scope)
	return append(dst, '}')
}

// tokenResponseLen is how many bytes of strings t holds, to size a buffer.
func tokenResponseLen(t *generated.TokenResponse) int {
	n := len(t.AccessToken.Value()) + len(t.Scope) + len(t.TokenType)
	for _, p := range []*string{t.RefreshToken, t.IDToken, t.SessionState} {
		if p != nil {
			n += len(*p)
		}
	}
	return n
}

// EncodeTokenResponse is AppendTokenResponse into a new buffer of the right size.
func EncodeTokenResponse(t *generated.TokenResponse) []byte {
	return AppendTokenResponse(make([]byte, 0, 200+tokenResponseLen(t)), t)
}
