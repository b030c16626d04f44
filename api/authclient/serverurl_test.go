package authclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/authclient"
)

// TestRealmURLRefused: a server URL that already holds /realms (a realm's URL pasted
// as the server's) is refused up front, saying that the server URL is the part before
// /realms and what that is.
func TestRealmURLRefused(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://127.0.0.1:8080/realms/cortex", "http://127.0.0.1:8080"},
		{"https://auth.example/realms/cortex/", "https://auth.example"},
		{"https://auth.example/auth/realms/cortex/protocol/openid-connect/token", "https://auth.example/auth"},
		{"https://auth.example/REALMS", "https://auth.example"},
		{"https://auth.example/realms", "https://auth.example"},
	} {
		_, err := authclient.New(authclient.Config{ServerURL: tt.url})
		var ce *authclient.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "part before /realms") || !strings.Contains(err.Error(), "("+tt.want+")") {
			t.Errorf("%s: %v", tt.url, err)
		}
	}
	for _, ok := range []string{"https://auth.example/realmsx", "https://auth.example/my-realms/x", "https://auth.example/auth"} {
		if _, err := authclient.New(authclient.Config{ServerURL: ok}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestNotFoundShowsURLTried: a 404 (Keycloak's answer for a path it has no resource
// for) names the URL tried and says that the server URL is the part before /realms.
func TestNotFoundShowsURLTried(t *testing.T) {
	srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"Unable to find matching target resource method"}`)
	})
	c := newClient(t, srv.URL+"/keycloak")
	_, err := c.Login(context.Background(), "alice", canaryPassword)
	if msg := err.Error(); !strings.Contains(msg, "404") || !strings.Contains(msg, "tried "+c.TokenURL()) ||
		!strings.Contains(msg, "part before /realms") {
		t.Errorf("%v", err)
	}
	err = c.Logout(context.Background(), "CANARY-RT")
	if msg := err.Error(); !strings.Contains(msg, "tried "+srv.URL+"/keycloak/realms/cortex/protocol/openid-connect/logout") || strings.Contains(msg, "CANARY") {
		t.Errorf("%v", err)
	}
}
