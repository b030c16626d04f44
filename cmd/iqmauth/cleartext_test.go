package main

// Tests that nothing goes in clear text off the machine: a tokens file naming a plain
// http:// server, and the proxies that HTTPS_PROXY names.

import (
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestTokensFileCleartextURLRefused: a tokens file naming a plain http:// server that
// is not loopback makes token and logout refuse (exit 2, saying why and how to opt
// in) and send nothing, neither the refresh token nor the password; with the opt-in
// the request goes out, through the proxy that HTTP_PROXY names.
func TestTokensFileCleartextURLRefused(t *testing.T) {
	proxy, seen := proxyRecorder(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	write := func() {
		writeJSON(t, file, map[string]string{"access_token": fakeJWT(time.Now().Add(10*time.Second), ""),
			"refresh_token": "CANARY-RT-0a1b", "auth_server_url": "http://auth.example.test"})
	}
	env := baseEnv("HTTP_PROXY="+proxy.URL, "HTTPS_PROXY="+proxy.URL, "IQM_TOKENS_FILE="+file,
		"IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	for _, args := range [][]string{{"token"}, {"token", "--force-refresh"}, {"logout"}} {
		write()
		code, out, errOut := runBin(t, env, "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "plain http") || !strings.Contains(errOut, "--allow-insecure-http") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, testsafe.Text(out), testsafe.Text(errOut))
		}
		if strings.Contains(errOut, cliPassword) || strings.Contains(errOut, "CANARY-RT") {
			t.Errorf("%v: stderr shows a secret: %q", args, testsafe.Text(errOut))
		}
	}
	if s := seen(); len(s) != 0 {
		t.Fatalf("sent %d requests: %q", len(s), testsafe.Value(s))
	}
	write()
	// The password may go to the file's server only when the user names it too.
	env = append(env, "IQM_AUTH_SERVER=http://auth.example.test")
	code, out, errOut := runBin(t, env, "", "token", "--force-refresh", "--allow-insecure-http")
	if code != 0 || out == "" {
		t.Errorf("opted in: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if s := seen(); len(s) != 1 || !strings.Contains(s[0], "http://auth.example.test/realms/cortex/protocol/openid-connect/token") {
		t.Errorf("through the proxy: %q", testsafe.Value(s))
	}
}

// TestHTTPSProxyHonoured: with HTTPS_PROXY set, login and token reach an https://
// server through the proxy's CONNECT tunnel (the proxy only ever dials 127.0.0.1).
func TestHTTPSProxyHonoured(t *testing.T) {
	auth := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	tlsSrv := httptest.NewUnstartedServer(auth.Handler())
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "example.com:443" {
			http.Error(w, "only CONNECT example.com:443", http.StatusForbidden)
			return
		}
		connects.Add(1)
		upstream, err := net.Dial("tcp", tlsSrv.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		go func() { io.Copy(upstream, buf); upstream.(*net.TCPConn).CloseWrite() }()
		io.Copy(conn, upstream)
		conn.Close()
		upstream.Close()
	}))
	t.Cleanup(proxy.Close)
	file := filepath.Join(t.TempDir(), "tokens.json")
	env := baseEnv("HTTPS_PROXY="+proxy.URL, "SSL_CERT_FILE="+certFile, "IQM_TOKENS_FILE="+file,
		"IQM_AUTH_SERVER=https://example.com", "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, out, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: %d %q %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	code, out, errOut := runBin(t, env, "", "token", "--force-refresh")
	if code != 0 {
		t.Fatalf("token: %d %q %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if _, err := auth.VerifyAccessToken(strings.TrimSpace(out)); err != nil {
		t.Errorf("printed token: %v", err)
	}
	if connects.Load() < 2 {
		t.Errorf("%d CONNECTs through the proxy", connects.Load())
	}
}
