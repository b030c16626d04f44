package authtest_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestServerMemoryBounded: 3,000 bad 60 KiB requests do not make the server keep
// them: its record of requests is a bounded ring of summaries.
func TestServerMemoryBounded(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	body := "client_id=iqm_client&grant_type=password&username=alice&password=" + strings.Repeat("x", 60<<10)
	rec := httptest.NewRecorder()
	send := func() {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec.Body.Reset()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest { // Keycloak 26.7's bad credentials
			t.Fatalf("status %d", rec.Code)
		}
	}
	send()
	before := heapInUse()
	for range 3000 {
		send()
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grew by %.1f MiB", float64(grown)/(1<<20))
	if grown > 16<<20 {
		t.Errorf("heap grew by %.1f MiB for 3,000 requests", float64(grown)/(1<<20))
	}
	if n := len(srv.Requests()); n == 0 || n > 1000 {
		t.Errorf("%d requests recorded", n)
	}
}

// TestExpiredSessionsPruned: sessions whose refresh token has expired are forgotten.
func TestExpiredSessionsPruned(t *testing.T) {
	clock := authtest.NewClock(testtime.Epoch())
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"), authtest.WithRefreshTTL(time.Minute))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		if _, err := c.Login(context.Background(), "alice", "pw"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	if _, err := c.Login(context.Background(), "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if n := srv.ActiveSessions(); n != 1 {
		t.Errorf("%d sessions kept, want 1", n)
	}
}

// TestSessionsBounded (issue 12, item 14): with refresh tokens that never expire,
// sessions are still bounded: at the bound the oldest session goes (expired ones
// first), the newest stay usable.
func TestSessionsBounded(t *testing.T) {
	clock := authtest.NewClock(testtime.Epoch())
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"), authtest.WithRefreshTTL(0), authtest.WithMaxSessions(50))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var rts []string
	for range 120 {
		tk, err := c.Login(ctx, "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		rts = append(rts, tk.RefreshToken())
	}
	if n := srv.ActiveSessions(); n != 50 {
		t.Errorf("%d sessions kept, want 50", n)
	}
	if _, err := c.Refresh(ctx, rts[0]); err == nil || !strings.Contains(err.Error(), "Session not active") {
		t.Errorf("the oldest session: %v", err)
	}
	if _, err := c.Refresh(ctx, rts[len(rts)-1]); err != nil {
		t.Errorf("the newest session: %v", err)
	}
	// Expired sessions go before live ones.
	exp := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"), authtest.WithRefreshTTL(time.Minute), authtest.WithMaxSessions(3))
	ec, _ := authclient.New(authclient.Config{ServerURL: exp.URL, Clock: clock})
	first, _ := ec.Login(ctx, "alice", "pw")
	clock.Advance(30 * time.Second)
	keep, _ := ec.Login(ctx, "alice", "pw")
	clock.Advance(31 * time.Second) // first has expired, keep has not
	for range 2 {
		if _, err := ec.Login(ctx, "alice", "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ec.Refresh(ctx, keep.RefreshToken()); err != nil {
		t.Errorf("a live session went before an expired one: %v", err)
	}
	_ = first
}

// TestHeadersBounded (issue 12, item 14): a request with headers over 64 KiB (Keycloak's
// max-header-size) is 431 on a real listener, not read into memory.
func TestHeadersBounded(t *testing.T) {
	srv := authtest.Start(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/realms/cortex", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 512<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("512 KiB of headers: %d", resp.StatusCode)
	}
}

// TestConnectionsBounded (issue 12, item 14): the server serves at most
// DefaultMaxConnections connections at once; one more waits until another closes.
func TestConnectionsBounded(t *testing.T) {
	const limit = 256 // authtest.DefaultMaxConnections
	srv := authtest.Start(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	get := "GET /realms/cortex HTTP/1.1\r\nHost: x\r\n\r\n"
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	answered := func(c net.Conn, wait time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(line, "HTTP/1.1 ")
	}
	for i := range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, get); err != nil || !answered(c, 10*time.Second) {
			t.Fatalf("connection %d not served", i)
		}
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if _, err := io.WriteString(extra, get); err != nil {
		t.Fatal(err)
	}
	if answered(extra, 300*time.Millisecond) {
		t.Fatalf("connection %d served beside %d open ones", limit+1, limit)
	}
	conns[0].Close()
	if !answered(extra, 10*time.Second) {
		t.Error("the waiting connection was not served after another closed")
	}
}

// TestSessionBoundSweepsWhenOneMayHaveExpired: at the bound the server sweeps for
// expired sessions only once one may have expired, and then an expired session still
// goes before the oldest live one, also when a refresh moved the oldest's expiry on.
func TestSessionBoundSweepsWhenOneMayHaveExpired(t *testing.T) {
	clock := authtest.NewClock(testtime.Epoch())
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser("alice", "pw"),
		authtest.WithRefreshTTL(time.Minute), authtest.WithMaxSessions(3))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	login := func() string {
		t.Helper()
		tk, err := c.Login(ctx, "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		return tk.RefreshToken()
	}
	refresh := func(rt string) (string, error) {
		tk, err := c.Refresh(ctx, rt)
		if err != nil {
			return "", err
		}
		return tk.RefreshToken(), nil
	}
	first := login() // expires at +60 s
	clock.Advance(10 * time.Second)
	second := login() // +70 s
	clock.Advance(10 * time.Second)
	third := login()  // +80 s
	fourth := login() // at the bound: nothing expired, the oldest (first) goes
	if _, err := refresh(first); err == nil {
		t.Error("the oldest session was kept at the bound")
	}
	clock.Advance(30 * time.Second) // +50 s: second and fourth refreshed to +110 s
	if second, err = refresh(second); err != nil {
		t.Fatal(err)
	}
	if fourth, err = refresh(fourth); err != nil {
		t.Fatal(err)
	}
	clock.Advance(35 * time.Second) // +85 s: third has expired, second is the oldest
	login()
	if _, err := refresh(second); err != nil {
		t.Errorf("the oldest live session went before an expired one: %v", err)
	}
	if _, err := refresh(fourth); err != nil {
		t.Errorf("a live session went: %v", err)
	}
	if n := srv.ActiveSessions(); n != 3 {
		t.Errorf("%d sessions kept, want 3", n)
	}
	_ = third
}
