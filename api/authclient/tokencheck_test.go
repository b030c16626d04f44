package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestServerTokensMustBeBearerTokens: a 200 whose access_token or refresh_token holds
// characters outside RFC 6750's b64token (a terminal escape, a line break with a
// forged header line) is an ErrBadResponse that names the member, never the value.
func TestServerTokensMustBeBearerTokens(t *testing.T) {
	for _, tt := range []struct{ member, value string }{
		{"access_token", "CANARY\x1b]0;owned\a"},
		{"access_token", "CANARY\x1b[2J"},
		{"access_token", "CANARY\r\nX-Forged: yes"},
		{"access_token", "CANARY TOKEN"},
		{"refresh_token", "CANARY\x1b[2J"},
		{"refresh_token", "CANARY\nX-Forged: yes"},
	} {
		srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			access, refresh := "good.access.token", "good-refresh"
			if tt.member == "access_token" {
				access = tt.value
			} else {
				refresh = tt.value
			}
			json.NewEncoder(w).Encode(map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": 300})
		})
		set, err := newClient(t, srv.URL).Login(context.Background(), "alice", "pw")
		var ae *authclient.Error
		if set != nil || !errors.Is(err, authclient.ErrBadResponse) || !errors.As(err, &ae) {
			t.Fatalf("%s: %v, %s", tt.member, set, testsafe.Value(err))
		}
		if !strings.Contains(err.Error(), tt.member) || strings.Contains(fmt.Sprintf("%v %#v", err, err), "CANARY") {
			t.Errorf("%s: error must name the member and not show the value: %s", tt.member, testsafe.Value(err))
		}
	}
}
