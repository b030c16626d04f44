package authtest_test

import (
	"context"
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
		if rec.Code != http.StatusUnauthorized {
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
