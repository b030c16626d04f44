package api_test

// Tests for the holes the adversarial review found (issue "Hardening"); each failed
// before its fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
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
					t.Errorf("error shows %q of the password: %s", l, text)
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
		var ae *api.Error
		if !errors.Is(err, api.ErrRedirect) || !errors.As(err, &ae) {
			t.Fatalf("%s: %v", tt.location, err)
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, "CANARY-LOC") || strings.Contains(text, "login") {
				t.Errorf("%s: error shows the path: %s", tt.location, text)
			}
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.location, err, tt.want)
		}
	}
}

// TestUnknownParameterNotQuotedWithSecret: a stray '&' in a password makes the rest of
// the password look like a parameter name; neither the answer, the log, the record of
// the request nor the strict decoder's error shows it.
func TestUnknownParameterNotQuotedWithSecret(t *testing.T) {
	var logs bytes.Buffer
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"), authtest.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	h := srv.Handler()
	for _, tt := range []struct {
		body, hidden, shown string
	}{
		{"client_id=iqm_client&grant_type=password&username=alice&password=ab&cdefgh=1", "cdefgh", ""},
		{"client_id=iqm_client&grant_type=refresh_token&refresh_token=eyJ&hbGciOi=x", "hbGciOi", ""},
		{"client_id=iqm_client&grant_type=password&username=alice&Zq-9x=1", "Zq-9x", ""},
		{"client_id=iqm_client&grant_type=password&username=alice&scope=openid", "", `"scope"`},
	} {
		status, body, _ := post(t, h, tokenPath, form, tt.body)
		if status != 400 || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], "nknown parameter") {
			t.Errorf("%q: %d %v", tt.body, status, body)
		}
		reqs := srv.Requests()
		last := reqs[len(reqs)-1]
		_, decErr := api.DecodeForm([]byte(tt.body))
		for where, text := range map[string]string{"answer": body["error_description"], "record": fmt.Sprint(last) + last.RedactedBody,
			"decoder": fmt.Sprint(decErr)} {
			if tt.hidden != "" && strings.Contains(text, tt.hidden) {
				t.Errorf("%q: the %s shows %q: %s", tt.body, where, tt.hidden, text)
			}
		}
		if tt.shown != "" && !strings.Contains(body["error_description"], tt.shown) {
			t.Errorf("%q: the answer does not name %s: %v", tt.body, tt.shown, body)
		}
	}
	for _, hidden := range []string{"cdefgh", "hbGciOi", "Zq-9x"} {
		if strings.Contains(logs.String(), hidden) {
			t.Errorf("the log shows %q:\n%s", hidden, logs.String())
		}
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
			c := newClient(t, srv.URL, func(c *api.ClientConfig) { c.Clock = clock })
			s, err := api.NewSession(api.NewGrants(c, "u", "p"), api.SessionOptions{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for range 100 {
				if tok, err := s.Token(context.Background()); err != nil || tok != "tok-1" {
					t.Fatalf("Token: %q, %v", tok, err)
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
	f.clock.Jump(10 * time.Minute) // past the 300 s access token, timers stand still
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
	f.clock.Jump(cur.AccessExpiry.Sub(f.clock.Now()) - 50*time.Second)
	if again := mustToken(t, f.sess); again == got {
		t.Error("handed out a token within the margin after a jump")
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
	c := newClient(t, srv.URL, func(cfg *api.ClientConfig) { cfg.Timeout = 200 * time.Millisecond })
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

// TestTokensFileNeverWritesOwnPID: Cortex CLI kills the process named in pid; a file we
// write names none.
func TestTokensFileNeverWritesOwnPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := api.WriteTokensFile(context.Background(), path, api.TokensFile{AuthServerURL: "https://a.example", Tokens: api.NewTokens("a", "r")}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["pid"]; ok {
		t.Errorf("wrote a pid: %s", data)
	}
}

// TestTokensFileRewriteKeepsForeignFields: rewriting a Cortex file keeps the fields we
// do not own (its token manager's pid included) exactly as they were.
func TestTokensFileRewriteKeepsForeignFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	orig := `{"pid": 4242, "timestamp": "2026-11-27T12:00:00.123456", "refresh_status": "SUCCESS",
 "access_token": "old-a", "refresh_token": "old-r", "auth_server_url": "https://auth.example",
 "extra": {"b": [1, 2.50, "x"], "a": null}, "nested_pid": 7}`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := api.ReadTokensFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Tokens = api.NewTokens("new-a", "new-r")
	if err := api.WriteTokensFile(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"pid": `4242`, "extra": `{"b": [1, 2.50, "x"], "a": null}`, "nested_pid": `7`, "access_token": `"new-a"`} {
		if got := string(m[k]); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
}

// TestStaleTempFilesRemovedOnWrite: temporary files that a killed writer left (they
// hold full tokens) are removed by the next write; other files are not touched.
func TestStaleTempFilesRemovedOnWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	stale := []string{".tokens.json.123456.tmp", ".tokens.json.9.tmp"}
	keep := []string{".other.json.1.tmp", "tokens.json.bak", "notes.tmp"}
	for _, name := range append(append([]string{}, stale...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"access_token":"CANARY"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := api.WriteTokensFile(context.Background(), path, api.TokensFile{Tokens: api.NewTokens("a", "r")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", name, err)
		}
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s removed: %v", name, err)
		}
	}
}

// TestTokensFileRefusesNonRegularFile: a FIFO (or a device, or a folder) as the tokens
// file is refused before it is read, instead of blocking forever.
func TestTokensFileRefusesNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "tokens.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := api.ReadTokensFile(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the reader so that the test can end, then fail.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("reading a FIFO blocked")
	}
	if _, err := api.ReadTokensFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder: %v", err)
	}
}

// badBackend answers every grant with a configured error or response.
type badBackend struct {
	err  error
	resp generated.TokenResponse
}

func (b *badBackend) CheckRealm(context.Context, string) error          { return nil }
func (b *badBackend) CheckClient(context.Context, string, string) error { return nil }
func (b *badBackend) Password(context.Context, string, string, string, string) (generated.TokenResponse, error) {
	return b.resp, b.err
}
func (b *badBackend) Refresh(context.Context, string, string, string) (generated.TokenResponse, error) {
	return b.resp, b.err
}
func (b *badBackend) Logout(context.Context, string, string, string) error { return b.err }

func serveRecovering(h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder, panicked any) {
	rec = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	h.ServeHTTP(rec, req)
	return rec, nil
}

// TestBackendAnswersNeverPanic: errors and responses a Backend should never give get a
// 500 server_error instead of a panic.
func TestBackendAnswersNeverPanic(t *testing.T) {
	var nilOAuth *api.OAuthError
	access := "a"
	for _, tt := range []struct {
		name string
		b    *badBackend
		want int
	}{
		{"status 0", &badBackend{err: &api.OAuthError{Code: "invalid_grant"}}, 500},
		{"status 42", &badBackend{err: &api.OAuthError{Status: 42, Code: "invalid_grant"}}, 500},
		{"status 999", &badBackend{err: &api.OAuthError{Status: 999, Code: "invalid_grant"}}, 500},
		{"status 200 as an error", &badBackend{err: &api.OAuthError{Status: 200, Code: "invalid_grant"}}, 500},
		{"typed nil", &badBackend{err: nilOAuth}, 500},
		{"wrapped typed nil", &badBackend{err: fmt.Errorf("x: %w", nilOAuth)}, 500},
		{"no code", &badBackend{err: &api.OAuthError{Status: 400}}, 400},
		{"no access token", &badBackend{resp: generated.TokenResponse{}}, 500},
		{"fine", &badBackend{resp: generated.TokenResponse{AccessToken: &access}}, 200},
	} {
		h := api.NewHandler(tt.b, api.HandlerConfig{})
		for _, body := range []string{"client_id=c&grant_type=password&username=u&password=p", "client_id=c&refresh_token=r"} {
			path := tokenPath
			want := tt.want
			if !strings.Contains(body, "grant_type") {
				path = logoutPath
				if tt.b.err == nil {
					want = 204
				}
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", form)
			rec, p := serveRecovering(h, req)
			if p != nil {
				t.Errorf("%s %s: panic %v", tt.name, path, p)
				continue
			}
			if rec.Code != want {
				t.Errorf("%s %s: %d %s, want %d", tt.name, path, rec.Code, rec.Body, want)
			}
			if rec.Code == 500 && !strings.Contains(rec.Body.String(), `"error":"server_error"`) {
				t.Errorf("%s: 500 body %s", tt.name, rec.Body)
			}
		}
	}
}

// FuzzHandlerBackend: whatever a Backend answers, the handler does not panic, and what
// it sends is a status in 200-599.
func FuzzHandlerBackend(f *testing.F) {
	f.Add(0, "invalid_grant", "desc", true, "tok", int64(300), false)
	f.Add(401, "", "", false, "", int64(-1), true)
	f.Add(999, "x\x00", "\xff", false, "t", int64(math.MaxInt64), false)
	f.Fuzz(func(t *testing.T, status int, code, desc string, fail bool, access string, expiresIn int64, typedNil bool) {
		b := &badBackend{}
		switch {
		case typedNil:
			var e *api.OAuthError
			b.err = e
		case fail:
			b.err = &api.OAuthError{Status: status, Code: code, Description: desc}
		default:
			b.resp = generated.TokenResponse{AccessToken: &access, ExpiresIn: &expiresIn, Scope: &desc}
		}
		h := api.NewHandler(b, api.HandlerConfig{Lenient: true})
		for _, path := range []string{tokenPath, logoutPath} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("client_id=c&grant_type=password&username=u&password=p&refresh_token=r"))
			req.Header.Set("Content-Type", form)
			rec, p := serveRecovering(h, req)
			if p != nil {
				t.Fatalf("panic: %v", p)
			}
			if rec.Code < 200 || rec.Code > 599 {
				t.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// TestFormContentTypeCaseInsensitive: media types match without regard to case, with
// or without parameters.
func TestFormContentTypeCaseInsensitive(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	body := "client_id=iqm_client&grant_type=password&username=alice&password=pw"
	for ct, want := range map[string]int{
		"application/x-www-form-urlencoded":                 200,
		"Application/X-WWW-Form-URLEncoded":                 200,
		"APPLICATION/X-WWW-FORM-URLENCODED":                 200,
		"application/x-www-form-urlencoded; charset=UTF-8":  200,
		"Application/X-Www-Form-Urlencoded;charset=utf-8":   200,
		"application/x-www-form-urlencoded ; charset=utf-8": 200,
		"application/x-www-form-urlencodedx":                415,
		"application/json":                                  415,
		"multipart/form-data; boundary=x":                   415,
		"application/x-www-form-urlencoded; charset=\"oops": 415,
	} {
		if status, b, _ := post(t, h, tokenPath, ct, body); status != want {
			t.Errorf("%q: %d %v, want %d", ct, status, b, want)
		}
	}
}
