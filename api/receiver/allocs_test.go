package receiver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// maxHandlerAllocs is issue 15's target for a grant through the Handler (BENCHMARKS.md).
const maxHandlerAllocs = 7

// handlerAllocs counts the allocations of one request through h, as BenchmarkHandler
// sends it (the request, its body reader and the writer reused).
func handlerAllocs(t *testing.T, h http.Handler, path, body string, status int) float64 {
	t.Helper()
	var rd strings.Reader
	req := httptest.NewRequest(http.MethodPost, path, &rd)
	req.Header.Set("Content-Type", form)
	req.ContentLength = int64(len(body))
	rc := io.NopCloser(&rd)
	w := &discardWriter{header: http.Header{}}
	n := testing.AllocsPerRun(200, func() {
		rd.Reset(body)
		req.Body = rc
		clear(w.header)
		w.status = 0
		h.ServeHTTP(w, req)
	})
	if w.status != status {
		t.Fatalf("%s: status %d, want %d", path, w.status, status)
	}
	return n
}

// TestHandlerAllocs pins the allocations per request, so that a regression fails go
// test: 2 in the form decoder (api.Decoder), 1 for the body, 1 for the Backend's
// context (which carries the body for Param); the exchange is pooled, and the request
// is routed by route, not by the generated router (3 more). The race detector makes
// sync.Pool drop buffers at random, so the count is checked without it.
func TestHandlerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	h := receiver.New(newStaticBackend(), receiver.Config{})
	for _, tt := range []struct {
		name, path, body string
		status           int
		want             float64
	}{
		{"password", tokenPath, benchBodies[0].body, 200, 4},
		{"refresh", tokenPath, benchBodies[1].body, 200, 4},
		{"logout", logoutPath, "client_id=iqm_client&refresh_token=r", 204, 4},
	} {
		if got := handlerAllocs(t, h, tt.path, tt.body, tt.status); got > tt.want || got > maxHandlerAllocs {
			t.Errorf("%s: %v allocations per request, want at most %v", tt.name, testsafe.Value(got), tt.want)
		}
	}
}
