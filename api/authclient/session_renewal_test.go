package authclient_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestNoStormForTokensExpiredOnArrival: a server that issues access tokens that have
// already expired (a past JWT exp, with no expires_in, 0 or a negative one) does not
// make every Token call a request: a useless renewal backs off as a failure does, and
// after 5 in a row the session gives up with ErrUselessRenewals until
// an explicit Login or Refresh.

// The session's limits, as its documentation gives them: at most 5 useless renewals in
// a row; a backoff doubling up to 30 s.
const (
	maxUselessRenewals = 5
	maxBackoff         = 30 * time.Second
)

func TestNoStormForTokensExpiredOnArrival(t *testing.T) {
	for _, expiresIn := range []string{"", `"expires_in":0,`, `"expires_in":-5,`} {
		t.Run(fmt.Sprintf("%q", expiresIn), func(t *testing.T) {
			clock := authtest.NewClock(t0)
			var n atomic.Int32
			srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
				past := clock.Now().Add(-time.Minute).Unix()
				fmt.Fprintf(w, `{"access_token":%q,%s"refresh_token":"r-%d","refresh_expires_in":1800}`,
					jwtWithExp(past), expiresIn, n.Add(1))
			})
			c := newClient(t, srv.URL, func(c *authclient.Config) { c.Clock = clock })
			var saved atomic.Int32
			s := newSession(t, authclient.NewGrants(c, "u", "p"), authclient.SessionOptions{Clock: clock,
				OnTokens: func(tokens.Set) { saved.Add(1) }})
			ctx := context.Background()
			for range 1000 {
				if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrExpiredOnArrival) {
					t.Fatalf("Token: %v, want ErrExpiredOnArrival", err)
				}
			}
			if got := n.Load(); got != 1 {
				t.Fatalf("%d requests for 1000 calls on a still clock, want 1", got)
			}
			// The rotated tokens are kept (and handed to OnTokens), so that the next
			// refresh sends the newest refresh token.
			if cur, _ := s.Current(); cur.RefreshToken() != "r-1" || saved.Load() != 1 {
				t.Errorf("newest refresh token not kept (%d saved)", saved.Load())
			}
			// Each backoff that passes allows one more try, up to the limit.
			for i := 2; i <= maxUselessRenewals; i++ {
				clock.Advance(maxBackoff)
				if _, err := s.Token(ctx); err == nil || n.Load() != int32(i) {
					t.Fatalf("try %d: %d requests, %v", i, n.Load(), err)
				}
			}
			clock.Advance(time.Hour)
			for range 100 {
				_, err := s.Token(ctx)
				if !errors.Is(err, authclient.ErrUselessRenewals) || !errors.Is(err, authclient.ErrExpiredOnArrival) {
					t.Fatalf("after %d useless renewals: %v, want ErrUselessRenewals", maxUselessRenewals, err)
				}
			}
			if got := n.Load(); got != maxUselessRenewals {
				t.Fatalf("%d requests after giving up, want %d", got, maxUselessRenewals)
			}
			// An explicit Refresh tries again.
			if _, err := s.Refresh(ctx); !errors.Is(err, authclient.ErrExpiredOnArrival) || n.Load() != maxUselessRenewals+1 {
				t.Errorf("explicit Refresh: %d requests, %v", n.Load(), err)
			}
		})
	}
}

// TestUsefulRenewalResetsUselessCount: one good renewal between useless ones starts the
// count again.
func TestUsefulRenewalResetsUselessCount(t *testing.T) {
	clock := authtest.NewClock(t0)
	var n atomic.Int32
	var expired atomic.Bool
	expired.Store(true)
	srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		exp := clock.Now().Add(5 * time.Minute)
		if expired.Load() {
			exp = clock.Now().Add(-time.Minute)
		}
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"r-%d"}`, jwtWithExp(exp.Unix()), n.Add(1))
	})
	c := newClient(t, srv.URL, func(c *authclient.Config) { c.Clock = clock })
	s := newSession(t, authclient.NewGrants(c, "u", "p"), authclient.SessionOptions{Clock: clock})
	ctx := context.Background()
	for range maxUselessRenewals - 1 {
		if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrExpiredOnArrival) {
			t.Fatalf("Token: %v", err)
		}
		clock.Advance(maxBackoff)
	}
	expired.Store(false)
	if _, err := s.Token(ctx); err != nil {
		t.Fatalf("good renewal: %v", err)
	}
	expired.Store(true)
	clock.Advance(10 * time.Minute)
	for range maxUselessRenewals - 1 {
		if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrExpiredOnArrival) || errors.Is(err, authclient.ErrUselessRenewals) {
			t.Fatalf("Token: %v, want ErrExpiredOnArrival only", err)
		}
		clock.Advance(maxBackoff)
	}
}

// TestOnTokensInRenewalOrder: OnTokens runs one call at a time, in the order the tokens
// were renewed, and tokens that a newer renewal superseded are never saved after the
// newer ones (a slow callback and a forced refresh once saved the superseded tokens
// last).
func TestOnTokensInRenewalOrder(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser(canaryUser, canaryPassword), authtest.WithRotation())
	c := newClient(t, srv.URL)
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	var mu sync.Mutex
	var saved []string
	var calls, running, overlapped atomic.Int32
	s := newSession(t, authclient.NewGrants(c, canaryUser, canaryPassword), authclient.SessionOptions{
		OnTokens: func(tk tokens.Set) {
			if running.Add(1) > 1 {
				overlapped.Add(1)
			}
			defer running.Add(-1)
			if calls.Add(1) == 1 {
				entered <- struct{}{}
				<-release // the first save is slow: it writes at the end
			}
			mu.Lock()
			saved = append(saved, tk.RefreshToken())
			mu.Unlock()
		}})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before the session's Close, which waits for the callback
	ctx := context.Background()
	loginDone := make(chan error, 1)
	go func() { _, err := s.Login(ctx); loginDone <- err }()
	<-entered // the login's tokens are being saved, slowly
	refreshed := make(chan tokens.Set, 1)
	go func() {
		tk, err := s.Refresh(ctx)
		if err != nil {
			tk = tokens.Set{}
		}
		refreshed <- tk
	}()
	// The refresh is answered at once; its save must wait for the slow one. A Refresh
	// that returns meanwhile has saved its tokens before the older ones.
	select {
	case <-refreshed:
		t.Fatal("Refresh returned while the login's OnTokens call was still running")
	case <-time.After(2 * time.Second):
	}
	unblock()
	if err := <-loginDone; err != nil {
		t.Fatal(err)
	}
	newest := <-refreshed
	if newest.RefreshToken() == "" {
		t.Fatal("refresh failed")
	}
	mu.Lock()
	defer mu.Unlock()
	if overlapped.Load() != 0 {
		t.Error("OnTokens calls overlapped")
	}
	if len(saved) == 0 || saved[len(saved)-1] != newest.RefreshToken() {
		t.Errorf("the last tokens saved are not the newest (%d saves)", len(saved))
	}
}

// TestNoRefreshStormForShortOrHugeLifetimes: a lifetime at or below the margin does
// not make every Token call a request, and a huge expires_in does not overflow.
func TestNoRefreshStormForShortOrHugeLifetimes(t *testing.T) {
	for _, expiresIn := range []int64{1, 30, 60, 9300000000, math.MaxInt64} {
		t.Run(fmt.Sprint(expiresIn), func(t *testing.T) {
			clock := authtest.NewClock(t0)
			var n atomic.Int32
			srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":%d,"refresh_expires_in":1800,"refresh_token":"r"}`, n.Add(1), expiresIn)
			})
			c := newClient(t, srv.URL, func(c *authclient.Config) { c.Clock = clock })
			s, err := authclient.NewSession(authclient.NewGrants(c, "u", "p"), authclient.SessionOptions{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for range 100 {
				if tok, err := s.Token(context.Background()); err != nil || tok != "tok-1" {
					t.Fatalf("Token: %q, %v", testsafe.Text(tok), err)
				}
			}
			if n.Load() != 1 {
				t.Errorf("%d requests for 100 calls, want 1", n.Load())
			}
			cur, _ := s.Current()
			if !cur.AccessExpiry.After(t0) {
				t.Errorf("access expiry %v is not after the time of the request", cur.AccessExpiry)
			}
		})
	}
}

// TestNoTokenPastWallClockExpiryAfterSuspend: after the wall clock jumps (a laptop
// wakes up) with no timer having fired, Token does not hand out the expired token.
func TestNoTokenPastWallClockExpiryAfterSuspend(t *testing.T) {
	f := newFixture(t, nil, nil)
	first := mustToken(t, f.sess)
	f.clock.Advance(10 * time.Minute) // past the 300 s access token, timers stand still
	got := mustToken(t, f.sess)
	if got == first {
		t.Fatal("handed out the access token past its expiry")
	}
	if _, err := f.srv.VerifyAccessToken(got); err != nil {
		t.Errorf("token after the jump: %v", err)
	}
	// Also within the margin only: 250 s after login, 50 s left.
	f.clock.Advance(0)
	cur, _ := f.sess.Current()
	f.clock.Advance(cur.AccessExpiry.Sub(f.clock.Now()) - 50*time.Second)
	if again := mustToken(t, f.sess); again == got {
		t.Error("handed out a token within the margin after a jump")
	}
}
