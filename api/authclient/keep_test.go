package authclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/validate"
)

// fakeTimers is Keep's Sleep on a fake clock: a wait moves the clock at once, then
// tick runs (the test's readers and faults), so that a run through many token
// lifetimes takes no real time and always goes the same way.
type fakeTimers struct {
	clock *authtest.Clock
	tick  func(now time.Time)
}

func (f *fakeTimers) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.clock.Advance(d)
	if f.tick != nil {
		f.tick(f.clock.Now())
	}
	return ctx.Err()
}

// keepEvents collects Keep's events.
type keepEvents struct {
	mu     sync.Mutex
	events []authclient.KeepEvent
}

func (k *keepEvents) add(e authclient.KeepEvent) {
	k.mu.Lock()
	k.events = append(k.events, e)
	k.mu.Unlock()
}

func (k *keepEvents) count(kind authclient.KeepEventKind) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, e := range k.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (k *keepEvents) lines() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var s []string
	for _, e := range k.events {
		s = append(s, e.String())
	}
	return s
}

// iqm36Reader reads a tokens file as iqm-client 36's TokenManager does: it keeps the
// access token while more than 60 s (whole seconds) remain, else reads the file again;
// a token in the file with no time left is its ClientAuthenticationError.
type iqm36Reader struct {
	path  string
	token tokens.Set
	reads int
}

func (r *iqm36Reader) bearer(now time.Time) (tokens.Set, error) {
	left := func(t tokens.Set) int64 { return max(0, t.AccessExpiry.Unix()-now.Unix()) }
	if r.token.AccessToken() != "" && left(r.token) > 60 {
		return r.token, nil
	}
	r.reads++
	f, err := tokensfile.Read(r.path)
	if err != nil {
		return tokens.Set{}, err
	}
	if left(f.Tokens) <= 0 {
		return tokens.Set{}, errors.New("Access token in file has expired or is not valid")
	}
	r.token = f.Tokens
	return f.Tokens, nil
}

func keepServer(t *testing.T, clock *authtest.Clock, opts ...authtest.Option) *authtest.Server {
	t.Helper()
	return authtest.Start(t, append([]authtest.Option{authtest.WithClock(clock), authtest.WithUser(canaryUser, canaryPassword)}, opts...)...)
}

func refreshes(srv *authtest.Server) (ok, failed int) {
	for _, r := range srv.Requests() {
		if r.Kind == validate.KindRefresh && !r.Injected {
			if r.Status == 200 {
				ok++
			} else {
				failed++
			}
		}
	}
	return ok, failed
}

// noSecrets fails when a line holds a token or the password.
func noSecrets(t *testing.T, lines []string, secrets ...string) {
	t.Helper()
	for _, l := range lines {
		for _, s := range append(secrets, canaryPassword) {
			if s != "" && strings.Contains(l, s) {
				t.Fatalf("a secret in %q", l)
			}
		}
	}
}

// TestKeepLifetimes: for lifetimes from well below the readers' 60 s margin to an
// hour, a reader that asks every second as iqm-client 36 does always gets a valid
// token, the file never holds a token with less than the renewal margin left, and the
// keeper renews at most twice per lifetime (and no less than the lifetimes need).
func TestKeepLifetimes(t *testing.T) {
	for _, tt := range []struct {
		ttl, before time.Duration // before: the margin Keep renews at
		lifetimes   int
		poll        time.Duration // how often Keep and the reader look; 0: every second
	}{
		{20 * time.Second, 10 * time.Second, 6, 0},
		{60 * time.Second, 30 * time.Second, 6, 0},
		{90 * time.Second, 45 * time.Second, 6, 0},
		{300 * time.Second, 150 * time.Second, 6, 0},
		{time.Hour, authclient.DefaultRenewBefore, 3, 10 * time.Second}, // fewer looks: -race is slow
	} {
		t.Run(tt.ttl.String(), func(t *testing.T) {
			clock := authtest.NewClock(t0)
			srv := keepServer(t, clock, authtest.WithAccessTTL(tt.ttl), authtest.WithRefreshTTL(2*tt.ttl), authtest.WithRotation())
			path := filepath.Join(t.TempDir(), "tokens.json")
			first := loginToFile(t, srv, clock, path)
			srv.ResetRequests()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			end := t0.Add(time.Duration(tt.lifetimes) * tt.ttl)
			reader := &iqm36Reader{path: path}
			asked := 0
			var secrets []string
			ft := &fakeTimers{clock: clock, tick: func(now time.Time) {
				if now.After(end) {
					cancel()
					return
				}
				f, err := tokensfile.Read(path)
				if err != nil {
					t.Fatal(err)
				}
				if left := f.Tokens.AccessExpiry.Sub(now); left < tt.before {
					t.Fatalf("at +%v the file's token has %v left, less than %v", now.Sub(t0), left, tt.before)
				}
				secrets = append(secrets, f.Tokens.AccessToken(), f.Tokens.RefreshToken())
				got, err := reader.bearer(now)
				if err != nil || !got.AccessExpiry.After(now) {
					t.Fatalf("at +%v the reader got %v %v", now.Sub(t0), testsafe.Value(got), err)
				}
				asked++
			}}
			var ev keepEvents
			err := authclient.Keep(ctx, path, authclient.Tuned(authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add}, authclient.KeepTuning{Poll: tt.poll}))
			if err != nil {
				t.Fatal(err)
			}
			ok, failed := refreshes(srv)
			renewed := ev.count(authclient.KeepRenewed)
			if renewed != ok || failed != 0 {
				t.Errorf("%d renewals logged, %d refreshes answered 200, %d failed", renewed, ok, failed)
			}
			// One renewal every lifetime less the margin: at most two per lifetime, and
			// as many as the run needs.
			want := int(time.Duration(tt.lifetimes) * tt.ttl / (tt.ttl - tt.before))
			if renewed != want || renewed > 2*tt.lifetimes {
				t.Errorf("%d renewals in %d lifetimes, want %d", renewed, tt.lifetimes, want)
			}
			if asked < tt.lifetimes*int(tt.ttl/max(tt.poll, time.Second))-1 {
				t.Errorf("the reader asked %d times", asked)
			}
			t.Logf("lifetime %v: %d renewals in %d lifetimes, the reader asked %d times and read the file %d times",
				tt.ttl, renewed, tt.lifetimes, asked, reader.reads)
			noSecrets(t, ev.lines(), append(secrets, first.AccessToken(), first.RefreshToken())...)
		})
	}
}

// TestKeepersShareOneRefresh: keepers on one file (as separate processes would be)
// that all find it due send one refresh, against a server that rotates refresh
// tokens, and the others follow the file; so does a FileGrants (iqmauth token).
func TestKeepersShareOneRefresh(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithRotation(), authtest.WithAccessTTL(90*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	first := loginToFile(t, srv, clock, path)
	clock.Advance(50 * time.Second)
	srv.ResetRequests()
	srv.SetLatency(20 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	var ev keepEvents
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = authclient.Keep(context.Background(), path, authclient.KeepOptions{Clock: clock, Once: true, OnEvent: ev.add})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("keeper %d: %v", i, err)
		}
	}
	if ok, failed := refreshes(srv); ok != 1 || failed != 0 {
		t.Errorf("%d refreshes, %d failed: %v", ok, failed, srv.Requests())
	}
	f, err := tokensfile.Read(path)
	if err != nil || f.Tokens.AccessToken() == first.AccessToken() {
		t.Fatalf("file not renewed: %v", err)
	}
	if _, err := srv.VerifyAccessToken(f.Tokens.AccessToken()); err != nil {
		t.Error(err)
	}
}

// TestKeepOnce: not due, nothing is sent; due, one refresh.
func TestKeepOnce(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(300*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginToFile(t, srv, clock, path)
	srv.ResetRequests()
	var ev keepEvents
	opts := authclient.KeepOptions{Clock: clock, Once: true, OnEvent: ev.add}
	clock.Advance(149 * time.Second)
	if err := authclient.Keep(context.Background(), path, opts); err != nil || len(srv.Requests()) != 0 || ev.count(authclient.KeepNotDue) != 1 {
		t.Fatalf("not due: %v %v %v", err, srv.Requests(), ev.lines())
	}
	clock.Advance(time.Second)
	if err := authclient.Keep(context.Background(), path, opts); err != nil || ev.count(authclient.KeepRenewed) != 1 {
		t.Fatalf("due: %v %v", err, ev.lines())
	}
	if ok, _ := refreshes(srv); ok != 1 {
		t.Errorf("requests %v", srv.Requests())
	}
	// Once does not retry: the failure is returned for the next run.
	clock.Advance(150 * time.Second)
	srv.FailNext(1, 503, "<html>down</html>")
	if err := authclient.Keep(context.Background(), path, opts); err == nil {
		t.Error("a failed renewal with Once returned nil")
	}
}

// TestKeepRetriesTransientFailures: a server that answers 503 is retried with a
// doubling, jittered backoff, while the access token is valid and after it has
// expired, until the refresh token expires: then Keep ends with ErrSessionEnded.
func TestKeepRetriesTransientFailures(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(90*time.Second), authtest.WithRefreshTTL(300*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	tk := loginToFile(t, srv, clock, path)
	var ev keepEvents
	var waits []time.Duration
	ft := &fakeTimers{clock: clock}
	sleep := func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ft.sleep(ctx, d)
	}
	// Three failures, then it works.
	srv.FailNext(3, 503, "<html>maintenance</html>")
	ctx, cancel := context.WithCancel(context.Background())
	ft.tick = func(now time.Time) {
		if ev.count(authclient.KeepRenewed) == 1 {
			cancel()
		}
	}
	err := authclient.Keep(ctx, path, authclient.Tuned(authclient.KeepOptions{Clock: clock, Sleep: sleep, OnEvent: ev.add}, authclient.KeepTuning{Jitter: func() float64 { return 0.5 }}))
	if err != nil || ev.count(authclient.KeepRetrying) != 3 || ev.count(authclient.KeepRenewed) != 1 {
		t.Fatalf("%v: %q", err, ev.lines())
	}
	// The waits after failures: 1 s, 2 s, 4 s, each at 3/4 with this jitter.
	var retryWaits []time.Duration
	for _, e := range ev.events {
		if e.Kind == authclient.KeepRetrying {
			retryWaits = append(retryWaits, e.Next.Sub(e.At))
		}
	}
	if want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}; !equalDurations(retryWaits, want) {
		t.Errorf("waits after failures %v, want %v", retryWaits, want)
	}
	for _, w := range waits {
		if w > time.Second {
			t.Errorf("a wait of %v: the file is read at least every second", w)
		}
	}
	cancel()

	// A long outage: retried past the access token's expiry, up to the refresh
	// token's.
	f, _ := tokensfile.Read(path)
	srv.FailNext(1000, 502, "<html>bad gateway</html>")
	ev = keepEvents{}
	ft.tick = nil
	err = authclient.Keep(context.Background(), path, authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add})
	if !errors.Is(err, authclient.ErrSessionEnded) || !strings.Contains(err.Error(), "refresh token expired") {
		t.Fatalf("after the refresh token expired: %v", err)
	}
	after := 0
	for _, e := range ev.events {
		if e.Kind == authclient.KeepRetrying && e.At.After(f.Tokens.AccessExpiry) {
			after++
		}
	}
	if after < 5 {
		t.Errorf("%d retries after the access token expired: %q", after, ev.lines())
	}
	if !clock.Now().Before(f.Tokens.RefreshExpiry.Add(30 * time.Second)) {
		t.Errorf("ended at +%v, the refresh token expired at +%v", clock.Now().Sub(t0), f.Tokens.RefreshExpiry.Sub(t0))
	}
	noSecrets(t, append(ev.lines(), err.Error()), tk.AccessToken(), tk.RefreshToken(), f.Tokens.AccessToken(), f.Tokens.RefreshToken())
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeepEnds: a dead session, a removed file, a cancelled context, a file with
// nothing to renew: each ends Keep as documented, and no secret is in any message.
func TestKeepEnds(t *testing.T) {
	for _, tt := range []struct {
		name string
		at   time.Duration // when the fault happens
		do   func(t *testing.T, srv *authtest.Server, path string, tk tokens.Set, cancel func())
		is   []error
		msg  string
	}{
		{"session ended at the server", 10 * time.Second, func(t *testing.T, srv *authtest.Server, _ string, tk tokens.Set, _ func()) {
			c := newClient(t, srv.URL)
			if err := c.Logout(context.Background(), tk.RefreshToken()); err != nil {
				t.Fatal(err)
			}
		}, []error{authclient.ErrSessionEnded, api.ErrInvalidGrant}, "refused its refresh token"},
		{"file removed", 10 * time.Second, func(t *testing.T, _ *authtest.Server, path string, _ tokens.Set, _ func()) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, []error{authclient.ErrFileRemoved}, "removed"},
		{"refresh token removed", 10 * time.Second, func(t *testing.T, _ *authtest.Server, path string, tk tokens.Set, _ func()) {
			writeJSON(t, path, map[string]any{"access_token": tk.AccessToken(), "auth_server_url": "http://127.0.0.1:1"})
		}, []error{authclient.ErrSessionEnded, authclient.ErrNoRefreshToken}, "no refresh token"},
		{"stopped", 10 * time.Second, func(_ *testing.T, _ *authtest.Server, _ string, _ tokens.Set, cancel func()) { cancel() }, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := authtest.NewClock(t0)
			srv := keepServer(t, clock, authtest.WithAccessTTL(90*time.Second))
			path := filepath.Join(t.TempDir(), "tokens.json")
			tk := loginToFile(t, srv, clock, path)
			before, _ := os.ReadFile(path)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ft := &fakeTimers{clock: clock, tick: func(now time.Time) {
				if now.Equal(t0.Add(tt.at)) {
					tt.do(t, srv, path, tk, cancel)
				}
			}}
			var ev keepEvents
			err := authclient.Keep(ctx, path, authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add})
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("%v is not %v", err, want)
				}
			}
			if tt.is == nil {
				after, _ := os.ReadFile(path)
				if err != nil || string(after) != string(before) {
					t.Errorf("stopped: %v; file changed: %v", err, string(after) != string(before))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one saying %q", err, tt.msg)
			}
			noSecrets(t, append(ev.lines(), err.Error()), tk.AccessToken(), tk.RefreshToken())
		})
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeepFollowsNewLogin: a file replaced by a new login is followed: the old
// session's refresh token is never sent again, and the new tokens are renewed when
// they are due. Members the keeper does not own stay as they were.
func TestKeepFollowsNewLogin(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(90*time.Second), authtest.WithRotation())
	path := filepath.Join(t.TempDir(), "tokens.json")
	old := loginToFile(t, srv, clock, path)
	var fresh tokens.Set
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTimers{clock: clock, tick: func(now time.Time) {
		switch now.Sub(t0) {
		case 30 * time.Second:
			fresh = loginToFile(t, srv, clock, path)
			// As Cortex's token manager would have it: its pid, and a site's member.
			f, _ := os.ReadFile(path)
			var m map[string]any
			_ = json.Unmarshal(f, &m)
			m["pid"], m["x-site"] = 4242, map[string]any{"queue": "q1"}
			writeJSON(t, path, m)
		case 200 * time.Second:
			cancel()
		}
	}}
	var ev keepEvents
	if err := authclient.Keep(ctx, path, authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add}); err != nil {
		t.Fatal(err)
	}
	if ev.count(authclient.KeepAdopted) != 1 {
		t.Errorf("events %q", ev.lines())
	}
	for _, r := range srv.Requests() {
		if r.Kind == validate.KindRefresh && strings.Contains(r.Body(), old.RefreshToken()) {
			t.Errorf("the old session's refresh token was sent at %v", r)
		}
	}
	// Renewed from the new login at +75 s and +120 s... (every 45 s from +30 s).
	if n := ev.count(authclient.KeepRenewed); n != 3 {
		t.Errorf("%d renewals after the new login, want 3: %q", n, ev.lines())
	}
	raw, _ := os.ReadFile(path)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || string(m["pid"]) != "4242" || string(m["x-site"]) != `{"queue":"q1"}` {
		t.Errorf("members not kept: %s", testsafe.Text(string(raw)))
	}
	noSecrets(t, ev.lines(), old.AccessToken(), old.RefreshToken(), fresh.AccessToken(), fresh.RefreshToken())
}

// TestKeepRefusesBadInput: settings and files that cannot be kept are refused before
// anything is sent.
func TestKeepRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	writeJSON(t, path, map[string]any{"access_token": "not-a-jwt", "refresh_token": "CANARY-RT", "auth_server_url": "http://127.0.0.1:1"})
	for name, opts := range map[string]authclient.KeepOptions{
		"negative margin":  {RenewBefore: -time.Second},
		"backoff over max": authclient.Tuned(authclient.KeepOptions{}, authclient.KeepTuning{Backoff: time.Minute, MaxBackoff: time.Second}),
	} {
		if err := authclient.Keep(context.Background(), path, opts); !errors.Is(err, authclient.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := authclient.Keep(context.Background(), path, authclient.KeepOptions{}); !errors.Is(err, authclient.ErrNoExpiry) || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("no expiry: %v", err)
	}
	if err := authclient.Keep(context.Background(), filepath.Join(dir, "none.json"), authclient.KeepOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
	writeJSON(t, path, map[string]any{"access_token": jwtWithExp(t0.Add(time.Hour).Unix()), "refresh_token": "CANARY-RT", "auth_server_url": "http://auth.example.test"})
	if err := authclient.Keep(context.Background(), path, authclient.KeepOptions{}); !errors.Is(err, authclient.ErrInsecureTransport) {
		t.Errorf("cleartext server: %v", err)
	}
}

// TestKeepUnreadableFile: a file that cannot be parsed for a while (someone writing it
// in place) is said once, read again at every poll, and kept as before once it can be
// read again.
func TestKeepUnreadableFile(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(90*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginToFile(t, srv, clock, path)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTimers{clock: clock, tick: func(now time.Time) {
		switch now.Sub(t0) {
		case 10 * time.Second:
			if err := os.WriteFile(path, good[:len(good)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		case 20 * time.Second:
			if err := os.WriteFile(path, good, 0o600); err != nil {
				t.Fatal(err)
			}
		case 60 * time.Second:
			cancel()
		}
	}}
	var ev keepEvents
	if err := authclient.Keep(ctx, path, authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add}); err != nil {
		t.Fatal(err)
	}
	if ev.count(authclient.KeepUnreadable) != 1 || ev.count(authclient.KeepRenewed) != 1 || ev.count(authclient.KeepAdopted) != 0 {
		t.Errorf("events %q", ev.lines())
	}
}

// TestKeepStopsDuringRenewal: a renewal that the server holds up is given its grace
// after the context ends, then cancelled; Keep returns nil without reporting a failure,
// and the file is as it was.
func TestKeepStopsDuringRenewal(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(90*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginToFile(t, srv, clock, path)
	before, _ := os.ReadFile(path)
	clock.Advance(50 * time.Second) // due
	srv.SetLatency(time.Hour)       // the server never answers
	ctx, cancel := context.WithCancel(context.Background())
	var ev keepEvents
	started := make(chan struct{})
	onEvent := func(e authclient.KeepEvent) {
		ev.add(e)
		if e.Kind == authclient.KeepStarted {
			close(started)
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- authclient.Keep(ctx, path, authclient.Tuned(authclient.KeepOptions{Clock: clock, OnEvent: onEvent}, authclient.KeepTuning{StopGrace: 10 * time.Millisecond}))
	}()
	// Once Keep has read the file it renews at once (the tokens are due): stop it then.
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("ended early: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Keep: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) || ev.count(authclient.KeepRetrying) != 0 {
		t.Errorf("file changed %v, events %q", string(after) != string(before), ev.lines())
	}
}

// TestKeepRefreshTokenExpiresFirst: a server whose refresh tokens expire (idle out)
// before its access tokens are half through: Keep renews at half the refresh token's
// lifetime instead, so the session lives on.
func TestKeepRefreshTokenExpiresFirst(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := keepServer(t, clock, authtest.WithAccessTTL(300*time.Second), authtest.WithRefreshTTL(120*time.Second))
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginToFile(t, srv, clock, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTimers{clock: clock, tick: func(now time.Time) {
		if now.Sub(t0) >= 10*time.Minute {
			cancel()
		}
	}}
	var ev keepEvents
	if err := authclient.Keep(ctx, path, authclient.KeepOptions{Clock: clock, Sleep: ft.sleep, OnEvent: ev.add}); err != nil {
		t.Fatalf("%v: %q", err, ev.lines())
	}
	if n := ev.count(authclient.KeepRenewed); n != 9 { // at +1 min ... +9 min
		t.Errorf("%d renewals in 10 minutes, want one a minute: %q", n, ev.lines())
	}
}
