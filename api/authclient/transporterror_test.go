package authclient_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// rawServer is a listener on loopback that reads a request's head and answers answer,
// raw bytes, then closes the connection.
func rawServer(t *testing.T, answer func(secret string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				req, err := http.ReadRequest(r)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				form, _ := url.ParseQuery(string(body))
				io.WriteString(conn, answer(form.Get("password")))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// errorTree is the text of err and of every error it wraps.
func errorTree(err error) []string {
	if err == nil {
		return nil
	}
	texts := []string{err.Error(), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", err)}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		texts = append(texts, errorTree(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			texts = append(texts, errorTree(e)...)
		}
	}
	return texts
}

// TestTransportErrorsAreScrubbed: net/http's own errors quote what a server sent (a
// malformed status line, a malformed header line, a Location that does not parse);
// the client's error, and every error it wraps, shows none of the request's secrets
// in any encoding and no control character.
func TestTransportErrorsAreScrubbed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer func(secret string) string
	}{
		{"status line", func(s string) string { return "HTTP/1.1 2x0 password=" + s + "\r\n\r\n" }},
		{"response line", func(s string) string { return "password=" + url.QueryEscape(s) + "\x1b[2J\r\n\r\n" }},
		{"version", func(s string) string { return "HTTP/" + s + " 200 OK\r\n\r\n" }},
		{"MIME header", func(s string) string { return "HTTP/1.1 200 OK\r\nX-A: b\r\n" + s + "\x1b]0;x\a\r\n\r\n" }},
		{"Location", func(s string) string {
			return "HTTP/1.1 302 Found\r\nLocation: https://sso.example/login%zz?user=alice&password=" + url.QueryEscape(s) +
				"\r\nContent-Length: 0\r\n\r\n"
		}},
		{"Location path-escaped", func(s string) string {
			return "HTTP/1.1 302 Found\r\nLocation: https://sso.example/%zz/" + url.PathEscape(s) + "\r\nContent-Length: 0\r\n\r\n"
		}},
		{"chunk", func(s string) string {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + s + "\r\n"
		}},
		{"content length", func(s string) string { return "HTTP/1.1 200 OK\r\nContent-Length: " + s + "\r\n\r\n" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := rawServer(t, tt.answer)
			_, err := newClient(t, srv).Login(context.Background(), "alice", echoPassword)
			if err == nil {
				t.Fatal("no error")
			}
			for _, text := range errorTree(err) {
				if l := leak(text, echoPassword); l != "" || strings.Contains(text, "sso.example/") || strings.ContainsAny(text, "\x1b\a\r\n") {
					t.Errorf("error shows a run of the password (%d bytes), a path or a control character: %q", len(l), testsafe.Text(text, secretForms(echoPassword)...))
				}
			}
		})
	}
}

// TestMalformedLocationIsARedirect: a Location that does not parse is still a redirect
// that is not followed (ErrRedirect), named by nothing of the Location.
func TestMalformedLocationIsARedirect(t *testing.T) {
	srv := rawServer(t, func(s string) string {
		return "HTTP/1.1 302 Found\r\nLocation: https://sso.example/login%zz?password=" + s + "\r\nContent-Length: 0\r\n\r\n"
	})
	_, err := newClient(t, srv).Login(context.Background(), "alice", canaryPassword)
	if !errors.Is(err, authclient.ErrRedirect) || strings.Contains(err.Error(), "sso.example") || !strings.Contains(err.Error(), "no usable Location") {
		t.Errorf("%v", err)
	}
}

// TestUnreachableServerSaysWhatToCheck: a refused connection names the server once
// and says what to check; it is an ErrNoAnswer.
func TestUnreachableServerSaysWhatToCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "http://" + ln.Addr().String()
	ln.Close()
	_, err = newClient(t, server).Login(context.Background(), "alice", canaryPassword)
	msg := fmt.Sprint(err)
	if !errors.Is(err, authclient.ErrNoAnswer) || strings.Count(msg, ln.Addr().String()) != 1 ||
		!strings.Contains(msg, "could not reach") || !strings.Contains(msg, "connection refused") ||
		!strings.Contains(msg, "check") {
		t.Errorf("%v", err)
	}
}

// TestHTTPSToPlainHTTPServerSaysSo: an https:// URL to a server that speaks plain http
// says so.
func TestHTTPSToPlainHTTPServerSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := newClient(t, strings.Replace(srv.URL, "http://", "https://", 1)).Login(context.Background(), "alice", canaryPassword)
	if !errors.Is(err, authclient.ErrNoAnswer) || !strings.Contains(fmt.Sprint(err), "speaks plain http") {
		t.Errorf("%v", err)
	}
}

// TestHangingServerNamesTheTimeout: a server that never answers ends in an error that
// names the timeout and IQM_CLIENT_REQUESTS_TIMEOUT, is context.DeadlineExceeded and a
// net.Error whose Timeout is true; the caller's own cancellation stays
// context.Canceled.
func TestHangingServerNamesTheTimeout(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c := newClient(t, srv.URL, func(c *authclient.Config) { c.Timeout = 150 * time.Millisecond })
	for _, call := range []func(context.Context) error{
		func(ctx context.Context) error { _, err := c.Login(ctx, "alice", canaryPassword); return err },
		func(ctx context.Context) error { return c.Logout(ctx, "CANARY-RT") },
	} {
		err := call(context.Background())
		<-arrived
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, authclient.ErrNoAnswer) {
			t.Errorf("%v", err)
		}
		if msg := fmt.Sprint(err); !strings.Contains(msg, "150ms") || !strings.Contains(msg, "IQM_CLIENT_REQUESTS_TIMEOUT") ||
			!strings.Contains(msg, srv.URL) {
			t.Errorf("message: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		if err := call(ctx); !errors.Is(err, context.Canceled) || strings.Contains(fmt.Sprint(err), "IQM_CLIENT_REQUESTS_TIMEOUT") {
			t.Errorf("cancelled: %v", err)
		}
	}
}

// TestHangingBodyNamesTheTimeout: a server that sends its headers and then stalls the
// body also ends in an error that names the timeout and IQM_CLIENT_REQUESTS_TIMEOUT.
func TestHangingBodyNamesTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"access_token":`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c := newClient(t, srv.URL, func(c *authclient.Config) { c.Timeout = 150 * time.Millisecond })
	_, err := c.Login(context.Background(), "alice", canaryPassword)
	if msg := fmt.Sprint(err); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(msg, "150ms") ||
		!strings.Contains(msg, "IQM_CLIENT_REQUESTS_TIMEOUT") {
		t.Errorf("%v", err)
	}
}
