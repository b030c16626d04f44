package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestLoopbackHTTPNeverThroughProxy: `iqmauth login --server http://LOCALHOST:PORT`
// (any case of localhost, or a loopback address) with HTTP_PROXY set sends the
// password to the server on loopback directly, never in clear text to the proxy
// (net/http's proxy bypass does not fold the case of localhost).
func TestLoopbackHTTPNeverThroughProxy(t *testing.T) {
	proxy, seen := proxyRecorder(t)
	auth := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	u, err := url.Parse(auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"LOCALHOST", "LocalHost", "localhost", "127.0.0.1"} {
		file := filepath.Join(t.TempDir(), "tokens.json")
		server := "http://" + host + ":" + u.Port()
		env := baseEnv("HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "IQM_TOKENS_FILE="+file,
			"IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
		code, out, errOut := runBin(t, env, "", "login", "--server", server)
		if code != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", server, code, testsafe.Text(out, cliPassword), testsafe.Text(errOut, cliPassword))
		}
		// token renews with the refresh token alone (a password goes only to a server
		// IQM_AUTH_SERVER names).
		env = baseEnv("HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "IQM_TOKENS_FILE="+file)
		code, out, errOut = runBin(t, env, "", "token", "--force-refresh")
		if code != 0 {
			t.Errorf("%s: token: exit %d, stdout %q, stderr %q", server, code, testsafe.Text(out, cliPassword), testsafe.Text(errOut, cliPassword))
		} else if _, err := auth.VerifyAccessToken(strings.TrimSpace(out)); err != nil {
			t.Errorf("%s: the token is not the server's: %v", server, err)
		}
		if s := seen(); len(s) != 0 {
			t.Fatalf("%s: %d requests went to the proxy, the first: %q", server, len(s), testsafe.Text(s[0], cliPassword))
		}
	}
}
