package receiver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// refreshBackend records the refresh token and the form parameter "x" (read with
// Param) it was given, and grants.
type refreshBackend struct {
	badBackend
	token, x string
}

func (b *refreshBackend) RefreshGrant(ctx context.Context, _, _, token string) (generated.TokenResponse, error) {
	b.token = token
	b.x, _ = receiver.Param(ctx, "x")
	return generated.TokenResponse{AccessToken: generated.NewSecret("a")}, nil
}

// TestBodyLengths: bodies of several lengths, around the limit, with a true, a false
// and an unknown Content-Length.
func TestBodyLengths(t *testing.T) {
	const limit = 4096
	body := func(n int) string {
		b := "client_id=c&grant_type=refresh_token&x=y&refresh_token="
		return b + strings.Repeat("t", n-len(b))
	}
	for _, tt := range []struct {
		name   string
		n      int   // the body's length
		cl     int64 // Content-Length; -1 unknown
		status int
	}{
		{"small", 100, 100, 200},
		{"255", 255, 255, 200},
		{"256", 256, 256, 200},
		{"1023", 1023, 1023, 200},
		{"1024", 1024, 1024, 200},
		{"1025", 1025, 1025, 200},
		{"below the limit", limit - 1, limit - 1, 200},
		{"at the limit", limit, limit, 200},
		{"over the limit", limit + 1, limit + 1, 413},
		{"unknown length", 2000, -1, 200},
		{"unknown length over the limit", limit + 1, -1, 413},
		{"longer than announced", 200, 150, 400},
		{"longer than announced, 255", 300, 255, 400},
		{"longer than announced by one byte", 201, 200, 400},
		{"longer than announced, allocated", 1100, 1000, 400},
		{"shorter than announced", 150, 200, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &refreshBackend{}
			h := receiver.New(b, receiver.Config{MaxBodyBytes: limit, Lenient: true})
			req := httptest.NewRequest(http.MethodPost, tokenPath, io.NopCloser(strings.NewReader(body(tt.n))))
			req.Header.Set("Content-Type", form)
			req.ContentLength = tt.cl
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.status, testsafe.Text(rec.Body.String()))
			}
			if tt.status != 200 {
				return
			}
			want := body(tt.n)[strings.Index(body(tt.n), "refresh_token=")+len("refresh_token="):]
			if b.token != want || b.x != "y" {
				t.Errorf("the Backend got a refresh token of %d bytes (want %d) and x=%q", len(b.token), len(want), b.x)
			}
		})
	}
}

// keepingBackend keeps the contexts it was given.
type keepingBackend struct {
	refreshBackend
	kept []context.Context
}

func (b *keepingBackend) Realm(ctx context.Context, _ string) error {
	b.kept = append(b.kept, ctx)
	return nil
}

// TestKeptContextKeepsItsRequest: a Backend that keeps its context still reads its own
// request's parameters from it after the Handler has served other requests.
func TestKeptContextKeepsItsRequest(t *testing.T) {
	b := &keepingBackend{}
	h := receiver.New(b, receiver.Config{Lenient: true})
	for _, x := range []string{"first", "second", "third"} {
		if status, body, _ := post(t, h, tokenPath, form, "client_id=c&grant_type=refresh_token&refresh_token=r&x="+x); status != 200 {
			t.Fatalf("%d %v", status, testsafe.Value(body))
		}
	}
	for i, want := range []string{"first", "second", "third"} {
		if got, _ := receiver.Param(b.kept[i], "x"); got != want {
			t.Errorf("request %d: Param x = %q, want %q", i, testsafe.Text(got), want)
		}
	}
}

// TestKeptObservationKeepsItsBody: an Observation kept after Observe still has its own
// request's body, however many requests the Handler serves after it.
func TestKeptObservationKeepsItsBody(t *testing.T) {
	var kept []receiver.Observation
	h := receiver.New(&refreshBackend{}, receiver.Config{Lenient: true, Observe: func(o receiver.Observation) { kept = append(kept, o) }})
	bodies := []string{"client_id=c&grant_type=refresh_token&refresh_token=r&x=1", "client_id=c&grant_type=refresh_token&refresh_token=r&x=2"}
	for _, b := range bodies {
		post(t, h, tokenPath, form, b)
	}
	for i, b := range bodies {
		if got := string(kept[i].Body()); got != b {
			t.Errorf("observation %d: body %q, want %q", i, testsafe.Text(got), testsafe.Text(string(b)))
		}
	}
}
