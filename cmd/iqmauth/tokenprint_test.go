package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// Tokens with control characters that a hostile server or a planted tokens file might
// hand to `iqmauth token`, which prints the access token.
var hostileTokens = []string{
	"CANARY-TK\x1b]0;owned\a",
	"CANARY-TK\x1b[2J",
	"CANARY-TK\r\nX-Forged: yes",
}

// TestTokenPrintsOnlyBearerTokens: `iqmauth token`, as a process, never prints a token
// with characters outside RFC 6750's b64token, whether the tokens file holds it or the
// server issues it on refresh; it fails with exit 1, naming the member, not the value.
func TestTokenPrintsOnlyBearerTokens(t *testing.T) {
	for _, bad := range hostileTokens {
		// From the tokens file (no expiry known: used as is).
		file := filepath.Join(t.TempDir(), "tokens.json")
		writeJSON(t, file, map[string]string{"access_token": bad, "refresh_token": "r", "auth_server_url": "http://127.0.0.1:1"})
		code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
		if code != 1 || out != "" || !strings.Contains(errOut, "access_token") || strings.Contains(errOut, "CANARY-TK") ||
			strings.ContainsAny(errOut, "\x1b\a\r") {
			t.Errorf("file: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
		}

		// Issued by the server on refresh.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": bad, "expires_in": 300, "refresh_token": "r2"})
		}))
		writeJSON(t, file, map[string]string{"access_token": fakeJWT(time.Now().Add(-time.Minute), ""), "refresh_token": "r",
			"auth_server_url": srv.URL})
		code, out, errOut = runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
		srv.Close()
		if code != 1 || out != "" || !strings.Contains(errOut, "access_token") || strings.Contains(errOut, "CANARY-TK") ||
			strings.ContainsAny(errOut, "\x1b\a\r") {
			t.Errorf("server: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
		}
	}
}
