package authclient

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Transport is an http.RoundTripper that adds "Authorization: Bearer <token>" from a
// Session to every request, renewing the token under the request's context.
type Transport struct {
	// Session gives the tokens.
	Session *Session
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// String describes the transport without any token.
func (t Transport) String() string {
	if t.Session == nil {
		return "Transport{session:<nil>}"
	}
	return "Transport{session:" + t.Session.String() + "}"
}

// Format keeps the tokens out of every fmt verb.
func (t Transport) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, t.String(), "authclient."+t.String())
}

// LogValue keeps the tokens out of log/slog output.
func (t Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }

// RoundTrip implements http.RoundTripper. It does not modify req: it sends a clone.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	token, err := t.Session.Token(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// RequestEditor returns a request editor for oapi-codegen clients (the
// WithRequestEditorFn option of a generated client, such as generated/client's) that
// sets the bearer token.
func (s *Session) RequestEditor() func(ctx context.Context, req *http.Request) error {
	return func(ctx context.Context, req *http.Request) error {
		token, err := s.Token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}
