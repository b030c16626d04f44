package authclient_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"golang.org/x/oauth2"
)

// BenchmarkToken compares Session.Token holding a valid token with x/oauth2's
// ReuseTokenSource holding a valid token, serially and in parallel.
func BenchmarkToken(b *testing.B) {
	// A session with a real expiry, as after a login.
	srv := authtest.Start(b, authtest.WithUser("alice", "pw"), authtest.WithAccessTTL(time.Hour))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	live, err := authclient.NewSession(authclient.NewGrants(c, "alice", "pw"), authclient.SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer live.Close()
	ctx := context.Background()
	if _, err := live.Token(ctx); err != nil {
		b.Fatal(err)
	}
	reuse := oauth2.ReuseTokenSource(&oauth2.Token{AccessToken: "tok", Expiry: time.Now().Add(time.Hour)}, nil)

	b.Run("api/serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := live.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oauth2/serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reuse.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := live.Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("oauth2/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := reuse.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkPasswordLogin compares a full password login against a loopback test
// server with x/oauth2's Config.PasswordCredentialsToken to the same server.
func BenchmarkPasswordLogin(b *testing.B) {
	srv := authtest.Start(b, authtest.WithUser("alice", "pw"))
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, HTTPClient: hc})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("api", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Login(ctx, "alice", "pw"); err != nil {
				b.Fatal(err)
			}
		}
	})
	conf := &oauth2.Config{ClientID: api.DefaultClientID, Endpoint: oauth2.Endpoint{
		TokenURL: c.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	octx := context.WithValue(ctx, oauth2.HTTPClient, hc)
	b.Run("oauth2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conf.PasswordCredentialsToken(octx, "alice", "pw"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestTokenHotPathAllocatesNothing(t *testing.T) {
	f := newFixture(t, nil, nil)
	mustToken(t, f.sess)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { f.sess.Token(ctx) }); n != 0 {
		t.Errorf("Token: %v allocs", n)
	}
}
