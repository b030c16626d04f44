package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// secretForms are the encodings in which a server might echo a secret.
func secretForms(s string) []string {
	lowerHex := func(esc string) string {
		var b strings.Builder
		for i := 0; i < len(esc); i++ {
			if esc[i] == '%' && i+2 < len(esc) {
				b.WriteString("%" + strings.ToLower(esc[i+1:i+3]))
				i += 2
				continue
			}
			b.WriteByte(esc[i])
		}
		return b.String()
	}
	js, _ := json.Marshal(s)
	return []string{s, url.QueryEscape(s), lowerHex(url.QueryEscape(s)), url.PathEscape(s), lowerHex(url.PathEscape(s)),
		html.EscapeString(s), string(js[1 : len(js)-1])}
}

// leak finds in text any run of 8 or more consecutive bytes of any form of secret.
func leak(text, secret string) string {
	for _, form := range secretForms(secret) {
		for i := 0; i+8 <= len(form); i++ {
			if strings.Contains(text, form[i:i+8]) {
				return form[i : i+8]
			}
		}
	}
	return ""
}

const echoPassword = `Echo pw <&> "é" 9f3k2m7xQ`

// TestErrorTextRemovesEncodedEchoes: a server that echoes the password back in any
// encoding, or in part, does not get it into the error.
func TestErrorTextRemovesEncodedEchoes(t *testing.T) {
	lower := strings.NewReplacer("%3C", "%3c", "%3E", "%3e", "%26", "%26", "%22", "%22", "%C3%A9", "%c3%a9")
	js, _ := json.Marshal(echoPassword)
	for _, tt := range []struct {
		name, ct, body string
		status         int
	}{
		{"percent %20", "application/json", `{"error":"invalid_grant","error_description":"password ` + url.PathEscape(echoPassword) + ` rejected"}`, 401},
		{"percent +, lower hex", "text/plain", "bad password " + lower.Replace(url.QueryEscape(echoPassword)), 502},
		{"html", "text/html", "<p>bad password " + html.EscapeString(echoPassword) + "</p>", 500},
		{"json escapes", "application/json", `{"detail":` + string(js) + `}`, 400},
		{"json escapes in a description", "application/json", `{"error":"invalid_grant","error_description":` + string(js) + `}`, 400},
		{"a run of 8", "text/plain", "password 9f3k2m7x... rejected", 400},
		{"raw", "text/plain", "password " + echoPassword + " rejected", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ct)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := newClient(t, srv.URL).Login(context.Background(), "alice", echoPassword)
			if err == nil {
				t.Fatal("no error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", err)} {
				if l := leak(text, echoPassword); l != "" {
					t.Errorf("error shows %q of the password: %s", l, testsafe.Text(text))
				}
			}
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("no redaction marker: %v", err)
			}
		})
	}
}

// TestRedirectLocationShowsSchemeAndHostOnly: a redirect's path and query (which may
// carry a token) never reach the error.
func TestRedirectLocationShowsSchemeAndHostOnly(t *testing.T) {
	for _, tt := range []struct{ location, want string }{
		{"https://elsewhere.example:8443/login?token=CANARY-LOC#frag", `"https://elsewhere.example:8443"`},
		{"/other/CANARY-LOC?x=1", "a relative location"},
		{"//host.example/CANARY-LOC", "a relative location"},
	} {
		srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", tt.location)
			w.WriteHeader(http.StatusFound)
		})
		_, err := newClient(t, srv.URL).Login(context.Background(), "alice", "pw")
		var ae *authclient.Error
		if !errors.Is(err, authclient.ErrRedirect) || !errors.As(err, &ae) {
			t.Fatalf("%s: %v", tt.location, err)
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, "CANARY-LOC") || strings.Contains(text, "login") {
				t.Errorf("%s: error shows the path: %s", tt.location, testsafe.Text(text))
			}
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.location, err, tt.want)
		}
	}
}

// TestBodyReadDeadlineKeepsContextError: a deadline or cancellation while the body is
// read keeps its type.
func TestBodyReadDeadlineKeepsContextError(t *testing.T) {
	headersSent := make(chan struct{}, 1)
	srv, _ := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"access_token":"`)
		w.(http.Flusher).Flush()
		headersSent <- struct{}{}
		<-r.Context().Done()
	})
	c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Timeout = 200 * time.Millisecond })
	_, err := c.Login(context.Background(), "alice", "pw")
	<-headersSent
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout while reading the body: %v", err)
	}
	c = newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-headersSent; cancel() }()
	if _, err := c.Login(ctx, "alice", "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while reading the body: %v", err)
	}
}
