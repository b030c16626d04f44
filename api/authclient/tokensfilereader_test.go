package authclient_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
)

// TestTokensFileReaderRules: iqm-client 36's rules for IQM_TOKENS_FILE: a file with
// only access_token is enough; the token must be a JWT with a future exp; the file is
// read again once 60 s or less remain, also for a token that lives less than 120 s,
// and then every second;
// a missing file is an error of the first Token, not of the reader's making.
func TestTokensFileReaderRules(t *testing.T) {
	clock := authtest.NewClock(t0)
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	write := func(access string) {
		writeJSON(t, path, map[string]any{"access_token": access})
	}
	first := jwtWithExp(t0.Add(90 * time.Second).Unix())
	write(first)
	s, err := authclient.NewSession(authclient.NewTokensFileReader(path, authclient.SourceOptions{}), authclient.SessionOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if mustToken(t, s) != first {
		t.Fatal("not the file's token")
	}
	second := jwtWithExp(t0.Add(89 * time.Second).Unix())
	write(second)
	clock.Advance(29 * time.Second) // 61 s left: kept
	if mustToken(t, s) != first {
		t.Error("read again with more than 60 s left")
	}
	clock.Advance(time.Second) // 60 s left: read again (a Session alone would wait for 45 s)
	if mustToken(t, s) != second {
		t.Error("not read again with 60 s left")
	}
	third := jwtWithExp(t0.Add(110 * time.Second).Unix())
	write(third)
	if mustToken(t, s) != second {
		t.Error("read again within the same second")
	}
	clock.Advance(time.Second)
	if mustToken(t, s) != third {
		t.Error("not read again a second later within the margin")
	}
	now := clock.Now()
	r := authclient.NewTokensFileReader(path, authclient.SourceOptions{})
	for name, access := range map[string]string{
		"expired":           jwtWithExp(now.Add(-time.Second).Unix()),
		"not a JWT":         "CANARY-opaque",
		"exp in the second": jwtWithExp(now.Unix()),
	} {
		write(access)
		_, err := r.Renew(context.Background(), authclient.Renewal{Now: now.Add(999 * time.Millisecond)})
		if !errors.Is(err, authclient.ErrTokenExpired) || !strings.Contains(err.Error(), "has expired or is not valid") || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	write(jwtWithExp(now.Add(time.Second).Unix()))
	if _, err := r.Renew(context.Background(), authclient.Renewal{Now: now}); err != nil {
		t.Errorf("one second left: %v", err)
	}
	r = authclient.NewTokensFileReader(filepath.Join(dir, "none.json"), authclient.SourceOptions{})
	if _, err := r.Renew(context.Background(), authclient.Renewal{Now: clock.Now()}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestTokensFileReaderRenewal: the reader renews the file's tokens only when the
// caller allowed it and the file has a refresh token and a server URL; a failed
// renewal leaves the file's token in use while it is valid, and is not retried on
// every call.
func TestTokensFileReaderRenewal(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(300*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	first := loginToFile(t, srv, clock, path)
	srv.ResetRequests()
	session := func(renew bool) *authclient.Session {
		s, err := authclient.NewSession(authclient.NewTokensFileReader(path, authclient.SourceOptions{RenewTokensFile: renew,
			Config: authclient.Config{Clock: clock}}), authclient.SessionOptions{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	clock.Advance(250 * time.Second) // 50 s left
	if mustToken(t, session(false)) != first.AccessToken() || len(srv.Requests()) != 0 {
		t.Fatalf("renewed without being allowed: %v", srv.Requests())
	}
	s := session(true)
	srv.FailNext(1, 503, "<html>down</html>")
	if mustToken(t, s) != first.AccessToken() {
		t.Error("a failed renewal did not leave the file's token in use")
	}
	for range 5 {
		mustToken(t, s)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests after one failed renewal, want 1: a failure is not retried on every call", n)
	}
	clock.Advance(time.Second)
	got := mustToken(t, s)
	f, err := tokensfile.Read(path)
	if err != nil || got == first.AccessToken() || f.Tokens.AccessToken() != got {
		t.Errorf("not renewed into the file: %v", err)
	}
	if ok, _ := refreshes(srv); ok != 1 {
		t.Errorf("requests %v", srv.Requests())
	}
	// Without a refresh token there is nothing to renew with: the file's token is used.
	writeJSON(t, path, map[string]any{"access_token": jwtWithExp(clock.Now().Add(50 * time.Second).Unix()), "auth_server_url": srv.URL})
	srv.ResetRequests()
	if tok := mustToken(t, session(true)); tok == "" || len(srv.Requests()) != 0 {
		t.Errorf("no refresh token: %v", srv.Requests())
	}
}
