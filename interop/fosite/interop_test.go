package fositeinterop_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	fositeinterop "github.com/iqm-finland/authschema/interop/fosite"
)

const (
	user   = "alice"
	canary = "CANARY-FOSITE-PW"
	// accessTTL is fosite's access-token lifespan here; the session's refresh margin
	// is authclient.DefaultRefreshMargin (60 s).
	accessTTL = 10 * time.Minute
	// childEnv marks the copy of this test binary that TestNoSecretsInOutput runs.
	childEnv = "FOSITE_INTEROP_CHILD"
)

type fixture struct {
	srv   *fositeinterop.Server
	clock *authtest.Clock
	sess  *authclient.Session
}

func newServer(t *testing.T) *fositeinterop.Server {
	t.Helper()
	srv := fositeinterop.New(fositeinterop.Config{
		Users:               map[string]string{user: canary},
		AccessTokenLifespan: accessTTL,
	})
	t.Cleanup(srv.Close)
	return srv
}

// setup is what a test may change about a session before it is made.
type setup struct {
	clientID, username, password string
	tokens                       *tokens.Set
}

// newSession makes a session on srv with a fake clock reading the real time (fosite
// runs on the real clock); mod adjusts the setup.
func newSession(t *testing.T, srv *fositeinterop.Server, mod func(*setup)) (*authclient.Session, *authtest.Clock) {
	t.Helper()
	clk := authtest.NewClock(time.Now())
	st := setup{username: user, password: canary}
	if mod != nil {
		mod(&st)
	}
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, ClientID: st.clientID, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, st.username, st.password), authclient.SessionOptions{Tokens: st.tokens, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, clk
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := newServer(t)
	s, clk := newSession(t, srv, nil)
	return &fixture{srv: srv, clock: clk, sess: s}
}

// exchanges returns the server's exchanges from index from on, as strings.
func exchanges(srv *fositeinterop.Server, from int) []string {
	var out []string
	for _, e := range srv.Exchanges()[from:] {
		out = append(out, e.String())
	}
	return out
}

func wantExchanges(t *testing.T, srv *fositeinterop.Server, from int, want ...string) {
	t.Helper()
	if got := exchanges(srv, from); !slices.Equal(got, want) {
		t.Fatalf("exchanges from #%d = %q, want %q", from, got, want)
	}
}

// lastHint is what fosite added to the standard description of the last error it
// answered: its hint, which says why. (The client's Error.OAuth.Description is cut short
// before it.)
func lastHint(srv *fositeinterop.Server) string {
	ex := srv.Exchanges()
	e := ex[len(ex)-1]
	for _, std := range []*fosite.RFC6749Error{fosite.ErrInvalidGrant, fosite.ErrInvalidClient, fosite.ErrInvalidRequest} {
		if e.Error == std.ErrorField {
			return strings.TrimSpace(strings.TrimPrefix(e.Description, std.DescriptionField))
		}
	}
	return e.Description
}

// logRefusal logs what fosite answered, without any secret.
func logRefusal(t *testing.T, what string, ae *authclient.Error, srv *fositeinterop.Server) {
	t.Helper()
	code := ""
	if ae.OAuth != nil {
		code = ae.OAuth.Code
	}
	t.Logf("%s: %d %s (%s)", what, ae.StatusCode, code, lastHint(srv))
}

func token(t *testing.T, s *authclient.Session) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func current(t *testing.T, s *authclient.Session) tokens.Set {
	t.Helper()
	cur, ok := s.Current()
	if !ok {
		t.Fatal("no current tokens")
	}
	return cur
}

// oauthError checks that err is an *authclient.Error with status and code, and that none of
// the secrets shows in it.
func oauthError(t *testing.T, err error, status int, code error, secrets ...string) *authclient.Error {
	t.Helper()
	var ae *authclient.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *authclient.Error", err, err)
	}
	if !errors.Is(err, code) || ae.StatusCode != status {
		t.Fatalf("error = %v, want status %d and %v", err, status, code)
	}
	noSecrets(t, []any{err, ae}, secrets...)
	return ae
}

// noSecrets fails when a secret shows in any fmt form of the values.
func noSecrets(t *testing.T, values []any, secrets ...string) {
	t.Helper()
	secrets = append(secrets, canary)
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			if e, ok := v.(error); ok && verb == "%v" {
				out += e.Error()
			}
			for _, sec := range secrets {
				if sec != "" && strings.Contains(out, sec) {
					t.Fatalf("a secret shows in the %s form of a %T", verb, v)
				}
			}
		}
	}
}

// Scenario 1: the first Token logs in with the password grant; the token is one fosite
// knows; the next Token reuses it without a request.
func TestLoginAndReuse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	tok := token(t, f.sess)
	wantExchanges(t, f.srv, 0, "token password 200")
	if !strings.HasPrefix(tok, "ory_at_") {
		t.Error("access token is not a fosite HMAC access token")
	}
	if !f.srv.Active(ctx, tok, fosite.AccessToken) {
		t.Fatal("fosite does not know the access token as active")
	}

	cur := current(t, f.sess)
	if cur.AccessToken() != tok || !cur.HasRefreshToken() {
		t.Fatal("current tokens are not those of the login, or have no refresh token")
	}
	if !strings.HasPrefix(cur.RefreshToken(), "ory_rt_") || !f.srv.Active(ctx, cur.RefreshToken(), fosite.RefreshToken) {
		t.Error("refresh token is not an active fosite refresh token")
	}
	// fosite sends expires_in (its lifespan, rounded to the second) but no
	// refresh_expires_in, and its tokens are opaque: the refresh expiry is unknown.
	if d := cur.AccessExpiry.Sub(cur.ObtainedAt); d < accessTTL-2*time.Second || d > accessTTL+time.Second {
		t.Errorf("access token lifetime %v, want about %v", d, accessTTL)
	}
	if !cur.RefreshExpiry.IsZero() || cur.RefreshNeverExpires {
		t.Errorf("refresh expiry = %v (never expires %v), want unknown", cur.RefreshExpiry, cur.RefreshNeverExpires)
	}
	if cur.TokenType != "bearer" || cur.Scope != "offline" {
		t.Errorf("token_type %q scope %q, want bearer and offline", cur.TokenType, cur.Scope)
	}

	if again := token(t, f.sess); again != tok {
		t.Fatal("second Token returned a different token")
	}
	f.clock.Advance(accessTTL / 2)
	if again := token(t, f.sess); again != tok {
		t.Fatal("Token halfway through the lifetime returned a different token")
	}
	wantExchanges(t, f.srv, 0, "token password 200")
	noSecrets(t, []any{f.sess, cur}, tok, cur.RefreshToken())
}

// A wrong password and an unknown client: what fosite answers and how the client
// maps it.
func TestLoginRefused(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()

	const wrong = "WRONG-CANARY-PW"
	s, _ := newSession(t, srv, func(c *setup) { c.password = wrong })
	_, err := s.Token(ctx)
	ae := oauthError(t, err, 400, api.ErrInvalidGrant, wrong)
	logRefusal(t, "wrong password", ae, srv)
	if h := lastHint(srv); h != "Unable to authenticate the provided username and password credentials." {
		t.Errorf("hint %q", h)
	}
	// The failure is remembered: the next Token waits out the backoff, sending nothing.
	_, err = s.Token(ctx)
	var be *authclient.BackoffError
	if !errors.As(err, &be) || !errors.Is(err, api.ErrInvalidGrant) {
		t.Fatalf("second Token: %v, want a BackoffError wrapping invalid_grant", err)
	}
	wantExchanges(t, srv, 0, "token password 400 invalid_grant")

	s, _ = newSession(t, srv, func(c *setup) { c.username = "mallory" })
	_, err = s.Token(ctx)
	oauthError(t, err, 400, api.ErrInvalidGrant)

	s, _ = newSession(t, srv, func(c *setup) { c.clientID = "other_client" })
	_, err = s.Token(ctx)
	ae = oauthError(t, err, 401, api.ErrInvalidClient)
	logRefusal(t, "unknown client", ae, srv)
	wantExchanges(t, srv, 1, "token password 400 invalid_grant", "token password 401 invalid_client")
}

// Scenario 2: a forced refresh, then one the session decides on when the clock nears
// the access token's expiry.
func TestRefresh(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	tok := token(t, f.sess)
	first := current(t, f.sess)
	tk, err := f.sess.Refresh(ctx)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tk.AccessToken() == tok || tk.RefreshToken() == first.RefreshToken() || !tk.HasRefreshToken() {
		t.Fatal("refresh did not give a new access token and a new refresh token")
	}
	if tk.Scope != "offline" {
		t.Errorf("scope after refresh %q, want offline", tk.Scope)
	}
	if got := token(t, f.sess); got != tk.AccessToken() {
		t.Fatal("Token does not return the refreshed access token")
	}
	if !f.srv.Active(ctx, tk.AccessToken(), fosite.AccessToken) {
		t.Fatal("refreshed access token is not active")
	}
	// fosite's rotation retires the old refresh token and revokes the old access token.
	if f.srv.Active(ctx, tok, fosite.AccessToken) || f.srv.Active(ctx, first.RefreshToken(), fosite.RefreshToken) {
		t.Error("tokens of the login are still active after the refresh")
	}
	wantExchanges(t, f.srv, 0, "token password 200", "token refresh_token 200")

	// Just outside the margin: still fresh.
	f.clock.Set(tk.AccessExpiry.Add(-authclient.DefaultRefreshMargin - time.Second))
	if got := token(t, f.sess); got != tk.AccessToken() {
		t.Fatal("token renewed before the margin")
	}
	wantExchanges(t, f.srv, 2)
	// Inside the margin: the session refreshes (the refresh expiry is unknown, so the
	// refresh token counts as usable).
	f.clock.Set(tk.AccessExpiry.Add(-authclient.DefaultRefreshMargin + time.Second))
	next := token(t, f.sess)
	if next == tk.AccessToken() || !f.srv.Active(ctx, next, fosite.AccessToken) {
		t.Fatal("Token in the margin did not give a new active access token")
	}
	if again := token(t, f.sess); again != next {
		t.Fatal("Token after the refresh did not reuse the new token")
	}
	wantExchanges(t, f.srv, 2, "token refresh_token 200")
}

// Callers that find the token in the margin at the same time share one refresh:
// fosite sees one refresh grant, and nobody gets a rotated-out token.
func TestConcurrentTokenCallsShareOneRefresh(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	old := token(t, f.sess)
	f.clock.Set(current(t, f.sess).AccessExpiry.Add(-authclient.DefaultRefreshMargin))
	const n = 16
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = f.sess.Token(ctx) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Token #%d: %v", i, errs[i])
		}
		if got[i] == old || got[i] != got[0] {
			t.Fatalf("Token #%d did not return the one refreshed token", i)
		}
	}
	if !f.srv.Active(ctx, got[0], fosite.AccessToken) {
		t.Fatal("the shared token is not active")
	}
	wantExchanges(t, f.srv, 0, "token password 200", "token refresh_token 200")
}

// Scenario 3: a rotated-out refresh token is refused, and fosite then revokes the
// whole family.
func TestRefreshTokenReuse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	token(t, f.sess)
	first := current(t, f.sess)
	second, err := f.sess.Refresh(ctx)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}

	_, err = f.sess.Source().(*authclient.Grants).Client().Refresh(ctx, first.RefreshToken())
	ae := oauthError(t, err, 400, api.ErrInvalidGrant, first.RefreshToken())
	logRefusal(t, "reused refresh token", ae, f.srv)
	if h := lastHint(f.srv); h != "The refresh token was already used." {
		t.Errorf("hint %q", h)
	}

	// Reuse detection revoked the tokens the refresh gave.
	if f.srv.Active(ctx, second.AccessToken(), fosite.AccessToken) || f.srv.Active(ctx, second.RefreshToken(), fosite.RefreshToken) {
		t.Fatal("the newer tokens of the family survived the reuse")
	}
	_, err = f.sess.Source().(*authclient.Grants).Client().Refresh(ctx, second.RefreshToken())
	ae = oauthError(t, err, 400, api.ErrInvalidGrant, second.RefreshToken())
	logRefusal(t, "refresh token revoked by reuse detection", ae, f.srv)
	if h := lastHint(f.srv); h != "The refresh token was already used." {
		t.Errorf("hint %q", h)
	}

	// fosite deleted the reused token's record: a second reuse is an unknown token.
	_, err = f.sess.Source().(*authclient.Grants).Client().Refresh(ctx, first.RefreshToken())
	ae = oauthError(t, err, 400, api.ErrInvalidGrant)
	logRefusal(t, "reused refresh token, second time", ae, f.srv)
	if h := lastHint(f.srv); h != "The refresh token is malformed or not valid." {
		t.Errorf("hint %q", h)
	}
	wantExchanges(t, f.srv, 0, "token password 200", "token refresh_token 200",
		"token refresh_token 400 invalid_grant", "token refresh_token 400 invalid_grant", "token refresh_token 400 invalid_grant")
}

// Scenario 3, continued: a session holding a spent refresh token falls back to the
// password grant once its access token needs renewal; so does the session whose
// tokens the reuse revoked.
func TestSpentRefreshTokenFallsBackToPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	token(t, f.sess)
	spent := current(t, f.sess)
	rotated, err := f.sess.Refresh(ctx)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	n := len(f.srv.Exchanges())

	// Another session given the spent tokens, and the credentials.
	other, clk := newSession(t, f.srv, func(c *setup) { c.tokens = &spent })
	if got := token(t, other); got != spent.AccessToken() {
		t.Fatal("a session given fresh tokens did not use them")
	}
	wantExchanges(t, f.srv, n)
	clk.Set(spent.AccessExpiry.Add(-authclient.DefaultRefreshMargin)) // within the margin by the wall clock
	tok := token(t, other)
	wantExchanges(t, f.srv, n, "token refresh_token 400 invalid_grant", "token password 200")
	if tok == spent.AccessToken() || !f.srv.Active(ctx, tok, fosite.AccessToken) {
		t.Fatal("the fallback login did not give a new active access token")
	}

	// The reuse revoked the first session's rotated tokens; when its access token
	// needs renewal, it too falls back to the password grant.
	if f.srv.Active(ctx, rotated.AccessToken(), fosite.AccessToken) {
		t.Fatal("reuse detection left the rotated access token active")
	}
	f.clock.Set(rotated.AccessExpiry.Add(-authclient.DefaultRefreshMargin))
	tok = token(t, f.sess)
	wantExchanges(t, f.srv, n+2, "token refresh_token 400 invalid_grant", "token password 200")
	if !f.srv.Active(ctx, tok, fosite.AccessToken) {
		t.Fatal("the first session's new access token is not active")
	}
}

// Without a password there is no fallback: the invalid_grant reaches the caller, and
// the next Token waits out the backoff without a request.
func TestSpentRefreshTokenWithoutPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	token(t, f.sess)
	spent := current(t, f.sess)
	if _, err := f.sess.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	n := len(f.srv.Exchanges())
	clk := authtest.NewClock(spent.AccessExpiry) // the access token needs renewal at once
	c, err := authclient.New(authclient.Config{ServerURL: f.srv.URL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, "", ""), authclient.SessionOptions{Tokens: &spent, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Token(ctx)
	oauthError(t, err, 400, api.ErrInvalidGrant, spent.RefreshToken(), spent.AccessToken())
	_, err = s.Token(ctx)
	var be *authclient.BackoffError
	if !errors.As(err, &be) {
		t.Fatalf("second Token: %v, want a BackoffError", err)
	}
	wantExchanges(t, f.srv, n, "token refresh_token 400 invalid_grant")
}

// Scenario 4: logout revokes the refresh token (and its access token) through fosite's
// RFC 7009 revocation; afterwards Token says logged out, and the refresh token is
// refused.
func TestLogout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	tok := token(t, f.sess)
	cur := current(t, f.sess)
	if err := f.sess.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	wantExchanges(t, f.srv, 0, "token password 200", "logout 204")
	if _, ok := f.sess.Current(); ok {
		t.Error("tokens kept after Logout")
	}
	if _, err := f.sess.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
		t.Fatalf("Token after Logout: %v, want ErrLoggedOut", err)
	}
	if _, err := f.sess.Refresh(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
		t.Fatalf("Refresh after Logout: %v, want ErrLoggedOut", err)
	}
	wantExchanges(t, f.srv, 2)

	if f.srv.Active(ctx, tok, fosite.AccessToken) || f.srv.Active(ctx, cur.RefreshToken(), fosite.RefreshToken) {
		t.Fatal("tokens still active after logout")
	}
	// fosite marks a revoked refresh token inactive, as it does a rotated-out one,
	// so using it is taken for reuse: invalid_grant, "already used".
	_, err := f.sess.Source().(*authclient.Grants).Client().Refresh(ctx, cur.RefreshToken())
	ae := oauthError(t, err, 400, api.ErrInvalidGrant, cur.RefreshToken())
	logRefusal(t, "refresh after logout", ae, f.srv)
	if h := lastHint(f.srv); h != "The refresh token was already used." {
		t.Errorf("hint %q", h)
	}

	// RFC 7009: revoking a token that is no longer valid succeeds.
	if err := f.sess.Source().(*authclient.Grants).Client().Logout(ctx, cur.RefreshToken()); err != nil {
		t.Fatalf("second logout with the same refresh token: %v", err)
	}
	if err := f.sess.Source().(*authclient.Grants).Client().Logout(ctx, "ory_rt_not-a-token.x"); err != nil {
		t.Fatalf("logout with an unknown refresh token: %v", err)
	}
	wantExchanges(t, f.srv, 2, "token refresh_token 400 invalid_grant", "logout 204", "logout 204")

	// The requests carry exactly the fields IQM's Python client sends.
	want := map[string][]string{
		"token password":      {"client_id", "grant_type", "password", "username"},
		"token refresh_token": {"client_id", "grant_type", "refresh_token"},
		"logout":              {"client_id", "refresh_token"},
	}
	for _, e := range f.srv.Exchanges() {
		key := strings.TrimSpace(e.Endpoint + " " + e.GrantType)
		if !slices.Equal(e.Fields, want[key]) {
			t.Errorf("%s sent fields %q, want %q", key, e.Fields, want[key])
		}
	}

	// Login starts over.
	if _, err := f.sess.Login(ctx); err != nil {
		t.Fatalf("Login after Logout: %v", err)
	}
	again := token(t, f.sess)
	if again == tok || !f.srv.Active(ctx, again, fosite.AccessToken) {
		t.Fatal("Login after Logout did not give a new active token")
	}
	wantExchanges(t, f.srv, 5, "token password 200")
}

// Scenario 5: run this package's other tests in a child process, verbose, and check
// that its output shows neither the password nor any fosite token.
func TestNoSecretsInOutput(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-5*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.v", "-test.count=1", "-test.run=.")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The output is not shown: it might hold the secrets this test looks for.
		t.Fatalf("child test run failed (%v); run the tests with -v to see why", err)
	}
	for _, sec := range []string{canary, "ory_at_", "ory_rt_"} {
		if n := strings.Count(string(out), sec); n > 0 {
			t.Errorf("a secret (%d chars) shows %d times in the tests' output", len(sec), n)
		}
	}
	// The child really ran the scenarios and logged what fosite answered.
	for _, want := range []string{"--- PASS: TestLoginAndReuse", "--- PASS: TestLogout",
		"--- PASS: TestSpentRefreshTokenFallsBackToPassword", "reused refresh token: 400 invalid_grant"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}
