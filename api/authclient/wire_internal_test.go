package authclient

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
)

// TestLoopbackDialerRefusesOtherAddresses: whatever a name resolves to, the dialer for
// plain http to loopback connects only to a loopback address; another address of this
// machine, with a listener on it, is refused before the connection is made.
func TestLoopbackDialerRefusesOtherAddresses(t *testing.T) {
	listen := func(addr string) (string, *atomic.Int32) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { ln.Close() })
		var n atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				c.Close()
			}
		}()
		return ln.Addr().String(), &n
	}
	ctx := context.Background()
	// localhost in any case reaches 127.0.0.1 without a lookup.
	addr, _ := listen("127.0.0.1:0")
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"localhost", "LOCALHOST", "127.0.0.1"} {
		conn, err := dialLoopback(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		conn.Close()
	}
	// A name that a resolver answers with another address is refused at that address.
	var ip net.IP
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				ip = n.IP
				break
			}
		}
	}
	if ip == nil {
		t.Skip("no non-loopback address on this machine")
	}
	addr, accepted := listen(net.JoinHostPort(ip.String(), "0"))
	if _, err := loopbackDialer.DialContext(ctx, "tcp", addr); !errors.Is(err, errNotLoopback) {
		t.Errorf("dial %s: %v", addr, err)
	}
	if _, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr); err != nil {
		t.Fatalf("the listener is not reachable without the check: %v", err)
	}
	if n := accepted.Load(); n > 1 {
		t.Errorf("%d connections reached the non-loopback listener, want only the unchecked one", n)
	}
}

// TestOnlyLoopback: the dialer's check passes loopback addresses only, as the
// resolver or the caller gave them, IPv4-mapped ones included.
func TestOnlyLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:80": true, "127.9.9.9:80": true, "[::1]:80": true, "[::ffff:127.0.0.1]:80": true,
		"192.0.2.1:80": false, "[::ffff:192.0.2.1]:80": false, "10.0.0.1:80": false, "[2001:db8::1]:80": false,
		"0.0.0.0:80": false, "[::]:80": false, "localhost:80": false, "127.0.0.1": false,
	} {
		if err := onlyLoopback("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}
