package api

import (
	"github.com/iqm-finland/authschema/generated"
)

// Defaults of the Python iqm-client and the Cortex CLI.
const (
	// DefaultClientID is the public Keycloak client IQM's clients log in with.
	DefaultClientID = "iqm_client"
	// DefaultRealm is the Keycloak realm of IQM's auth server.
	DefaultRealm = "cortex"
)

// requestFields holds the strings of one request in a single allocation, so a
// constructor or decoder allocates once for all the pointers it hands out.
type requestFields struct {
	username, password, refreshToken string
	grant                            generated.GrantType
}

// NewPasswordRequest builds a token request with grant type password.
func NewPasswordRequest(clientID, username, password string) generated.AuthRequest {
	f := &requestFields{username: username, password: password, grant: generated.GrantTypePassword}
	return generated.AuthRequest{ClientID: clientID, GrantType: &f.grant, Username: &f.username, Password: &f.password}
}

// NewRefreshRequest builds a token request with grant type refresh_token.
func NewRefreshRequest(clientID, refreshToken string) generated.AuthRequest {
	f := &requestFields{refreshToken: refreshToken, grant: generated.GrantTypeRefreshToken}
	return generated.AuthRequest{ClientID: clientID, GrantType: &f.grant, RefreshToken: &f.refreshToken}
}

// NewLogoutRequest builds a logout request: client_id and refresh_token only.
func NewLogoutRequest(clientID, refreshToken string) generated.AuthRequest {
	f := &requestFields{refreshToken: refreshToken}
	return generated.AuthRequest{ClientID: clientID, RefreshToken: &f.refreshToken}
}
