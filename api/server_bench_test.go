package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
)

// staticBackend answers every grant with the same tokens, so that the benchmark
// measures request handling, not token signing.
type staticBackend struct{ resp generated.TokenResponse }

func newStaticBackend() *staticBackend {
	at, rt, tt, scope := "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTl9.c2ln", "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJSZWZyZXNoIn0.c2ln", "Bearer", "profile email"
	exp, rexp := int64(300), int64(1800)
	return &staticBackend{generated.TokenResponse{AccessToken: &at, RefreshToken: &rt, TokenType: &tt, Scope: &scope,
		ExpiresIn: &exp, RefreshExpiresIn: &rexp}}
}

func (*staticBackend) CheckRealm(context.Context, string) error          { return nil }
func (*staticBackend) CheckClient(context.Context, string, string) error { return nil }
func (b *staticBackend) Password(context.Context, string, string, string, string) (generated.TokenResponse, error) {
	return b.resp, nil
}
func (b *staticBackend) Refresh(context.Context, string, string, string) (generated.TokenResponse, error) {
	return b.resp, nil
}
func (*staticBackend) Logout(context.Context, string, string, string) error { return nil }

// strictPeer is the generated strict server answering with the same tokens.
type strictPeer struct{ b *staticBackend }

func (p strictPeer) RequestToken(_ context.Context, req generated.RequestTokenRequestObject) (generated.RequestTokenResponseObject, error) {
	return generated.RequestToken200JSONResponse(p.b.resp), nil
}

func (p strictPeer) Logout(context.Context, generated.LogoutRequestObject) (generated.LogoutResponseObject, error) {
	return generated.Logout204Response{}, nil
}

// discardWriter is a ResponseWriter that keeps the status and drops the body.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return len(b), nil
}
func (w *discardWriter) WriteHeader(status int) { w.status = status }

// BenchmarkHandler compares the token endpoint's handling of a password and a refresh
// request through api.Handler (no network) with the generated strict handler behind
// kin-openapi's request-validation middleware on the same spec and body.
func BenchmarkHandler(b *testing.B) {
	backend := newStaticBackend()
	ours := api.NewHandler(backend, api.HandlerConfig{})
	spec, err := generated.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	spec.Servers = nil
	router, err := legacy.NewRouter(spec)
	if err != nil {
		b.Fatal(err)
	}
	validator := openapi3filter.NewValidator(router,
		openapi3filter.ValidationOptions(openapi3filter.Options{ExcludeResponseBody: true}),
		openapi3filter.OnLog(func(context.Context, string, error) {}))
	peer := validator.Middleware(generated.Handler(generated.NewStrictHandler(strictPeer{backend}, nil)))

	for _, bb := range benchBodies {
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"api", ours}, {"strict+kinopenapi", peer}} {
			b.Run(h.name+"/"+bb.name, func(b *testing.B) {
				body := string(bb.body)
				// Check once that both answer 200.
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader(body))
				req.Header.Set("Content-Type", form)
				h.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
				// The request and writer are reused, so that only the handling is measured.
				var rd strings.Reader
				req = httptest.NewRequest(http.MethodPost, tokenPath, &rd)
				req.Header.Set("Content-Type", form)
				req.ContentLength = int64(len(body))
				w := &discardWriter{header: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(body)
					req.Body = io.NopCloser(&rd)
					req.Form, req.PostForm = nil, nil
					clear(w.header)
					w.status = 0
					h.h.ServeHTTP(w, req)
				}
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			})
		}
	}
}
