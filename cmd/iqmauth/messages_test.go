package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestFailureMessagesSayWhatToDo: each failure a new user meets when the server is
// wrong or away is one line on stderr that names the server once, says what happened
// and what to check, and names flags and variables, never Go fields.
func TestFailureMessagesSayWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	keycloak404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"Unable to find matching target resource method"}`)
	}))
	t.Cleanup(keycloak404.Close)
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hanging.Close() })
	httpsToPlain := strings.Replace(plain.URL, "http://", "https://", 1)

	for _, tt := range []struct {
		name   string
		server string
		extra  []string
		code   int
		want   []string
		once   string // appears exactly once
	}{
		{"refused", closed, nil, 1, []string{"could not reach the auth server at " + closed, "connection refused", "check the server URL"}, closed},
		{"https to plain http", httpsToPlain, nil, 1, []string{"speaks plain http, not https", "check the URL's scheme"}, httpsToPlain},
		{"realm URL", keycloak404.URL + "/realms/cortex", nil, 2, []string{"part before /realms (" + keycloak404.URL + ")"}, ""},
		{"404", keycloak404.URL + "/auth", nil, 1, []string{"404", "tried " + keycloak404.URL + "/auth/realms/cortex/protocol/openid-connect/token",
			"part before /realms"}, ""},
		{"hanging", hanging.URL, []string{"IQM_CLIENT_REQUESTS_TIMEOUT=0.3"}, 1, []string{"within 300ms", "IQM_CLIENT_REQUESTS_TIMEOUT"}, hanging.URL},
		{"remote http", "http://auth.example.test", nil, 2, []string{"not loopback", "--allow-insecure-http"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(append([]string{"IQM_TOKENS_FILE=" + filepath.Join(t.TempDir(), "tokens.json"),
				"IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD=" + cliPassword}, tt.extra...)...)
			code, out, errOut := runBin(t, env, "", "login", "--server", tt.server)
			if code != tt.code || out != "" || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q", code, testsafe.Text(out, cliPassword), testsafe.Text(errOut, cliPassword))
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %q", w, testsafe.Text(errOut, cliPassword))
				}
			}
			if tt.once != "" && strings.Count(errOut, tt.once) != 1 {
				t.Errorf("%q not exactly once: %q", tt.once, testsafe.Text(errOut, cliPassword))
			}
			if strings.Contains(errOut, "Config.") || strings.Contains(errOut, cliPassword) {
				t.Errorf("stderr names a Go field or the password: %q", testsafe.Text(errOut, cliPassword))
			}
		})
	}
}
