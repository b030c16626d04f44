package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m)
	return resp.StatusCode, m
}

// TestServeAsKeycloak: `iqmauth serve` answers as Keycloak 26.7 by default, as 26.5
// with --keycloak-version 26.5, applies the schema's rules with --strict, still
// accepts --lenient, and reads a realm file with --import-realm (users given with
// --user join its first realm).
func TestServeAsKeycloak(t *testing.T) {
	realm := filepath.Join(t.TempDir(), "realm.json")
	if err := os.WriteFile(realm, []byte(`{"realm":"lab","enabled":true,"accessTokenLifespan":90,
		"clients":[{"clientId":"iqm_client","publicClient":true,"directAccessGrantsEnabled":true}],
		"users":[{"username":"bob","enabled":true,"email":"bob@example.org","firstName":"Bob","lastName":"B",
		"credentials":[{"type":"password","value":"`+cliPassword+`"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	realm2 := filepath.Join(t.TempDir(), "realm2.json")
	if err := os.WriteFile(realm2, []byte(`{"realm":"lab2","clients":[{"clientId":"iqm_client","publicClient":true,"directAccessGrantsEnabled":true}],
		"users":[{"username":"eve","enabled":true,"email":"eve@example.org","firstName":"Eve","lastName":"E",
		"credentials":[{"type":"password","value":"`+cliPassword+`"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	login := func(user, pw string, extra ...string) url.Values {
		f := url.Values{"client_id": {"iqm_client"}, "grant_type": {"password"}, "username": {user}, "password": {pw}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	for _, tt := range []struct {
		name   string
		args   []string
		realm  string
		form   url.Values
		status int
		want   string // error, or "" for tokens
	}{
		{"default: bad password", nil, "cortex", login("alice", "nope"), 400, "invalid_grant"},
		{"default: unknown parameter", nil, "cortex", login("alice", cliPassword, "scope", "openid"), 200, ""},
		{"--lenient still accepted", []string{"--lenient"}, "cortex", login("alice", cliPassword, "foo", "x"), 200, ""},
		{"26.5: bad password", []string{"--keycloak-version", "26.5"}, "cortex", login("alice", "nope"), 401, "invalid_grant"},
		{"--strict: unknown parameter", []string{"--strict"}, "cortex", login("alice", cliPassword, "scope", "openid"), 400, "invalid_request"},
		{"--import-realm", []string{"--import-realm", realm}, "lab", login("BOB", cliPassword), 200, ""},
		{"--import-realm with --user", []string{"--import-realm", realm}, "lab", login("alice", cliPassword), 200, ""},
		{"two realm files", []string{"--import-realm", realm, "--import-realm", realm2}, "lab2", login("eve", cliPassword), 200, ""},
	} {
		base, _, _ := startServe(t, tt.args...) // with user alice
		status, m := postForm(t, base+"/realms/"+tt.realm+"/protocol/openid-connect/token", tt.form)
		if status != tt.status || m["error"] != nil && m["error"] != tt.want || tt.want == "" && m["access_token"] == nil {
			t.Errorf("%s: %d %v", tt.name, status, m["error"])
		}
		if tt.realm == "lab" && m["expires_in"] != float64(90) {
			t.Errorf("%s: expires_in %v, want the realm file's 90", tt.name, m["expires_in"])
		}
	}
	for _, args := range [][]string{{"--import-realm", filepath.Join(t.TempDir(), "missing.json")}, {"--keycloak-version", "9"}, {"--max-sessions", "0"}} {
		code, _, errOut := runCLIEnv(t, args...)
		if code != 2 || !strings.Contains(errOut, args[0]) && !strings.Contains(errOut, "Keycloak version") {
			t.Errorf("serve %v: exit %d, %q", args, code, testsafe.Text(errOut))
		}
	}
}

func runCLIEnv(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
}

// TestServeUserFlagNeverEchoesValue: a malformed --user value (it may be a password)
// is not repeated in the error.
func TestServeUserFlagNeverEchoesValue(t *testing.T) {
	for _, tt := range []struct {
		env  env
		args []string
	}{
		{env{}, []string{"serve", "--addr", "127.0.0.1:0", "--user", "CANARY-USERFLAG-nocolon"}},
		{env{}, []string{"serve", "--addr", "127.0.0.1:0", "--user=CANARY-USERFLAG-nocolon"}},
		{env{"IQMAUTH_SERVE_USERS": "bob:pw,CANARY-USERFLAG-nocolon"}, []string{"serve", "--addr", "127.0.0.1:0"}},
	} {
		code, out, errOut := runWith(t, tt.env, tt.args...)
		if code != 2 || !strings.Contains(errOut, "name:password") {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, testsafe.Text(errOut))
		}
		if strings.Contains(out+errOut, "CANARY-USERFLAG") {
			t.Errorf("%v: output shows the value: %q", tt.args, testsafe.Text(errOut))
		}
	}
}

// TestServeCutsTricklingBodyAndIdleConnections: a body trickling in and an idle
// keep-alive connection are closed by the server's timeouts.
func TestServeCutsTricklingBodyAndIdleConnections(t *testing.T) {
	serve := exec.Command(iqmauthBin, "serve", "--addr", "127.0.0.1:0", "--read-timeout", "500ms", "--idle-timeout", "500ms")
	serve.Env = baseEnv()
	stdout, _ := serve.StdoutPipe()
	var logs lockedBuffer
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		io.Copy(io.Discard, stdout)
		serve.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v %s", err, testsafe.Text(logs.String()))
	}
	addr := strings.TrimPrefix(strings.TrimSpace(line), "http://")

	// Trickle: one byte every 100 ms of a 1000-byte body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /realms/cortex/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nc")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn) // returns when the server closes the connection
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("trickling connection open for %v", took)
	}

	// Idle: one request, then the connection is closed by the server.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /realms/cortex/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start = time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Error("data after the response")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("idle connection open for %v", took)
	}
}
