package keycloak_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// newClient is an authclient.Client for a realm of the Keycloak under test.
func newClient(t *testing.T, realm, clientID string, clock authclient.Clock) *authclient.Client {
	t.Helper()
	c, err := authclient.New(authclient.Config{ServerURL: keycloakURL, Realm: realm, ClientID: clientID, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantStatus checks an *authclient.Error's status and OAuth code without printing
// anything of the request.
func wantOAuth(t *testing.T, what string, err error, code error, statuses ...int) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("%s: got %v, want an error that is %v", what, err, code)
	}
	var ae *authclient.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s: %v is not an *authclient.Error", what, err)
	}
	for _, s := range statuses {
		if ae.StatusCode == s {
			return
		}
	}
	t.Fatalf("%s: status %d, want one of %v", what, ae.StatusCode, statuses)
}

// claim reads one claim of a JWT without verifying it.
func claim(t *testing.T, jwt, name string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT (%d parts)", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal("JWT claims are not base64url")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal("JWT claims are not JSON")
	}
	v, _ := m[name].(string)
	return v
}

// TestAuthclientAgainstKeycloak runs authclient's Client and Session against the real
// Keycloak: login, bad credentials (400 on 26.6+, 401 before: ErrInvalidGrant either
// way), unknown client, token reuse, forced refresh, logout, and with the rotating
// realm rotation, reuse detection and the session's fallback to the password grant.
func TestAuthclientAgainstKeycloak(t *testing.T) {
	needKeycloak(t)
	ctx := testContext(t)
	r := readRealm(t, cortex)
	pw := r.password(t, "alice")

	t.Run("login", func(t *testing.T) {
		c := newClient(t, cortex, client, nil)
		set, err := c.Login(ctx, "alice", pw)
		if err != nil {
			t.Fatal(err)
		}
		if set.AccessToken() == "" || !set.HasRefreshToken() {
			t.Fatal("login: no access or refresh token")
		}
		if got, want := claim(t, set.AccessToken(), "iss"), keycloakURL+"/realms/cortex"; got != want {
			t.Errorf("iss %q, want %q", testsafe.Text(got), want)
		}
		if d := set.AccessExpiry.Sub(set.ObtainedAt); d < 250*time.Second || d > 300*time.Second {
			t.Errorf("access token lifetime %v, want about the realm's 300s", d)
		}
		if d := set.RefreshExpiry.Sub(set.ObtainedAt); d < 1750*time.Second || d > 1800*time.Second {
			t.Errorf("refresh token lifetime %v, want about the realm's 1800s", d)
		}
		if err := c.Logout(ctx, set.RefreshToken()); err != nil {
			t.Fatal(err)
		}
		_, err = c.Refresh(ctx, set.RefreshToken())
		wantOAuth(t, "refresh after logout", err, api.ErrInvalidGrant, http.StatusBadRequest)
	})

	t.Run("special_characters", func(t *testing.T) {
		// A password with space + & = % / ~ é: the client's form encoding against Keycloak's.
		c := newClient(t, cortex, client, nil)
		set, err := c.Login(ctx, "dave", r.password(t, "dave"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Logout(ctx, set.RefreshToken()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("bad_credentials", func(t *testing.T) {
		c := newClient(t, cortex, client, nil)
		_, err := c.Login(ctx, "alice", "canary-wrong-password")
		wantOAuth(t, "wrong password", err, api.ErrInvalidGrant, http.StatusBadRequest, http.StatusUnauthorized)
		_, err = c.Login(ctx, "nobody", "canary-wrong-password")
		wantOAuth(t, "unknown user", err, api.ErrInvalidGrant, http.StatusBadRequest, http.StatusUnauthorized)
		if strings.Contains(err.Error(), "canary") {
			t.Error("the error text holds the password")
		}
		_, err = newClient(t, cortex, "no_such_client", nil).Login(ctx, "alice", pw)
		wantOAuth(t, "unknown client", err, api.ErrInvalidClient, http.StatusUnauthorized)
		_, err = c.Refresh(ctx, "canary-garbage-refresh-token")
		wantOAuth(t, "garbage refresh token", err, api.ErrInvalidGrant, http.StatusBadRequest)
	})

	t.Run("session", func(t *testing.T) {
		s, err := authclient.NewSession(authclient.NewGrants(newClient(t, cortex, client, nil), "alice", pw), authclient.SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		first, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Error("a fresh access token was not reused")
		}
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		refreshed, err := s.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if refreshed == first {
			t.Error("forced refresh returned the same access token")
		}
		if claim(t, refreshed, "sid") != claim(t, first, "sid") {
			t.Error("the refresh started another session")
		}
		cur, _ := s.Current()
		if err := s.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
			t.Errorf("Token after Logout: %v, want ErrLoggedOut", err)
		}
		_, err = newClient(t, cortex, client, nil).Refresh(ctx, cur.RefreshToken())
		wantOAuth(t, "refresh after the session's logout", err, api.ErrInvalidGrant, http.StatusBadRequest)
	})

	t.Run("rotation", func(t *testing.T) {
		// A fake clock for the client and the session (it starts at testtime.Epoch and
		// only the session compares with it): moving it makes the access token due.
		clock := authtest.NewClock(testtime.Epoch())
		c := newClient(t, rotating, client, clock)
		var seen []tokens.Set
		s, err := authclient.NewSession(authclient.NewGrants(c, "alice", pw), authclient.SessionOptions{
			Clock: clock, OnTokens: func(t tokens.Set) { seen = append(seen, t) }})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Token(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[0].RefreshToken() == seen[1].RefreshToken() {
			t.Fatalf("after a refresh with rotation: %d token sets, rotated: %v", len(seen), len(seen) == 2)
		}
		// Reuse of the superseded refresh token: refused, and Keycloak then ends the
		// client session, so that the newest is refused too.
		_, err = c.Refresh(ctx, seen[0].RefreshToken())
		wantOAuth(t, "reuse of a superseded refresh token", err, api.ErrInvalidGrant, http.StatusBadRequest)
		_, err = s.Refresh(ctx)
		wantOAuth(t, "the newest refresh token after reuse", err, api.ErrInvalidGrant, http.StatusBadRequest)
		// The session renews a due access token by logging in again.
		clock.Advance(10 * time.Minute)
		tok, err := s.Token(ctx)
		if err != nil {
			t.Fatalf("Token after reuse detection (password fallback): %v", err)
		}
		if claim(t, tok, "sid") == claim(t, seen[0].AccessToken(), "sid") {
			t.Error("the renewal did not start a new session")
		}
		if err := s.Logout(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// iqmauth runs the iqmauth binary; the password only through the environment.
func iqmauth(t *testing.T, ctx context.Context, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, iqmauthBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("iqmauth %s: %v", args[0], err)
	}
	return out.String(), errb.String(), code
}

// TestIqmauthAgainstKeycloak runs the iqmauth commands as processes against the real
// Keycloak: login (password from IQM_AUTH_PASSWORD), token (reused), token
// --force-refresh, status, logout, and a refused login; with the plain realm and the
// rotating one.
func TestIqmauthAgainstKeycloak(t *testing.T) {
	needKeycloak(t)
	ctx := testContext(t)
	for _, realm := range []string{cortex, rotating} {
		t.Run(realm, func(t *testing.T) {
			pw := readRealm(t, realm).password(t, "alice")
			file := filepath.Join(t.TempDir(), "tokens.json")
			env := []string{"IQM_AUTH_PASSWORD=" + pw, "IQM_TOKENS_FILE=" + file}
			secrets := []string{pw}
			check := func(what, stdout, stderr string, code, want int) {
				t.Helper()
				if code != want {
					t.Fatalf("iqmauth %s: exit %d, want %d; stderr: %s", what, code, want, scrubbed(stderr, secrets))
				}
				for _, s := range secrets {
					if strings.Contains(stderr, s) || (what != "token" && strings.Contains(stdout, s)) {
						t.Fatalf("iqmauth %s printed a secret", what)
					}
				}
			}
			out, errOut, code := iqmauth(t, ctx, env, "login", "--server", keycloakURL, "--realm", realm, "--username", "alice")
			check("login", out, errOut, code, 0)
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("tokens file after login: %v, mode %v", err, fi.Mode())
			}
			tok1, errOut, code := iqmauth(t, ctx, env, "token")
			check("token", "", errOut, code, 0)
			tok1 = strings.TrimSpace(tok1)
			if got, want := claim(t, tok1, "iss"), keycloakURL+"/realms/"+realm; got != want {
				t.Fatalf("token: iss %q, want %q", testsafe.Text(got), want)
			}
			secrets = append(secrets, tok1)
			tok2, errOut, code := iqmauth(t, ctx, env, "token")
			check("token", "", errOut, code, 0)
			if strings.TrimSpace(tok2) != tok1 {
				t.Error("token: a fresh access token was not reused")
			}
			tok3, errOut, code := iqmauth(t, ctx, env, "token", "--force-refresh")
			check("token", "", errOut, code, 0)
			tok3 = strings.TrimSpace(tok3)
			if tok3 == tok1 || claim(t, tok3, "sid") != claim(t, tok1, "sid") {
				t.Error("token --force-refresh: want a new access token of the same session")
			}
			secrets = append(secrets, tok3)
			out, errOut, code = iqmauth(t, ctx, env, "status")
			check("status", out, errOut, code, 0)
			for _, want := range []string{"realm:                 " + realm, "user:                  alice", "client:                iqm_client"} {
				if !strings.Contains(out, want) {
					t.Errorf("status: no line %q in:\n%s", want, testsafe.Text(out))
				}
			}
			out, errOut, code = iqmauth(t, ctx, env, "logout")
			check("logout", out, errOut, code, 0)
			if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("tokens file after logout: %v, want it removed", err)
			}
			_, errOut, code = iqmauth(t, ctx, env, "token")
			check("token after logout", "", errOut, code, 1)
			if !strings.Contains(errOut, "iqmauth login") {
				t.Errorf("token after logout: stderr does not say to run iqmauth login: %s", scrubbed(errOut, secrets))
			}
			bad := []string{"IQM_AUTH_PASSWORD=canary-wrong-password", "IQM_TOKENS_FILE=" + file}
			secrets = append(secrets, "canary-wrong-password")
			out, errOut, code = iqmauth(t, ctx, bad, "login", "--server", keycloakURL, "--realm", realm, "--username", "alice")
			check("login (wrong password)", out, errOut, code, 1)
			if !strings.Contains(errOut, "invalid_grant") {
				t.Errorf("login with a wrong password: stderr does not name invalid_grant: %s", scrubbed(errOut, secrets))
			}
		})
	}
}

// scrubbed removes secrets from text before a failure message shows it.
func scrubbed(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
