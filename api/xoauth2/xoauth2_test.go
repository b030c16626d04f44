package xoauth2_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/xoauth2"
	"github.com/iqm-finland/authschema/authtest"
)

// TestTokenSource: x/oauth2 gets the session's access token, type and expiry, never the
// refresh token, and the session's failures.
func TestTokenSource(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
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
	if err != nil || ot.AccessToken == "" || ot.RefreshToken != "" || ot.TokenType != "Bearer" || !ot.Valid() {
		t.Fatalf("token %v, %v", ot, err)
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
