package authtest_test

import (
	"context"
	"encoding/json"
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

// TestRequestsJSONRedacted (issue 12): json.Marshal of the recorded requests shows no
// password or refresh token, also through a pointer and inside a map.
func TestRequestsJSONRedacted(t *testing.T) {
	const pw, rt = "CANARY-PW-51e0", "CANARY-RT-51e0"
	srv := authtest.Start(t, authtest.WithUser("alice", pw))
	h := srv.Handler()
	for _, body := range []string{
		"client_id=iqm_client&grant_type=password&username=alice&password=" + pw,
		"client_id=iqm_client&grant_type=refresh_token&refresh_token=" + rt,
	} {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	for _, v := range []any{reqs, &reqs[0], map[string]authtest.Request{"r": reqs[1]}} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); strings.Contains(s, pw) || strings.Contains(s, rt) || !strings.Contains(s, "iqm_client") {
			t.Errorf("json.Marshal(%T) shows a secret (or not the client): %d bytes", v, len(s))
		}
	}
}
