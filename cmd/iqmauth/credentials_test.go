package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// recorder is a server on loopback that records the bodies it gets and answers every
// request 400 invalid_grant, as a server would answer a refresh it refuses (which made
// iqmauth fall back to the password grant).
func recorder(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...)
	}
}

// TestPasswordNeverGoesToTheFilesServer: with IQM_AUTH_USERNAME and IQM_AUTH_PASSWORD
// set, `iqmauth token` on a planted tokens file (an expired access token, its
// auth_server_url a listener of the attacker's) sent the password grant there. A
// password goes only to the server the user named for it (IQM_AUTH_SERVER):
// credentials beside a file naming another server, or no server named, are refused
// with exit 2 before anything is sent.
func TestPasswordNeverGoesToTheFilesServer(t *testing.T) {
	attacker, seen := recorder(t)
	legit := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "planted.json")
	writeJSON(t, file, map[string]string{"access_token": fakeJWT(time.Now().Add(-time.Minute), ""),
		"refresh_token": "attackers-refresh-token", "auth_server_url": attacker.URL})
	creds := []string{"IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD=" + cliPassword}
	for name, env := range map[string][]string{
		"no server named":      baseEnv(creds...),
		"another server named": baseEnv(append(creds, "IQM_AUTH_SERVER="+legit.URL)...),
	} {
		for _, args := range [][]string{{"token", "--tokens-file", file}, {"token", "--tokens-file", file, "--force-refresh"}} {
			code, out, errOut := runBin(t, env, "", args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "IQM_AUTH_SERVER") {
				t.Errorf("%s, %v: exit %d, stdout %q, stderr %q", name, args[1:], code, testsafe.Text(out), testsafe.Text(errOut))
			}
			if strings.Contains(errOut, cliPassword) {
				t.Errorf("%s: stderr shows the password", name)
			}
		}
	}
	if b := seen(); len(b) != 0 {
		t.Fatalf("%d requests reached the file's server", len(b))
	}
	if n := len(legit.Requests()); n != 0 {
		t.Fatalf("%d requests reached the named server", n)
	}
	// Without credentials, the file's own refresh token goes to the file's server (it
	// came from there), and its refusal says what to do next.
	code, _, errOut := runBin(t, baseEnv(), "", "token", "--tokens-file", file)
	if b := seen(); code != 1 || len(b) != 1 || strings.Contains(b[0], "password") || !strings.Contains(errOut, "iqmauth login") {
		t.Errorf("no credentials: exit %d, %d requests, stderr %q", code, len(b), testsafe.Text(errOut))
	}
}

// TestPasswordFallbackAtTheNamedServer: with IQM_AUTH_SERVER naming the file's server,
// a refresh token the server refuses still falls back to the password grant there.
func TestPasswordFallbackAtTheNamedServer(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	env := baseEnv("IQM_AUTH_SERVER="+srv.URL+"/", "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword, "IQM_TOKENS_FILE="+file)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	var m map[string]any
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["access_token"] = fakeJWT(time.Now().Add(-time.Minute), "")
	m["refresh_token"] = "a-refresh-token-the-server-never-issued"
	writeJSON(t, file, m)
	code, out, errOut := runBin(t, env, "", "token")
	if code != 0 {
		t.Fatalf("token: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); err != nil {
		t.Errorf("printed token: %v", err)
	}
	r := srv.Requests()
	if len(r) != 3 || r[1].Kind.String() != "refresh" || r[2].Kind.String() != "password" {
		t.Errorf("requests: %v", r)
	}
}

// TestTokenRenewsAtMostOncePerHalfLifetime: with an access lifetime at or below
// --min-valid (serve --access-ttl 60s, the default --min-valid 60s), `iqmauth token`
// refreshed on every call; it now renews at half the lifetime, as the session does,
// and says so on stderr.
func TestTokenRenewsAtMostOncePerHalfLifetime(t *testing.T) {
	url, logs, stop := startServe(t, "--access-ttl", "60s")
	file := filepath.Join(t.TempDir(), "tokens.json")
	env := baseEnv("IQM_AUTH_SERVER="+url, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword, "IQM_TOKENS_FILE="+file)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	for i := range 10 {
		code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
		if code != 0 || out == "" {
			t.Fatalf("call %d: exit %d, stderr %q", i, code, testsafe.Text(errOut))
		}
		if !strings.Contains(errOut, "less than twice --min-valid") {
			t.Errorf("call %d: stderr does not say that the margin was lowered: %q", i, testsafe.Text(errOut))
		}
	}
	stop()
	// The ten calls ran within seconds of the login, well inside the first half of the
	// 60 s lifetime.
	if n := strings.Count(logs.String(), "kind=refresh"); n != 0 {
		t.Errorf("%d refresh requests for 10 calls, want 0", n)
	}
}

// startServe runs `iqmauth serve` as a process with a user alice, and returns its URL,
// its log, and a function that stops it (also called when the test ends).
func startServe(t *testing.T, args ...string) (url string, logs *lockedBuffer, stop func()) {
	t.Helper()
	cmd := exec.Command(iqmauthBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = baseEnv("IQMAUTH_SERVE_USERS=alice:" + cliPassword)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs = &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_, _ = io.Copy(io.Discard, stdout)
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("serve did not start: %v", err)
	}
	return strings.TrimSpace(line), logs, stop
}
