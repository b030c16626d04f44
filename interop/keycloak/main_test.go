// Package keycloak_test runs the module against the real Keycloak: the differential
// suite (the same requests to Keycloak and to `iqmauth serve`, answers compared field
// by field, differences allowed only with a reason in allowlist.txt) and the project's
// own client code (authclient, the iqmauth commands) against Keycloak.
//
// Keycloak's base URL comes from KEYCLOAK_URL (`.ci/keycloak start` prints it; the
// realms to import are realm-cortex.json, realm-cortex-rotating.json and
// realm-cortex-short.json beside this file: realmFiles). Without it the tests skip, unless AUTHSCHEMA_REQUIRE_KEYCLOAK=1, where they fail.
package keycloak_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const (
	envURL     = "KEYCLOAK_URL"
	envRequire = "AUTHSCHEMA_REQUIRE_KEYCLOAK"
	// envIqmauth names an iqmauth binary to test instead of building this one.
	envIqmauth = "AUTHSCHEMA_IQMAUTH"
	// maxBody bounds every answer read.
	maxBody = 1 << 20
)

var (
	keycloakURL string // KEYCLOAK_URL, without a trailing slash
	iqmauthBin  string // the iqmauth binary TestMain built
	setupErr    error  // why TestMain could not build iqmauth
)

// realmFiles are the committed realm files, by realm name.
var realmFiles = map[string]string{
	"cortex":          "realm-cortex.json",
	"cortex-rotating": "realm-cortex-rotating.json",
	"cortex-short":    "realm-cortex-short.json", // lifetimes of seconds, for the expiry cases
}

func TestMain(m *testing.M) {
	keycloakURL = strings.TrimRight(os.Getenv(envURL), "/")
	if keycloakURL == "" {
		os.Exit(m.Run()) // every test skips (or fails when Keycloak is required)
	}
	dir, err := os.MkdirTemp("", "authschema-keycloak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	iqmauthBin = filepath.Join(dir, "iqmauth")
	if runtime.GOOS == "windows" {
		iqmauthBin += ".exe"
	}
	if bin := os.Getenv(envIqmauth); bin != "" {
		iqmauthBin = bin // another build of iqmauth, say main's, to measure it
	} else {
		cmd := exec.Command("go", "build", "-o", iqmauthBin, "github.com/iqm-finland/authschema/cmd/iqmauth")
		if out, err := cmd.CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("go build ./cmd/iqmauth: %v\n%s", err, out)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needKeycloak skips the test without KEYCLOAK_URL (fails when AUTHSCHEMA_REQUIRE_KEYCLOAK=1).
func needKeycloak(t *testing.T) {
	t.Helper()
	if keycloakURL == "" {
		msg := "KEYCLOAK_URL is not set: start Keycloak with `.ci/keycloak start` (or point KEYCLOAK_URL at one that imported interop/keycloak/realm-*.json)"
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg + ", and " + envRequire + "=1 requires it")
		}
		t.Skip(msg)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// realm is one realm file's users and clients, as the tests need them.
type realm struct {
	Realm   string `json:"realm"`
	Clients []struct {
		ClientID string `json:"clientId"`
	} `json:"clients"`
	Users []struct {
		Username    string `json:"username"`
		Enabled     bool   `json:"enabled"`
		Credentials []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"credentials"`
	} `json:"users"`
}

func readRealm(t testing.TB, name string) realm {
	t.Helper()
	data, err := os.ReadFile(realmFiles[name])
	if err != nil {
		t.Fatal(err)
	}
	var r realm
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", realmFiles[name], err)
	}
	return r
}

// password is the password of a user of the realm file (canary values, committed).
func (r realm) password(t testing.TB, user string) string {
	t.Helper()
	for _, u := range r.Users {
		if u.Username == user {
			for _, c := range u.Credentials {
				if c.Type == "password" {
					return c.Value
				}
			}
		}
	}
	t.Fatalf("realm %s has no password for user %s", r.Realm, user)
	return ""
}

// serve is a running `iqmauth serve` process.
type serve struct {
	URL string
	cmd *exec.Cmd
}

// serveHelp is `iqmauth serve --help`: what this version of serve can be told.
func serveHelp(t testing.TB) string {
	t.Helper()
	out, _ := exec.Command(iqmauthBin, "serve", "--help").CombinedOutput()
	return string(out)
}

// startServe starts `iqmauth serve` on a free loopback port for one realm file: with
// --import-realm when this serve has it, else with the equivalent flags (users,
// clients, lifetimes, rotation). It is stopped when the test ends.
func startServe(t testing.TB, realmName string) *serve {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0"}
	var env []string
	help := serveHelp(t)
	// The Keycloak release under test (.ci/keycloak exports it), as major.minor.
	if v := os.Getenv("KEYCLOAK_VERSION"); v != "" && strings.Contains(help, "keycloak-version") {
		if parts := strings.Split(v, "."); len(parts) >= 2 {
			v = parts[0] + "." + parts[1]
		}
		args = append(args, "--keycloak-version", v)
	}
	if strings.Contains(help, "import-realm") {
		args = append(args, "--import-realm", realmFiles[realmName])
	} else {
		r := readRealm(t, realmName)
		var full struct {
			AccessTokenLifespan   int  `json:"accessTokenLifespan"`
			SSOSessionIdleTimeout int  `json:"ssoSessionIdleTimeout"`
			RevokeRefreshToken    bool `json:"revokeRefreshToken"`
		}
		data, _ := os.ReadFile(realmFiles[realmName])
		_ = json.Unmarshal(data, &full)
		args = append(args, "--realm", r.Realm,
			"--access-ttl", fmt.Sprintf("%ds", full.AccessTokenLifespan),
			"--refresh-ttl", fmt.Sprintf("%ds", full.SSOSessionIdleTimeout))
		for _, c := range r.Clients {
			args = append(args, "--client", c.ClientID)
		}
		if full.RevokeRefreshToken {
			args = append(args, "--rotation")
		}
		var users []string
		for _, u := range r.Users {
			if u.Enabled { // serve has no disabled users on its command line
				users = append(users, u.Username+":"+r.password(t, u.Username))
			}
		}
		env = append(env, "IQMAUTH_SERVE_USERS="+strings.Join(users, ","))
	}
	cmd := exec.Command(iqmauthBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = io.Discard // its request log is redacted, but the table is what we print
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serve{cmd: cmd}
	t.Cleanup(s.stop)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		if !ok || !strings.HasPrefix(l, "http://127.0.0.1:") {
			t.Fatalf("iqmauth %s: first stdout line %q is not its URL", strings.Join(args[:1], " "), l)
		}
		s.URL = l
	case <-time.After(30 * time.Second):
		t.Fatal("iqmauth serve printed no URL within 30s")
	}
	return s
}

func (s *serve) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// httpClient never follows redirects (an answer is compared as it is).
var httpClient = &http.Client{
	Timeout:       60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// readAll reads at most maxBody bytes of an answer.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err == nil && len(data) > maxBody {
		err = errors.New("answer over 1 MiB")
	}
	return data, err
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
