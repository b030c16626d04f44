package authclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/iqm-finland/authschema/internal/redact"
)

// envInsecureAllowNonHTTPSAuth is the variable with which iqm-client 35+ (and
// Transport) send the Authorization header over plain http to a host that is not
// loopback: only the value "true" (any case) opts in.
const envInsecureAllowNonHTTPSAuth = "INSECURE_ALLOW_NON_HTTPS_AUTH"

// ErrMutatingRedirect: a redirect answered to a request that changes state (POST, PUT,
// PATCH, DELETE, ...); Transport does not follow it, as iqm-client 35+ does not.
var ErrMutatingRedirect = errors.New("redirect of a state-changing request not followed")

// Transport is an http.RoundTripper that adds "Authorization: Bearer <token>" from a
// Session to every request, renewing the token under the request's context. It
// follows iqm-client 35+:
//   - no Authorization over plain http:// to a host that is not loopback (the request
//     goes without it) unless AllowInsecureHTTP is set or INSECURE_ALLOW_NON_HTTPS_AUTH
//     is "true";
//   - a redirect of a state-changing request is not followed: the http.Client gets
//     ErrMutatingRedirect (use Transport.Client, whose CheckRedirect hands back the
//     redirect response itself); a redirect of a GET to another host or down to http
//     goes without the Authorization;
//   - User-Agent, when the request has none, is UserAgent(): this module and its version.
type Transport struct {
	// Session gives the tokens.
	Session *Session
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// AllowInsecureHTTP sends the Authorization header over plain http:// to hosts that
	// are not loopback too, as INSECURE_ALLOW_NON_HTTPS_AUTH=true does.
	AllowInsecureHTTP bool
}

// Client is an http.Client on t whose redirects of state-changing requests are handed
// back to the caller instead of followed.
func (t *Transport) Client() *http.Client {
	return &http.Client{Transport: t, CheckRedirect: noMutatingRedirects}
}

// noMutatingRedirects is an http.Client CheckRedirect that follows at most 10
// redirects, and none of a request that changes state: the redirect response is
// returned as it is (http.ErrUseLastResponse).
func noMutatingRedirects(req *http.Request, via []*http.Request) error {
	if len(via) > 0 && mutating(via[0].Method) {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// mutating reports whether method changes state on the server (not GET, HEAD,
// OPTIONS or TRACE).
func mutating(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// authorizationAllowed says whether the Authorization header may go with req: not over
// plain http to a host that is not loopback (unless opted in), and not to a redirect
// target on another host or down from https.
func (t *Transport) authorizationAllowed(req *http.Request) bool {
	if req.URL.Scheme == "http" && !isLoopback(req.URL.Hostname()) && !t.AllowInsecureHTTP &&
		!strings.EqualFold(os.Getenv(envInsecureAllowNonHTTPSAuth), "true") {
		return false
	}
	if req.Response != nil && req.Response.Request != nil {
		orig := req.Response.Request.URL
		for r := req.Response.Request; r != nil; r = redirectedFrom(r) {
			orig = r.URL
		}
		if !strings.EqualFold(orig.Hostname(), req.URL.Hostname()) || (orig.Scheme == "https" && req.URL.Scheme != "https") {
			return false
		}
	}
	return true
}

func redirectedFrom(r *http.Request) *http.Request {
	if r.Response == nil {
		return nil
	}
	return r.Response.Request
}

// firstMethod is the method of the request a chain of redirects began with.
func firstMethod(req *http.Request) string {
	m := req.Method
	for r := redirectedFrom(req); r != nil; r = redirectedFrom(r) {
		m = r.Method
	}
	return m
}

// RoundTrip implements http.RoundTripper. It does not modify req: it sends a clone.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if req.Response != nil && mutating(firstMethod(req)) {
		closeBody()
		u := req.Response.Request.URL
		return nil, fmt.Errorf("%s to %s answered %s: %w", firstMethod(req), redact.Printable(u.Scheme+"://"+u.Host),
			redact.Printable(req.Response.Status), ErrMutatingRedirect)
	}
	r := req.Clone(req.Context())
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", UserAgent())
	}
	if t.authorizationAllowed(req) {
		token, err := t.Session.Token(req.Context())
		if err != nil {
			closeBody()
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
	} else {
		r.Header.Del("Authorization")
	}
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
