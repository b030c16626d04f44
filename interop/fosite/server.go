// Package fositeinterop serves ory/fosite, a third-party OAuth 2.0 server, on
// Keycloak's token and logout paths, so that the api package's Session can be tested
// against a server it was not written alongside. It lives in its own module so that
// users of github.com/iqm-finland/authschema do not inherit fosite's dependencies.
package fositeinterop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// What the server serves: the realm, client and paths of IQM's Keycloak.
const (
	Realm      = "cortex"
	ClientID   = "iqm_client"
	TokenPath  = "/realms/" + Realm + "/protocol/openid-connect/token"
	LogoutPath = "/realms/" + Realm + "/protocol/openid-connect/logout"
)

// Keycloak's default lifespans, used when Config leaves them zero.
const (
	DefaultAccessTokenLifespan  = 300 * time.Second
	DefaultRefreshTokenLifespan = 1800 * time.Second
)

// Config configures New.
type Config struct {
	// Users maps usernames to passwords.
	Users map[string]string
	// AccessTokenLifespan and RefreshTokenLifespan default to Keycloak's 300 s and
	// 1800 s. fosite runs on the real clock.
	AccessTokenLifespan, RefreshTokenLifespan time.Duration
}

// Exchange is one request the server answered, without any token or password.
type Exchange struct {
	// Endpoint is "token" or "logout".
	Endpoint string
	// GrantType is the grant_type of a token request.
	GrantType string
	// Fields are the names (not the values) of the form fields sent, sorted.
	Fields []string
	// Status is the HTTP status of the answer.
	Status int
	// Error and Description are the OAuth 2.0 error and error_description of an
	// error answer.
	Error, Description string
}

// String gives "token password 200", "token refresh_token 400 invalid_grant",
// "logout 204" and so on.
func (e Exchange) String() string {
	s := e.Endpoint
	if e.GrantType != "" {
		s += " " + e.GrantType
	}
	s += " " + strconv.Itoa(e.Status)
	if e.Error != "" {
		s += " " + e.Error
	}
	return s
}

// Server is fosite on an httptest server on 127.0.0.1, with a public client
// iqm_client allowed the password and refresh_token grants, fosite's in-memory
// storage and its HMAC token strategy (opaque "ory_at_…" and "ory_rt_…" tokens).
type Server struct {
	// URL is the base URL, the part before /realms.
	URL string
	// Store is fosite's in-memory storage.
	Store *storage.MemoryStore
	// Provider is the fosite OAuth2Provider behind the endpoints.
	Provider fosite.OAuth2Provider

	srv *httptest.Server

	// mu serializes the requests and the store reads of Active. fosite's
	// MemoryStore is not safe for concurrent use: RevokeRefreshToken (called when
	// a refresh token is rotated, reused or revoked) writes the RefreshTokens map
	// holding only refreshTokenRequestIDsMutex, while GetRefreshTokenSession reads it
	// under refreshTokensMutex, and fosite.Config fills in some defaults lazily.
	// Serializing also gives the race detector the ordering between requests
	// that arrive on different connections.
	mu        sync.Mutex
	exchanges []Exchange
}

// New starts a server; Close stops it.
func New(cfg Config) *Server {
	if cfg.AccessTokenLifespan == 0 {
		cfg.AccessTokenLifespan = DefaultAccessTokenLifespan
	}
	if cfg.RefreshTokenLifespan == 0 {
		cfg.RefreshTokenLifespan = DefaultRefreshTokenLifespan
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (crypto/rand panics instead)
	config := &fosite.Config{
		AccessTokenLifespan:      cfg.AccessTokenLifespan,
		RefreshTokenLifespan:     cfg.RefreshTokenLifespan,
		GlobalSecret:             secret,
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		// RefreshTokenScopes is left nil: fosite's default, a refresh token only when
		// "offline" or "offline_access" is granted. The token handler grants "offline"
		// with every password login, as Keycloak issues a refresh token with each.
	}
	store := storage.NewMemoryStore()
	store.Clients[ClientID] = &fosite.DefaultClient{
		ID:         ClientID,
		Public:     true, // no secret, like iqm_client in Keycloak
		GrantTypes: []string{"password", "refresh_token"},
		Scopes:     []string{"offline"},
	}
	for name, pw := range cfg.Users {
		store.Users[name] = storage.MemoryUserRelation{Username: name, Password: pw}
	}
	provider := compose.Compose(config, store, compose.NewOAuth2HMACStrategy(config),
		//lint:ignore SA1019 the resource owner password grant is what IQM's clients use
		compose.OAuth2ResourceOwnerPasswordCredentialsFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
	)
	s := &Server{Store: store, Provider: provider}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, s.record("token", s.token))
	mux.HandleFunc("POST "+LogoutPath, s.record("logout", s.logout))
	s.srv = httptest.NewServer(mux) // listens on 127.0.0.1
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Exchanges returns the requests answered so far, in order.
func (s *Server) Exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.exchanges...)
}

// Active tells, through fosite's token introspection, whether token is an active
// access token (use fosite.AccessToken) or refresh token (fosite.RefreshToken).
func (s *Server) Active(ctx context.Context, token string, use fosite.TokenUse) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, _, err := s.Provider.IntrospectToken(ctx, token, use, new(fosite.DefaultSession))
	return err == nil && got == use
}

// token handles the password and refresh_token grants.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.Provider.NewAccessRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		s.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("password") {
		// The client sends no scope; without "offline" fosite would issue no refresh
		// token. A refresh grant carries over the scopes granted at login.
		ar.GrantScope("offline")
	}
	resp, err := s.Provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.Provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.Provider.WriteAccessResponse(ctx, w, ar, resp)
}

// logout maps Keycloak's logout (client_id and refresh_token) onto fosite's RFC 7009
// revocation (client_id, token and token_type_hint), and answers 204 as Keycloak
// does where fosite would answer 200.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Provider.WriteRevocationResponse(ctx, w, fosite.ErrInvalidRequest.WithWrap(err))
		return
	}
	if r.PostForm.Get("refresh_token") == "" {
		s.Provider.WriteRevocationResponse(ctx, w, fosite.ErrInvalidRequest.WithHint("No refresh_token."))
		return
	}
	form := url.Values{
		"client_id":       r.PostForm["client_id"],
		"token":           r.PostForm["refresh_token"],
		"token_type_hint": {"refresh_token"},
	}
	body := form.Encode()
	rr := r.Clone(ctx)
	rr.Body = io.NopCloser(strings.NewReader(body))
	rr.ContentLength = int64(len(body))
	rr.Form, rr.PostForm, rr.MultipartForm = nil, nil, nil
	if err := s.Provider.NewRevocationRequest(ctx, rr); err != nil {
		s.Provider.WriteRevocationResponse(ctx, w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// record serializes h and notes its answer in the exchanges.
func (s *Server) record(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = r.ParseForm() // on error the handler answers invalid_request
		fields := slices.Sorted(maps.Keys(r.PostForm))
		rec := &recorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		e := Exchange{Endpoint: endpoint, Status: rec.status, Fields: fields}
		if endpoint == "token" {
			e.GrantType = r.PostForm.Get("grant_type")
		}
		if rec.status >= 300 {
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(rec.body.Bytes(), &body) == nil {
				e.Error, e.Description = body.Error, body.Description
			}
		}
		s.exchanges = append(s.exchanges, e)
	}
}

// recorder notes the status and, for error answers, the body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= 300 {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}
