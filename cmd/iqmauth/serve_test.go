package main

import (
	"encoding/json"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
