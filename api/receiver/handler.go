package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/generated/server"
	"github.com/iqm-finland/authschema/internal/redact"
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

// Observation is what the handler tells Config.Observe about one request.
type Observation struct {
	// Realm and Endpoint ("token" or "logout") are where the request went.
	Realm, Endpoint string
	// Request is what was decoded of the body (zero when nothing could be).
	Request generated.AuthRequest
	// Kind is the request's kind as the handler classified it.
	Kind validate.Kind
	// Status is the answer's status.
	Status int
	body   *[]byte `redact:"secret"`
}

// Body is the raw body, secrets included (see api.RedactForm). It is only valid during
// the call to Observe.
func (o Observation) Body() []byte {
	if o.body == nil {
		return nil
	}
	return *o.body
}

// String describes the observation with the body redacted.
func (o Observation) String() string {
	return fmt.Sprintf("Observation{realm:%q endpoint:%q kind:%v status:%d body:%q}", o.Realm, o.Endpoint, o.Kind, o.Status,
		api.RedactForm(o.Body()))
}

// Format keeps the secrets out of every fmt verb.
func (o Observation) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, o.String(), "receiver."+o.String())
}

// MarshalJSON keeps the secrets out of JSON: the body is redacted (api.RedactForm)
// and the decoded request left out.
func (o Observation) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Realm, Endpoint, Kind string
		Status                int
		Body                  string
	}{o.Realm, o.Endpoint, o.Kind.String(), o.Status, api.RedactForm(o.Body())})
}

// LogValue keeps the secrets out of log/slog output.
func (o Observation) LogValue() slog.Value {
	return slog.GroupValue(slog.String("realm", o.Realm), slog.String("endpoint", o.Endpoint),
		slog.String("kind", o.Kind.String()), slog.Int("status", o.Status), slog.String("body", api.RedactForm(o.Body())))
}

// Handler serves the token and logout endpoints of Keycloak's OpenID Connect protocol,
// answering as Keycloak does. It implements server.ServerInterface, and routes through
// the router generated from openapi.yaml (server.HandlerWithOptions).
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

// exchange is one request on its way through the checks.
type exchange struct {
	r        *http.Request
	ctx      context.Context // r's, with the body for Param
	w        http.ResponseWriter
	realm    string
	endpoint string
	body     []byte
	req      generated.AuthRequest
	left     api.Leftovers
	kind     validate.Kind
	status   int    // the status answered, once answered
	other    string // a grant type for OtherGrants
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, realm, endpoint string) {
	var start time.Time
	if h.cfg.Logger != nil {
		start = time.Now()
	}
	if endpoint == endpointToken {
		noCache(w)
	}
	ex := &exchange{r: r, ctx: r.Context(), w: w, realm: realm, endpoint: endpoint}
	failure := h.handle(ex)
	status := ex.status
	if failure != nil {
		status = failure.Status
		writeError(w, failure)
	}
	if h.cfg.Observe != nil {
		h.cfg.Observe(Observation{Realm: realm, Endpoint: endpoint, Request: ex.req, Kind: ex.kind, Status: status, body: &ex.body})
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
	for _, check := range [...]func(*exchange) *api.OAuthError{
		h.readForm,        // 413 too large, 400 malformed; a body that is not a form is empty
		h.knownRealm,      // 404 (the Backend)
		h.browserLogout,   // 200 HTML: logout without a refresh_token key (Lenient)
		h.supportedGrant,  // 400 missing or unsupported grant_type (token endpoint)
		h.knownClient,     // 401 missing or unknown client (the Backend)
		h.noDuplicates,    // 400 duplicated parameter
		h.onlyKindsFields, // 400 unknown or foreign parameter (unless Lenient)
	} {
		if e := check(ex); e == errAnswered {
			return nil
		} else if e != nil {
			return e
		}
	}
	return h.grant(ex)
}

// readForm reads the form. A body that is not a form is not read, and the request has
// no parameters: Keycloak 26 answers a JSON body with 400 "Missing form parameter:
// grant_type" (measured), not 415.
func (h *Handler) readForm(ex *exchange) *api.OAuthError {
	if !isForm(ex.r.Header.Get("Content-Type")) {
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
	ex.ctx = context.WithValue(ex.ctx, bodyKey{}, body)
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
func (h *Handler) browserLogout(ex *exchange) *api.OAuthError {
	if ex.endpoint != endpointLogout || !h.cfg.Lenient || ex.req.RefreshToken != nil {
		return nil
	}
	ex.kind = validate.KindLogout
	ex.status = http.StatusOK
	ex.w.Header()["Cache-Control"] = noCacheVals
	ex.w.Header()["Content-Type"] = htmlType
	ex.w.WriteHeader(ex.status)
	_, _ = io.WriteString(ex.w, LogoutPage)
	return errAnswered
}

// errAnswered ends the checks when one of them has answered.
var errAnswered = &api.OAuthError{}

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

// knownClient asks the Backend for the client. With Lenient, a request without
// client_id in the form takes it from HTTP Basic authentication, as Keycloak does (the
// password is then the client_secret Param answers).
func (h *Handler) knownClient(ex *exchange) *api.OAuthError {
	if user, pass, ok := ex.r.BasicAuth(); ok && ex.req.ClientID == "" && h.cfg.Lenient {
		if id, err := url.QueryUnescape(user); err == nil {
			ex.req.ClientID = id
			ex.ctx = context.WithValue(ex.ctx, basicSecretKey{}, pass)
		}
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
	var verr *validate.Error
	if errors.As(validate.Check(ex.kind, ex.req), &verr) {
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
	_, _ = ex.w.Write(api.EncodeTokenResponse(&tr))
	return nil
}

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
	body := http.MaxBytesReader(w, r.Body, int64(limit))
	if n := r.ContentLength; n > 0 && n <= int64(limit) {
		buf := make([]byte, n, n+1)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		// Anything past the announced length is an error the server reports; a read
		// here makes MaxBytesReader enforce the limit on a lying client.
		if k, _ := body.Read(buf[n : n+1]); k > 0 {
			return nil, errors.New("body longer than Content-Length")
		}
		return buf, nil
	}
	return io.ReadAll(body)
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
