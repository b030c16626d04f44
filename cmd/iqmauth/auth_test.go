package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

const cliPassword = "CANARY-CLI-PW-55"

type env map[string]string

func (e env) get(k string) string { return e[k] }

func runWith(t *testing.T, e env, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: e.get, ctx: context.Background()}
	code := c.run(args)
	for _, s := range []string{out.String(), errOut.String()} {
		if strings.Contains(s, cliPassword) {
			t.Errorf("output shows the password: %q", testsafe.Text(s))
		}
	}
	return code, out.String(), errOut.String()
}

func TestLoginTokenStatusLogout(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword), authtest.WithAccessTTL(90*time.Second))
	file := filepath.Join(t.TempDir(), "tokens.json")
	e := env{"IQM_AUTH_SERVER": srv.URL, "IQM_AUTH_USERNAME": "alice", "IQM_AUTH_PASSWORD": cliPassword, "IQM_TOKENS_FILE": file}

	code, out, errOut := runWith(t, e, "login")
	if code != 0 || !strings.Contains(out, "logged in as alice") || !strings.Contains(out, file) || !strings.Contains(out, "access token expires:") {
		t.Fatalf("login: %d %q %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	f, err := tokensfile.Read(file)
	if err != nil || f.Realm != "cortex" || f.ClientID != "iqm_client" || f.AuthServerURL != srv.URL {
		t.Fatalf("tokens file %v %v", f, err)
	}
	if strings.Contains(out, f.Tokens.AccessToken()) || strings.Contains(out, f.Tokens.RefreshToken()) {
		t.Error("login printed a token")
	}

	// token: the file's access token has 90 s left: more than the default 60 s margin.
	code, out, _ = runWith(t, e, "token")
	if code != 0 || out != f.Tokens.AccessToken()+"\n" {
		t.Fatalf("token: %d %q", code, testsafe.Text(out))
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
	// --min-valid above what is left (of a token that lasts 11.5 minutes, so that the
	// margin is not clamped to half its lifetime): refresh and rewrite the file.
	var m map[string]any
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["access_token"] = fakeJWT(time.Now().Add(90*time.Second), fmt.Sprintf(`,"iat":%d`, time.Now().Add(-10*time.Minute).Unix()))
	writeJSON(t, file, m)
	code, out, _ = runWith(t, e, "token", "--min-valid", "2m")
	g, _ := tokensfile.Read(file)
	if code != 0 || out != g.Tokens.AccessToken()+"\n" || g.Tokens.AccessToken() == f.Tokens.AccessToken() {
		t.Fatalf("token --min-valid: exit %d, printed the file's token %t, renewed %t", code,
			out == g.Tokens.AccessToken()+"\n", g.Tokens.AccessToken() != f.Tokens.AccessToken())
	}
	if r := srv.Requests(); len(r) != 2 || r[1].Kind.String() != "refresh" {
		t.Errorf("requests %v", r)
	}
	code, out, _ = runWith(t, e, "token", "--force-refresh")
	h, _ := tokensfile.Read(file)
	if code != 0 || out != h.Tokens.AccessToken()+"\n" || h.Tokens.AccessToken() == g.Tokens.AccessToken() {
		t.Fatalf("token --force-refresh: %d %q", code, testsafe.Text(out))
	}
	if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); err != nil {
		t.Errorf("printed token: %v", err)
	}

	code, out, _ = runWith(t, e, "status")
	for _, want := range []string{srv.URL, "realm:                 cortex", "client:                iqm_client", "user:                  alice", "expires"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, testsafe.Text(out))
		}
	}
	if code != 0 || strings.Contains(out, h.Tokens.AccessToken()) || strings.Contains(out, h.Tokens.RefreshToken()) {
		t.Errorf("status: %d %q", code, testsafe.Text(out))
	}

	code, out, _ = runWith(t, e, "logout")
	if code != 0 || !strings.Contains(out, "logged out") {
		t.Fatalf("logout: %d %q", code, testsafe.Text(out))
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Error("tokens file still there")
	}
	if srv.ActiveSessions() != 0 {
		t.Error("session still active at the server")
	}
	code, _, errOut = runWith(t, e, "status")
	if code != 1 || !strings.Contains(errOut, "file not found") {
		t.Errorf("status after logout: %d %q", code, testsafe.Text(errOut))
	}
}

func TestAuthCommandFailures(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	base := env{"IQM_AUTH_SERVER": srv.URL, "IQM_AUTH_USERNAME": "alice", "IQM_TOKENS_FILE": file}
	with := func(kv ...string) env {
		e := env{}
		for k, v := range base {
			e[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	tests := []struct {
		name string
		env  env
		args []string
		code int
		msg  string
	}{
		{"wrong password", with("IQM_AUTH_PASSWORD", "wrong-"+cliPassword), []string{"login"}, 1, "400 invalid_grant"}, // Keycloak 26.7's status
		{"no password, no terminal", base, []string{"login"}, 2, "IQM_AUTH_PASSWORD"},
		{"no server", with("IQM_AUTH_SERVER", "", "IQM_AUTH_PASSWORD", cliPassword), []string{"login"}, 2, "no server"},
		{"remote http", with("IQM_AUTH_PASSWORD", cliPassword), []string{"login", "--server", "http://auth.example"}, 2, "--allow-insecure-http"},
		{"network", with("IQM_AUTH_PASSWORD", cliPassword), []string{"login", "--server", "http://127.0.0.1:1"}, 1, "connect"},
		{"password flag", with("IQM_AUTH_PASSWORD", cliPassword), []string{"login", "--password", "x"}, 2, "no --password flag"},
		{"password flag with value", with("IQM_AUTH_PASSWORD", cliPassword), []string{"login", "--password=" + cliPassword}, 2, "set IQM_AUTH_PASSWORD, or run in a terminal"},
		{"token without file", base, []string{"token"}, 1, "file not found; run 'iqmauth login' first"},
		{"status without file", base, []string{"status"}, 1, "file not found; run 'iqmauth login' first"},
		{"logout without file", base, []string{"logout"}, 1, "file not found; run 'iqmauth login' first"},
		{"bad min-valid", base, []string{"token", "--min-valid", "-1s"}, 2, "must not be negative"},
		{"bad timeout", with("IQM_CLIENT_REQUESTS_TIMEOUT", "x", "IQM_AUTH_PASSWORD", cliPassword), []string{"login"}, 2, "IQM_CLIENT_REQUESTS_TIMEOUT"},
	}
	for _, tt := range tests {
		code, out, errOut := runWith(t, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tt.name, code, testsafe.Text(out), testsafe.Text(errOut))
		}
		if lines := strings.Count(errOut, "\n"); tt.code == 1 && lines != 1 {
			t.Errorf("%s: %d lines on stderr", tt.name, lines)
		}
	}
	// A corrupt file names the path.
	if err := os.WriteFile(file, []byte(`{"access_token": "CANARY-CLI-PW-55`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runWith(t, base, "token"); code != 1 || !strings.Contains(errOut, file) || !strings.Contains(errOut, "run 'iqmauth login' to write it anew") {
		t.Errorf("corrupt file: %d %q", code, testsafe.Text(errOut))
	}
	// A logout that fails for another reason than the session being gone keeps the file.
	runWith(t, with("IQM_AUTH_PASSWORD", cliPassword), "login")
	srv.FailNext(1, 500, `{"error":"server_error","error_description":"Internal server error"}`)
	if code, _, errOut := runWith(t, base, "logout"); code != 1 || !strings.Contains(errOut, "server_error") {
		t.Errorf("logout failure: %d %q", code, testsafe.Text(errOut))
	}
	if _, err := os.Stat(file); err != nil {
		t.Error("file removed after a failed logout")
	}
}

// TestDeadSessionSaysWhatToDo: when the server no longer takes the refresh token (it
// restarted, the session expired), token says to run 'iqmauth login' and status shows
// the failed refresh; logout removes the local tokens (the session is gone already)
// and says so.
func TestDeadSessionSaysWhatToDo(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	e := env{"IQM_AUTH_SERVER": srv.URL, "IQM_AUTH_USERNAME": "alice", "IQM_AUTH_PASSWORD": cliPassword, "IQM_TOKENS_FILE": file}
	if code, _, errOut := runWith(t, e, "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	noPassword := env{"IQM_TOKENS_FILE": file}
	srv.FailNext(1, 400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
	code, out, errOut := runWith(t, noPassword, "token", "--force-refresh")
	if code != 1 || out != "" || !strings.Contains(errOut, "invalid_grant") || !strings.Contains(errOut, "run 'iqmauth login'") {
		t.Errorf("token: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	code, out, _ = runWith(t, noPassword, "status")
	if code != 0 || !strings.Contains(out, "refresh status:        FAILED") {
		t.Errorf("status after the refusal: exit %d\n%s", code, testsafe.Text(out))
	}
	srv.FailNext(1, 400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
	code, out, errOut = runWith(t, noPassword, "logout")
	if code != 0 || !strings.Contains(out, "already ended") || !strings.Contains(out, "removed "+file) {
		t.Errorf("logout: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("tokens file left: %v", err)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runWith(t, env{}, "demo")
	if code != 0 || !strings.HasSuffix(out, "all steps passed\n") || errOut != "" {
		t.Fatalf("demo: %d\n%s\n%s", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	for _, want := range []string{"password request -> 200", "no request: the token was reused", "refresh request -> 200",
		"logout request -> 204", "password=[REDACTED]", "refresh_token=[REDACTED]",
		"validate: username: must be absent in a refresh request",
		"server:   400 invalid_request: Parameter not allowed in a refresh request: username",
		"validate: grant_type: must be absent in a logout request",
		"server:   400 invalid_request: Parameter not allowed in a logout request: grant_type"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--addr", "0.0.0.0:0"},
		{"serve", "--user", "nopassword"},
		{"serve", "--access-ttl", "0s"},
		{"serve", "--addr", "nonsense"},
	} {
		if code, _, errOut := runWith(t, env{}, args...); code != 2 || !strings.Contains(errOut, "iqmauth serve: ") || !strings.Contains(errOut, "iqmauth serve --help") {
			t.Errorf("%v: %d %q", args, code, testsafe.Text(errOut))
		}
	}
	if code, _, _ := runWith(t, env{"IQMAUTH_SERVE_USERS": "bad"}, "serve", "--addr", "127.0.0.1:0"); code != 2 {
		t.Error("bad users env accepted")
	}
}

// TestServeBinary runs `iqmauth serve` as a process: the first stdout line is the base
// URL, it answers a login, logs redacted, and stops cleanly on SIGTERM.
func TestServeBinary(t *testing.T) {
	bin := iqmauthBin
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--user", "bob:"+cliPassword)
	cmd.Env = append(os.Environ(), "IQMAUTH_SERVE_USERS=carol:"+cliPassword+"-2")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", testsafe.Text(line), err)
	}
	base := strings.TrimSpace(line)
	for _, user := range []struct{ name, pw string }{{"bob", cliPassword}, {"carol", cliPassword + "-2"}} {
		c, err := authclient.New(authclient.Config{ServerURL: base})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Login(context.Background(), user.name, user.pw); err != nil {
			t.Errorf("%s: %v", user.name, err)
		}
	}
	resp, err := http.Get(base + "/realms/cortex/protocol/openid-connect/token")
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("GET: %v %v", resp, err)
	}
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if body["error"] != "HTTP 405 Method Not Allowed" {
		t.Errorf("405 body %v", testsafe.Value(body))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, stdout); done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "password=[REDACTED]") && !strings.Contains(logs, "request.password=[REDACTED]") {
		t.Errorf("no redacted request log:\n%s", logs)
	}
	if strings.Contains(logs, cliPassword) || !strings.Contains(logs, "stopped") {
		t.Errorf("logs:\n%s", logs)
	}
}
