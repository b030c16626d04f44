package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// Backend holds what a receiving server knows: realms, clients, users and sessions.
// The Handler runs the protocol (decoding, validation, Keycloak's order of checks and
// its answers) and asks the Backend. Errors a Backend returns should be *OAuthError;
// any other error is answered with 500.
type Backend interface {
	// CheckRealm: nil, or 404 "Realm does not exist" (or 403 when disabled).
	CheckRealm(ctx context.Context, realm string) error
	// CheckClient: nil, or 401 invalid_client for an unknown or disabled client.
	CheckClient(ctx context.Context, realm, clientID string) error
	// Password grants tokens for a username and password.
	Password(ctx context.Context, realm, clientID, username, password string) (generated.TokenResponse, error)
	// Refresh grants tokens for a refresh token.
	Refresh(ctx context.Context, realm, clientID, refreshToken string) (generated.TokenResponse, error)
	// Logout ends the session of a refresh token (an ended session is not an error).
	Logout(ctx context.Context, realm, clientID, refreshToken string) error
}

// OAuthError is an answer with an OAuth 2.0 error body.
type OAuthError struct {
	Status      int
	Code        string
	Description string
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Is matches the code sentinels (ErrInvalidGrant, ...).
func (e *OAuthError) Is(target error) bool { return oauthCodes[e.Code] == target }

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Lenient restores Keycloak's leniency: unknown keys, and fields that the request's
	// kind may not use, are ignored. By default they are 400 invalid_request naming the
	// field, so that client bugs surface in tests.
	Lenient bool
	// MaxBodyBytes defaults to DefaultMaxBodyBytes; a larger body is 413.
	MaxBodyBytes int
	// Logger receives one record per request, with secrets redacted; nil logs nothing.
	Logger *slog.Logger
	// Observe, if set, is told about every request that reached an endpoint: the raw
	// body (it holds secrets: see RedactForm), what was decoded of it, its kind as the
	// handler classified it, and the answer's status. The test server records requests with it. body is only valid during the
	// call.
	Observe func(realm, endpoint string, body []byte, req generated.AuthRequest, kind validate.Kind, status int)
}

// Handler serves the token and logout endpoints of Keycloak's OpenID Connect protocol
// on top of the generated server interface, answering as Keycloak does.
type Handler struct {
	backend Backend
	cfg     HandlerConfig
	mux     http.Handler
}

var _ generated.ServerInterface = (*Handler)(nil)

// NewHandler builds a Handler for b.
func NewHandler(b Backend, cfg HandlerConfig) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{backend: b, cfg: cfg}
	h.mux = generated.HandlerWithOptions(h, generated.StdHTTPServerOptions{
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, _ error) {
			writeJSONError(w, &OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Invalid path parameter"})
		},
	})
	return h
}

const (
	endpointToken  = "token"
	endpointLogout = "logout"
)

// ServeHTTP answers a method other than POST on the endpoints with Keycloak's 405 and
// an unknown path with 404, and hands the rest to the generated router.
//
// The two endpoints' paths are recognized here and dispatched straight to the
// generated.ServerInterface methods (the generated router, reachable through Router,
// does the same with a ServeMux and a reflective path binding, several times slower).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	realm, endpoint := endpointOf(r.URL.Path)
	switch {
	case endpoint == "":
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Unable to find matching target resource method"})
	case r.Method != http.MethodPost:
		noCache(w)
		w.Header()["Allow"] = allowPost
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "HTTP 405 Method Not Allowed"})
	case endpoint == endpointToken:
		h.RequestToken(w, r, realm)
	default:
		h.Logout(w, r, realm)
	}
}

// Router is the generated router over this handler (POST routes on a ServeMux), for
// mounting under another mux; ServeHTTP answers the same requests faster.
func (h *Handler) Router() http.Handler { return h.mux }

var allowPost = []string{http.MethodPost}

// endpointOf tells which endpoint a path is, and its realm; endpoint is "" for any
// other path.
func endpointOf(path string) (realm, endpoint string) {
	rest, ok := strings.CutPrefix(path, "/realms/")
	if !ok {
		return "", ""
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return "", ""
	}
	switch rest[i:] {
	case "/protocol/openid-connect/token":
		return rest[:i], endpointToken
	case "/protocol/openid-connect/logout":
		return rest[:i], endpointLogout
	}
	return "", ""
}

// RequestToken implements generated.ServerInterface.
func (h *Handler) RequestToken(w http.ResponseWriter, r *http.Request, realm generated.Realm) {
	h.serve(w, r, realm, endpointToken)
}

// Logout implements generated.ServerInterface.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request, realm generated.Realm) {
	h.serve(w, r, realm, endpointLogout)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, realm, endpoint string) {
	var start time.Time
	if h.cfg.Logger != nil {
		start = time.Now()
	}
	noCache(w)
	req, body, kind, status, err := h.handle(w, r, realm, endpoint)
	if h.cfg.Observe != nil {
		h.cfg.Observe(realm, endpoint, body, req, kind, status)
	}
	if h.cfg.Logger != nil {
		attrs := []slog.Attr{slog.String("realm", realm), slog.String("endpoint", endpoint),
			slog.String("kind", kind.String()), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)), slog.Any("request", req)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "auth request", attrs...)
	}
}

// handle answers one request and reports what it decoded and answered.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, realm, endpoint string) (
	req generated.AuthRequest, body []byte, kind validate.Kind, status int, err error) {
	fail := func(e *OAuthError) (generated.AuthRequest, []byte, validate.Kind, int, error) {
		writeJSONError(w, e)
		return req, body, kind, e.Status, e
	}
	if !isForm(r.Header.Get("Content-Type")) {
		noCache(w)
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{
			"error": "The content-type header value did not match the value in @Consumes"})
		return req, body, kind, http.StatusUnsupportedMediaType, errors.New("content type is not a form")
	}
	if r.ContentLength > int64(h.cfg.MaxBodyBytes) {
		return fail(&OAuthError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "Request body too large"})
	}
	body, err = readRequestBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(&OAuthError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "Request body too large"})
		}
		return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Cannot read the request body"})
	}
	var extras formExtras
	req, err = Decoder{MaxBytes: h.cfg.MaxBodyBytes}.form(body, &extras)
	if err != nil {
		var de *DecodeError
		desc := "Malformed form body"
		if errors.As(err, &de) {
			desc = "Malformed form body: " + de.Error()
		}
		return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc})
	}
	ctx := r.Context()
	if err := h.backend.CheckRealm(ctx, realm); err != nil {
		return fail(asOAuth(err))
	}
	if endpoint == endpointToken {
		kind = validate.Classify(req)
		switch {
		case req.GrantType == nil:
			kind = validate.KindUnknown
			return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Missing form parameter: grant_type"})
		case kind == validate.KindUnknown:
			return fail(&OAuthError{Status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "Unsupported grant_type"})
		}
	} else {
		kind = validate.KindLogout
	}
	if req.ClientID == "" {
		return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_client", Description: "Missing client_id parameter"})
	}
	if err := h.backend.CheckClient(ctx, realm, req.ClientID); err != nil {
		return fail(asOAuth(err))
	}
	if extras.duplicate != "" && (endpoint == endpointToken || !h.cfg.Lenient) {
		return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "duplicated parameter"})
	}
	if !h.cfg.Lenient {
		if extras.unknown != "" {
			desc := "Unknown parameter: " + extras.unknown
			if extras.unknown == hiddenKey {
				desc = "Unknown parameter (its name is not shown: it may be part of a secret)"
			}
			return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc})
		}
		if e := foreignField(kind, req); e != nil {
			return fail(e)
		}
	}
	switch kind {
	case validate.KindPassword:
		if req.Username == nil || *req.Username == "" {
			return fail(&OAuthError{Status: http.StatusUnauthorized, Code: "invalid_request", Description: "Missing parameter: username"})
		}
		password := ""
		if req.Password != nil {
			password = *req.Password
		}
		tr, err := h.backend.Password(ctx, realm, req.ClientID, *req.Username, password)
		if err != nil {
			return fail(asOAuth(err))
		}
		if tr.AccessToken == nil || *tr.AccessToken == "" {
			return fail(serverError())
		}
		writeTokenResponse(w, &tr)
		return req, body, kind, http.StatusOK, nil
	case validate.KindRefresh:
		if req.RefreshToken == nil || *req.RefreshToken == "" {
			return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "No refresh token"})
		}
		tr, err := h.backend.Refresh(ctx, realm, req.ClientID, *req.RefreshToken)
		if err != nil {
			return fail(asOAuth(err))
		}
		if tr.AccessToken == nil || *tr.AccessToken == "" {
			return fail(serverError())
		}
		writeTokenResponse(w, &tr)
		return req, body, kind, http.StatusOK, nil
	default:
		// Keycloak would serve its browser logout page without a refresh_token key; a
		// test server is more useful answering in JSON.
		if req.RefreshToken == nil || *req.RefreshToken == "" {
			return fail(&OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "No refresh token"})
		}
		if err := h.backend.Logout(ctx, realm, req.ClientID, *req.RefreshToken); err != nil {
			return fail(asOAuth(err))
		}
		w.WriteHeader(http.StatusNoContent)
		return req, body, kind, http.StatusNoContent, nil
	}
}

// foreignField reports a field the kind may not use (or a string that is not UTF-8,
// which the decoder already refuses): validate's ErrForbidden and ErrInvalidValue
// problems. Missing and empty fields get Keycloak's own answers later.
func foreignField(kind validate.Kind, req generated.AuthRequest) *OAuthError {
	err := validate.Check(kind, req)
	var verr *validate.Error
	if !errors.As(err, &verr) {
		return nil
	}
	for _, f := range verr.Fields {
		if f.Err == validate.ErrForbidden {
			return &OAuthError{Status: http.StatusBadRequest, Code: "invalid_request",
				Description: "Parameter not allowed in a " + kind.String() + " request: " + f.Field}
		}
	}
	return nil
}

// asOAuth maps a Backend's error to the answer: an *OAuthError with an error status
// (400-599) as it is, anything else (another error, a typed nil, a status that is not
// an error's) as 500 server_error.
func asOAuth(err error) *OAuthError {
	var oe *OAuthError
	if errors.As(err, &oe) && oe != nil && oe.Status >= 400 && oe.Status <= 599 {
		if oe.Code == "" {
			return &OAuthError{Status: oe.Status, Code: "invalid_request", Description: oe.Description}
		}
		return oe
	}
	return serverError()
}

func serverError() *OAuthError {
	return &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "Internal server error"}
}

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

// readRequestBody reads at most limit bytes, in one allocation when the length is
// known.
func readRequestBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, error) {
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
)

func noCache(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Pragma"] = noCacheVals
}

// writeTokenResponse writes Keycloak's AccessTokenResponse without reflection, in
// Keycloak's field order.
func writeTokenResponse(w http.ResponseWriter, t *generated.TokenResponse) {
	buf := make([]byte, 0, 256+tokenLen(t))
	buf = append(buf, '{')
	str := func(name string, v *string) {
		if v != nil {
			buf = appendJSONString(appendJSONKey(buf, name), *v)
		}
	}
	num := func(name string, v *int64) {
		if v != nil {
			buf = strconv.AppendInt(appendJSONKey(buf, name), *v, 10)
		}
	}
	str("access_token", t.AccessToken)
	num("expires_in", t.ExpiresIn)
	num("refresh_expires_in", t.RefreshExpiresIn)
	str("refresh_token", t.RefreshToken)
	str("token_type", t.TokenType)
	str("id_token", t.IDToken)
	num("not-before-policy", t.NotBeforePolicy)
	str("session_state", t.SessionState)
	str("scope", t.Scope)
	buf = append(buf, '}')
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

func tokenLen(t *generated.TokenResponse) int {
	n := 0
	for _, p := range []*string{t.AccessToken, t.RefreshToken, t.IDToken, t.SessionState, t.Scope, t.TokenType} {
		if p != nil {
			n += len(*p)
		}
	}
	return n
}

func writeJSONError(w http.ResponseWriter, e *OAuthError) {
	body := generated.OAuth2Error{Error: e.Code}
	if e.Description != "" {
		body.ErrorDescription = &e.Description
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// RedactForm renders a form body for logs: client_id, grant_type and username keep
// their values; every other value (password, refresh_token, and any unknown key's) is
// [REDACTED]. An unknown key's name is shown only when it looks like a parameter name
// and the body has no password or refresh_token (a stray '&' in a secret makes its
// rest look like a key). A malformed body gives a placeholder. It never panics.
func RedactForm(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	secret := formHasSecret(body)
	var b strings.Builder
	for rest := body; ; {
		seg, tail, more := cutByte(rest, '&')
		key, value, hasEq := cutByte(seg, '=')
		var scratch [16]byte
		name, ok := unescapeForm(scratch[:0], key)
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		known := ok && fieldIndex(name) >= 0
		switch {
		case !ok || !utf8.Valid(name):
			b.WriteString("[MALFORMED]")
		case !known && (!hasEq || secret || !looksLikeName(name)):
			// A lone word may be a token sent without its key; a key may be part of one.
			b.WriteString(generated.Redacted)
			if hasEq {
				b.WriteString("=" + generated.Redacted)
			}
		default:
			b.WriteString(string(name))
			if hasEq {
				b.WriteByte('=')
				switch string(name) {
				case "client_id", "grant_type", "username":
					if v, ok := unescapeForm(nil, value); ok && utf8.Valid(v) {
						b.WriteString(string(appendEscaped(nil, string(v))))
					} else {
						b.WriteString("[MALFORMED]")
					}
				default:
					b.WriteString(generated.Redacted)
				}
			}
		}
		if !more {
			return b.String()
		}
		rest = tail
	}
}
