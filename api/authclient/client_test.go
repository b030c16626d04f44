package authclient_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

func jwtWithExp(exp int64) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"sub":"x-_?>"}`, exp)))
	return "eyJhbGciOiJIUzI1NiJ9." + payload + ".c2ln"
}

// faultServer answers the token and logout endpoints with h, and counts requests.
func faultServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func newClient(t *testing.T, url string, mod ...func(*authclient.Config)) *authclient.Client {
	t.Helper()
	cfg := authclient.Config{ServerURL: url}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := authclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		is      []error
		msg     []string // substrings of the message
	}{
		{"500 HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			io.WriteString(w, "<html><body>\n<h1>Internal error</h1></body></html>")
		}, []error{authclient.ErrBadResponse}, []string{"500", "not an OAuth 2.0 error", "<h1>Internal error</h1>"}},
		{"200 not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login page with CANARY-BODY</html>")
		}, []error{authclient.ErrBadResponse}, []string{"200", "not a JSON token response", "text/html"}},
		{"200 without access_token", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"token_type":"Bearer","refresh_token":"CANARY-BODY"}`)
		}, []error{authclient.ErrBadResponse}, []string{"no access_token"}},
		{"200 carrying error", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"error":"invalid_grant","access_token":"CANARY-BODY"}`)
		}, []error{authclient.ErrBadResponse}, []string{`carries error "invalid_grant"`}},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"CANARY-BODY","expires_in":30`)
		}, []error{authclient.ErrBadResponse}, []string{"not a JSON token response"}},
		{"body cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `{"access_token":"CANARY-BODY"`)
		}, []error{authclient.ErrBadResponse}, []string{"reading the body"}},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"access_token":"`+strings.Repeat("A", 1<<20)+`"}`)
		}, []error{authclient.ErrResponseTooLarge}, []string{"over 1048576 bytes"}},
		{"302", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/login", http.StatusFound)
		}, []error{authclient.ErrRedirect}, []string{"302", `"https://elsewhere.example"`}},
		{"307", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/other", http.StatusTemporaryRedirect)
		}, []error{authclient.ErrRedirect}, []string{"307", "a relative location"}},
		{"401 invalid_client", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`)
		}, []error{api.ErrInvalidClient}, []string{"401 invalid_client: Invalid client"}},
		{"error body echoing the request", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(502)
			io.WriteString(w, "proxy error for "+string(body))
		}, []error{authclient.ErrBadResponse}, []string{"[REDACTED]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := faultServer(t, tt.handler)
			c := newClient(t, srv.URL)
			_, err := c.Login(ctx, "alice", canaryPassword)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("errors.Is(%v, %v) is false", err, want)
				}
			}
			var ae *authclient.Error
			if !errors.As(err, &ae) || ae.Op != "token" {
				t.Errorf("not an *authclient.Error: %#v", err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			for _, secret := range []string{canaryPassword, "CANARY-BODY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("message shows a secret: %q", err)
				}
			}
			if n.Load() != 1 {
				t.Errorf("%d requests (a redirect must not be followed)", n.Load())
			}
		})
	}
}

func TestClientNetworkFaults(t *testing.T) {
	// Connection refused: a port that was free a moment ago.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr)
	_, err = c.Login(context.Background(), "alice", canaryPassword)
	var te *authclient.TransportError
	if !errors.As(err, &te) || !errors.Is(err, authclient.ErrNoAnswer) || strings.Contains(err.Error(), canaryPassword) {
		t.Errorf("refused: %v", err)
	}

	// Deadline: the client's timeout, then the caller's context.
	srv := authtest.Start(t, authtest.WithUser("alice", canaryPassword))
	srv.SetLatency(time.Second)
	c = newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Timeout = 50 * time.Millisecond })
	if _, err := c.Login(context.Background(), "alice", canaryPassword); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	c = newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Login(ctx, "alice", canaryPassword); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: %v", err)
	}
}

func TestClientRefusesInvalidRequestLocally(t *testing.T) {
	srv, n := faultServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newClient(t, srv.URL)
	ctx := context.Background()
	if _, err := c.Login(ctx, "", canaryPassword); err == nil || !strings.Contains(err.Error(), "username") {
		t.Errorf("empty username: %v", err)
	}
	if _, err := c.Refresh(ctx, ""); err == nil || !strings.Contains(err.Error(), "refresh_token") {
		t.Errorf("empty refresh token: %v", err)
	}
	if err := c.Logout(ctx, ""); err == nil {
		t.Error("empty refresh token")
	}
	if n.Load() != 0 {
		t.Errorf("%d requests sent", n.Load())
	}
}

func TestClientConfig(t *testing.T) {
	for _, tt := range []struct {
		url, token string
		insecure   bool
		err        error
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/realms/cortex/protocol/openid-connect/token", false, nil},
		{"http://localhost:8080/", "http://localhost:8080/realms/cortex/protocol/openid-connect/token", false, nil},
		{"https://auth.example.com/base//", "https://auth.example.com/base/realms/cortex/protocol/openid-connect/token", false, nil},
		{"http://[::1]:9/", "http://[::1]:9/realms/cortex/protocol/openid-connect/token", false, nil},
		{"http://auth.example.com", "", false, authclient.ErrInsecureTransport},
		{"http://auth.example.com", "http://auth.example.com/realms/cortex/protocol/openid-connect/token", true, nil},
		{"https://user:CANARY@auth.example.com", "", false, authclient.ErrConfig},
		{"ftp://auth.example.com", "", false, authclient.ErrConfig},
		{"auth.example.com", "", false, authclient.ErrConfig},
		{"", "", false, authclient.ErrConfig},
		{"https://auth.example.com?x=1", "", false, authclient.ErrConfig},
	} {
		c, err := authclient.New(authclient.Config{ServerURL: tt.url, AllowInsecureHTTP: tt.insecure})
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !errors.Is(err, authclient.ErrConfig) || strings.Contains(fmt.Sprint(err), "CANARY") {
				t.Errorf("%q: %v", tt.url, err)
			}
			if tt.err == authclient.ErrInsecureTransport && !strings.Contains(err.Error(), "AllowInsecureHTTP") {
				t.Errorf("the error does not say how to opt in: %v", err)
			}
			continue
		}
		if err != nil || c.TokenURL() != tt.token {
			t.Errorf("%q: %v, %v", tt.url, c, err)
		}
	}
	c := newClient(t, "https://a.example", func(cfg *authclient.Config) { cfg.Realm, cfg.ClientID = "other realm", "cli" })
	if c.TokenURL() != "https://a.example/realms/other%20realm/protocol/openid-connect/token" || c.ClientID() != "cli" || c.Realm() != "other realm" {
		t.Errorf("%s %s %s", c.TokenURL(), c.Realm(), c.ClientID())
	}
}

func TestClientUserAgentAndBodies(t *testing.T) {
	var ua, ct, body string
	srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		ua, ct = r.Header.Get("User-Agent"), r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(204)
	})
	c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.UserAgent = "iqmauth-test/1" })
	if err := c.Logout(context.Background(), "abc.def="); err != nil {
		t.Fatal(err)
	}
	if ua != "iqmauth-test/1" || ct != "application/x-www-form-urlencoded" || body != "client_id=iqm_client&refresh_token=abc.def%3D" {
		t.Errorf("%q %q %q", ua, ct, testsafe.Text(body))
	}
}

func TestTokenExpiry(t *testing.T) {
	clock := authtest.NewClock(t0)
	exp := t0.Add(time.Hour).Unix()
	// Expiry times are absolute (from a JWT's exp) or counted from when the request
	// was sent (from expires_in); zero means unknown.
	at := func(unix int64) func(time.Time) time.Time {
		return func(time.Time) time.Time { return time.Unix(unix, 0) }
	}
	after := func(d time.Duration) func(time.Time) time.Time {
		return func(sent time.Time) time.Time { return sent.Add(d) }
	}
	unknown := func(time.Time) time.Time { return time.Time{} }
	tests := []struct {
		name, body            string
		access, refresh       func(sent time.Time) time.Time
		refreshNever, hasRefr bool
	}{
		{"lifetimes", `{"access_token":"a","refresh_token":"r","expires_in":300,"refresh_expires_in":1800}`,
			after(300 * time.Second), after(1800 * time.Second), false, true},
		{"refresh never expires", `{"access_token":"a","refresh_token":"r","expires_in":300,"refresh_expires_in":0}`,
			after(300 * time.Second), unknown, true, true},
		{"from JWT exp", fmt.Sprintf(`{"access_token":%q,"refresh_token":%q}`, jwtWithExp(exp), jwtWithExp(exp+60)),
			at(exp), at(exp + 60), false, true},
		{"unknown", `{"access_token":"opaque"}`, unknown, unknown, false, false},
	}
	for _, tt := range tests {
		srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
			clock.Advance(5 * time.Second) // the answer comes later than the request was sent
			io.WriteString(w, tt.body)
		})
		c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Clock = clock })
		sent := clock.Now()
		tk, err := c.Login(context.Background(), "u", "p")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !tk.AccessExpiry.Equal(tt.access(sent)) || !tk.RefreshExpiry.Equal(tt.refresh(sent)) ||
			tk.RefreshNeverExpires != tt.refreshNever || tk.HasRefreshToken() != tt.hasRefr || !tk.ObtainedAt.Equal(sent) {
			t.Errorf("%s: %v", tt.name, tk)
		}
	}
}
