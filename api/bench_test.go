package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/oapi-codegen/runtime"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	specpkg "github.com/iqm-finland/authschema/generated/spec"
)

var benchBodies = []struct {
	name string
	body []byte
}{
	{"password", []byte("client_id=iqm_client&grant_type=password&username=some_username&password=some_password")},
	{"refresh", []byte("client_id=iqm_client&grant_type=refresh_token&refresh_token=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTksInR5cCI6IlJlZnJlc2gifQ.c2lnbmF0dXJl")},
}

// BenchmarkDecodeValidate compares the strict decoder plus the kind rules with the
// schema-driven path of the generator's ecosystem: kin-openapi's
// openapi3filter.ValidateRequest against this module's embedded spec (route found
// once), then runtime.BindForm into the generated type.
func BenchmarkDecodeValidate(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run("api/"+bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, _, err := api.DecodeFormRequest(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	spec, err := specpkg.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	spec.Servers = nil // match any host
	router, err := legacy.NewRouter(spec)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range benchBodies {
		b.Run("kinopenapi/"+bb.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/realms/cortex/protocol/openid-connect/token", nil)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			route, params, err := router.FindRoute(req)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				req.Body = io.NopCloser(bytes.NewReader(bb.body))
				in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
				if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
					b.Fatal(err)
				}
				data, err := io.ReadAll(req.Body)
				if err != nil {
					b.Fatal(err)
				}
				form, err := url.ParseQuery(string(data))
				if err != nil {
					b.Fatal(err)
				}
				var r generated.AuthRequest
				if err := runtime.BindForm(&r, form, nil, nil); err != nil {
					b.Fatal(err)
				}
				if r.ClientID != "iqm_client" {
					b.Fatal("bind failed")
				}
			}
		})
	}
}

// BenchmarkEncodeForm compares EncodeForm with the generated client's
// own encoding: runtime.MarshalForm, then url.Values.Encode.
func BenchmarkEncodeForm(b *testing.B) {
	reqs := []struct {
		name string
		r    generated.AuthRequest
	}{
		{"password", api.NewPasswordRequest("iqm_client", "some_username", "some password+&=")},
		{"refresh", api.NewRefreshRequest("iqm_client", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTl9.c2lnbmF0dXJl")},
	}
	for _, rr := range reqs {
		b.Run("api/"+rr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := api.EncodeForm(rr.r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("runtime/"+rr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := runtime.MarshalForm(rr.r, nil)
				if err != nil {
					b.Fatal(err)
				}
				_ = v.Encode()
			}
		})
	}
}
