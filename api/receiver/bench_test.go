package receiver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/oapi-codegen/runtime"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/generated/server"
	"github.com/iqm-finland/authschema/generated/spec"
)

var benchBodies = []struct {
	name string
	body string
}{
	{"password", "client_id=iqm_client&grant_type=password&username=some_username&password=some_password"},
	{"refresh", "client_id=iqm_client&grant_type=refresh_token&refresh_token=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTksInR5cCI6IlJlZnJlc2gifQ.c2lnbmF0dXJl"},
}

// staticBackend answers every grant with the same tokens, so that the benchmark
// measures request handling, not token signing.
type staticBackend struct{ resp generated.TokenResponse }

func newStaticBackend() *staticBackend {
	return &staticBackend{api.NewTokenResponse("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTl9.c2ln", 300,
		"eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJSZWZyZXNoIn0.c2ln", 1800, "profile email", "")}
}

func (*staticBackend) Realm(context.Context, string) error          { return nil }
func (*staticBackend) Client(context.Context, string, string) error { return nil }
func (b *staticBackend) PasswordGrant(context.Context, string, string, string, string) (generated.TokenResponse, error) {
	return b.resp, nil
}
func (b *staticBackend) RefreshGrant(context.Context, string, string, string) (generated.TokenResponse, error) {
	return b.resp, nil
}
func (*staticBackend) EndSession(context.Context, string, string, string) error { return nil }

// schemaDriven is what a service would write on the generated server interface with
// schema-driven validation in front of it: net/http's form parsing, oapi-codegen's
// runtime.BindForm into the generated type, encoding/json for the answer.
type schemaDriven struct{ b *staticBackend }

func (p schemaDriven) RequestToken(w http.ResponseWriter, r *http.Request, _ generated.Realm) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req generated.AuthRequest
	if err := runtime.BindForm(&req, r.PostForm, nil, nil); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.b.resp)
}

func (p schemaDriven) Logout(w http.ResponseWriter, _ *http.Request, _ generated.Realm) {
	w.WriteHeader(http.StatusNoContent)
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
// request through receiver.Handler (no network) with a handler on the same generated
// router that parses the form and binds it with oapi-codegen's runtime, behind
// kin-openapi's request-validation middleware on the same spec.
func BenchmarkHandler(b *testing.B) {
	backend := newStaticBackend()
	ours := receiver.New(backend, receiver.Config{})
	doc, err := spec.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		b.Fatal(err)
	}
	validator := openapi3filter.NewValidator(router,
		openapi3filter.ValidationOptions(openapi3filter.Options{ExcludeResponseBody: true}),
		openapi3filter.OnLog(func(context.Context, string, error) {}))
	peer := validator.Middleware(server.Handler(schemaDriven{backend}))

	for _, bb := range benchBodies {
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"api", ours}, {"generated+kinopenapi", peer}} {
			b.Run(h.name+"/"+bb.name, func(b *testing.B) {
				// Check once that both answer 200.
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader(bb.body))
				req.Header.Set("Content-Type", form)
				h.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
				// The request, its body reader and the writer are reused, so that only the
				// handling is measured.
				var rd strings.Reader
				req = httptest.NewRequest(http.MethodPost, tokenPath, &rd)
				req.Header.Set("Content-Type", form)
				req.ContentLength = int64(len(bb.body))
				body := io.NopCloser(&rd)
				w := &discardWriter{header: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(bb.body)
					req.Body = body
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
