package consumer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/examples/consumer"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

func start(t *testing.T) *httptest.Server {
	t.Helper()
	svc := consumer.NewService()
	svc.AddUser("alice", "s3cret pass")
	srv := httptest.NewServer(consumer.Handler(svc)) // the generated router, on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// post sends r, encoded as JSON with the shared codec, over loopback.
func post(t *testing.T, srv *httptest.Server, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v1/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// TestSharedTypesOverLoopback: a password request and a refresh request of the shared
// AuthRequest type, checked with the shared rules before they are sent, get the shared
// TokenResponse through the generated server.
func TestSharedTypesOverLoopback(t *testing.T) {
	srv := start(t)
	login := api.NewPasswordRequest(api.DefaultClientID, "alice", "s3cret pass")
	if kind, err := validate.Request(login); err != nil || kind != validate.KindPassword {
		t.Fatalf("validate: %v %v", kind, err)
	}
	body, err := api.EncodeJSON(login)
	if err != nil {
		t.Fatal(err)
	}
	status, data := post(t, srv, body)
	var tr generated.TokenResponse
	if status != 200 || json.Unmarshal(data, &tr) != nil || tr.AccessToken.Value() == "" || tr.RefreshToken == nil {
		t.Fatalf("login: %d %s", status, data)
	}
	refresh := api.NewRefreshRequest(api.DefaultClientID, *tr.RefreshToken)
	if err := validate.Check(validate.KindRefresh, refresh); err != nil {
		t.Fatal(err)
	}
	body, _ = api.EncodeJSON(refresh)
	if status, data := post(t, srv, body); status != 200 {
		t.Errorf("refresh: %d %s", status, data)
	}
	// Refresh tokens are used once.
	if status, _ := post(t, srv, body); status != 400 {
		t.Errorf("refresh token used twice: %d", status)
	}
	if status, _ := post(t, srv, []byte(`{"client_id":"iqm_client","grant_type":"password","username":"alice","password":"wrong"}`)); status != 401 {
		t.Errorf("wrong password: %d", status)
	}
}

// TestSharedRulesRefuse: a refresh request carrying a username, and a logout request
// with a grant_type, break the per-kind rules: validate says so, and the service
// answers the shared OAuth2Error naming the field (never its value).
func TestSharedRulesRefuse(t *testing.T) {
	srv := start(t)
	for _, tt := range []struct {
		body, field string
		kind        validate.Kind
	}{
		{`{"client_id":"iqm_client","grant_type":"refresh_token","username":"alice","refresh_token":"CANARY-RT"}`, "username", validate.KindRefresh},
		{`{"client_id":"iqm_client","refresh_token":"CANARY-RT","password":"CANARY-PW"}`, "password", validate.KindLogout},
	} {
		_, kind, err := api.DecodeJSONRequest([]byte(tt.body))
		var fe *validate.FieldError
		if kind != tt.kind || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("validate %s: %v %v", tt.body, kind, err)
		}
		status, data := post(t, srv, []byte(tt.body))
		var e generated.OAuth2Error
		if status != 400 || json.Unmarshal(data, &e) != nil || e.Error != string(generated.OAuth2ErrorCodeInvalidRequest) ||
			e.ErrorDescription == nil || !strings.HasPrefix(*e.ErrorDescription, tt.field+": must be absent") {
			t.Errorf("%s: %d %s", tt.body, status, data)
		}
		if strings.Contains(string(data), "CANARY") {
			t.Errorf("the answer shows a value: %s", data)
		}
	}
}

// TestSpecResolvesSharedSchema: the embedded spec of this service resolves its
// references to the shared schema through generated.PathToRawSpec.
func TestSpecResolvesSharedSchema(t *testing.T) {
	doc, err := consumer.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/v1/token").Post
	schema := op.RequestBody.Value.Content.Get("application/json").Schema.Value
	if schema == nil || schema.Properties["client_id"] == nil || schema.Properties["password"].Value.Format != "password" {
		t.Fatalf("AuthRequest not resolved: %v", schema)
	}
	if op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value.Properties["access_token"] == nil {
		t.Error("TokenResponse not resolved")
	}
}
