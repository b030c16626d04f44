package authschema_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
)

const (
	canaryPassword = "CANARY-PASSWORD-7f3a"
	canaryRefresh  = "CANARY-REFRESH-91bc"
	canaryAccess   = "CANARY-ACCESS-e2d4"
	canaryID       = "CANARY-IDTOKEN-5a6b"
	canaryToken    = "CANARY-PLAINTOKEN-c0de"
)

var canaries = []string{canaryPassword, canaryRefresh, canaryAccess, canaryID, canaryToken}

func ptr[T any](v T) *T { return &v }

// secretSamples holds a value with canaries for every exported type that holds a
// secret, keyed "pkg.Type" as the guard names them.
func secretSamples(t *testing.T) map[string]any {
	t.Helper()
	req := generated.AuthRequest{ClientID: "iqm_client", GrantType: ptr(generated.GrantTypePassword),
		Username: ptr("alice"), Password: ptr(canaryPassword), RefreshToken: ptr(canaryRefresh)}
	tok := generated.TokenResponse{AccessToken: ptr(canaryAccess), RefreshToken: ptr(canaryRefresh), IDToken: ptr(canaryID),
		ExpiresIn: ptr(int64(300)), TokenType: ptr("Bearer"), Scope: ptr("openid")}
	body, _ := json.Marshal(tok)
	tokens := api.NewTokens(canaryAccess, canaryRefresh)

	srv := authtest.Start(t, authtest.WithUser("alice", canaryPassword))
	client, err := api.NewClient(api.ClientConfig{ServerURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	grants := api.NewGrants(client, "alice", canaryPassword)
	sess, err := api.NewSession(grants, api.SessionOptions{Tokens: &tokens})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if _, err := sess.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := api.WriteTokensFile(context.Background(), path, api.TokensFile{AuthServerURL: srv.URL, Tokens: tokens}); err != nil {
		t.Fatal(err)
	}
	fileGrants, err := api.NewFileGrants(path, api.ClientConfig{}, "alice", canaryPassword, api.FileLock{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request recorded")
	}
	return map[string]any{
		"generated.AuthRequest":                 req,
		"generated.TokenResponse":               tok,
		"generated.RequestToken200JSONResponse": generated.RequestToken200JSONResponse(tok),
		"generated.RequestTokenResponse": generated.RequestTokenResponse{Body: body, JSON200: &tok,
			HTTPResponse: &http.Response{StatusCode: 200}},
		"generated.RequestTokenRequestObject": generated.RequestTokenRequestObject{Realm: "cortex", Body: &req},
		"generated.LogoutRequestObject":       generated.LogoutRequestObject{Realm: "cortex", Body: &req},
		"api.Tokens":                          tokens,
		"api.TokensFile":                      api.TokensFile{AuthServerURL: "https://auth.example", Tokens: tokens},
		"api.SessionOptions":                  api.SessionOptions{Tokens: &tokens, RefreshMargin: time.Minute},
		"api.Grants":                          grants,
		"api.FileGrants":                      fileGrants,
		"api.Renewal":                         api.Renewal{Current: tokens, Now: time.Now(), Margin: time.Minute},
		"api.Transport":                       sess.Transport(nil),
		"api.Session":                         sess,
		"authtest.Server":                     srv,
		"authtest.Request":                    reqs[0],
	}
}
