package main

// Tests of how the command reads and rewrites the members of a tokens file that it
// does not expect: names that differ from ours only in case, and members of another
// type (issue 12, findings 2 and 15). Each failed before its fix.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// malloryJWT is an unsigned JWT of another user, as a planted file would hold.
func malloryJWT() string {
	payload := fmt.Sprintf(`{"exp":%d,"preferred_username":"mallory"}`, time.Now().Add(time.Hour).Unix())
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

// fileKeys lists the top-level member names of a JSON file, in order.
func fileKeys(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
	}
	return keys
}

// TestCaseFoldedMembersShadowNothing: a tokens file with AUTH_SERVER_URL and
// Access_Token beside our members (another user's server and token) is rewritten by a
// fresh login without them, and whatever is left in the file, token, status and a
// refresh use our server and our token: the other server (a real listener on
// loopback) gets nothing.
func TestCaseFoldedMembersShadowNothing(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	attacker, seen := proxyRecorder(t)
	file := filepath.Join(t.TempDir(), "tokens.json")
	planted := fmt.Sprintf(`{"auth_server_url": "x", "AUTH_SERVER_URL": %q, "access_token": "x", "Access_Token": %q, "Realm": "evil"}`,
		attacker.URL, malloryJWT())
	if err := os.WriteFile(file, []byte(planted), 0o600); err != nil {
		t.Fatal(err)
	}
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: exit %d, %q", code, testsafe.Text(errOut))
	}
	for _, k := range fileKeys(t, file) {
		if k == "AUTH_SERVER_URL" || k == "Access_Token" || k == "Realm" {
			t.Errorf("login kept the member %s", k)
		}
	}
	// The same file planted again after the login: reading takes our members only.
	var m map[string]json.RawMessage
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	data = append(data[:len(strings.TrimRight(string(data), "}\n"))],
		fmt.Sprintf(`, "AUTH_SERVER_URL": %q, "Access_Token": %q, "REFRESH_TOKEN": "CANARY-theirs"}`, attacker.URL, malloryJWT())...)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	envNoPassword := baseEnv("IQM_TOKENS_FILE=" + file)
	code, out, errOut := runBin(t, envNoPassword, "", "status")
	if code != 0 || !strings.Contains(out, "user:                  alice") || strings.Contains(out, "mallory") || strings.Contains(out, "39999") {
		t.Errorf("status: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	code, out, errOut = runBin(t, envNoPassword, "", "token")
	if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); code != 0 || err != nil || out != strings.Trim(string(m["access_token"]), `"`)+"\n" {
		t.Errorf("token: exit %d, %v, stderr %q", code, err, testsafe.Text(errOut))
	}
	code, out, errOut = runBin(t, envNoPassword, "", "token", "--force-refresh")
	if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); code != 0 || err != nil {
		t.Errorf("token --force-refresh: exit %d, %v, stderr %q", code, err, testsafe.Text(errOut))
	}
	if s := seen(); len(s) != 0 {
		t.Errorf("the other server got %d requests", len(s))
	}
	for _, k := range fileKeys(t, file) {
		if k == "AUTH_SERVER_URL" || k == "Access_Token" || k == "REFRESH_TOKEN" {
			t.Errorf("the refresh kept the member %s", k)
		}
	}
}

// TestForeignTypesDoNotWedgeTheFile: a pid that is not an integer, a timestamp and a
// refresh_status of another type leave login, status, token and logout working, and
// the pid is kept byte for byte; a refresh_token of another type is an error that
// names the member, not its value.
func TestForeignTypesDoNotWedgeTheFile(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(file, []byte(`{"pid": "4242", "access_token": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: exit %d, %q", code, testsafe.Text(errOut))
	}
	var m map[string]json.RawMessage
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["timestamp"], m["refresh_status"] = json.RawMessage(`17`), json.RawMessage(`["SUCCESS"]`)
	writeJSON(t, file, m)
	for _, args := range [][]string{{"status"}, {"token"}, {"token", "--force-refresh"}} {
		if code, out, errOut := runBin(t, env, "", args...); code != 0 || out == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, testsafe.Text(errOut))
		}
	}
	data, _ = os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil || string(m["pid"]) != `"4242"` {
		t.Errorf("pid now %s (%v)", m["pid"], err)
	}
	refresh := m["refresh_token"]
	m["refresh_token"] = json.RawMessage(`{"CANARY-RT": 1}`)
	writeJSON(t, file, m)
	code, _, errOut := runBin(t, env, "", "token", "--force-refresh")
	if code != 1 || !strings.Contains(errOut, "refresh_token must be a string, not an object") || strings.Contains(errOut, "CANARY") {
		t.Errorf("refresh_token an object: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	m["refresh_token"] = refresh
	writeJSON(t, file, m)
	if code, out, errOut := runBin(t, env, "", "logout"); code != 0 || !strings.Contains(out, "logged out") {
		t.Errorf("logout: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if srv.ActiveSessions() != 0 {
		t.Error("session still active after logout")
	}
}
