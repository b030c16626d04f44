package authtest

import (
	"net"
	"net/http"
	"sync"
)

// limitListener accepts at most n connections at once: Accept waits until one of them
// closes (as golang.org/x/net/netutil.LimitListener, which this module does not import).
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Header values Keycloak sends on every answer, shared: net/http never modifies them.
var (
	referrerPolicy = []string{"no-referrer"}
	hsts           = []string{"max-age=31536000; includeSubDomains"}
	noSniff        = []string{"nosniff"}
	frameOptions   = []string{"SAMEORIGIN"}
	robotsTag      = []string{"none"}
)

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h["Referrer-Policy"] = referrerPolicy
	h["Strict-Transport-Security"] = hsts
	h["X-Content-Type-Options"] = noSniff
	h["X-Frame-Options"] = frameOptions
	h["X-Robots-Tag"] = robotsTag
}
