package authclient_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/opencount"
	"github.com/iqm-finland/authschema/validate"
)

// loginToFile logs in to srv and writes the tokens file as iqmauth login does.
func loginToFile(t *testing.T, srv *authtest.Server, clock authclient.Clock, path string) tokens.Set {
	t.Helper()
	c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Clock = clock })
	tk, err := c.Login(context.Background(), canaryUser, canaryPassword)
	if err != nil {
		t.Fatal(err)
	}
	f := tokensfile.File{AuthServerURL: c.ServerURL(), Realm: c.Realm(), ClientID: c.ClientID(), Tokens: *tk}
	if err := tokensfile.Write(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	return *tk
}

// TestFileGrantsRefusesCleartextServer: a tokens file is data; its auth_server_url gets
// the same rule as a URL the user typed, checked under the lock by the renewal, before
// anything is sent; a file without one cannot be renewed.
func TestFileGrantsRefusesCleartextServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	f := tokensfile.File{AuthServerURL: "http://auth.example.test", Tokens: tokens.New("a", "CANARY-RT")}
	if err := tokensfile.Write(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	r := authclient.Renewal{Now: time.Now(), ValidUntil: time.Now().Add(authclient.DefaultRefreshMargin)}
	for _, password := range []string{"", canaryPassword} {
		g := authclient.NewFileGrants(path, authclient.Config{}, "u", password, authclient.FileLock{})
		_, err := g.Refresh(context.Background(), r)
		if !errors.Is(err, authclient.ErrInsecureTransport) || !errors.Is(err, authclient.ErrConfig) || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("plain http to a remote host: %v", err)
		}
	}
	g := authclient.NewFileGrants(path, authclient.Config{AllowInsecureHTTP: true}, "", "", authclient.FileLock{})
	// Opted in, the refresh is sent (and fails: nothing listens there).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Refresh(ctx, r); errors.Is(err, authclient.ErrInsecureTransport) || g.ServerURL() != "http://auth.example.test" {
		t.Errorf("opted in: %v, server %q", err, g.ServerURL())
	}
	f.AuthServerURL = ""
	if err := tokensfile.Write(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Refresh(context.Background(), r); !errors.Is(err, tokensfile.ErrMalformed) {
		t.Errorf("no auth_server_url: %v", err)
	}
}

// TestNewFileGrantsDoesNoIO: making the source reads nothing (a missing file is the
// error of the first renewal); a password without a server named for it, or one whose
// server the file does not name is refused at the renewal,
// as a *ConfigError wrapping ErrServerMismatch, with nothing sent; and a renewal
// opens the file once.
func TestNewFileGrantsDoesNoIO(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser(canaryUser, canaryPassword))
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	c, err := opencount.Watch(path)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("counting opens needs inotify")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g := authclient.NewFileGrants(path, authclient.Config{Clock: clock}, "", "", authclient.FileLock{})
	if _, err := g.Renew(context.Background(), authclient.Renewal{Now: clock.Now()}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	tk := loginToFile(t, srv, clock, path)
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	unnamed := authclient.NewFileGrants(path, authclient.Config{Clock: clock}, canaryUser, canaryPassword, authclient.FileLock{})
	if n, err := c.Opens(); err != nil || n != 0 {
		t.Errorf("NewFileGrants opened the file %d times (%v)", n, err)
	}
	srv.ResetRequests()
	if _, err := unnamed.Login(context.Background()); !errors.Is(err, authclient.ErrServerMismatch) || len(srv.Requests()) != 0 {
		t.Errorf("password without a server: %v, %d requests", err, len(srv.Requests()))
	}
	other := authclient.NewFileGrants(path, authclient.Config{ServerURL: "https://auth.example.test", Clock: clock}, canaryUser, canaryPassword, authclient.FileLock{})
	srv.ResetRequests()
	var ce *authclient.ConfigError
	if _, err := other.Login(context.Background()); !errors.As(err, &ce) || !errors.Is(err, authclient.ErrServerMismatch) || len(srv.Requests()) != 0 {
		t.Errorf("another server: %v, %d requests", err, len(srv.Requests()))
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(290 * time.Second)
	got, err := g.Renew(context.Background(), authclient.Renewal{Current: tk, Now: clock.Now(), ValidUntil: clock.Now().Add(authclient.DefaultRefreshMargin)})
	if err != nil || got.AccessToken() == tk.AccessToken() {
		t.Fatalf("renewal: %v", err)
	}
	if n, err := c.Opens(); err != nil || n != 1 {
		t.Errorf("the renewal opened the file %d times, want 1 (%v)", n, err)
	}
}

// TestFileGrantsShareOneRenewal: sources on one file (as separate processes would have)
// that all find the token near expiry send one refresh request, against a server
// that rotates refresh tokens, and all get a token that works.
func TestFileGrantsShareOneRenewal(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithRotation(), authtest.WithUser(canaryUser, canaryPassword))
	path := filepath.Join(t.TempDir(), "tokens.json")
	first := loginToFile(t, srv, clock, path)
	clock.Advance(250 * time.Second) // 50 s left: within the margin
	srv.SetLatency(50 * time.Millisecond)
	srv.ResetRequests()
	const n = 10
	var wg sync.WaitGroup
	got := make([]tokens.Set, n)
	errs := make([]error, n)
	for i := range n {
		g := authclient.NewFileGrants(path, authclient.Config{Clock: clock}, "", "", authclient.FileLock{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = g.Renew(context.Background(), authclient.Renewal{Current: first, Now: clock.Now(), ValidUntil: clock.Now().Add(authclient.DefaultRefreshMargin)})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("source %d: %v", i, errs[i])
		}
		if _, err := srv.VerifyAccessToken(got[i].AccessToken()); err != nil || got[i].AccessToken() != got[0].AccessToken() {
			t.Errorf("source %d: %v", i, err)
		}
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Kind != validate.KindRefresh || reqs[0].Status != 200 {
		t.Errorf("requests %v", reqs)
	}
	after, err := tokensfile.Read(path)
	if err != nil || after.Tokens.AccessToken() != got[0].AccessToken() || after.RefreshStatus != "SUCCESS" {
		t.Errorf("file after: %v %v", after, err)
	}
}

// TestFileGrantsLogoutRemovesFile: logout ends the session, and removes the file and
// the temporary files a killed writer left.
func TestFileGrantsLogoutRemovesFile(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser(canaryUser, canaryPassword))
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	tk := loginToFile(t, srv, clock, path)
	stale := filepath.Join(dir, ".tokens.json.77.tmp")
	if err := os.WriteFile(stale, []byte(`{"access_token":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	g := authclient.NewFileGrants(path, authclient.Config{Clock: clock}, "", "", authclient.FileLock{})
	s, err := authclient.NewSession(g, authclient.SessionOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mustToken(t, s); got != tk.AccessToken() {
		t.Error("the file's fresh token was not used")
	}
	if err := s.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, stale} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", p, err)
		}
	}
	if srv.ActiveSessions() != 0 {
		t.Error("session still active")
	}
	fmt.Fprint(&strings.Builder{}, g) // printing never panics
	var zero authclient.FileGrants
	_ = fmt.Sprint(&zero, authclient.Grants{})
}

// TestFileGrantsFirstUseOfShortLivedTokens: a caller that holds no tokens (iqmauth
// token, a new Session) and asks for them valid for a margin as long as their lifetime
// gets the file's tokens without a request while they have more than half their
// lifetime left (the Session's rule, Renewal.Fresh), and one refresh after that.
func TestFileGrantsFirstUseOfShortLivedTokens(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithAccessTTL(time.Minute), authtest.WithUser(canaryUser, canaryPassword))
	path := filepath.Join(t.TempDir(), "tokens.json")
	first := loginToFile(t, srv, clock, path)
	srv.ResetRequests()
	g := authclient.NewFileGrants(path, authclient.Config{Clock: clock}, "", "", authclient.FileLock{})
	renew := func() tokens.Set {
		t.Helper()
		now := clock.Now()
		got, err := g.Renew(context.Background(), authclient.Renewal{Now: now, ValidUntil: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	clock.Advance(20 * time.Second) // 40 s left of 60
	if got := renew(); got.AccessToken() != first.AccessToken() || len(srv.Requests()) != 0 {
		t.Fatalf("renewed a token with 40 s of its 60 s left: %d requests", len(srv.Requests()))
	}
	clock.Advance(15 * time.Second) // 25 s left: due
	if got := renew(); got.AccessToken() == first.AccessToken() || len(srv.Requests()) != 1 {
		t.Errorf("not renewed with 25 s of 60 s left: %d requests", len(srv.Requests()))
	}
}

// TestFileGrantsOfAMissingFileLeaveNothingBehind: a renewal or logout of a tokens
// file that is not there fails as reading it does (fs.ErrNotExist), and makes neither
// its folder nor a lock file (a mistyped path leaves no trace).
func TestFileGrantsOfAMissingFileLeaveNothingBehind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	path := filepath.Join(dir, "tokens.json")
	g := authclient.NewFileGrants(path, authclient.Config{}, "", "", authclient.FileLock{})
	ctx := context.Background()
	r := authclient.Renewal{Now: time.Now()}
	_, renewErr := g.Renew(ctx, r)
	_, refreshErr := g.Refresh(ctx, r)
	for name, err := range map[string]error{"Renew": renewErr, "Refresh": refreshErr, "Logout": g.Logout(ctx, tokens.Set{})} {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want fs.ErrNotExist", name, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the folder was made: %v", err)
	}
}
