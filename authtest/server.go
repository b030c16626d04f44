package authtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Defaults of a new server.
const (
	DefaultAccessTTL  = 300 * time.Second
	DefaultRefreshTTL = 1800 * time.Second
	DefaultScope      = "profile email"
)

// Realm configures one realm: its clients (public, like iqm_client) and users.
type Realm struct {
	Name    string
	Clients []string
	Users   map[string]string // username -> password
}

type config struct {
	addr       string
	realms     []*Realm
	accessTTL  time.Duration
	refreshTTL time.Duration
	clock      api.Clock
	rotation   bool
	lenient    bool
	disabled   []string // users of the first realm
	logger     *slog.Logger
	timeouts   Timeouts
}

// Timeouts bound how long the server waits for a client, so that a client trickling
// a body or holding idle connections cannot keep them open for long.
type Timeouts struct {
	// Read bounds reading a whole request, headers and body (default 10 s).
	Read time.Duration
	// Write bounds the time from the end of the request's headers to the end of the
	// answer (default 60 s; it must exceed any latency set with SetLatency).
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next request
	// (default 60 s).
	Idle time.Duration
}

// DefaultTimeouts are the timeouts of a new server.
var DefaultTimeouts = Timeouts{Read: 10 * time.Second, Write: 60 * time.Second, Idle: 60 * time.Second}

// WithTimeouts sets the server's timeouts; a zero field keeps its default.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) {
		if t.Read > 0 {
			c.timeouts.Read = t.Read
		}
		if t.Write > 0 {
			c.timeouts.Write = t.Write
		}
		if t.Idle > 0 {
			c.timeouts.Idle = t.Idle
		}
	}
}

// Option configures NewServer.
type Option func(*config)

func (c *config) defaultRealm() *Realm {
	if len(c.realms) == 0 {
		c.realms = append(c.realms, &Realm{Name: api.DefaultRealm, Clients: []string{api.DefaultClientID}, Users: map[string]string{}})
	}
	return c.realms[0]
}

// WithAddr sets the listen address; the default is 127.0.0.1:0 (a free loopback port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithRealm adds a realm. Without one, the server has realm "cortex" with client
// "iqm_client".
func WithRealm(r Realm) Option {
	return func(c *config) {
		cp := &Realm{Name: r.Name, Clients: append([]string(nil), r.Clients...), Users: map[string]string{}}
		for u, p := range r.Users {
			cp.Users[u] = p
		}
		c.realms = append(c.realms, cp)
	}
}

// WithUser adds a user to the first realm.
func WithUser(username, password string) Option {
	return func(c *config) { c.defaultRealm().Users[username] = password }
}

// WithClient adds a public client to the first realm.
func WithClient(clientID string) Option {
	return func(c *config) {
		r := c.defaultRealm()
		r.Clients = append(r.Clients, clientID)
	}
}

// WithDisabledUser adds a disabled user to the first realm: a login with the right
// password gets 400 invalid_grant "Account disabled". DisableUser changes it later.
func WithDisabledUser(username, password string) Option {
	return func(c *config) {
		c.defaultRealm().Users[username] = password
		c.disabled = append(c.disabled, username)
	}
}

// WithAccessTTL sets the access token lifetime (default 300 s).
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets the refresh token lifetime (default 1800 s); 0 makes refresh
// tokens that do not expire (refresh_expires_in: 0, no exp claim).
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithClock sets the clock the tokens' times come from (default api.SystemClock).
func WithClock(clk api.Clock) Option { return func(c *config) { c.clock = clk } }

// WithRotation turns on refresh-token rotation with reuse detection: a refresh token
// can be used once; using it again is 400 invalid_grant "Maximum allowed refresh token
// reuse exceeded".
func WithRotation() Option { return func(c *config) { c.rotation = true } }

// WithLenient restores Keycloak's leniency for unknown and foreign fields.
func WithLenient() Option { return func(c *config) { c.lenient = true } }

// WithLogger logs each request (redacted).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Server is a running test auth server.
type Server struct {
	// URL is the auth server base URL, http://127.0.0.1:PORT.
	URL string

	cfg      config
	key      []byte
	handler  *api.Handler
	listener net.Listener
	http     *http.Server
	done     chan struct{}
	quit     chan struct{} // closed when the server stops: ends added latency
	quitOnce sync.Once

	mu       sync.Mutex
	realms   map[string]*realmState
	sessions map[string]*session
	requests []Request
	faults   []fault
	latency  time.Duration
	seq      uint64
}

type realmState struct {
	clients  map[string]bool
	users    map[string]string
	disabled map[string]bool
}

type session struct {
	realm, user, client string
	active              bool
	refreshJTI          string // the one refresh token still usable, under rotation
}

type fault struct {
	status int
	body   string
}

// NewServer starts a server on a loopback listener. Close it when done, or use Start
// in tests.
func NewServer(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0", accessTTL: DefaultAccessTTL, refreshTTL: DefaultRefreshTTL, clock: api.SystemClock,
		timeouts: DefaultTimeouts}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.defaultRealm()
	s := &Server{cfg: cfg, realms: map[string]*realmState{}, sessions: map[string]*session{},
		done: make(chan struct{}), quit: make(chan struct{})}
	s.key = make([]byte, 32)
	if _, err := rand.Read(s.key); err != nil {
		return nil, err
	}
	for _, r := range cfg.realms {
		rs := &realmState{clients: map[string]bool{}, users: map[string]string{}, disabled: map[string]bool{}}
		for _, c := range r.Clients {
			rs.clients[c] = true
		}
		for u, p := range r.Users {
			rs.users[u] = p
		}
		s.realms[r.Name] = rs
	}
	for _, u := range cfg.disabled {
		s.realms[cfg.realms[0].Name].disabled[u] = true
	}
	s.handler = api.NewHandler(s, api.HandlerConfig{Lenient: cfg.lenient, Logger: cfg.logger, Observe: s.observe})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s.listener = ln
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: min(10*time.Second, cfg.timeouts.Read),
		ReadTimeout: cfg.timeouts.Read, WriteTimeout: cfg.timeouts.Write, IdleTimeout: cfg.timeouts.Idle}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	return s, nil
}

// Start starts a server for a test and closes it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for it to end.
func (s *Server) Close() {
	s.quitOnce.Do(func() { close(s.quit) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
	<-s.done
}

// Shutdown stops the server gracefully, waiting for requests in flight up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.quitOnce.Do(func() { close(s.quit) })
	err := s.http.Shutdown(ctx)
	<-s.done
	return err
}

// Handler is the server's handler, for use without a network.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	var f *fault
	if len(s.faults) > 0 && strings.HasPrefix(r.URL.Path, "/realms/") {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.quit:
			t.Stop()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}
	if f != nil {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		if strings.HasPrefix(strings.TrimSpace(f.body), "{") {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		s.record(Request{Path: r.URL.Path, Status: f.status, Injected: true})
		return
	}
	s.handler.ServeHTTP(w, r)
}

// FailNext makes the next n requests to the endpoints answer status with body
// (JSON when it starts with '{', else HTML) instead of being handled.
func (s *Server) FailNext(n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, body: body})
	}
}

// SetLatency delays every answer by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// AddUser adds or changes a user of a realm.
func (s *Server) AddUser(realm, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.realms[realm]
	if !ok {
		return fmt.Errorf("authtest: no realm %q", realm)
	}
	rs.users[username] = password
	return nil
}

// DisableUser disables (or enables again) a user of a realm: password logins get
// 400 invalid_grant "Account disabled" and refreshes "User disabled".
func (s *Server) DisableUser(realm, username string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs, ok := s.realms[realm]; ok {
		rs.disabled[username] = disabled
	}
}

// ActiveSessions counts the sessions not logged out.
func (s *Server) ActiveSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.active {
			n++
		}
	}
	return n
}

// Request is one request the server received. Printing it shows no secret:
// AuthRequest is redacted and the raw body is only reachable through Body.
type Request struct {
	Realm    string
	Endpoint string // "token" or "logout"; "" for an injected fault
	Path     string
	Kind     validate.Kind
	Request  generated.AuthRequest
	Status   int
	// Injected marks an answer that FailNext made up.
	Injected bool
	// RedactedBody is the body with every value but client_id, grant_type and
	// username replaced by [REDACTED].
	RedactedBody string
	body         *string
}

// Body returns the raw body as received, secrets included.
func (r Request) Body() string {
	if r.body == nil {
		return ""
	}
	return *r.body
}

// LogValue keeps secrets out of log/slog output.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(slog.String("realm", r.Realm), slog.String("endpoint", r.Endpoint),
		slog.String("kind", r.Kind.String()), slog.Int("status", r.Status), slog.String("body", r.RedactedBody))
}

func (r Request) String() string {
	return fmt.Sprintf("Request{realm:%q endpoint:%q kind:%v status:%d body:%q}", r.Realm, r.Endpoint, r.Kind, r.Status, r.RedactedBody)
}

// Format keeps the raw body out of every fmt verb.
func (r Request) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), "authtest."+r.String())
}

// Requests returns what the server received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

func (s *Server) observe(realm, endpoint string, body []byte, req generated.AuthRequest, kind validate.Kind, status int) {
	raw := string(body)
	s.record(Request{Realm: realm, Endpoint: endpoint, Path: "/realms/" + realm + "/protocol/openid-connect/" + endpoint,
		Kind: kind, Request: cloneRequest(req), Status: status, RedactedBody: api.RedactForm(body), body: &raw})
}

func cloneRequest(r generated.AuthRequest) generated.AuthRequest {
	c := generated.AuthRequest{ClientID: strings.Clone(r.ClientID)}
	clone := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := strings.Clone(*p)
		return &v
	}
	if r.GrantType != nil {
		g := generated.GrantType(strings.Clone(string(*r.GrantType)))
		c.GrantType = &g
	}
	c.Username, c.Password, c.RefreshToken = clone(r.Username), clone(r.Password), clone(r.RefreshToken)
	return c
}

// --- api.Backend ---

func oauthErr(status int, code, desc string) error {
	return &api.OAuthError{Status: status, Code: code, Description: desc}
}

// CheckRealm implements api.Backend.
func (s *Server) CheckRealm(_ context.Context, realm string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.realms[realm]; !ok {
		return &api.OAuthError{Status: http.StatusNotFound, Code: "Realm does not exist"}
	}
	return nil
}

// CheckClient implements api.Backend.
func (s *Server) CheckClient(_ context.Context, realm, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.realms[realm]; rs == nil || !rs.clients[clientID] {
		return oauthErr(http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
	}
	return nil
}

// Password implements api.Backend.
func (s *Server) Password(_ context.Context, realm, clientID, username, password string) (generated.TokenResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.realms[realm]
	want, ok := rs.users[username]
	if !ok || password == "" || want != password {
		return generated.TokenResponse{}, oauthErr(http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
	}
	if rs.disabled[username] {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Account disabled")
	}
	sid := s.newID()
	ss := &session{realm: realm, user: username, client: clientID, active: true}
	s.sessions[sid] = ss
	return s.issue(sid, ss), nil
}

// Refresh implements api.Backend.
func (s *Server) Refresh(_ context.Context, realm, clientID, refreshToken string) (generated.TokenResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.checkRefreshToken(realm, clientID, refreshToken)
	if err != nil {
		return generated.TokenResponse{}, err
	}
	if c.Exp != 0 && s.cfg.clock.Now().Unix() >= c.Exp {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Token is not active")
	}
	ss := s.sessions[c.Sid]
	if ss == nil || !ss.active {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Session not active")
	}
	if s.realms[realm].disabled[ss.user] {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "User disabled")
	}
	if s.cfg.rotation && c.Jti != ss.refreshJTI {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Maximum allowed refresh token reuse exceeded")
	}
	return s.issue(c.Sid, ss), nil
}

// Logout implements api.Backend.
func (s *Server) Logout(_ context.Context, realm, clientID, refreshToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.checkRefreshToken(realm, clientID, refreshToken)
	if err != nil {
		return err
	}
	// Expired refresh tokens are accepted, and an ended session is still 204.
	if ss := s.sessions[c.Sid]; ss != nil {
		ss.active = false
	}
	return nil
}

func (s *Server) checkRefreshToken(realm, clientID, token string) (claims, error) {
	c, err := verify(s.key, token)
	if err != nil || c.Typ != "Refresh" {
		return claims{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
	}
	if want := s.issuer(realm); c.Iss != want {
		return claims{}, oauthErr(http.StatusBadRequest, "invalid_grant",
			fmt.Sprintf("Invalid token issuer. Expected '%s', but was '%s'", want, c.Iss))
	}
	if c.Azp != clientID {
		return claims{}, oauthErr(http.StatusBadRequest, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
	}
	return c, nil
}

func (s *Server) issuer(realm string) string { return s.URL + "/realms/" + realm }

func (s *Server) newID() string {
	s.seq++
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d", hex.EncodeToString(b[:]), s.seq)
}

// issue makes a token response for a session (with s.mu held).
func (s *Server) issue(sid string, ss *session) generated.TokenResponse {
	now := s.cfg.clock.Now()
	base := claims{Iat: now.Unix(), Iss: s.issuer(ss.realm), Sub: ss.user, Azp: ss.client, Sid: sid,
		PreferredUsername: ss.user, Scope: DefaultScope}
	access := base
	access.Typ, access.Jti, access.Exp = "Bearer", s.newID(), now.Add(s.cfg.accessTTL).Unix()
	refresh := base
	refresh.Typ, refresh.Jti = "Refresh", s.newID()
	if s.cfg.refreshTTL > 0 {
		refresh.Exp = now.Add(s.cfg.refreshTTL).Unix()
	}
	ss.refreshJTI = refresh.Jti
	at, rt := sign(s.key, access), sign(s.key, refresh)
	expiresIn, refreshExpiresIn := int64(s.cfg.accessTTL/time.Second), int64(s.cfg.refreshTTL/time.Second)
	tokenType, scope, nbp, state := "Bearer", DefaultScope, int64(0), sid
	return generated.TokenResponse{AccessToken: &at, RefreshToken: &rt, ExpiresIn: &expiresIn,
		RefreshExpiresIn: &refreshExpiresIn, TokenType: &tokenType, Scope: &scope, NotBeforePolicy: &nbp, SessionState: &state}
}

// ErrNoSuchToken is returned by VerifyAccessToken for a token the server did not sign.
var ErrNoSuchToken = errors.New("authtest: not a token of this server")

// VerifyAccessToken checks that token is an access token this server signed, not
// expired by its clock, of a session still active; it returns the username.
func (s *Server) VerifyAccessToken(token string) (string, error) {
	c, err := verify(s.key, token)
	if err != nil || c.Typ != "Bearer" {
		return "", ErrNoSuchToken
	}
	if s.cfg.clock.Now().Unix() >= c.Exp {
		return "", errors.New("authtest: access token expired")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[c.Sid]; ss == nil || !ss.active {
		return "", errors.New("authtest: session not active")
	}
	return c.Sub, nil
}

// String describes the server without its users' passwords or any token.
func (s *Server) String() string { return fmt.Sprintf("authtest.Server{URL:%q}", s.URL) }

// Format keeps passwords and tokens out of every fmt verb.
func (s *Server) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.String()) }
