package authtest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
	"go.uber.org/goleak"
)

var t0 = testtime.Epoch()

func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newClient makes a client, failing the test when it cannot.
func newClient(t testing.TB, cfg authclient.Config) *authclient.Client {
	t.Helper()
	c, err := authclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokensAreKeycloakLikeJWTs(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"),
		authtest.WithAccessTTL(120*time.Second), authtest.WithRefreshTTL(600*time.Second))
	c := newClient(t, authclient.Config{ServerURL: srv.URL, Clock: clock})
	tk, err := c.Login(context.Background(), "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, r := claims(t, tk.AccessToken()), claims(t, tk.RefreshToken())
	for name, want := range map[string]any{"typ": "Bearer", "azp": "iqm_client", "preferred_username": "alice",
		"iss": srv.URL + "/realms/cortex", "exp": float64(t0.Unix() + 120), "iat": float64(t0.Unix())} {
		if a[name] != want {
			t.Errorf("access %s = %v, want %v", name, a[name], want)
		}
	}
	if r["typ"] != "Refresh" || r["exp"] != float64(t0.Unix()+600) || r["sid"] != a["sid"] || r["jti"] == a["jti"] || a["jti"] == "" {
		t.Errorf("refresh claims %v", r)
	}
	// The client's expiry from expires_in and from exp agree.
	if exp, _ := tokens.JWTExpiry(tk.AccessToken()); !exp.Equal(tk.AccessExpiry) {
		t.Errorf("exp %v, expires_in %v", exp, tk.AccessExpiry)
	}
	if _, err := srv.VerifyAccessToken(tk.AccessToken()); err != nil {
		t.Error(err)
	}
	clock.Advance(121 * time.Second)
	if _, err := srv.VerifyAccessToken(tk.AccessToken()); err == nil {
		t.Error("expired access token accepted")
	}
	// Another server's tokens are not this one's (per-server key).
	other := authtest.Start(t, authtest.WithUser("alice", "pw"))
	oc := newClient(t, authclient.Config{ServerURL: other.URL})
	otk, _ := oc.Login(context.Background(), "alice", "pw")
	if _, err := srv.VerifyAccessToken(otk.AccessToken()); !errors.Is(err, authtest.ErrNoSuchToken) {
		t.Errorf("foreign token: %v", err)
	}
	if _, err := c.Refresh(context.Background(), otk.RefreshToken()); !errors.Is(err, api.ErrInvalidGrant) {
		t.Errorf("foreign refresh token: %v", err)
	}
}

func TestNonExpiringRefreshToken(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"), authtest.WithRefreshTTL(0))
	c := newClient(t, authclient.Config{ServerURL: srv.URL})
	tk, err := c.Login(context.Background(), "alice", "pw")
	if err != nil || !tk.RefreshNeverExpires || !tk.RefreshExpiry.IsZero() {
		t.Fatalf("%v %v", tk, err)
	}
}

func TestRotationAndDisabledUsers(t *testing.T) {
	// A still clock: a superseded token reused a second or more after it was issued is
	// "Stale token" instead, as Keycloak answers.
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"), authtest.WithRotation())
	c := newClient(t, authclient.Config{ServerURL: srv.URL, Clock: clock})
	ctx := context.Background()
	t1, _ := c.Login(ctx, "alice", "pw")
	t2, err := c.Refresh(ctx, t1.RefreshToken())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, t1.RefreshToken()); err == nil || !strings.Contains(err.Error(), "Maximum allowed refresh token reuse exceeded") {
		t.Errorf("reuse: %v", err)
	}
	srv.DisableUser("cortex", "alice", true)
	if _, err := c.Refresh(ctx, t2.RefreshToken()); err == nil || !strings.Contains(err.Error(), "User disabled") {
		t.Errorf("disabled at refresh: %v", err)
	}
	if _, err := c.Login(ctx, "alice", "pw"); err == nil || !strings.Contains(err.Error(), "400 invalid_grant: Account disabled") {
		t.Errorf("disabled at login: %v", err)
	}
}

func TestDisabledUserEnabledAgain(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("eve", "pw"))
	srv.DisableUser("cortex", "eve", true)
	c := newClient(t, authclient.Config{ServerURL: srv.URL})
	if _, err := c.Login(context.Background(), "eve", "pw"); err == nil || !strings.Contains(err.Error(), "Account disabled") {
		t.Errorf("disabled user: %v", err)
	}
	srv.DisableUser("cortex", "eve", false)
	if _, err := c.Login(context.Background(), "eve", "pw"); err != nil {
		t.Errorf("enabled again: %v", err)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	c := newClient(t, authclient.Config{ServerURL: srv.URL})
	ctx := context.Background()
	srv.FailNext(2, 503, "<html>maintenance</html>")
	for range 2 {
		if _, err := c.Login(ctx, "alice", "pw"); !errors.Is(err, authclient.ErrBadResponse) || !strings.Contains(err.Error(), "503") {
			t.Errorf("injected: %v", err)
		}
	}
	if _, err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	srv.SetLatency(100 * time.Millisecond)
	start := time.Now()
	if _, err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("no latency")
	}
	reqs := srv.Requests()
	if len(reqs) != 4 || !reqs[0].Injected || reqs[2].Injected || reqs[2].Status != 200 {
		t.Errorf("requests %v", reqs)
	}
}

func TestClock(t *testing.T) {
	c := authtest.NewClock(t0)
	c.Advance(2 * time.Second)
	c.Set(t0) // not backwards
	if !c.Now().Equal(t0.Add(2 * time.Second)) {
		t.Errorf("after Advance and a Set backwards: %v", c.Now())
	}
	c.Set(t0.Add(time.Hour))
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("after Set: %v", c.Now())
	}
}

// TestLoad: 200 concurrent sessions log in, refresh and log out against one server,
// under -race: every request is answered correctly, no session gets another's
// tokens, and nothing is left running.
func TestLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const n = 200
	srv, err := authtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := srv.AddUser("cortex", fmt.Sprintf("user%03d", i), fmt.Sprintf("pw-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("user%03d", i)
			c, err := authclient.New(authclient.Config{ServerURL: srv.URL, HTTPClient: hc})
			if err != nil {
				errs <- err
				return
			}
			s, err := authclient.NewSession(authclient.NewGrants(c, user, fmt.Sprintf("pw-%03d", i)), authclient.SessionOptions{})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			check := func(step string) bool {
				tok, err := s.Token(ctx)
				if err == nil {
					var got string
					if got, err = srv.VerifyAccessToken(tok); err == nil && got != user {
						err = fmt.Errorf("%s got %s's token", user, got)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("%s %s: %w", user, step, err)
					return false
				}
				return true
			}
			if !check("login") {
				return
			}
			if _, err := s.Refresh(ctx); err != nil {
				errs <- fmt.Errorf("%s refresh: %w", user, err)
				return
			}
			if !check("after refresh") {
				return
			}
			if err := s.Logout(ctx); err != nil {
				errs <- fmt.Errorf("%s logout: %w", user, err)
				return
			}
			if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
				errs <- fmt.Errorf("%s after logout: %v", user, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := srv.Requests()
	byStatus := map[int]int{}
	for _, r := range reqs {
		byStatus[r.Status]++
	}
	if len(reqs) != 3*n || byStatus[200] != 2*n || byStatus[204] != n {
		t.Errorf("%d requests: %v", len(reqs), byStatus)
	}
	if srv.ActiveSessions() != 0 {
		t.Errorf("%d sessions left active", srv.ActiveSessions())
	}
	srv.Close()
	tr.CloseIdleConnections()
}

// TestRequestsJSONRedacted (issue 12): json.Marshal of the recorded requests shows no
// password or refresh token, also through a pointer and inside a map.
func TestRequestsJSONRedacted(t *testing.T) {
	const pw, rt = "CANARY-PW-51e0", "CANARY-RT-51e0"
	srv := authtest.Start(t, authtest.WithUser("alice", pw))
	h := srv.Handler()
	for _, body := range []string{
		"client_id=iqm_client&grant_type=password&username=alice&password=" + pw,
		"client_id=iqm_client&grant_type=refresh_token&refresh_token=" + rt,
	} {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	for _, v := range []any{reqs, &reqs[0], map[string]authtest.Request{"r": reqs[1]}} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); strings.Contains(s, pw) || strings.Contains(s, rt) || !strings.Contains(s, "iqm_client") {
			t.Errorf("json.Marshal(%T) shows a secret (or not the client): %d bytes", v, len(s))
		}
	}
}
