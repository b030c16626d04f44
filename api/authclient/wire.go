package authclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// What carries the client's requests to the wire. A plain http:// request is allowed
// only because its host is loopback (or the caller opted in); it is then kept on
// loopback: no proxy, and a connection only to a loopback address. Every answer's
// redirect Location is cut to its scheme and host before net/http reads it, so that
// net/http never quotes a path or query (which may echo a secret) in an error.

// errNotLoopback is why a plain-http connection to a loopback host was refused: the
// address it would reach is not loopback.
var errNotLoopback = errors.New("refusing to connect: the address is not loopback")

// loopbackDialer connects only to loopback addresses: Control sees the address after
// any name resolution and refuses any other before a packet is sent.
var loopbackDialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: onlyLoopback}

func onlyLoopback(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errNotLoopback
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return errNotLoopback
	}
	return nil
}

// dialLoopback dials addr on loopback. "localhost", in any case, is trusted by name, so
// it is never looked up (a resolver with a search domain may answer another machine):
// 127.0.0.1 is dialled, then ::1.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	hosts := []string{host}
	if strings.EqualFold(host, "localhost") {
		hosts = []string{"127.0.0.1", "::1"}
	}
	var first error
	for _, h := range hosts {
		conn, err := loopbackDialer.DialContext(ctx, network, net.JoinHostPort(h, port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// loopbackOnly makes tr send on loopback only: no proxy, and dialLoopback in place of
// its dialer (DialContext wins over the deprecated Dial). The TLS dialers are not
// touched: they are not used for http://.
func loopbackOnly(tr *http.Transport) *http.Transport {
	tr.Proxy = nil
	tr.OnProxyConnectResponse = nil
	tr.DialContext = dialLoopback
	return tr
}

// defaultLoopbackTransport is http.DefaultTransport's clone for loopback, shared by
// every Client without a transport of its own, so that they share connections.
var defaultLoopbackTransport = sync.OnceValue(func() *http.Transport {
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		return loopbackOnly(dt.Clone())
	}
	return loopbackOnly(&http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second})
})

// loopbackTransport is the transport for a plain http:// server on loopback: a clone
// of rt, or of http.DefaultTransport when rt is nil, kept on loopback. ok is false when
// rt is another RoundTripper, whose proxy and dialing authclient cannot govern.
func loopbackTransport(rt http.RoundTripper) (_ http.RoundTripper, ok bool) {
	switch t := rt.(type) {
	case nil:
		return defaultLoopbackTransport(), true
	case *http.Transport:
		return loopbackOnly(t.Clone()), true
	}
	return nil, false
}

// redirectGuard passes requests to next and cuts the Location of a 3xx answer to its
// scheme and host ("/" for a relative location, none for one that does not parse)
// before net/http reads it: net/http's error for a malformed Location quotes all of it.
type redirectGuard struct{ next http.RoundTripper }

func (g redirectGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 || len(resp.Header.Values("Location")) == 0 {
		return resp, err
	}
	loc := resp.Header.Get("Location")
	resp.Header = resp.Header.Clone()
	resp.Header.Del("Location")
	if u, err := url.Parse(loc); err == nil {
		if u.Scheme != "" && u.Host != "" {
			resp.Header.Set("Location", u.Scheme+"://"+u.Host)
		} else {
			resp.Header.Set("Location", "/")
		}
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of next.
func (g redirectGuard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// transportFor is the RoundTripper for the server at base (normalized), given the
// caller's rt (nil: http.DefaultTransport), wrapped in a redirectGuard. A plain http://
// server on loopback gets loopbackTransport; through another RoundTripper it is
// refused unless the caller opted in to clear text.
func transportFor(base string, rt http.RoundTripper, allowInsecure bool) (http.RoundTripper, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	switch lt, ok := loopbackTransport(rt); {
	case u.Scheme != "http" || !isLoopback(u.Hostname()):
	case ok:
		rt = lt
	case !allowInsecure:
		return nil, &ConfigError{Setting: "HTTP client", Err: ErrInsecureTransport,
			Problem: "plain http:// to loopback is sent only through an *http.Transport, which authclient keeps off " +
				"proxies and on loopback addresses; this RoundTripper could send it elsewhere: use an *http.Transport, or https://",
			Field: "AllowInsecureHTTP"}
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return redirectGuard{rt}, nil
}
