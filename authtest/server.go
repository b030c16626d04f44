package authtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/redact"
	"github.com/iqm-finland/authschema/validate"
)

// The error codes of openapi.yaml's OAuth2ErrorCode that this file answers with.
const (
	codeInvalidClient = string(generated.OAuth2ErrorCodeInvalidClient)
	codeInvalidGrant  = string(generated.OAuth2ErrorCodeInvalidGrant)
)

// Defaults of a new server.
const (
	DefaultAccessTTL  = 300 * time.Second
	DefaultRefreshTTL = 1800 * time.Second
	DefaultScope      = "profile email"
	// DefaultRecordLimit is how many requests Requests keeps, the most recent ones.
	DefaultRecordLimit = 1000
	// MaxRecordedBody is the largest body a record keeps (Body, Request); a larger one
	// is only summarised (BodyLen, RedactedBody).
	MaxRecordedBody = 4 << 10
	// maxRedactedBody bounds RedactedBody.
	maxRedactedBody = 1 << 10
)

// Realm configures one realm and its public clients (like iqm_client). Its users come
// from WithUser and WithRealmUser, so that no exported type holds a password.
type Realm struct {
	Name    string
	Clients []string
}

type user struct{ name, password string }

type realmConfig struct {
	name     string
	clients  []string
	users    []user
	disabled []string
}

type config struct {
	addr        string
	realms      []*realmConfig
	accessTTL   time.Duration
	refreshTTL  time.Duration
	clock       interface{ Now() time.Time }
	rotation    bool
	lenient     bool
	logger      *slog.Logger
	timeouts    Timeouts
	recordLimit int
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

// Option configures NewServer.
type Option func(*config)

func (c *config) realm(name string) *realmConfig {
	for _, r := range c.realms {
		if r.name == name {
			return r
		}
	}
	r := &realmConfig{name: name}
	c.realms = append(c.realms, r)
	return r
}

func (c *config) defaultRealm() *realmConfig {
	if len(c.realms) == 0 {
		c.realms = append(c.realms, &realmConfig{name: api.DefaultRealm, clients: []string{api.DefaultClientID}})
	}
	return c.realms[0]
}

// WithAddr sets the listen address; the default is 127.0.0.1:0 (a free loopback port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithRealm adds a realm (or sets the clients of one added before). Without one, the
// server has realm "cortex" with client "iqm_client".
func WithRealm(r Realm) Option {
	return func(c *config) {
		rc := c.realm(r.Name)
		rc.clients = append(rc.clients, r.Clients...)
	}
}

// WithUser adds a user to the first realm.
func WithUser(username, password string) Option {
	return func(c *config) {
		r := c.defaultRealm()
		r.users = append(r.users, user{username, password})
	}
}

// WithRealmUser adds a user to a realm, adding the realm when there is none of that
// name.
func WithRealmUser(realm, username, password string) Option {
	return func(c *config) {
		r := c.realm(realm)
		r.users = append(r.users, user{username, password})
	}
}

// WithClient adds a public client to the first realm.
func WithClient(clientID string) Option {
	return func(c *config) {
		r := c.defaultRealm()
		r.clients = append(r.clients, clientID)
	}
}

// WithDisabledUser adds a disabled user to the first realm: a login with the right
// password gets 400 invalid_grant "Account disabled". DisableUser changes it later.
func WithDisabledUser(username, password string) Option {
	return func(c *config) {
		r := c.defaultRealm()
		r.users = append(r.users, user{username, password})
		r.disabled = append(r.disabled, username)
	}
}

// WithAccessTTL sets the access token lifetime (default 300 s).
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets the refresh token lifetime (default 1800 s); 0 makes refresh
// tokens that do not expire (refresh_expires_in: 0, no exp claim).
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithClock sets the clock the tokens' times come from (default the system's), such as
// a *Clock.
func WithClock(clk interface{ Now() time.Time }) Option { return func(c *config) { c.clock = clk } }

type systemTime struct{}

func (systemTime) Now() time.Time { return time.Now() }

// WithRotation turns on refresh-token rotation with reuse detection: a refresh token
// can be used once; using it again is 400 invalid_grant "Maximum allowed refresh token
// reuse exceeded".
func WithRotation() Option { return func(c *config) { c.rotation = true } }

// WithLenient restores Keycloak's leniency for unknown and foreign fields.
func WithLenient() Option { return func(c *config) { c.lenient = true } }

// WithLogger logs each request (redacted).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

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

// WithRecordLimit sets how many requests Requests keeps (default DefaultRecordLimit;
// the oldest are dropped first).
func WithRecordLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.recordLimit = n
		}
	}
}

// Server is a running test auth server.
type Server struct {
	// URL is the auth server base URL, http://127.0.0.1:PORT.
	URL string

	cfg      config
	key      *[32]byte `redact:"secret"` // signs the JWTs
	handler  *receiver.Handler
	listener net.Listener
	http     *http.Server
	done     chan struct{}
	quit     chan struct{} // closed when the server stops: ends added latency
	quitOnce sync.Once

	mu       sync.Mutex
	realms   map[string]*realmState
	sessions map[string]*session
	pruneAt  int      // sessions are swept for expired ones when there are this many
	records  *records // a ring of the most recent requests
	faults   []fault
	latency  time.Duration
	seq      uint64
}

type realmState struct {
	clients  map[string]bool
	users    map[string][sha256.Size]byte // password hashes, compared in constant time
	disabled map[string]bool
}

type session struct {
	realm, user, client string
	expires             time.Time // of the last refresh token issued; zero: never
	refreshJTI          string    // the one refresh token still usable, under rotation
}

type fault struct {
	status int
	body   string
}

// records is a bounded ring of requests.
type records struct {
	ring  []Request
	start int // index of the oldest
	n     int
}

func (r *records) add(req Request) {
	if r.n < len(r.ring) {
		r.ring[(r.start+r.n)%len(r.ring)] = req
		r.n++
		return
	}
	r.ring[r.start] = req
	r.start = (r.start + 1) % len(r.ring)
}

func (r *records) all() []Request {
	out := make([]Request, 0, r.n)
	for i := range r.n {
		out = append(out, r.ring[(r.start+i)%len(r.ring)])
	}
	return out
}

// NewServer starts a server on a loopback listener. Close it when done, or use Start
// in tests.
func NewServer(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0", accessTTL: DefaultAccessTTL, refreshTTL: DefaultRefreshTTL, clock: systemTime{},
		timeouts: DefaultTimeouts, recordLimit: DefaultRecordLimit}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.defaultRealm()
	s := &Server{cfg: cfg, realms: map[string]*realmState{}, sessions: map[string]*session{}, pruneAt: 64,
		records: &records{ring: make([]Request, cfg.recordLimit)}, done: make(chan struct{}), quit: make(chan struct{}),
		key: new([32]byte)}
	if _, err := rand.Read(s.key[:]); err != nil {
		return nil, err
	}
	for _, r := range cfg.realms {
		rs := &realmState{clients: map[string]bool{}, users: map[string][sha256.Size]byte{}, disabled: map[string]bool{}}
		for _, c := range r.clients {
			rs.clients[c] = true
		}
		for _, u := range r.users {
			rs.users[u.name] = sha256.Sum256([]byte(u.password))
		}
		for _, u := range r.disabled {
			rs.disabled[u] = true
		}
		s.realms[r.name] = rs
	}
	s.handler = receiver.New(s, receiver.Config{Lenient: cfg.lenient, Logger: cfg.logger, Observe: s.observe})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s.listener = ln
	s.URL = "http://" + ln.Addr().String()
	t := cfg.timeouts
	s.http = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: min(10*time.Second, t.Read),
		ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	return s, nil
}

// TB is the part of testing.TB that Start uses (so that this package does not import
// testing, and programs that run a server do not link it).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start starts a server for a test and closes it when the test ends.
func Start(t TB, opts ...Option) *Server {
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
	rs.users[username] = sha256.Sum256([]byte(password))
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

// ActiveSessions counts the sessions neither logged out nor expired.
func (s *Server) ActiveSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneSessions()
	return len(s.sessions)
}

// pruneSessions forgets sessions whose refresh token has expired (with s.mu held).
func (s *Server) pruneSessions() {
	now := s.cfg.clock.Now()
	for id, ss := range s.sessions {
		if !ss.expires.IsZero() && !now.Before(ss.expires) {
			delete(s.sessions, id)
		}
	}
	s.pruneAt = max(64, 2*len(s.sessions))
}

// Request is one request the server received. Printing it shows no secret:
// AuthRequest is redacted and the raw body is only reachable through Body.
type Request struct {
	Realm    string
	Endpoint string // "token" or "logout"; "" for an injected fault
	Path     string
	Kind     validate.Kind
	// Request is the decoded request; zero when the body was over MaxRecordedBody.
	Request generated.AuthRequest
	Status  int
	// Injected marks an answer that FailNext made up.
	Injected bool
	// RedactedBody is the body with every value but client_id, grant_type and
	// username replaced by [REDACTED], shortened to 1 KiB.
	RedactedBody string
	// BodyLen is the length of the body as received.
	BodyLen int
	body    *string `redact:"secret"`
}

// Body returns the raw body as received, secrets included; "" when it was over
// MaxRecordedBody.
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

// MarshalJSON keeps the secrets out of JSON: the decoded request's password and
// refresh token print as [REDACTED], and the raw body is left out.
func (r Request) MarshalJSON() ([]byte, error) {
	opt := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	req := map[string]string{"client_id": r.Request.ClientID, "username": opt(r.Request.Username),
		"password": redact.Secret(opt(r.Request.Password)), "refresh_token": redact.Secret(opt(r.Request.RefreshToken))}
	if r.Request.GrantType != nil {
		req["grant_type"] = string(*r.Request.GrantType)
	}
	return json.Marshal(struct {
		Realm, Endpoint, Path, Kind string
		Request                     map[string]string
		Status                      int
		Injected                    bool
		RedactedBody                string
		BodyLen                     int
	}{r.Realm, r.Endpoint, r.Path, r.Kind.String(), req, r.Status, r.Injected, r.RedactedBody, r.BodyLen})
}

// Requests returns what the server received, oldest first: the most recent ones, up
// to the record limit.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records.all()
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.records = &records{ring: make([]Request, s.cfg.recordLimit)}
	s.mu.Unlock()
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.records.add(r)
	s.mu.Unlock()
}

func (s *Server) observe(o receiver.Observation) {
	body := o.Body()
	path := generated.RequestTokenPath
	if o.Endpoint == "logout" {
		path = generated.LogoutPath
	}
	r := Request{Realm: o.Realm, Endpoint: o.Endpoint, Path: strings.Replace(path, "{realm}", o.Realm, 1),
		Kind: o.Kind, Status: o.Status, BodyLen: len(body)}
	if len(body) <= MaxRecordedBody {
		raw := string(body)
		r.body, r.Request = &raw, cloneRequest(o.Request)
		r.RedactedBody = api.RedactForm(body)
	} else {
		r.RedactedBody = api.RedactForm(body[:MaxRecordedBody])
	}
	if len(r.RedactedBody) > maxRedactedBody || len(body) > MaxRecordedBody {
		r.RedactedBody = r.RedactedBody[:min(len(r.RedactedBody), maxRedactedBody)] + "... (" + strconv.Itoa(len(body)) + " bytes)"
	}
	s.record(r)
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

// --- receiver.Backend ---

func oauthErr(status int, code, desc string) error {
	return &api.OAuthError{Status: status, Code: code, Description: desc}
}

// Realm implements receiver.Backend.
func (s *Server) Realm(_ context.Context, realm string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.realms[realm]; !ok {
		return &api.OAuthError{Status: http.StatusNotFound, Code: "Realm does not exist"}
	}
	return nil
}

// Client implements receiver.Backend.
func (s *Server) Client(_ context.Context, realm, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.realms[realm]; rs == nil || !rs.clients[clientID] {
		return oauthErr(http.StatusUnauthorized, codeInvalidClient, "Invalid client or Invalid client credentials")
	}
	return nil
}

// unknownUser is compared against when the user does not exist, so that the time
// taken does not tell whether a username is known.
var unknownUser = sha256.Sum256([]byte("authtest: no such user"))

// PasswordGrant implements receiver.Backend.
func (s *Server) PasswordGrant(_ context.Context, realm, clientID, username, password string) (generated.TokenResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.realms[realm]
	want, known := rs.users[username]
	if !known {
		want = unknownUser
	}
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !known || password == "" {
		return generated.TokenResponse{}, oauthErr(http.StatusUnauthorized, codeInvalidGrant, "Invalid user credentials")
	}
	if rs.disabled[username] {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Account disabled")
	}
	if len(s.sessions) >= s.pruneAt {
		s.pruneSessions()
	}
	sid := s.newID()
	ss := &session{realm: realm, user: username, client: clientID}
	s.sessions[sid] = ss
	return s.issue(sid, ss), nil
}

// RefreshGrant implements receiver.Backend.
func (s *Server) RefreshGrant(_ context.Context, realm, clientID, refreshToken string) (generated.TokenResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.checkRefreshToken(realm, clientID, refreshToken)
	if err != nil {
		return generated.TokenResponse{}, err
	}
	if c.Exp != 0 && s.cfg.clock.Now().Unix() >= c.Exp {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Token is not active")
	}
	ss := s.sessions[c.Sid]
	if ss == nil {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Session not active")
	}
	if s.realms[realm].disabled[ss.user] {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "User disabled")
	}
	if s.cfg.rotation && c.Jti != ss.refreshJTI {
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Maximum allowed refresh token reuse exceeded")
	}
	return s.issue(c.Sid, ss), nil
}

// EndSession implements receiver.Backend.
func (s *Server) EndSession(_ context.Context, realm, clientID, refreshToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.checkRefreshToken(realm, clientID, refreshToken)
	if err != nil {
		return err
	}
	// Expired refresh tokens are accepted, and an ended session is still 204.
	delete(s.sessions, c.Sid)
	return nil
}

func (s *Server) checkRefreshToken(realm, clientID, token string) (claims, error) {
	c, err := verify(s.key[:], token)
	if err != nil || c.Typ != "Refresh" {
		return claims{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Invalid refresh token")
	}
	if want := s.issuer(realm); c.Iss != want {
		return claims{}, oauthErr(http.StatusBadRequest, codeInvalidGrant,
			fmt.Sprintf("Invalid token issuer. Expected '%s', but was '%s'", want, c.Iss))
	}
	if c.Azp != clientID {
		return claims{}, oauthErr(http.StatusBadRequest, codeInvalidGrant, "Invalid refresh token. Token client and authorized client don't match")
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
	ss.expires = time.Time{}
	if s.cfg.refreshTTL > 0 {
		refresh.Exp = now.Add(s.cfg.refreshTTL).Unix()
		ss.expires = time.Unix(refresh.Exp, 0)
	}
	ss.refreshJTI = refresh.Jti
	return api.NewTokenResponse(sign(s.key[:], access), int64(s.cfg.accessTTL/time.Second),
		sign(s.key[:], refresh), int64(s.cfg.refreshTTL/time.Second), DefaultScope, sid)
}

// ErrNoSuchToken is returned by VerifyAccessToken for a token the server did not sign.
var ErrNoSuchToken = errors.New("authtest: not a token of this server")

// VerifyAccessToken checks that token is an access token this server signed, not
// expired by its clock, of a session still active; it returns the username.
func (s *Server) VerifyAccessToken(token string) (string, error) {
	c, err := verify(s.key[:], token)
	if err != nil || c.Typ != "Bearer" {
		return "", ErrNoSuchToken
	}
	if s.cfg.clock.Now().Unix() >= c.Exp {
		return "", errors.New("authtest: access token expired")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[c.Sid]; ss == nil {
		return "", errors.New("authtest: session not active")
	}
	return c.Sub, nil
}

// String describes the server without its users' passwords or any token.
func (s *Server) String() string { return fmt.Sprintf("authtest.Server{URL:%q}", s.URL) }

// Format keeps passwords and tokens out of every fmt verb.
func (s *Server) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.String()) }

// LogValue keeps passwords and tokens out of log/slog output.
func (s *Server) LogValue() slog.Value { return slog.GroupValue(slog.String("url", s.URL)) }
