package authclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestLoopbackHTTPBypassesTheCallersProxy: a caller's *http.Transport with a proxy
// does not carry a plain-http request to a loopback host (any case of localhost) to
// the proxy; an https:// URL still goes through it.
func TestLoopbackHTTPBypassesTheCallersProxy(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Error(w, "proxy", http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := url.Parse(proxy.URL)
	auth := authtest.Start(t, authtest.WithUser(canaryUser, canaryPassword))
	u, _ := url.Parse(auth.URL)
	for _, host := range []string{"LOCALHOST", "Localhost", "localhost", "127.0.0.1"} {
		tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
		c := newClient(t, "http://"+host+":"+u.Port(), func(c *authclient.Config) { c.HTTPClient = &http.Client{Transport: tr} })
		set, err := c.Login(context.Background(), canaryUser, canaryPassword)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if _, err := auth.VerifyAccessToken(set.AccessToken()); err != nil {
			t.Errorf("%s: %v", host, err)
		}
		c.CloseIdleConnections()
		if tr.Proxy == nil {
			t.Error("the caller's transport was changed")
		}
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("%d requests through the proxy", n)
	}
	// https keeps the caller's proxy (the proxy refuses: the answer is its 502).
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	c := newClient(t, "https://LOCALHOST:1", func(c *authclient.Config) { c.HTTPClient = &http.Client{Transport: tr} })
	if _, err := c.Login(context.Background(), canaryUser, canaryPassword); err == nil || proxied.Load() != 1 {
		t.Errorf("https: %v, %d requests through the proxy", err, proxied.Load())
	}
}

// TestLoopbackHTTPWithOtherRoundTripperNeedsOptIn: authclient cannot keep a
// RoundTripper that is not an *http.Transport off a proxy or pin its address, so plain
// http to loopback through one is refused unless AllowInsecureHTTP is set.
func TestLoopbackHTTPWithOtherRoundTripperNeedsOptIn(t *testing.T) {
	auth := authtest.Start(t, authtest.WithUser(canaryUser, canaryPassword))
	var used atomic.Int32
	rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})
	cfg := authclient.Config{ServerURL: auth.URL, HTTPClient: &http.Client{Transport: rt}}
	if _, err := authclient.New(cfg); !errors.Is(err, authclient.ErrInsecureTransport) || !errors.Is(err, authclient.ErrConfig) {
		t.Fatalf("New: %v", err)
	}
	cfg.AllowInsecureHTTP = true
	c, err := authclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), canaryUser, canaryPassword); err != nil || used.Load() != 1 {
		t.Errorf("opted in: %v, round tripper used %d times", err, used.Load())
	}
}

// nonLoopbackIP is an address of this machine that is not loopback, or nil.
func nonLoopbackIP(t *testing.T) net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP
		}
	}
	return nil
}

// TestLocalhostIsDialledAsLoopback: "localhost" is trusted by name, so it is never
// resolved: a caller's dialer that maps it elsewhere (as a resolver with a search
// domain did) is not used, 127.0.0.1 is dialled, and the listener on the machine's
// other address sees no connection.
func TestLocalhostIsDialledAsLoopback(t *testing.T) {
	ip := nonLoopbackIP(t)
	if ip == nil {
		t.Skip("no non-loopback address on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skip(err)
	}
	var accepted atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepted.Add(1)
		w.Write([]byte(`{"access_token":"stolen","expires_in":300}`))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	hostile := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		// A hosts-file or resolver override: localhost is elsewhere.
		if h, p, _ := net.SplitHostPort(addr); strings.EqualFold(h, "localhost") {
			addr = net.JoinHostPort(ip.String(), p)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	for _, host := range []string{"localhost", "LOCALHOST"} {
		c := newClient(t, "http://"+host+":"+port, func(c *authclient.Config) { c.HTTPClient = &http.Client{Transport: hostile} })
		_, err := c.Login(context.Background(), canaryUser, canaryPassword)
		if err == nil {
			t.Errorf("%s: logged in", host)
			continue
		}
		if strings.Contains(err.Error(), canaryPassword) {
			t.Errorf("%s: %s", host, testsafe.Value(err, canaryPassword))
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the non-loopback listener got %d requests", n)
	}
}
