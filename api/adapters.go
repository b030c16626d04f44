package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/iqm-finland/authschema/internal/redact"

	"golang.org/x/oauth2"
)

// TokenSource adapts the session to golang.org/x/oauth2. Its tokens carry the access
// token, type and expiry, never the refresh token (x/oauth2 prints tokens with %v).
// x/oauth2's interface has no context: renewals run under context.Background(),
// bounded by the client's timeout.
func (s *Session) TokenSource() oauth2.TokenSource { return sessionTokenSource{s} }

type sessionTokenSource struct{ s *Session }

func (ts sessionTokenSource) Token() (*oauth2.Token, error) {
	t, err := ts.s.Tokens(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken(), TokenType: t.TokenType, Expiry: t.AccessExpiry}, nil
}

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
	redact.Format(f, verb, t.String(), "api."+t.String())
}

// LogValue keeps the tokens out of log/slog output.
func (t Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Transport returns a Transport over base.
func (s *Session) Transport(base http.RoundTripper) *Transport {
	return &Transport{Session: s, Base: base}
}

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

// RequestEditor returns a request editor for oapi-codegen clients
// (generated.WithRequestEditorFn and its kin) that sets the bearer token.
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
