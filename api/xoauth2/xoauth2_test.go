package xoauth2_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/xoauth2"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// TestTokenSource: x/oauth2 gets the session's access token, type and expiry, never the
// refresh token, and the session's failures.
func TestTokenSource(t *testing.T) {
	t0 := testtime.Epoch()
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "CANARY-X-pw"))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, "alice", "CANARY-X-pw"), authclient.SessionOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := xoauth2.TokenSource(s)
	ot, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	// The expiry is the session clock's (a fake one here): compare it with that clock,
	// never with x/oauth2's Valid, which reads the real one.
	if ot.AccessToken == "" || ot.RefreshToken != "" || ot.TokenType != "Bearer" || !ot.Expiry.After(clock.Now()) {
		t.Fatalf("token: access token set %t, refresh token set %t, type %q, expiry %v (clock %v)",
			ot.AccessToken != "", ot.RefreshToken != "", ot.TokenType, ot.Expiry, clock.Now())
	}
	if !ot.Expiry.Equal(t0.Add(authtest.DefaultAccessTTL)) {
		t.Errorf("expiry %v", ot.Expiry)
	}
	if _, err := srv.VerifyAccessToken(ot.AccessToken); err != nil {
		t.Error(err)
	}
	if cur, _ := s.Current(); cur.RefreshToken() == "" {
		t.Fatal("the session holds no refresh token: the check above proves nothing")
	}
	if err := s.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); !errors.Is(err, authclient.ErrLoggedOut) {
		t.Errorf("after logout: %v", err)
	}
}

// TestTokenSourceValidForOAuth2: on the real clock, x/oauth2 takes the session's token
// as valid, and an http.Client from oauth2.NewClient sends it.
func TestTokenSourceValidForOAuth2(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "CANARY-X-pw"))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, "alice", "CANARY-X-pw"), authclient.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ot, err := xoauth2.TokenSource(s).Token()
	if err != nil {
		t.Fatal(err)
	}
	if !ot.Valid() {
		t.Fatalf("x/oauth2 finds the token invalid: expiry %v, now %v", ot.Expiry, time.Now())
	}
	got := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}))
	defer api.Close()
	resp, err := oauth2.NewClient(context.Background(), xoauth2.TokenSource(s)).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := srv.VerifyAccessToken(<-got); err != nil {
		t.Errorf("the API got no token of the server's: %v", err)
	}
}
