package authschema_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/redact"
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
	tok := generated.TokenResponse{AccessToken: generated.NewSecret(canaryAccess), RefreshToken: ptr(canaryRefresh), IDToken: ptr(canaryID),
		ExpiresIn: 300, TokenType: "Bearer", Scope: "openid"}
	set := tokens.New(canaryAccess, canaryRefresh)

	srv := authtest.Start(t, authtest.WithUser("alice", canaryPassword))
	client, err := authclient.New(authclient.Config{ServerURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	grants := authclient.NewGrants(client, "alice", canaryPassword)
	sess, err := authclient.NewSession(grants, authclient.SessionOptions{Tokens: &set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if _, err := sess.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := tokensfile.Write(context.Background(), path, tokensfile.File{AuthServerURL: srv.URL, Tokens: set}); err != nil {
		t.Fatal(err)
	}
	var tx tokensfile.Tx // as a caller's fn could keep it: with the tokens read and to write
	if err := tokensfile.Update(context.Background(), path, nil, func(x *tokensfile.Tx) error {
		if _, err := x.File(); err != nil {
			return err
		}
		x.Write(tokensfile.File{Tokens: set})
		tx = *x
		return errors.New("keep the file")
	}); err == nil {
		t.Fatal("Update: no error")
	}
	fileGrants := authclient.NewFileGrants(path, authclient.Config{ServerURL: srv.URL}, "alice", canaryPassword, authclient.FileLock{})
	var observed receiver.Observation
	h := receiver.New(srv, receiver.Config{Observe: func(o receiver.Observation) { observed = o }})
	body := "client_id=iqm_client&grant_type=password&username=alice&password=" + canaryPassword
	httpReq := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
	httpReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), httpReq)
	if !strings.Contains(string(observed.Body()), canaryPassword) {
		t.Fatal("no observation")
	}
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request recorded")
	}
	return map[string]any{
		"generated.AuthRequest":     req,
		"generated.TokenResponse":   tok,
		"generated.Secret":          generated.NewSecret(canaryAccess),
		"redact.Secret":             redact.New(canaryToken),
		"tokens.Set":                set,
		"tokensfile.File":           tokensfile.File{AuthServerURL: "https://auth.example", Tokens: set},
		"tokensfile.Tx":             tx,
		"authclient.SessionOptions": authclient.SessionOptions{Tokens: &set, RefreshMargin: time.Minute},
		"authclient.Grants":         grants,
		"authclient.FileGrants":     fileGrants,
		"authclient.Renewal":        authclient.Renewal{Current: set, Now: time.Now(), ValidUntil: time.Now().Add(time.Minute)},
		"authclient.Transport":      authclient.Transport{Session: sess},
		"authclient.Session":        sess,
		"authtest.Server":           srv,
		"authtest.Request":          reqs[0],
		"receiver.Observation":      observed,
	}
}
