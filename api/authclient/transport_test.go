package authclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	genclient "github.com/iqm-finland/authschema/generated/client"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"go.uber.org/goleak"
)

// apiServer is a resource server that accepts only the test server's access tokens.
func apiServer(t *testing.T, srv *authtest.Server) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		user, err := srv.VerifyAccessToken(tok)
		if !ok || err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello "+user)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestTransportAndRequestEditor: the session's token reaches a resource server through
// an http.Client's Transport and through a generated client's request editor.
func TestTransportAndRequestEditor(t *testing.T) {
	f := newFixture(t, nil, nil)
	res := apiServer(t, f.srv)
	ctx := context.Background()

	// Transport
	hc := &http.Client{Transport: &authclient.Transport{Session: f.sess}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, res.URL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello "+canaryUser || req.Header.Get("Authorization") != "" {
		t.Errorf("transport: %q (the caller's request must stay unchanged)", testsafe.Value(body))
	}

	// Request editor for an oapi-codegen client: the generated client itself.
	gc, err := genclient.NewClient(res.URL, genclient.WithRequestEditorFn(f.sess.RequestEditor()))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = gc.LogoutWithBody(ctx, "cortex", "text/plain", strings.NewReader(""))
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("editor: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if n := len(f.srv.Requests()); n != 1 {
		t.Errorf("%d token requests for two uses", n)
	}

	// A failing session fails the request without sending it.
	if err := f.sess.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(res.URL); !errors.Is(err, authclient.ErrLoggedOut) {
		t.Errorf("after logout: %v", err)
	}
}

// TestNoGoroutineLeft: sessions, clients and the test server leave nothing running.
func TestNoGoroutineLeft(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	func() {
		srv, err := authtest.NewServer(authtest.WithUser(canaryUser, canaryPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c := newClient(t, srv.URL, func(c *authclient.Config) { c.HTTPClient = &http.Client{Transport: tr} })
		s, err := authclient.NewSession(authclient.NewGrants(c, canaryUser, canaryPassword), authclient.SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := s.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.Refresh(context.Background())
		}
		// A renewal in flight when the session closes is cancelled and waited for.
		srv.SetLatency(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		s.Login(ctx)
		cancel()
		s.Close()
		srv.SetLatency(0)
	}()
}

// TestErrorsNeverShowSecrets prints the errors of a failed logout and login, and the
// tokens, session and records they come with, with every verb and through slog, and
// looks for the canaries (secrets_test.go at the module's root checks every type).
func TestErrorsNeverShowSecrets(t *testing.T) {
	f := newFixture(t, nil, nil)
	ctx := context.Background()
	mustToken(t, f.sess)
	tk, _ := f.sess.Current()
	secrets := []string{canaryPassword, tk.AccessToken(), tk.RefreshToken()}
	file := tokensfile.File{AuthServerURL: f.srv.URL, Tokens: tk}
	reqs := f.srv.Requests()
	f.srv.FailNext(1, 400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
	logoutErr := f.sess.Logout(ctx)
	_, loginErr := f.client.Login(ctx, canaryUser, "wrong-"+canaryPassword)
	values := map[string]any{
		"Tokens": tk, "*Tokens": &tk, "TokensFile": file, "*TokensFile": &file,
		"Session": f.sess, "Client": f.client, "Grants": f.sess.Source(), "authtest.Server": f.srv,
		"authtest.Request": reqs[0], "[]authtest.Request": reqs,
		"logout error": logoutErr, "login error": loginErr,
		"AuthRequest": api.NewPasswordRequest("iqm_client", canaryUser, canaryPassword),
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	text := slog.New(slog.NewTextHandler(&logs, nil))
	for name, v := range values {
		var out strings.Builder
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.4v", "%t"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		if !strings.HasPrefix(name, "[]") {
			logger.Info("x", "v", v)
		}
		text.Info("x", "v", v)
		for _, s := range secrets {
			for _, form := range []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s)} {
				if strings.Contains(out.String(), form) {
					t.Errorf("%s shows a secret:\n%s", name, testsafe.Text(out.String()))
				}
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("slog shows a secret:\n%s", testsafe.Text(logs.String()))
		}
	}
}
