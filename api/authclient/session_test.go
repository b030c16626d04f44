package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/internal/testtime"
	"github.com/iqm-finland/authschema/validate"
)

const (
	canaryUser     = "some_username"
	canaryPassword = "CANARY-PASS-3b9f"
)

var t0 = testtime.Epoch()

type fixture struct {
	srv    *authtest.Server
	clock  *authtest.Clock
	client *authclient.Client
	sess   *authclient.Session
	hooks  []tokens.Set
	mu     sync.Mutex
}

// newFixture starts a test server on a fake clock and a session logging in to it with
// the password grant.
func newFixture(t *testing.T, srvOpts []authtest.Option, mod func(*authclient.SessionOptions)) *fixture {
	t.Helper()
	f := &fixture{clock: authtest.NewClock(t0)}
	opts := append([]authtest.Option{authtest.WithClock(f.clock), authtest.WithUser(canaryUser, canaryPassword)}, srvOpts...)
	f.srv = authtest.Start(t, opts...)
	f.client = newClient(t, f.srv.URL, func(c *authclient.Config) { c.Clock = f.clock })
	so := authclient.SessionOptions{Clock: f.clock,
		OnTokens: func(tk tokens.Set) { f.mu.Lock(); f.hooks = append(f.hooks, tk); f.mu.Unlock() }}
	if mod != nil {
		mod(&so)
	}
	s, err := authclient.NewSession(authclient.NewGrants(f.client, canaryUser, canaryPassword), so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.sess = s
	return f
}

// newSession makes a session, failing the test when it cannot; it is closed when the
// test ends.
func newSession(t testing.TB, src authclient.Source, opts authclient.SessionOptions) *authclient.Session {
	t.Helper()
	s, err := authclient.NewSession(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustToken(t *testing.T, s *authclient.Session) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// TestLifeCycle: login, reuse, refresh near expiry, password login when both are
// expired, logout, and login again, with an injected clock; the bodies on the wire are
// the Python client's byte for byte.
func TestLifeCycle(t *testing.T) {
	f := newFixture(t, []authtest.Option{authtest.WithAccessTTL(300 * time.Second), authtest.WithRefreshTTL(1800 * time.Second)}, nil)
	ctx := context.Background()

	a1 := mustToken(t, f.sess)
	if user, err := f.srv.VerifyAccessToken(a1); err != nil || user != canaryUser {
		t.Fatalf("access token: %q, %v", user, err)
	}
	first, _ := f.sess.Current()
	if !first.AccessExpiry.Equal(t0.Add(300*time.Second)) || !first.RefreshExpiry.Equal(t0.Add(1800*time.Second)) {
		t.Errorf("expiry %v / %v", first.AccessExpiry, first.RefreshExpiry)
	}

	// Reuse while more than 60 s are left.
	f.clock.Advance(239 * time.Second)
	if a := mustToken(t, f.sess); a != a1 {
		t.Error("token not reused")
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("%d requests after reuse", n)
	}

	// 60 s or less left: refresh grant.
	f.clock.Advance(1 * time.Second)
	a2 := mustToken(t, f.sess)
	if a2 == a1 {
		t.Error("token not refreshed")
	}
	// Past the refresh token's life: password grant.
	f.clock.Advance(1800 * time.Second)
	a3 := mustToken(t, f.sess)
	if a3 == a2 {
		t.Error("no new token")
	}
	reqs := f.srv.Requests()
	want := []validate.Kind{validate.KindPassword, validate.KindRefresh, validate.KindPassword}
	if len(reqs) != len(want) {
		t.Fatalf("requests %v", reqs)
	}
	for i, r := range reqs {
		if r.Kind != want[i] || r.Status != http.StatusOK {
			t.Errorf("request %d: %v", i, r)
		}
	}
	// Golden bodies.
	if got := reqs[0].Body(); got != "client_id=iqm_client&grant_type=password&username=some_username&password="+canaryPassword {
		t.Errorf("password body %q", testsafe.Text(got))
	}
	if got, want := reqs[1].Body(), "client_id=iqm_client&grant_type=refresh_token&refresh_token="+url.QueryEscape(first.RefreshToken()); got != want {
		t.Errorf("refresh body %q, want %q", testsafe.Text(got), want)
	}
	if len(f.hooks) != 3 {
		t.Errorf("OnTokens ran %d times", len(f.hooks))
	}

	// Logout.
	last, _ := f.sess.Current()
	if err := f.sess.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	reqs = f.srv.Requests()
	if lr := reqs[len(reqs)-1]; lr.Kind != validate.KindLogout || lr.Status != http.StatusNoContent ||
		lr.Body() != "client_id=iqm_client&refresh_token="+url.QueryEscape(last.RefreshToken()) {
		t.Errorf("logout request %v %q", lr, lr.Body())
	}
	if _, err := f.sess.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
		t.Errorf("after logout: %v", err)
	}
	if _, ok := f.sess.Current(); ok {
		t.Error("tokens kept after logout")
	}
	if f.srv.ActiveSessions() != 0 { // the first session was never logged out, but its refresh token expired
		t.Errorf("%d active sessions", f.srv.ActiveSessions())
	}
	// The old refresh token is dead at the server.
	if _, err := f.client.Refresh(ctx, last.RefreshToken()); !errors.Is(err, api.ErrInvalidGrant) ||
		!strings.Contains(err.Error(), "Session not active") {
		t.Errorf("refresh after logout: %v", err)
	}
	// A second logout of the same token is still 204.
	if err := f.client.Logout(ctx, last.RefreshToken()); err != nil {
		t.Errorf("second logout: %v", err)
	}
	if _, err := f.sess.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sess.Token(ctx); err != nil {
		t.Errorf("after Login: %v", err)
	}
}

func TestRefreshInvalidGrantFallsBackToPassword(t *testing.T) {
	ctx := context.Background()
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithRotation(), authtest.WithUser(canaryUser, canaryPassword))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Login(ctx, canaryUser, canaryPassword)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else uses the refresh token first: under rotation it is now spent.
	if _, err := c.Refresh(ctx, first.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, canaryUser, canaryPassword), authclient.SessionOptions{Tokens: first, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.ResetRequests()
	clock.Advance(250 * time.Second)
	if _, err := s.Token(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Kind != validate.KindRefresh || reqs[0].Status != 400 ||
		reqs[1].Kind != validate.KindPassword || reqs[1].Status != 200 {
		t.Fatalf("requests %v", reqs)
	}
	// Without a password there is nothing to fall back to.
	s2 := newSession(t, authclient.NewGrants(c, "", ""), authclient.SessionOptions{Tokens: first, Clock: clock})
	defer s2.Close()
	if _, err := s2.Token(ctx); !errors.Is(err, api.ErrInvalidGrant) {
		t.Fatalf("without password: %v", err)
	}
}

func TestOtherRefreshFailureIsReturned(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	mustToken(t, f.sess)
	f.srv.FailNext(1, 401, `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`)
	f.clock.Advance(250 * time.Second)
	_, err := f.sess.Token(ctx)
	var ae *authclient.Error
	if !errors.Is(err, api.ErrInvalidClient) || !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Fatalf("error %v", err)
	}
	// Within the backoff: the same failure, no request.
	n := len(f.srv.Requests())
	_, err2 := f.sess.Token(ctx)
	var be *authclient.BackoffError
	if !errors.As(err2, &be) || !errors.Is(err2, api.ErrInvalidClient) || len(f.srv.Requests()) != n {
		t.Fatalf("during backoff: %v (%d requests)", err2, len(f.srv.Requests())-n)
	}
	f.clock.Advance(time.Second)
	if _, err := f.sess.Token(ctx); err != nil {
		t.Fatalf("after backoff: %v", err)
	}
}

// TestConcurrentExpiry: 500 goroutines at expiry cause exactly one request, and all
// get its result; with a failing server, exactly one failing request.
func TestConcurrentExpiry(t *testing.T) {
	for _, failing := range []bool{false, true} {
		name := map[bool]string{false: "ok", true: "failing"}[failing]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			mustToken(t, f.sess)
			f.clock.Advance(250 * time.Second)
			f.srv.ResetRequests()
			f.srv.SetLatency(50 * time.Millisecond) // let them pile up
			if failing {
				f.srv.FailNext(1000, 500, "<html>down</html>")
			}
			const n = 500
			var wg sync.WaitGroup
			results := make([]string, n)
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = f.sess.Token(context.Background())
				}()
			}
			close(start)
			wg.Wait()
			if got := len(f.srv.Requests()); got != 1 {
				t.Fatalf("%d requests, want 1", got)
			}
			for i := range n {
				if failing {
					if !errors.Is(errs[i], authclient.ErrBadResponse) {
						t.Fatalf("caller %d: %v", i, errs[i])
					}
				} else if errs[i] != nil || results[i] != results[0] {
					t.Fatalf("caller %d: %v", i, errs[i])
				}
			}
		})
	}
}

func TestLogoutRules(t *testing.T) {
	ctx := context.Background()
	t.Run("failure keeps tokens", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		tok := mustToken(t, f.sess)
		f.srv.FailNext(1, 400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
		if err := f.sess.Logout(ctx); !errors.Is(err, api.ErrInvalidGrant) {
			t.Fatalf("logout: %v", err)
		}
		if got := mustToken(t, f.sess); got != tok {
			t.Error("tokens changed")
		}
	})
	t.Run("no refresh token sends nothing", func(t *testing.T) {
		f := newFixture(t, nil, func(c *authclient.SessionOptions) {
			tk := tokens.New("not-a-jwt", "")
			c.Tokens = &tk
		})
		if err := f.sess.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(f.srv.Requests()); n != 0 {
			t.Errorf("%d requests", n)
		}
		if _, err := f.sess.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
			t.Errorf("Token: %v", err)
		}
	})
	t.Run("external sessions", func(t *testing.T) {
		s, err := authclient.NewSession(authclient.StaticToken("plain-token"), authclient.SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if tok := mustToken(t, s); tok != "plain-token" {
			t.Error(tok)
		}
		if err := s.Logout(ctx); !errors.Is(err, authclient.ErrExternalSession) {
			t.Errorf("logout: %v", err)
		}
		if _, err := s.Login(ctx); !errors.Is(err, authclient.ErrExternalSession) {
			t.Errorf("login: %v", err)
		}
	})
}

func TestClosedSession(t *testing.T) {
	f := newFixture(t, nil, nil)
	mustToken(t, f.sess)
	f.sess.Close()
	if _, err := f.sess.Token(context.Background()); !errors.Is(err, authclient.ErrClosed) {
		t.Errorf("Token after Close: %v", err)
	}
}

func TestCallerContext(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.srv.SetLatency(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.sess.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Token: %v", err)
	}
	// The login went on for the others and the next caller gets it.
	if _, err := f.sess.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// TestDeadRefreshTokenIsDropped: without a password, a refresh token refused with
// invalid_grant ends the session (ErrSessionEnded) and is not sent again; the session
// then needs new credentials.
func TestDeadRefreshTokenIsDropped(t *testing.T) {
	ctx := context.Background()
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser(canaryUser, canaryPassword))
	c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Clock = clock })
	tk, err := c.Login(ctx, canaryUser, canaryPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx, tk.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, authclient.NewGrants(c, "", ""), authclient.SessionOptions{Tokens: tk, Clock: clock})
	defer s.Close()
	srv.ResetRequests()
	clock.Advance(250 * time.Second)
	if _, err := s.Token(ctx); !errors.Is(err, api.ErrInvalidGrant) || !errors.Is(err, authclient.ErrSessionEnded) {
		t.Fatalf("first: %v", err)
	}
	for range 5 {
		clock.Advance(time.Minute)
		if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrNoCredentials) {
			t.Fatalf("later: %v", err)
		}
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestLongDescriptionKept(t *testing.T) {
	long := strings.Repeat("The request could not be authorized. ", 12) + "Hint: the end."
	srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": long})
	})
	c := newClient(t, srv.URL)
	_, err := c.Login(context.Background(), "u", "p")
	var ae *authclient.Error
	if !errors.As(err, &ae) || ae.OAuth == nil || ae.OAuth.Description != long {
		t.Errorf("error %v", err)
	}
}
