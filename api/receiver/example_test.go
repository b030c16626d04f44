package receiver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/generated"
)

// oneUser is a Backend with one realm, one client and one user.
type oneUser struct{}

func (oneUser) Realm(_ context.Context, realm string) error {
	if realm != "cortex" {
		return &api.OAuthError{Status: http.StatusNotFound, Code: "Realm does not exist"}
	}
	return nil
}

func (oneUser) Client(_ context.Context, _, clientID string) error {
	if clientID != api.DefaultClientID {
		return &api.OAuthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "Invalid client or Invalid client credentials"}
	}
	return nil
}

func (oneUser) PasswordGrant(_ context.Context, _, _, username, password string) (generated.TokenResponse, error) {
	if username != "alice" || password != "s3cret" {
		return generated.TokenResponse{}, &api.OAuthError{Status: http.StatusUnauthorized, Code: "invalid_grant", Description: "Invalid user credentials"}
	}
	return api.NewTokenResponse("access-token", 300, "refresh-token", 1800, "profile", ""), nil
}

func (oneUser) RefreshGrant(context.Context, string, string, string) (generated.TokenResponse, error) {
	return generated.TokenResponse{}, &api.OAuthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: "Invalid refresh token"}
}

func (oneUser) EndSession(context.Context, string, string, string) error { return nil }

// The receiving side answers as Keycloak does, in its order of checks, and refuses
// what breaks the per-kind rules.
func ExampleHandler() {
	h := receiver.New(oneUser{}, receiver.Config{})
	post := func(body string) {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	post("client_id=iqm_client&grant_type=password&username=alice&password=s3cret")
	post("client_id=iqm_client&grant_type=password&username=alice&password=wrong")
	post("client_id=iqm_client&grant_type=refresh_token&username=alice&refresh_token=x")
	post("client_id=iqm_client&grant_type=client_credentials")
	// Output:
	// 200 {"access_token":"access-token","expires_in":300,"refresh_expires_in":1800,"refresh_token":"refresh-token","token_type":"Bearer","not-before-policy":0,"scope":"profile"}
	// 401 {"error":"invalid_grant","error_description":"Invalid user credentials"}
	// 400 {"error":"invalid_request","error_description":"Parameter not allowed in a refresh request: username"}
	// 400 {"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}
}
