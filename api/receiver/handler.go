package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/generated/server"
	"github.com/iqm-finland/authschema/validate"
)

// The error codes of openapi.yaml's OAuth2ErrorCode that this file answers with.
const (
	codeInvalidClient        = string(generated.OAuth2ErrorCodeInvalidClient)
	codeInvalidRequest       = string(generated.OAuth2ErrorCodeInvalidRequest)
	codeServerError          = string(generated.OAuth2ErrorCodeServerError)
	codeUnsupportedGrantType = string(generated.OAuth2ErrorCodeUnsupportedGrantType)
)

// Backend holds what a receiving server knows: realms, clients, users and sessions.
// The Handler runs the protocol (decoding, validation, Keycloak's order of checks and
// its answers) and asks the Backend. Errors a Backend returns should be
// *api.OAuthError with a status openapi.yaml lists for the endpoint; any other error
// is answered with 500 server_error.
type Backend interface {
	// Realm: nil, or 404 "Realm does not exist" (or 403 when disabled).
	Realm(ctx context.Context, realm string) error
	// Client: nil, or 401 invalid_client for an unknown or disabled client.
	Client(ctx context.Context, realm, clientID string) error
	// PasswordGrant grants tokens for a username and password.
	PasswordGrant(ctx context.Context, realm, clientID, username, password string) (generated.TokenResponse, error)
	// RefreshGrant grants tokens for a refresh token.
	RefreshGrant(ctx context.Context, realm, clientID, refreshToken string) (generated.TokenResponse, error)
	// EndSession ends the session of a refresh token (an ended session is not an error).
	EndSession(ctx context.Context, realm, clientID, refreshToken string) error
}

// OtherGrants is a Backend that also answers the grant types Keycloak knows beyond
// the schema's (client_credentials, authorization_code, ...). With Config.Lenient,
// such a request passes the client and duplicate checks as in Keycloak and then goes
// to OtherGrant; without it, or for a Backend without the method, it is 400
// unsupported_grant_type.
type OtherGrants interface {
	OtherGrant(ctx context.Context, realm, clientID, grantType string) (generated.TokenResponse, error)
}

// keycloakGrants are the grant types Keycloak 26 knows besides the schema's.
var keycloakGrants = map[string]bool{"authorization_code": true, "client_credentials": true,
	"urn:ietf:params:oauth:grant-type:token-exchange": true, "urn:ietf:params:oauth:grant-type:device_code": true,
	"urn:ietf:params:oauth:grant-type:uma-ticket": true, "urn:openid:params:grant-type:ciba": true}

// Config configures New.
type Config struct {
	// Lenient restores Keycloak's leniency: unknown keys, and fields that the request's
	// kind may not use, are ignored, a repeated parameter on the logout endpoint too,
	// and a logout without a refresh_token key is Keycloak's browser logout (200 with
	// an HTML page). By default they are 400 invalid_request naming the field, so that
	// client bugs surface in tests.
	Lenient bool
	// MaxBodyBytes defaults to api.DefaultMaxBodyBytes; a larger body is 413.
	MaxBodyBytes int
	// Logger receives one record per request, with secrets redacted; nil logs nothing.
	Logger *slog.Logger
	// Observe, if set, is told about every request that reached an endpoint.
	Observe func(Observation)
}

// Observation is what the handler tells Config.Observe about one request. Printing or
// logging it shows no secret: Request redacts itself and the raw body is reached
// through a func, which fmt prints as an address under every verb (a pointer to the
// bytes would be printed with what it points to on fmt's bad-verb path, %s say, and
// a copy into a redact.Secret would cost every observed request an allocation); JSON
// (MarshalJSON) has the body redacted.
type Observation struct {
	// Realm and Endpoint ("token" or "logout") are where the request went.
	Realm, Endpoint string
	// Request is what was decoded of the body (zero when nothing could be).
	Request generated.AuthRequest
	// Kind is the request's kind as the handler classified it.
	Kind validate.Kind
	// Status is the answer's status.
	Status int
	body   func() []byte `redact:"secret"`
}

// Body is the raw body, secrets included (see api.RedactForm). It is only valid during
// the call to Observe.
func (o Observation) Body() []byte {
	if o.body == nil {
		return nil
	}
	return o.body()
}

// MarshalJSON keeps the secrets out of JSON, where the generated AuthRequest would
// put them on the wire: the body is redacted (api.RedactForm) and the decoded request
// left out.
func (o Observation) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Realm, Endpoint, Kind string
		Status                int
		Body                  string
	}{o.Realm, o.Endpoint, o.Kind.String(), o.Status, api.RedactForm(o.Body())})
}

// Handler serves the token and logout endpoints of Keycloak's OpenID Connect protocol,
// answering as Keycloak does. It implements server.ServerInterface, and routes through
// the router generated from openapi.yaml (server.HandlerWithOptions), except for a
// POST to one of the two endpoints of a plain realm name, which it routes itself to the
// same ServerInterface methods (see route).
type Handler struct {
	backend  Backend
	cfg      Config
	mux      http.Handler
	statuses map[string][]int // endpoint -> the statuses openapi.yaml lists
}

var _ server.ServerInterface = (*Handler)(nil)

const (
	endpointToken  = "token"
	endpointLogout = "logout"
)

// New builds a Handler for b.
func New(b Backend, cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = api.DefaultMaxBodyBytes
	}
	h := &Handler{backend: b, cfg: cfg, statuses: map[string][]int{
		endpointToken: generated.RequestTokenStatuses(), endpointLogout: generated.LogoutStatuses()}}
	mux := http.NewServeMux()
	// POST on the two endpoints: the generated routes, which call RequestToken and
	// Logout. Another method on them is Keycloak's JSON 405; any other path, 404.
	server.HandlerWithOptions(h, server.StdHTTPServerOptions{BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, _ error) {
			writeError(w, &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "Invalid path parameter"})
		}})
	mux.HandleFunc(generated.RequestTokenPath, methodNotAllowed)
	mux.HandleFunc(generated.LogoutPath, methodNotAllowed)
	mux.HandleFunc("/", notFound)
	h.mux = mux
	return h
}

// ServeHTTP routes the request. A path that is not clean (a doubled slash, dots) is
// 400 missingNormalization "Request path not normalized", as Keycloak answers, rather
// than a redirect of net/http's ServeMux.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch realm, endpoint := route(r); endpoint {
	case endpointToken:
		h.RequestToken(w, r, realm)
		return
	case endpointLogout:
		h.Logout(w, r, realm)
		return
	}
	if !Normalized(r.URL.Path) {
		NotNormalized(w)
		return
	}
	if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' {
		// Keycloak serves a path with a trailing slash as the path without it.
		r2 := *r
		u := *r.URL
		u.Path, u.RawPath = p[:len(p)-1], ""
		r2.URL = &u
		r = &r2
	}
	h.mux.ServeHTTP(w, r)
}

// The two endpoints' paths in openapi.yaml, split at their one parameter, {realm}.
var (
	tokenPrefix, tokenSuffix, _   = strings.Cut(generated.RequestTokenPath, "{realm}")
	logoutPrefix, logoutSuffix, _ = strings.Cut(generated.LogoutPath, "{realm}")
)

// route finds the endpoint and realm of the most common request, a POST to
// generated.RequestTokenPath or generated.LogoutPath (with or without a trailing
// slash) whose realm is made of letters, digits and "-._~" (not "." or ".."), as the
// generated router does, but without its 3 allocations and most of its time (ServeMux's
// match of the {realm} segment, the generated wrapper's copy of the realm and its
// closure, all in code this module does not write). Such a path is normalized. For any
// other request it returns endpoint "", and ServeHTTP hands it to the generated router.
// TestRouteAgreesWithGeneratedRouter and FuzzRoute hold the two to the same answers.
func route(r *http.Request) (realm, endpoint string) {
	if r.Method != http.MethodPost || r.URL.RawPath != "" {
		return "", ""
	}
	p := r.URL.Path
	if len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1] // Keycloak serves a path with a trailing slash as the path without it.
	}
	if realm, ok := cutRealm(p, tokenPrefix, tokenSuffix); ok {
		return realm, endpointToken
	}
	if realm, ok := cutRealm(p, logoutPrefix, logoutSuffix); ok {
		return realm, endpointLogout
	}
	return "", ""
}

// cutRealm returns the plain realm between prefix and suffix.
func cutRealm(p, prefix, suffix string) (string, bool) {
	if len(p) <= len(prefix)+len(suffix) || !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) {
		return "", false
	}
	realm := p[len(prefix) : len(p)-len(suffix)]
	return realm, plainRealm(realm)
}

// plainRealm tells whether a realm is made of URL-unreserved characters only and is
// not a dot segment: such a path segment reads the same escaped or not.
func plainRealm(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// Normalized tells whether a request path is clean: not empty, no doubled slash, no
// dot segment (a trailing slash is allowed, as Keycloak allows it).
func Normalized(p string) bool {
	if p == "" {
		return false
	}
	c := path.Clean(p)
	return c == p || c+"/" == p
}

var normalizationType = []string{"application/json; charset=UTF-8"}

// NotNormalized writes Keycloak's answer to a path that is not normalized.
func NotNormalized(w http.ResponseWriter) {
	data, _ := json.Marshal(generated.OAuth2Error{Error: "missingNormalization", ErrorDescription: ptr("Request path not normalized")})
	w.Header()["Content-Type"] = normalizationType
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(data)
}

func ptr(s string) *string { return &s }

var allowPost = []string{http.MethodPost}

// methodNotAllowed: Keycloak's 405 has no Cache-Control or Pragma.
func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Allow"] = allowPost
	writeError(w, &api.OAuthError{Status: http.StatusMethodNotAllowed, Code: "HTTP 405 Method Not Allowed"})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, &api.OAuthError{Status: http.StatusNotFound, Code: "Unable to find matching target resource method"})
}

// RequestToken implements server.ServerInterface: the token endpoint.
func (h *Handler) RequestToken(w http.ResponseWriter, r *http.Request, realm generated.Realm) {
	h.serve(w, r, realm, endpointToken)
}

// Logout implements server.ServerInterface: the logout endpoint.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request, realm generated.Realm) {
	h.serve(w, r, realm, endpointLogout)
}

// exchange is one request on its way through the checks. Exchanges are pooled: nothing
// the Backend, Observe or the Logger gets points into one (the Backend's context is a
// paramCtx of its own, Observation.Body is valid only during Observe).
type exchange struct {
	parent   context.Context // r's
	ctx      context.Context // the Backend's: parent, with the body for Param
	r        *http.Request
	w        http.ResponseWriter
	realm    string
	endpoint string
	body     []byte
	// basicID and basicSecret are HTTP Basic authentication's, when hasBasic: with
	// Lenient, for a form without client_id.
	basicID, basicSecret string
	hasBasic             bool
	req                  generated.AuthRequest
	left                 api.Leftovers
	kind                 validate.Kind
	status               int    // the status answered, once answered
	other                string // a grant type for OtherGrants
}

// exchanges recycles exchanges: allocating one was a quarter of a request's time.
var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// paramCtx is the context the Backend gets: r's, with the body and the Basic secret
// for Param, in one allocation. It is not pooled (a Backend may keep its context) and
// not written after it is made.
type paramCtx struct {
	context.Context
	body        []byte
	basicSecret string
	hasBasic    bool
}

// Value answers the keys Param reads and asks r's context for the rest.
func (c *paramCtx) Value(key any) any {
	switch key.(type) {
	case bodyKey:
		if c.body != nil {
			return c.body
		}
	case basicSecretKey:
		if c.hasBasic {
			return c.basicSecret
		}
	}
	return c.Context.Value(key)
}

// String and GoString name the context without its values, which hold secrets.
func (c *paramCtx) String() string   { return "receiver.paramCtx" }
func (c *paramCtx) GoString() string { return c.String() }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, realm, endpoint string) {
	var start time.Time
	if h.cfg.Logger != nil {
		start = time.Now()
	}
	if endpoint == endpointToken {
		noCache(w)
	}
	ex := exchanges.Get().(*exchange)
	*ex = exchange{parent: r.Context(), r: r, w: w, realm: realm, endpoint: endpoint}
	defer func() {
		*ex = exchange{}
		exchanges.Put(ex)
	}()
	failure := h.handle(ex)
	status := ex.status
	if failure != nil {
		status = failure.Status
		writeError(w, failure)
	}
	if h.cfg.Observe != nil {
		// The Observation must not point into the pooled exchange: an Observe that
		// keeps it reads the body later (the body itself is not pooled).
		body := ex.body
		h.cfg.Observe(Observation{Realm: realm, Endpoint: endpoint, Request: ex.req, Kind: ex.kind, Status: status,
			body: func() []byte { return body }})
	}
	if h.cfg.Logger != nil {
		attrs := []slog.Attr{slog.String("realm", realm), slog.String("endpoint", endpoint),
			slog.String("kind", ex.kind.String()), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)), slog.Any("request", ex.req)}
		if failure != nil {
			attrs = append(attrs, slog.String("error", failure.Error()))
		}
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "auth request", attrs...)
	}
}

// handle runs Keycloak's checks in its order, then the grant; its result is the answer
// when a check or the grant fails (nil when the grant answered).
func (h *Handler) handle(ex *exchange) *api.OAuthError {
	// 413 too large, 400 malformed; a body that is not a form is empty.
	if e := h.readForm(ex); e != nil {
		return e
	}
	h.basicAuth(ex)
	ex.ctx = ex.parent
	if ex.body != nil || ex.hasBasic {
		ex.ctx = &paramCtx{Context: ex.parent, body: ex.body, basicSecret: ex.basicSecret, hasBasic: ex.hasBasic}
	}
	// 404 (the Backend).
	if e := h.knownRealm(ex); e != nil {
		return e
	}
	// 200 HTML: logout without a refresh_token key (Lenient).
	if h.browserLogout(ex) {
		return nil
	}
	// 400 missing or unsupported grant_type (token endpoint).
	if e := h.supportedGrant(ex); e != nil {
		return e
	}
	// 401 missing or unknown client (the Backend).
	if e := h.knownClient(ex); e != nil {
		return e
	}
	// 400 duplicated parameter.
	if e := h.noDuplicates(ex); e != nil {
		return e
	}
	// 400 unknown or foreign parameter (unless Lenient).
	if e := h.onlyKindsFields(ex); e != nil {
		return e
	}
	return h.grant(ex)
}

// readForm reads the form. A body that is not a form is not read, and the request has
// no parameters: Keycloak 26 answers a JSON body with 400 "Missing form parameter:
// grant_type" (measured), not 415.
func (h *Handler) readForm(ex *exchange) *api.OAuthError {
	// Header.Get without canonicalizing its (canonical) key.
	var ct string
	if v := ex.r.Header["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	if !isForm(ct) {
		return nil
	}
	// Keycloak's 413 comes from Quarkus before the endpoint (measured on 26.7.3):
	// {"error":"HTTP 413 Request Entity Too Large"}, without Cache-Control or Pragma.
	tooLarge := func() *api.OAuthError {
		delete(ex.w.Header(), "Cache-Control")
		delete(ex.w.Header(), "Pragma")
		return &api.OAuthError{Status: http.StatusRequestEntityTooLarge, Code: "HTTP 413 Request Entity Too Large"}
	}
	if ex.r.ContentLength > int64(h.cfg.MaxBodyBytes) {
		return tooLarge()
	}
	body, err := readBody(ex.w, ex.r, h.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "Cannot read the request body"}
	}
	ex.body = body
	ex.req, ex.left, err = api.Decoder{MaxBytes: h.cfg.MaxBodyBytes}.LenientForm(body)
	if err != nil {
		desc := "Malformed form body"
		var de *api.DecodeError
		if errors.As(err, &de) {
			desc += ": " + de.Error()
		}
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: desc}
	}
	return nil
}

// knownRealm asks the Backend for the realm. The token endpoint's answers carry
// Cache-Control: no-store and Pragma: no-cache, but not a 404 for the realm, as
// Keycloak 26.7.3 answers (measured); logout's get Cache-Control: no-cache on success
// only.
func (h *Handler) knownRealm(ex *exchange) *api.OAuthError {
	if e := h.backendError(ex, h.backend.Realm(ex.ctx, ex.realm)); e != nil {
		delete(ex.w.Header(), "Cache-Control")
		delete(ex.w.Header(), "Pragma")
		return e
	}
	return nil
}

// browserLogout: Keycloak routes a logout POST to the refresh-token logout only when
// the form has the key refresh_token; without it, the request is a browser
// (RP-initiated) logout, answered with an HTML page. Only when Lenient: the schema's
// logout requires refresh_token, so by default it is 400 "No refresh token".
func (h *Handler) browserLogout(ex *exchange) bool {
	if ex.endpoint != endpointLogout || !h.cfg.Lenient || ex.req.RefreshToken != nil {
		return false
	}
	ex.kind = validate.KindLogout
	ex.status = http.StatusOK
	ex.w.Header()["Cache-Control"] = noCacheVals
	ex.w.Header()["Content-Type"] = htmlType
	ex.w.WriteHeader(ex.status)
	_, _ = io.WriteString(ex.w, LogoutPage)
	return true
}

// LogoutPage is the page Keycloak shows for a browser logout without an id_token_hint.
const LogoutPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Logging out</title></head>
<body><h1>Logging out</h1><p>Do you want to log out?</p>
<form method="post"><input type="submit" value="Logout"></form></body></html>
`

func (h *Handler) supportedGrant(ex *exchange) *api.OAuthError {
	if ex.endpoint == endpointLogout {
		ex.kind = validate.KindLogout
		return nil
	}
	ex.kind = validate.Classify(ex.req)
	switch {
	case ex.req.GrantType == nil:
		ex.kind = validate.KindUnknown
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "Missing form parameter: grant_type"}
	case ex.kind == validate.KindUnknown:
		if _, ok := h.backend.(OtherGrants); ok && h.cfg.Lenient && keycloakGrants[string(*ex.req.GrantType)] {
			ex.other = string(*ex.req.GrantType)
			return nil
		}
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeUnsupportedGrantType, Description: "Unsupported grant_type"}
	}
	return nil
}

// basicAuth: with Lenient, a request without client_id in the form takes it from HTTP
// Basic authentication, as Keycloak does (the password is then the client_secret Param
// answers). It is read before the first Backend call, which gets the context, and
// applied by knownClient.
func (h *Handler) basicAuth(ex *exchange) {
	if !h.cfg.Lenient || ex.req.ClientID != "" {
		return
	}
	if user, pass, ok := ex.r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			ex.basicID, ex.basicSecret, ex.hasBasic = id, pass, true
		}
	}
}

// knownClient asks the Backend for the client (the one of HTTP Basic authentication
// when basicAuth found it).
func (h *Handler) knownClient(ex *exchange) *api.OAuthError {
	if ex.hasBasic {
		ex.req.ClientID = ex.basicID
	}
	if ex.req.ClientID == "" {
		// Keycloak 26 (measured): 401, as for an unknown client.
		return &api.OAuthError{Status: http.StatusUnauthorized, Code: codeInvalidClient, Description: "Invalid client or Invalid client credentials"}
	}
	return h.backendError(ex, h.backend.Client(ex.ctx, ex.realm, ex.req.ClientID))
}

// noDuplicates: Keycloak checks for a repeated parameter on the token endpoint only.
func (h *Handler) noDuplicates(ex *exchange) *api.OAuthError {
	if ex.left.Duplicate != "" && (ex.endpoint == endpointToken || !h.cfg.Lenient) {
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "duplicated parameter"}
	}
	return nil
}

// onlyKindsFields: beyond Keycloak, an unknown key or a field the request's kind may
// not use is 400, unless Lenient. An unknown key is named only when it may be shown
// (see api.Leftovers).
func (h *Handler) onlyKindsFields(ex *exchange) *api.OAuthError {
	if h.cfg.Lenient {
		return nil
	}
	if ex.left.Unknown {
		desc := "Unknown parameter (its name is not shown: it may be part of a secret)"
		if ex.left.UnknownKey != "" {
			desc = "Unknown parameter: " + ex.left.UnknownKey
		}
		return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: desc}
	}
	err := validate.Check(ex.kind, ex.req)
	if err == nil {
		return nil
	}
	// Declared here, so that a valid request does not allocate it.
	var verr *validate.Error
	if errors.As(err, &verr) {
		for _, f := range verr.Fields {
			if f.Err == validate.ErrForbidden {
				return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest,
					Description: "Parameter not allowed in a " + ex.kind.String() + " request: " + f.Field}
			}
		}
	}
	return nil
}

// grant asks the Backend for what the request's kind asks, and writes the answer; a
// failure is returned for serve to write.
func (h *Handler) grant(ex *exchange) *api.OAuthError {
	ctx, req := ex.ctx, ex.req
	var tr generated.TokenResponse
	var err error
	switch {
	case ex.other != "":
		tr, err = h.backend.(OtherGrants).OtherGrant(ctx, ex.realm, req.ClientID, ex.other)
	case ex.kind == validate.KindPassword:
		// Keycloak: a missing username is 401 invalid_request; an empty one is bad
		// credentials, which the Backend answers.
		if req.Username == nil {
			return &api.OAuthError{Status: http.StatusUnauthorized, Code: codeInvalidRequest, Description: "Missing parameter: username"}
		}
		password := ""
		if req.Password != nil {
			password = *req.Password
		}
		tr, err = h.backend.PasswordGrant(ctx, ex.realm, req.ClientID, *req.Username, password)
	case ex.kind == validate.KindRefresh:
		if req.RefreshToken == nil || *req.RefreshToken == "" {
			return noRefreshToken()
		}
		tr, err = h.backend.RefreshGrant(ctx, ex.realm, req.ClientID, *req.RefreshToken)
	default:
		// Without a refresh_token key, Lenient has answered with the browser logout
		// page; an empty one goes to the Backend when Lenient, as in Keycloak
		// ("Invalid refresh token").
		if req.RefreshToken == nil || *req.RefreshToken == "" && !h.cfg.Lenient {
			return noRefreshToken()
		}
		if err := h.backend.EndSession(ctx, ex.realm, req.ClientID, *req.RefreshToken); err != nil {
			return h.backendError(ex, err)
		}
		ex.w.Header()["Cache-Control"] = noCacheVals
		ex.status = http.StatusNoContent
		ex.w.WriteHeader(ex.status)
		return nil
	}
	if err != nil {
		return h.backendError(ex, err)
	}
	if tr.AccessToken.Value() == "" {
		return serverError()
	}
	ex.status = http.StatusOK
	ex.w.Header()["Content-Type"] = jsonType
	ex.w.WriteHeader(ex.status)
	// Write must not keep the slice (io.Writer), so the buffer goes back to the pool.
	buf := answerBuffers.Get().(*[]byte)
	*buf = api.AppendTokenResponse((*buf)[:0], &tr)
	_, _ = ex.w.Write(*buf)
	if cap(*buf) <= maxPooledAnswer {
		answerBuffers.Put(buf)
	}
	return nil
}

// answerBuffers holds the buffers token answers are encoded into.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledAnswer bounds what the pool keeps, so that one huge answer does not stay.
const maxPooledAnswer = 64 << 10

type bodyKey struct{}

type basicSecretKey struct{}

// Param returns a form parameter of the request being handled, for a Backend that
// reads one the schema does not have (such as scope): the first value of name, and
// whether the form has it. ctx is the one the Handler passed to the Backend. A
// client_secret not in the form is the password of HTTP Basic authentication, when
// the client id came from it.
func Param(ctx context.Context, name string) (string, bool) {
	if name == "client_secret" {
		if v, ok := formParam(ctx, name); ok {
			return v, true
		}
		v, ok := ctx.Value(basicSecretKey{}).(string)
		return v, ok
	}
	return formParam(ctx, name)
}

func formParam(ctx context.Context, name string) (string, bool) {
	body, _ := ctx.Value(bodyKey{}).([]byte)
	if len(body) == 0 {
		return "", false
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return "", false
	}
	v, ok := vals[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func noRefreshToken() *api.OAuthError {
	return &api.OAuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "No refresh token"}
}

// backendError maps a Backend's error to the answer: an *api.OAuthError with a status
// openapi.yaml lists for the endpoint as it is, anything else (another error, a typed
// nil, another status) as 500 server_error. nil stays nil.
func (h *Handler) backendError(ex *exchange, err error) *api.OAuthError {
	if err == nil {
		return nil
	}
	var oe *api.OAuthError
	if errors.As(err, &oe) && oe != nil && oe.Status >= 400 && slices.Contains(h.statuses[ex.endpoint], oe.Status) {
		if oe.Code == "" {
			return &api.OAuthError{Status: oe.Status, Code: codeInvalidRequest, Description: oe.Description}
		}
		return oe
	}
	return serverError()
}

func serverError() *api.OAuthError {
	return &api.OAuthError{Status: http.StatusInternalServerError, Code: codeServerError, Description: "Internal server error"}
}

const formContentType = "application/x-www-form-urlencoded"

// isForm tells whether a Content-Type is a form, matching the media type without
// regard to case, with or without parameters (which must parse).
func isForm(ct string) bool {
	if ct == formContentType {
		return true
	}
	if len(ct) < len(formContentType) || !strings.EqualFold(ct[:len(formContentType)], formContentType) {
		return false
	}
	if len(ct) == len(formContentType) {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == formContentType
}

// readBody reads at most limit bytes, in one allocation when the length is known.
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > int64(limit) {
		return io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	}
	// Below the limit, the read of one byte past the announced length refuses all that
	// MaxBytesReader would; it is needed (and allocated) only at the limit.
	var body io.Reader = r.Body
	if n == int64(limit) {
		body = http.MaxBytesReader(w, r.Body, int64(limit))
	}
	buf := make([]byte, n, n+1)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	// Anything past the announced length is an error the server reports; at the
	// limit, this read makes MaxBytesReader enforce it on a lying client.
	if k, _ := body.Read(buf[n : n+1]); k > 0 {
		return nil, errors.New("body longer than Content-Length")
	}
	return buf, nil
}

// Header values, shared: net/http never modifies them.
var (
	noStore     = []string{"no-store"}
	noCacheVals = []string{"no-cache"}
	jsonType    = []string{"application/json"}
	htmlType    = []string{"text/html;charset=utf-8"}
)

func noCache(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Pragma"] = noCacheVals
}

// writeError writes an OAuth 2.0 error body ({"error":...,"error_description":...}).
func writeError(w http.ResponseWriter, e *api.OAuthError) {
	body := generated.OAuth2Error{Error: e.Code}
	if e.Description != "" {
		body.ErrorDescription = &e.Description
	}
	data, err := json.Marshal(body)
	status := e.Status
	if err != nil || status < 400 || status > 599 {
		status, data = http.StatusInternalServerError, []byte(`{"error":"`+codeServerError+`"}`)
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
