package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

type answer struct {
	status int
	code   string // error; "" for a success
	desc   string // error_description prefix; "-" for none
}

func post(t *testing.T, h http.Handler, path, ct, body string) (int, map[string]string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]string
	if rec.Body.Len() > 0 {
		var raw map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
			t.Fatalf("%s answered %d with a body that is not a JSON object: %q", path, rec.Code, testsafe.Text(rec.Body.String()))
		}
		m = map[string]string{}
		for k, v := range raw {
			m[k] = fmt.Sprint(v)
		}
	}
	return rec.Code, m, rec.Header()
}

const (
	tokenPath  = "/realms/cortex/protocol/openid-connect/token"
	logoutPath = "/realms/cortex/protocol/openid-connect/logout"
	form       = "application/x-www-form-urlencoded"
)

// TestKeycloakAnswers checks the handler's answers against keycloak-wire.md, in
// Keycloak's order of checks.
func TestKeycloakAnswers(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithStrict(), authtest.WithClock(clock), authtest.WithUser("alice", "pw"), authtest.WithUser("dave", "pw"),
		authtest.WithRealm(authtest.Realm{Name: "other", Clients: []string{"iqm_client"}}), authtest.WithRealmUser("other", "alice", "pw"))
	h := srv.Handler()
	c := newClient(t, authclient.Config{ServerURL: srv.URL, Clock: clock})
	ctx := context.Background()
	login := func() tokens.Set {
		tk, err := c.Login(ctx, "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		return *tk
	}
	live := login()
	ended := login()
	if err := c.Logout(ctx, ended.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	other := newClient(t, authclient.Config{ServerURL: srv.URL, Realm: "other", Clock: clock})
	foreign, err := other.Login(ctx, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	srv.DisableUser("cortex", "dave", true)
	rt := func(tk interface{ RefreshToken() string }) string {
		return "refresh_token=" + strings.ReplaceAll(tk.RefreshToken(), "=", "%3D")
	}

	tests := []struct {
		name, path, ct, body string
		want                 answer
	}{
		{"password ok", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw", answer{200, "", ""}},
		{"charset allowed", tokenPath, form + "; charset=UTF-8", "client_id=iqm_client&grant_type=password&username=alice&password=pw", answer{200, "", ""}},
		{"json body", tokenPath, "application/json", `{"client_id":"iqm_client"}`, answer{400, "invalid_request", "Missing form parameter: grant_type"}},
		{"no content type", tokenPath, "", "client_id=iqm_client", answer{400, "invalid_request", "Missing form parameter: grant_type"}},
		{"too large", tokenPath, form, "client_id=iqm_client&password=" + strings.Repeat("x", api.DefaultMaxBodyBytes), answer{413, "HTTP 413 Request Entity Too Large", "-"}},
		{"unknown realm", "/realms/nope/protocol/openid-connect/token", form, "client_id=iqm_client&grant_type=password", answer{404, "Realm does not exist", "-"}},
		{"missing grant_type", tokenPath, form, "client_id=iqm_client&username=alice&password=pw", answer{400, "invalid_request", "Missing form parameter: grant_type"}},
		{"unknown grant_type", tokenPath, form, "client_id=iqm_client&grant_type=client_credentials", answer{400, "unsupported_grant_type", "Unsupported grant_type"}},
		{"unsupported before client", tokenPath, form, "grant_type=implicit", answer{400, "unsupported_grant_type", "Unsupported grant_type"}},
		{"missing client_id", tokenPath, form, "grant_type=password&username=alice&password=pw", answer{401, "invalid_client", "Invalid client or Invalid client credentials"}},
		{"unknown client", tokenPath, form, "client_id=nope&grant_type=password&username=alice&password=pw", answer{401, "invalid_client", "Invalid client or Invalid client credentials"}},
		{"client before duplicate", tokenPath, form, "client_id=nope&grant_type=password&username=a&username=b", answer{401, "invalid_client", "-"}},
		{"duplicated", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&username=bob&password=pw", answer{400, "invalid_request", "duplicated parameter"}},
		{"unknown key", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&scope=openid", answer{400, "invalid_request", `Unknown parameter: "scope"`}},
		{"unknown key beside a secret", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw&extra=1", answer{400, "invalid_request", "Unknown parameter (its name is not shown"}},
		{"well-known key beside a secret", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw&scope=openid", answer{400, "invalid_request", `Unknown parameter: "scope"`}},
		{"foreign field", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&username=alice&" + rt(live), answer{400, "invalid_request", "Parameter not allowed in a refresh request: username"}},
		{"missing username", tokenPath, form, "client_id=iqm_client&grant_type=password&password=pw", answer{401, "invalid_request", "Missing parameter: username"}},
		{"wrong password", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=nope", answer{400, "invalid_grant", "Invalid user credentials"}},
		{"missing password", tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice", answer{400, "invalid_grant", "Invalid user credentials"}},
		{"unknown user", tokenPath, form, "client_id=iqm_client&grant_type=password&username=zed&password=pw", answer{400, "invalid_grant", "Invalid user credentials"}},
		{"disabled user", tokenPath, form, "client_id=iqm_client&grant_type=password&username=dave&password=pw", answer{400, "invalid_grant", "Account disabled"}},
		{"refresh ok", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&" + rt(live), answer{200, "", ""}},
		{"no refresh token", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token", answer{400, "invalid_request", "No refresh token"}},
		{"garbage refresh token", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&refresh_token=abc.def.ghi", answer{400, "invalid_grant", "Invalid refresh token"}},
		{"ended session", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&" + rt(ended), answer{400, "invalid_grant", "Session not active"}},
		{"foreign realm's token", tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&" + rt(foreign), answer{400, "invalid_grant", "Invalid token issuer. Expected '"}},
		{"malformed", tokenPath, form, "client_id=iqm_client&grant_type=password&username=%zz", answer{400, "invalid_request", "Malformed form body"}},
		{"logout ok", logoutPath, form, "client_id=iqm_client&" + rt(login()), answer{204, "", ""}},
		{"logout again", logoutPath, form, "client_id=iqm_client&" + rt(ended), answer{204, "", ""}},
		{"logout without token", logoutPath, form, "client_id=iqm_client", answer{400, "invalid_request", "No refresh token"}},
		{"logout garbage token", logoutPath, form, "client_id=iqm_client&refresh_token=x", answer{400, "invalid_grant", "Invalid refresh token"}},
		{"logout with grant_type", logoutPath, form, "client_id=iqm_client&grant_type=refresh_token&" + rt(live), answer{400, "invalid_request", "Parameter not allowed in a logout request: grant_type"}},
		{"logout with password", logoutPath, form, "client_id=iqm_client&password=pw&" + rt(live), answer{400, "invalid_request", "Parameter not allowed in a logout request: password"}},
		{"logout unknown client", logoutPath, form, "client_id=nope&" + rt(live), answer{401, "invalid_client", "-"}},
		{"logout missing client", logoutPath, form, rt(live), answer{401, "invalid_client", "Invalid client or Invalid client credentials"}},
		{"logout json body", logoutPath, "application/json", `{"client_id":"iqm_client"}`, answer{401, "invalid_client", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := post(t, h, tt.path, tt.ct, tt.body)
			if status != tt.want.status {
				t.Fatalf("status %d, want %d (error %q %q)", status, tt.want.status, body["error"], body["error_description"])
			}
			specStatuses, op := generated.RequestTokenStatuses(), "requestToken"
			if strings.HasSuffix(tt.path, "/logout") {
				specStatuses, op = generated.LogoutStatuses(), "logout"
			}
			if !slices.Contains(specStatuses, status) {
				t.Errorf("api/receiver/handler.go answered %d, which openapi.yaml does not list for %s (%v)", status, op, specStatuses)
			}
			// Keycloak 26.7.3 (measured): the token endpoint sets no-store and no-cache
			// once the realm is found; logout sets Cache-Control: no-cache on success
			// only.
			wantCC, wantPragma := "no-store", "no-cache"
			switch {
			case status == 404 || status == 413:
				wantCC, wantPragma = "", ""
			case op == "logout" && status < 300:
				wantCC, wantPragma = "no-cache", ""
			case op == "logout":
				wantCC, wantPragma = "", ""
			}
			if hdr.Get("Cache-Control") != wantCC || hdr.Get("Pragma") != wantPragma {
				t.Errorf("Cache-Control %q, Pragma %q; want %q, %q", hdr.Get("Cache-Control"), hdr.Get("Pragma"), wantCC, wantPragma)
			}
			if tt.want.code == "" {
				if status == 200 && (body["access_token"] == "" || body["refresh_token"] == "" || body["token_type"] != "Bearer") {
					t.Errorf("token body %v", testsafe.Value(body))
				}
				return
			}
			if hdr.Get("Content-Type") != "application/json" || body["error"] != tt.want.code {
				t.Errorf("body %v, want error %q", testsafe.Value(body), tt.want.code)
			}
			desc, has := body["error_description"]
			switch {
			case tt.want.desc == "-":
			case !has || !strings.HasPrefix(desc, tt.want.desc):
				t.Errorf("error_description %q, want %q", desc, tt.want.desc)
			}
		})
	}
	// Expired refresh token (the server's clock moves on).
	clock.Advance(authtest.DefaultRefreshTTL + time.Second)
	if status, body, _ := post(t, h, tokenPath, form, "client_id=iqm_client&grant_type=refresh_token&"+rt(live)); status != 400 || body["error_description"] != "Token is not active" {
		t.Errorf("expired: %d %v", status, testsafe.Value(body))
	}
	// Expired refresh tokens are still accepted by logout.
	if status, _, _ := post(t, h, logoutPath, form, "client_id=iqm_client&"+rt(live)); status != 204 {
		t.Errorf("logout with an expired token: %d", status)
	}
}

// TestPathNotNormalized: a path with a doubled slash or a dot segment is 400
// missingNormalization, as Keycloak 26 answers (measured; it was 404 before).
func TestPathNotNormalized(t *testing.T) {
	h := authtest.Start(t, authtest.WithUser("alice", "pw")).Handler()
	for _, p := range []string{"/" + tokenPath, "/realms/cortex/protocol/../protocol/openid-connect/token", "/realms//cortex/protocol/openid-connect/logout"} {
		status, body, _ := post(t, h, p, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw")
		if status != 400 || body["error"] != "missingNormalization" || body["error_description"] != "Request path not normalized" {
			t.Errorf("%s: %d %v", p, status, testsafe.Value(body))
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	srv := authtest.Start(t)
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, srv.URL+tokenPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 || string(b) != `{"error":"HTTP 405 Method Not Allowed"}` || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s: %d %s", m, resp.StatusCode, testsafe.Text(string(b)))
		}
	}
	resp, err := http.Post(srv.URL+"/realms/cortex/protocol/openid-connect/nope", form, nil)
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown path: %v %v", resp.StatusCode, err)
	}
}

func TestLenient(t *testing.T) {
	srv := authtest.Start(t, authtest.WithLenient(), authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	for _, body := range []string{
		"client_id=iqm_client&grant_type=password&username=alice&password=pw&scope=openid",
		"client_id=iqm_client&grant_type=password&username=alice&password=pw&refresh_token=x",
	} {
		if status, b, _ := post(t, h, tokenPath, form, body); status != 200 {
			t.Errorf("%q: %d %v", testsafe.Text(body), status, testsafe.Value(b))
		}
	}
	// A logout without a refresh_token key is Keycloak's browser logout: 200 with an
	// HTML page (measured on Keycloak 26.7.3), before the client is checked.
	for _, body := range []string{"client_id=iqm_client", "", "client_id=nope"} {
		req := httptest.NewRequest(http.MethodPost, logoutPath, strings.NewReader(body))
		req.Header.Set("Content-Type", form)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("logout %q: %d %q", testsafe.Text(body), rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	// Duplicates stay an error on the token endpoint, as in Keycloak.
	if status, _, _ := post(t, h, tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw&password=pw"); status != 400 {
		t.Errorf("duplicate: %d", status)
	}
}

// TestParam: a Backend reads a parameter the schema does not have through Param.
func TestParam(t *testing.T) {
	var got []string
	b := &paramBackend{seen: &got}
	h := receiver.New(b, receiver.Config{Lenient: true})
	post(t, h, tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw&scope=openid+email")
	post(t, h, tokenPath, form, "client_id=iqm_client&grant_type=password&username=alice&password=pw")
	if want := []string{"openid email true", " false"}; !slices.Equal(got, want) {
		t.Errorf("Param: %q, want %q", testsafe.Value(got), want)
	}
}

type paramBackend struct {
	badBackend
	seen *[]string
}

func (b *paramBackend) PasswordGrant(ctx context.Context, _, _, _, _ string) (generated.TokenResponse, error) {
	v, ok := receiver.Param(ctx, "scope")
	*b.seen = append(*b.seen, fmt.Sprint(v, " ", ok))
	return generated.TokenResponse{}, &api.OAuthError{Status: 400, Code: "invalid_grant"}
}

func TestHandlerLogsRedacted(t *testing.T) {
	var logs bytes.Buffer
	srv := authtest.Start(t, authtest.WithStrict(), authtest.WithUser("alice", canaryPassword), authtest.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	c := newClient(t, authclient.Config{ServerURL: srv.URL})
	tk, err := c.Login(context.Background(), "alice", canaryPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), "alice", "wrong-"+canaryPassword); err == nil {
		t.Fatal("a wrong password logged in")
	}
	if err := c.Logout(context.Background(), tk.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, `"msg":"auth request"`) != 3 || !strings.Contains(out, `"status":400`) || !strings.Contains(out, `"password":"[REDACTED]"`) {
		t.Errorf("logs:\n%s", testsafe.Text(out))
	}
	for _, s := range []string{canaryPassword, tk.RefreshToken(), tk.AccessToken()} {
		if strings.Contains(out, s) {
			t.Errorf("log shows a secret:\n%s", testsafe.Text(out))
		}
	}
}

// FuzzHandler: arbitrary bodies, content types and paths never panic and never get a
// 5xx, and no answer echoes the password it was sent.
func FuzzHandler(f *testing.F) {
	srv := authtest.Start(f, authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	forms := formSeeds(f)
	for _, b := range forms[:20] {
		f.Add(string(b), form, "token", "POST")
	}
	f.Add("client_id=iqm_client&grant_type=password&username=alice&password=pw", form, "token", "POST")
	f.Add("client_id=iqm_client&refresh_token=x", form+"; charset=latin1", "logout", "POST")
	f.Add(`{"client_id":1}`, "application/json", "token", "GET")
	f.Add("a=%", "multipart/form-data; boundary=x", "../x", "PATCH")
	// authtest's endpoints beside token and logout.
	f.Add("client_id=iqm_client&token=abc.def.ghi", form, "revoke", "POST")
	f.Add("access_token=abc.def.ghi", form, "userinfo", "POST")
	f.Add("", "", "certs", "GET")
	f.Add("", "", "logout", "GET")
	f.Add("client_id=iqm_client&grant_type=client_credentials&scope=openid+x", form, "token/", "POST")
	f.Fuzz(func(t *testing.T, body, ct, endpoint, method string) {
		if len(method) == 0 || len(method) > 10 || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			method = "POST"
		}
		target := "/realms/cortex/protocol/openid-connect/" + endpoint
		req, err := http.NewRequest(method, "http://x"+target, strings.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q %q", rec.Code, testsafe.Text(body), ct)
		}
		if rec.Code != 200 && rec.Code != 204 && strings.Contains(rec.Body.String(), "password=") {
			t.Fatalf("answer echoes the body: %s", testsafe.Text(rec.Body.String()))
		}
	})
}
