package authtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
)

// expiryServer is a server on a fake clock with Keycloak-short lifetimes (access token
// 2 s, SSO session idle 6 s, as interop/keycloak/realm-cortex-short.json), and helpers
// that send its requests and move its clock to a time a token's claims name.
type expiryServer struct {
	t     *testing.T
	srv   *authtest.Server
	clock *authtest.Clock
	oidc  string
}

func newExpiryServer(t *testing.T, opts ...authtest.Option) *expiryServer {
	clock := authtest.NewClock(t0)
	opts = append([]authtest.Option{authtest.WithClock(clock), authtest.WithUser("alice", "pw"),
		authtest.WithAccessTTL(2 * time.Second), authtest.WithRefreshTTL(6 * time.Second)}, opts...)
	srv := authtest.Start(t, opts...)
	return &expiryServer{t: t, srv: srv, clock: clock, oidc: srv.URL + "/realms/cortex/protocol/openid-connect/"}
}

// login returns a password grant's access and refresh tokens.
func (e *expiryServer) login(extra ...string) (access, refresh string) {
	e.t.Helper()
	status, _, m, _ := call(e.t, "POST", tokenURL(e.srv, "cortex"), passwordForm("alice", "pw", extra...), nil)
	if status != http.StatusOK {
		e.t.Fatalf("login: %d", status)
	}
	return m["access_token"].(string), m["refresh_token"].(string)
}

// claim is a numeric claim (exp, iat) of a token, in Unix seconds.
func (e *expiryServer) claim(token, name string) int64 {
	e.t.Helper()
	_, c := jwtParts(e.t, token)
	v, ok := c[name].(float64)
	if !ok {
		e.t.Fatalf("no numeric %s claim", name)
	}
	return int64(v)
}

// at sets the clock to d after the start of the second sec (a token's exp or iat).
func (e *expiryServer) at(sec int64, d time.Duration) { e.clock.Set(time.Unix(sec, 0).Add(d)) }

// refresh is a refresh grant: its status, error_description, and the new refresh token.
func (e *expiryServer) refresh(rt string) (int, string, string) {
	e.t.Helper()
	status, _, m, _ := call(e.t, "POST", tokenURL(e.srv, "cortex"), refreshForm(rt), nil)
	desc, _ := m["error_description"].(string)
	next, _ := m["refresh_token"].(string)
	return status, desc, next
}

// userinfo is the userinfo endpoint's status and WWW-Authenticate for an access token.
func (e *expiryServer) userinfo(at string) (int, string) {
	e.t.Helper()
	status, hdr, _, _ := call(e.t, "GET", e.oidc+"userinfo", nil, map[string]string{"Authorization": "Bearer " + at})
	return status, hdr.Get("WWW-Authenticate")
}

// revoke is the revocation endpoint's status, error and body length for a token.
func (e *expiryServer) revoke(token string) (int, string, int) {
	e.t.Helper()
	status, _, m, body := call(e.t, "POST", e.oidc+"revoke", url.Values{"client_id": {"iqm_client"}, "token": {token}}, nil)
	code, _ := m["error"].(string)
	return status, code, len(body)
}

func (e *expiryServer) logout(rt string) int {
	e.t.Helper()
	status, _, _, _ := call(e.t, "POST", e.oidc+"logout", url.Values{"client_id": {"iqm_client"}, "refresh_token": {rt}}, nil)
	return status
}

// TestExpiryAsKeycloak: tokens and sessions run out as Keycloak 26.7.3's do (measured
// with interop/keycloak/realm-cortex-short.json): a token is active through the second
// its exp names and refused a second later; a session idles out at the exp of its last
// refresh token, so that within that second a refresh is "Session not active" and
// after it "Token is not active"; logout takes an expired refresh token (204) and ends
// its session when that still lives; revocation checks no exp, only the session.
func TestExpiryAsKeycloak(t *testing.T) {
	e := newExpiryServer(t)
	at1, rt1 := e.login("scope", "openid")
	_, idle := e.login()       // left to idle out
	_, idleRevoke := e.login() // left to idle out, then revoked
	aexp, rexp := e.claim(at1, "exp"), e.claim(rt1, "exp")

	e.at(aexp, 900*time.Millisecond)
	if status, _ := e.userinfo(at1); status != http.StatusOK {
		t.Errorf("userinfo within the second of the access token's exp: %d, want 200", status)
	}
	e.at(aexp+1, 0)
	if status, www := e.userinfo(at1); status != http.StatusUnauthorized ||
		!strings.Contains(www, `error="invalid_token", error_description="Token verification failed"`) {
		t.Errorf("userinfo with an expired access token: %d %q", status, www)
	}
	if status, code, n := e.revoke(at1); status != http.StatusOK || code != "" || n != 0 {
		t.Errorf("revoke of an expired access token of a live session: %d %q (%d bytes), want 200 and no body", status, code, n)
	}
	status, desc, newest := e.refresh(rt1) // the access token expired, the refresh token has not
	if status != http.StatusOK {
		t.Fatalf("refresh after the access token expired: %d %q", status, desc)
	}

	e.at(rexp, 500*time.Millisecond)
	if status, desc, _ := e.refresh(idle); status != http.StatusBadRequest || desc != "Session not active" {
		t.Errorf("refresh within the second of exp, session idle since: %d %q, want 400 Session not active", status, desc)
	}
	e.at(rexp+1, 0)
	for name, rt := range map[string]string{"idled out": idle, "kept alive by a refresh": rt1} {
		if status, desc, _ := e.refresh(rt); status != http.StatusBadRequest || desc != "Token is not active" {
			t.Errorf("refresh a second after exp, session %s: %d %q, want 400 Token is not active", name, status, desc)
		}
	}
	if status, code, n := e.revoke(idleRevoke); status != http.StatusOK || code != "invalid_token" || n == 0 {
		t.Errorf("revoke of a refresh token of an idled-out session: %d %q, want 200 invalid_token", status, code)
	}
	if status := e.logout(idle); status != http.StatusNoContent {
		t.Errorf("logout with the refresh token of an idled-out session: %d, want 204", status)
	}
	if status := e.logout(rt1); status != http.StatusNoContent {
		t.Errorf("logout with an expired refresh token of a live session: %d, want 204", status)
	}
	if status, desc, _ := e.refresh(newest); status != http.StatusBadRequest || desc != "Session not active" {
		t.Errorf("refresh with the newest token after logout with an expired one: %d %q, want 400 Session not active", status, desc)
	}
	if status, code, _ := e.revoke(rt1); status != http.StatusOK || code != "invalid_token" {
		t.Errorf("revoke of an expired refresh token of an ended session: %d %q, want 200 invalid_token", status, code)
	}
}

// TestRevokedAccessTokenStaysRefused: a revoked access token is refused through the
// second of its exp, in which it would otherwise still be active, however often the
// server prunes what it keeps.
func TestRevokedAccessTokenStaysRefused(t *testing.T) {
	e := newExpiryServer(t, authtest.WithRefreshTTL(time.Hour))
	at, rt := e.login("scope", "openid")
	if status, _, n := e.revoke(at); status != http.StatusOK || n != 0 {
		t.Fatalf("revoke: %d", status)
	}
	e.at(e.claim(at, "exp"), 500*time.Millisecond)
	_ = e.srv.ActiveSessions() // prunes
	if status, _ := e.userinfo(at); status != http.StatusUnauthorized {
		t.Errorf("revoked access token within the second of its exp: %d, want 401", status)
	}
	if status, desc, _ := e.refresh(rt); status != http.StatusOK {
		t.Errorf("the session survives its access token's revocation: %d %q", status, desc)
	}
}

// TestExpiredRefreshTokenRevokedEndsSession: revoking an expired refresh token of a
// session that a later refresh kept alive ends that session (Keycloak 26.7.3, measured).
func TestExpiredRefreshTokenRevokedEndsSession(t *testing.T) {
	e := newExpiryServer(t)
	_, rt := e.login()
	rexp := e.claim(rt, "exp")
	e.at(rexp-1, 0)
	status, desc, newest := e.refresh(rt) // keeps the session alive past rt's exp
	if status != http.StatusOK {
		t.Fatalf("refresh before exp: %d %q", status, desc)
	}
	e.at(rexp+1, 0)
	if status, code, n := e.revoke(rt); status != http.StatusOK || code != "" || n != 0 {
		t.Errorf("revoke of an expired refresh token of a live session: %d %q (%d bytes), want 200 and no body", status, code, n)
	}
	if status, desc, _ := e.refresh(newest); status != http.StatusBadRequest || desc != "Session not active" {
		t.Errorf("newest after the revocation: %d %q, want 400 Session not active", status, desc)
	}
}

// TestReuseAsKeycloak: under rotation, Keycloak 26.7.3 tells a reused refresh token
// from a stale one by which token was used last, not by the clock alone (measured):
// the token last used, back however late, is "Maximum allowed refresh token reuse
// exceeded"; an older one, issued in an earlier second than the last refresh, is
// "Stale token"; an older one back within the second of the last refresh is accepted.
// Every refresh token of a session carries the session's reuse_id.
func TestReuseAsKeycloak(t *testing.T) {
	e := newExpiryServer(t, authtest.WithRotation(), authtest.WithRefreshTTL(time.Hour), authtest.WithAccessTTL(time.Hour))
	const exceeded, stale, gone = "Maximum allowed refresh token reuse exceeded", "Stale token", "Session doesn't have required client"
	ok := func(what, rt string) string {
		t.Helper()
		status, desc, next := e.refresh(rt)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %q", what, status, desc)
		}
		return next
	}
	refused := func(what, rt, want string) {
		t.Helper()
		if status, desc, _ := e.refresh(rt); status != http.StatusBadRequest || desc != want {
			t.Errorf("%s: %d %q, want 400 %q", what, status, desc, want)
		}
	}

	// Used a second after it was issued, then back two seconds later.
	_, r1 := e.login()
	e.at(e.claim(r1, "iat")+1, 0)
	r2 := ok("first use a second later", r1)
	e.at(e.claim(r1, "iat")+3, 0)
	refused("the token last used, back two seconds later", r1, exceeded)
	refused("newest after the reuse", r2, gone)

	// Superseded by a token used a second later.
	_, r1 = e.login()
	r2 = ok("first use", r1)
	e.at(e.claim(r1, "iat")+1, 0)
	r3 := ok("second use a second later", r2)
	refused("two rotations old", r1, stale)
	refused("newest after the stale token", r3, gone)

	// All within one second: the superseded token is taken back.
	_, r1 = e.login()
	r2 = ok("first use", r1)
	r3 = ok("second use", r2)
	r4 := ok("two rotations old, within the second of the last refresh", r1)
	ok("the newest but one after that", r3)
	_, c1 := jwtParts(t, r1)
	for i, rt := range []string{r2, r3, r4} {
		if _, c := jwtParts(t, rt); c["reuse_id"] == nil || c["reuse_id"] != c1["reuse_id"] {
			t.Errorf("refresh token %d of the session: reuse_id differs from the login's", i+2)
		}
	}
}
