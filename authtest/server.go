package authtest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
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
	// maxRecords is how many requests Requests keeps, the most recent ones.
	maxRecords = 1000
	// maxRecordedBody is the largest body a record keeps (Body, Request); a larger one
	// is only summarised (BodyLen, RedactedBody).
	maxRecordedBody = 4 << 10
	// maxRedactedBody bounds RedactedBody.
	maxRedactedBody = 1 << 10
)

// Realm configures one realm and its public clients (like iqm_client). Its users come
// from WithUser and WithRealmUser, so that no exported type holds a password.
type Realm struct {
	Name    string
	Clients []string
}

type userConfig struct {
	info            userInfo
	password        string
	disabled        bool
	requiredActions bool // Keycloak answers "Account is not fully set up"
}

type clientConfig struct {
	id                     string
	public, bearerOnly     bool
	directGrants, disabled bool
	secret                 string
}

type realmConfig struct {
	name     string
	clients  []clientConfig
	users    []userConfig
	disabled bool
	rotation bool
	maxReuse int
	// Lifetimes from a realm file; nil: the server's.
	accessTTL, refreshTTL, maxLifespan *time.Duration
}

type config struct {
	addr        string
	realms      []*realmConfig
	accessTTL   time.Duration
	refreshTTL  time.Duration
	clock       interface{ Now() time.Time }
	rotation    bool
	strict      bool
	version     string
	logger      *slog.Logger
	timeouts    Timeouts
	maxSessions int
	maxConns    int
	errs        []error
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
		c.realms = append(c.realms, &realmConfig{name: api.DefaultRealm, clients: []clientConfig{publicClient(api.DefaultClientID)}})
	}
	return c.realms[0]
}

// publicClient is a client as WithRealm adds it: public, with direct
// access grants (the password grant) on, like iqm_client.
func publicClient(id string) clientConfig {
	return clientConfig{id: id, public: true, directGrants: true}
}

// cliUser is a user given by name and password only: its profile is made up, since
// Keycloak refuses a login ("Account is not fully set up") without an email address
// and first and last names.
func cliUser(username, password string) userConfig {
	return userConfig{info: userInfo{Username: username, Email: strings.ToLower(username) + "@example.com",
		FirstName: username, LastName: "Test", RealmRoles: []string{defaultRoles}}, password: password}
}

// defaultRoles stands for default-roles-<realm> in userInfo.RealmRoles of a user made
// up from a name and password (the realm is not known yet).
const defaultRoles = "default-roles-"

// WithAddr sets the listen address; the default is 127.0.0.1:0 (a free loopback port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithRealm adds a realm (or sets the clients of one added before). Without one, the
// server has realm "cortex" with client "iqm_client".
func WithRealm(r Realm) Option {
	return func(c *config) {
		rc := c.realm(r.Name)
		for _, id := range r.Clients {
			rc.clients = append(rc.clients, publicClient(id))
		}
	}
}

// WithRealmJSON adds the realms of a realm file as Keycloak imports it (kc.sh import,
// start --import-realm): one realm representation or an array of them. It reads the
// realm's name, enabled, revokeRefreshToken, refreshTokenMaxReuse,
// accessTokenLifespan, ssoSessionIdleTimeout and ssoSessionMaxLifespan; its clients'
// clientId, enabled, publicClient, bearerOnly, directAccessGrantsEnabled and secret;
// its users' id, username, enabled, email, emailVerified, firstName, lastName,
// requiredActions and clear-text password credentials. Defaults are Keycloak's (a
// client is confidential and without direct grants, a user disabled, unless the file
// says otherwise). NewServer fails with an error wrapping ErrRealmFile when the file
// cannot be used.
func WithRealmJSON(data []byte) Option {
	return func(c *config) {
		realms, err := parseRealmFile(data)
		if err != nil {
			c.errs = append(c.errs, err)
			return
		}
		for _, r := range realms {
			if old := c.realm(r.name); old != nil {
				*old = *r
			}
		}
	}
}

// WithUser adds a user to the first realm. Its email address is name@example.com,
// its first name the username and its last name "Test" (Keycloak needs all three).
func WithUser(username, password string) Option {
	return func(c *config) {
		r := c.defaultRealm()
		r.users = append(r.users, cliUser(username, password))
	}
}

// WithRealmUser adds a user to a realm, adding the realm when there is none of that
// name.
func WithRealmUser(realm, username, password string) Option {
	return func(c *config) {
		r := c.realm(realm)
		r.users = append(r.users, cliUser(username, password))
	}
}

// WithAccessTTL sets the access token lifetime (default 300 s).
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets the refresh token lifetime, Keycloak's SSO session idle timeout
// (default 1800 s); 0 makes refresh tokens that do not expire (refresh_expires_in: 0,
// no exp claim).
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithClock sets the clock the tokens' times come from (default the system's), such as
// a *Clock.
func WithClock(clk interface{ Now() time.Time }) Option { return func(c *config) { c.clock = clk } }

type systemTime struct{}

func (systemTime) Now() time.Time { return time.Now() }

// WithRotation turns on refresh-token rotation with reuse detection in every realm,
// Keycloak's "Revoke Refresh Token": a refresh token can be used once (more with a
// realm file's refreshTokenMaxReuse); using a superseded one again is 400
// invalid_grant "Maximum allowed refresh token reuse exceeded" (one two rotations old,
// a second or more later, "Stale token"), and ends the client's session, so that the
// newest token then fails with "Session doesn't have required client".
func WithRotation() Option { return func(c *config) { c.rotation = true } }

// WithStrict applies the schema's own rules beyond Keycloak: an unknown parameter, a
// field the request's kind may not use, a repeated parameter on logout, and a logout
// without refresh_token are 400 invalid_request naming the field (receiver's default).
func WithStrict() Option { return func(c *config) { c.strict = true } }

// WithLenient is Keycloak's leniency, now the default; it undoes WithStrict.
func WithLenient() Option { return func(c *config) { c.strict = false } }

// WithKeycloakVersion selects the answers of a Keycloak release where releases differ
// (default DefaultKeycloakVersion): up to 26.5, bad credentials are 401 rather than
// 400, and the granted scope reads "email profile".
func WithKeycloakVersion(v string) Option { return func(c *config) { c.version = v } }

// WithMaxSessions bounds the sessions kept (default DefaultMaxSessions): at the bound,
// expired sessions are forgotten first, then the oldest.
func WithMaxSessions(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxSessions = n
		}
	}
}

// WithMaxConnections bounds the connections served at once (default
// DefaultMaxConnections); more wait to be accepted.
func WithMaxConnections(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxConns = n
		}
	}
}

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

// Server is a running test auth server.
type Server struct {
	// URL is the auth server base URL, http://127.0.0.1:PORT.
	URL string

	cfg      config
	version  keycloakVersion
	rsa      *signingKey // signs access and ID tokens (RS256)
	hmac     *hmacKey    // signs refresh tokens (HS512)
	handler  *receiver.Handler
	listener net.Listener
	http     *http.Server
	done     chan struct{}
	quit     chan struct{} // closed when the server stops: ends added latency
	quitOnce sync.Once

	mu       sync.Mutex
	realms   map[string]*realmState
	sessions map[string]*session
	order    []string // session ids, oldest first (some already gone)
	orderAt  int      // order[orderAt:] are the ones not yet evicted
	pruneAt  int      // sessions are swept for expired ones when there are this many
	// No kept session expires before soonest (zero: unknown), so that a server at its
	// session bound sweeps only when one may have expired, not at every login.
	soonest time.Time
	revoked map[string]int64 // revoked access tokens' jti -> exp
	records *records         // a ring of the most recent requests
	faults  []fault
	latency time.Duration
}

type realmState struct {
	name     string
	issuer   string
	clients  map[string]*clientConfig
	users    map[string]*user // by lower-cased username
	emails   map[string]*user // by lower-cased email
	disabled bool
	rotation bool
	maxReuse int
	// accessTTL, refreshTTL (0: never expires) and maxLifespan (0: none).
	accessTTL, refreshTTL, maxLifespan time.Duration
}

type user struct {
	info    userInfo
	id      string
	profile profile // its claims
	// The access token's aud, realm_access and resource_access, from its roles.
	aud                         string
	realmAccess, resourceAccess json.RawMessage
	hash                        [sha256.Size]byte // of the password, compared in constant time
	disabled                    bool
	requiredActions             bool
}

type session struct {
	id      string
	realm   *realmState
	user    *user
	client  string
	scope   string
	openid  bool
	started time.Time
	expires time.Time // of the last refresh token issued; zero: never
	// The client session: gone once detached (reuse detected, token revoked).
	clientGone bool
	timestamp  int64 // iat of the last refresh token issued, as Keycloak's client session
	// Under rotation, Keycloak's reuse bookkeeping (TokenManager.validateTokenReuse):
	// reuseID is the reuse_id of every refresh token of the session (set at login, kept
	// by each refresh), current the jti of the refresh token last used ("" before the
	// first refresh), useCount how often current was used.
	reuseID, current string
	useCount         int
}

// active reports whether a session is still there at now: not ended and not idled
// out. Keycloak's session is valid while its seconds clock is before the expiry of the
// last refresh token issued (measured with Keycloak 26.7.3: at the second of exp a
// refresh is "Session not active", a second later "Token is not active").
func (ss *session) active(now time.Time) bool {
	return ss != nil && (ss.expires.IsZero() || now.Before(ss.expires))
}

// expired reports whether a token with this exp claim is expired at now: Keycloak's
// TokenVerifier.IS_ACTIVE (exp < its seconds clock), so that a token is still active
// during the second its exp names (measured with Keycloak 26.7.3: userinfo and refresh
// accept it then, and refuse it a second later).
func expired(exp int64, now time.Time) bool { return exp != 0 && now.Unix() > exp }

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

// Defaults of the bounds.
const (
	// DefaultMaxSessions bounds the sessions a server keeps.
	DefaultMaxSessions = 10000
	// DefaultMaxConnections bounds the connections served at once.
	DefaultMaxConnections = 256
	// maxHeaderBytes bounds a request's headers, as Keycloak's max-header-size (64 KiB);
	// more is 431.
	maxHeaderBytes = 65535
)

// NewServer starts a server on a loopback listener. Close it when done, or use Start
// in tests.
func NewServer(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0", accessTTL: DefaultAccessTTL, refreshTTL: DefaultRefreshTTL, clock: systemTime{},
		timeouts: DefaultTimeouts, version: DefaultKeycloakVersion,
		maxSessions: DefaultMaxSessions, maxConns: DefaultMaxConnections}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, errors.Join(cfg.errs...)
	}
	version, err := parseKeycloakVersion(cfg.version)
	if err != nil {
		return nil, err
	}
	cfg.defaultRealm()
	key, err := processKey()
	if err != nil {
		return nil, err
	}
	hk, err := newHMACKey()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, version: version, rsa: key, hmac: hk, realms: map[string]*realmState{},
		sessions: map[string]*session{}, pruneAt: 64, revoked: map[string]int64{},
		records: &records{ring: make([]Request, maxRecords)}, done: make(chan struct{}), quit: make(chan struct{})}
	for _, r := range cfg.realms {
		s.realms[r.name] = s.newRealm(r)
	}
	s.handler = receiver.New(s, receiver.Config{Lenient: !cfg.strict, Logger: cfg.logger, Observe: s.observe})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s.listener = newLimitListener(ln, cfg.maxConns)
	s.URL = "http://" + ln.Addr().String()
	for _, rs := range s.realms {
		rs.issuer = s.URL + "/realms/" + rs.name
	}
	t := cfg.timeouts
	s.http = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: min(10*time.Second, t.Read),
		ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle, MaxHeaderBytes: maxHeaderBytes}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(s.listener)
	}()
	return s, nil
}

func (s *Server) newRealm(r *realmConfig) *realmState {
	pick := func(p *time.Duration, d time.Duration) time.Duration {
		if p != nil {
			return *p
		}
		return d
	}
	rs := &realmState{name: r.name, clients: map[string]*clientConfig{}, users: map[string]*user{}, emails: map[string]*user{},
		disabled: r.disabled, rotation: r.rotation || s.cfg.rotation, maxReuse: r.maxReuse,
		accessTTL: pick(r.accessTTL, s.cfg.accessTTL), refreshTTL: pick(r.refreshTTL, s.cfg.refreshTTL), maxLifespan: pick(r.maxLifespan, 0)}
	for i := range r.clients {
		c := r.clients[i]
		rs.clients[c.id] = &c
	}
	for _, u := range r.users {
		rs.addUser(u)
	}
	return rs
}

// addUser adds or replaces a user (with s.mu held, or before the server runs).
// Keycloak stores usernames and emails lower-cased, and matches them so.
func (rs *realmState) addUser(u userConfig) {
	name := strings.ToLower(u.info.Username)
	if old := rs.users[name]; old != nil && old.info.Email != "" {
		delete(rs.emails, strings.ToLower(old.info.Email))
	}
	info := u.info
	info.Username = name
	id := info.ID
	if id == "" {
		id = nameUUID(rs.name + "/" + name)
	}
	verified := info.EmailVerified
	usr := &user{info: info, id: id, profile: profile{EmailVerified: &verified, Name: strings.TrimSpace(info.FirstName + " " + info.LastName),
		PreferredUsername: name, GivenName: info.FirstName, FamilyName: info.LastName, Email: info.Email},
		hash: sha256.Sum256([]byte(u.password)), disabled: u.disabled,
		requiredActions: u.requiredActions || info.Email == "" || info.FirstName == "" || info.LastName == ""}
	usr.setRoles(rs.name, info.RealmRoles)
	rs.users[name] = usr
	if info.Email != "" {
		rs.emails[strings.ToLower(info.Email)] = usr
	}
}

// setRoles makes the access token's role claims from the user's realm roles, as
// Keycloak expands default-roles-<realm>.
func (u *user) setRoles(realm string, roles []string) {
	var list []string
	account := false
	for _, r := range roles {
		if r == defaultRoles || r == defaultRoles+strings.ToLower(realm) {
			list = append(list, defaultRoles+strings.ToLower(realm), "offline_access", "uma_authorization")
			account = true
			continue
		}
		list = append(list, r)
	}
	if len(list) == 0 {
		return
	}
	u.realmAccess, _ = json.Marshal(map[string][]string{"roles": slices.Compact(list)})
	if account {
		u.aud = "account"
		u.resourceAccess = json.RawMessage(`{"account":{"roles":["manage-account","manage-account-links","view-profile"]}}`)
	}
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

// Handler is the server's handler, for use without a network.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if !receiver.Normalized(r.URL.Path) {
		receiver.NotNormalized(w)
		return
	}
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
	if s.serveKeycloak(w, r) {
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

// AddUser adds or changes a user of a realm (with a made-up profile, as WithUser).
func (s *Server) AddUser(realm, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.realms[realm]
	if !ok {
		return fmt.Errorf("authtest: no realm %q", realm)
	}
	rs.addUser(cliUser(username, password))
	return nil
}

// DisableUser disables (or enables again) a user of a realm: password logins get
// 400 invalid_grant "Account disabled" and refreshes "User disabled".
func (s *Server) DisableUser(realm, username string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs, ok := s.realms[realm]; ok {
		if u := rs.users[strings.ToLower(username)]; u != nil {
			u.disabled = disabled
		}
	}
}

// RealmNames lists the server's realms, in the order they were configured.
func (s *Server) RealmNames() []string {
	names := make([]string, 0, len(s.cfg.realms))
	for _, r := range s.cfg.realms {
		names = append(names, r.name)
	}
	return names
}

// ActiveSessions counts the sessions neither logged out nor expired.
func (s *Server) ActiveSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneSessions()
	return len(s.sessions)
}

// pruneSessions forgets sessions whose refresh token has expired, and revoked access
// tokens that have expired (with s.mu held).
func (s *Server) pruneSessions() {
	now := s.cfg.clock.Now()
	s.soonest = neverExpires
	for id, ss := range s.sessions {
		switch {
		case !ss.active(now):
			delete(s.sessions, id)
		case !ss.expires.IsZero() && ss.expires.Before(s.soonest):
			s.soonest = ss.expires
		}
	}
	for jti, exp := range s.revoked {
		if expired(exp, now) {
			delete(s.revoked, jti)
		}
	}
	s.pruneAt = max(64, 2*len(s.sessions))
	s.compactOrder()
}

// compactOrder drops ids of sessions that are gone from order once they are the
// greater part of it, so that order stays within twice the sessions kept.
func (s *Server) compactOrder() {
	if len(s.order)-s.orderAt <= 2*len(s.sessions)+64 {
		return
	}
	live := make([]string, 0, len(s.sessions)+64)
	for _, id := range s.order[s.orderAt:] {
		if _, ok := s.sessions[id]; ok {
			live = append(live, id)
		}
	}
	s.order, s.orderAt = live, 0
}

// neverExpires is later than any session's expiry.
var neverExpires = time.Unix(1<<62, 0)

// addSession keeps a new session, making room at the bound: expired sessions go
// first, then the oldest (with s.mu held). At the bound it sweeps for expired ones
// only once one may have expired (s.soonest): a sweep per login cost serve 15% of its
// CPU at 10,000 sessions.
func (s *Server) addSession(ss *session) {
	if len(s.sessions) >= s.pruneAt ||
		len(s.sessions) >= s.cfg.maxSessions && !s.cfg.clock.Now().Before(s.soonest) {
		s.pruneSessions()
	}
	for len(s.sessions) >= s.cfg.maxSessions && s.orderAt < len(s.order) {
		delete(s.sessions, s.order[s.orderAt])
		s.order[s.orderAt] = ""
		s.orderAt++
	}
	s.sessions[ss.id] = ss
	s.order = append(s.order, ss.id)
	s.compactOrder()
}

// Request is one request the server received. Printing or logging it shows no secret:
// AuthRequest redacts itself and the raw body, a redact.Secret, prints as an address
// and is only reachable through Body.
type Request struct {
	Realm    string
	Endpoint string // "token" or "logout"; "" for an injected fault
	Path     string
	Kind     validate.Kind
	// Request is the decoded request; zero when the body was over 4 KiB.
	Request generated.AuthRequest
	Status  int
	// Injected marks an answer that FailNext made up.
	Injected bool
	// RedactedBody is the body with every value but client_id, grant_type and
	// username replaced by [REDACTED], shortened to 1 KiB.
	RedactedBody string
	// BodyLen is the length of the body as received.
	BodyLen int
	body    redact.Secret
}

// Body returns the raw body as received, secrets included; "" when it was over
// 4 KiB.
func (r Request) Body() string { return r.body.Reveal() }

// MarshalJSON keeps the secrets out of JSON, where the generated AuthRequest would
// put them on the wire: the decoded request's password and refresh token are
// [REDACTED], and the raw body is left out.
func (r Request) MarshalJSON() ([]byte, error) {
	opt := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	req := map[string]any{"client_id": r.Request.ClientID, "username": opt(r.Request.Username),
		"password": redact.New(opt(r.Request.Password)), "refresh_token": redact.New(opt(r.Request.RefreshToken))}
	if r.Request.GrantType != nil {
		req["grant_type"] = string(*r.Request.GrantType)
	}
	return json.Marshal(struct {
		Realm, Endpoint, Path, Kind string
		Request                     map[string]any
		Status                      int
		Injected                    bool
		RedactedBody                string
		BodyLen                     int
	}{r.Realm, r.Endpoint, r.Path, r.Kind.String(), req, r.Status, r.Injected, r.RedactedBody, r.BodyLen})
}

// Requests returns what the server received, oldest first: the most recent 1000.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records.all()
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.records = &records{ring: make([]Request, maxRecords)}
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
	if len(body) <= maxRecordedBody {
		r.body, r.Request = redact.New(string(body)), cloneRequest(o.Request)
		r.RedactedBody = api.RedactForm(body)
	} else {
		r.RedactedBody = api.RedactForm(body[:maxRecordedBody])
	}
	if len(r.RedactedBody) > maxRedactedBody || len(body) > maxRecordedBody {
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

func invalidGrant(desc string) error { return oauthErr(http.StatusBadRequest, codeInvalidGrant, desc) }

// Realm implements receiver.Backend.
func (s *Server) Realm(_ context.Context, realm string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.realms[realm]
	if !ok {
		return &api.OAuthError{Status: http.StatusNotFound, Code: "Realm does not exist"}
	}
	if rs.disabled {
		return oauthErr(http.StatusForbidden, "access_denied", "Realm not enabled")
	}
	return nil
}

// Client implements receiver.Backend: a public client by its id, a confidential one
// with its client_secret in the form.
func (s *Server) Client(ctx context.Context, realm, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.realms[realm]
	var c *clientConfig
	if rs != nil {
		c = rs.clients[clientID]
	}
	switch {
	case c == nil || c.disabled:
		return oauthErr(http.StatusUnauthorized, codeInvalidClient, "Invalid client or Invalid client credentials")
	case c.bearerOnly:
		return oauthErr(http.StatusBadRequest, codeInvalidClient, "Bearer-only not allowed")
	case !c.public:
		secret, _ := receiver.Param(ctx, "client_secret")
		if c.secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
			return oauthErr(http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
		}
	}
	return nil
}

// unknownUser is compared against when the user does not exist, so that the time
// taken does not tell whether a username is known.
var unknownUser = sha256.Sum256([]byte("authtest: no such user"))

// knownScopes are the client scopes of a new Keycloak realm: the default ones
// (granted always) and the optional ones a request may ask for.
var knownScopes = map[string]bool{"openid": true, "profile": true, "email": true, "roles": true, "web-origins": true,
	"acr": true, "basic": true, "address": true, "phone": true, "offline_access": true, "microprofile-jwt": true,
	"organization": true}

// optionalScopes are granted only when asked for, in this order.
var optionalScopes = []string{"address", "phone", "offline_access", "microprofile-jwt", "organization"}

// requestedScope checks the form's scope: the granted scope string, whether openid
// was asked for, or 400 invalid_scope naming the scope asked for.
func (s *Server) requestedScope(ctx context.Context) (string, bool, error) {
	scope, _ := receiver.Param(ctx, "scope")
	asked := strings.Fields(scope)
	openid := false
	for _, sc := range asked {
		if !knownScopes[sc] {
			return "", false, oauthErr(http.StatusBadRequest, "invalid_scope", "Invalid scopes: "+scope)
		}
		openid = openid || sc == "openid"
	}
	granted := s.version.defaultScope()
	if openid {
		granted = "openid " + granted
	}
	for _, o := range optionalScopes {
		if slices.Contains(asked, o) {
			granted += " " + o
		}
	}
	return granted, openid, nil
}

// PasswordGrant implements receiver.Backend.
func (s *Server) PasswordGrant(ctx context.Context, realm, clientID, username, password string) (generated.TokenResponse, error) {
	s.mu.Lock()
	rs := s.realms[realm]
	if c := rs.clients[clientID]; c == nil || !c.directGrants {
		s.mu.Unlock()
		return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "unauthorized_client", "Client not allowed for direct access grants")
	}
	scope, openid, err := s.requestedScope(ctx)
	if err != nil {
		s.mu.Unlock()
		return generated.TokenResponse{}, err
	}
	name := strings.ToLower(username)
	u := rs.users[name]
	if u == nil {
		u = rs.emails[name]
	}
	want := unknownUser
	if u != nil {
		want = u.hash
	}
	got := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || u == nil || password == "" {
		s.mu.Unlock()
		return generated.TokenResponse{}, oauthErr(s.version.badCredentialsStatus(), codeInvalidGrant, "Invalid user credentials")
	}
	if u.disabled {
		s.mu.Unlock()
		return generated.TokenResponse{}, invalidGrant("Account disabled")
	}
	if u.requiredActions {
		s.mu.Unlock()
		return generated.TokenResponse{}, invalidGrant("Account is not fully set up")
	}
	now := s.cfg.clock.Now()
	ss := &session{id: newSessionID(), realm: rs, user: u, client: clientID, scope: scope, openid: openid, started: now}
	if rs.rotation {
		ss.reuseID = newUUID()
	}
	s.addSession(ss)
	t := s.prepare(ss, now)
	s.mu.Unlock()
	return s.sign(t), nil
}

// OtherGrant implements receiver.OtherGrants: the grant types Keycloak knows beyond
// the password and refresh grants are refused as Keycloak refuses them to a client
// without the flow enabled.
func (s *Server) OtherGrant(_ context.Context, realm, clientID, grantType string) (generated.TokenResponse, error) {
	s.mu.Lock()
	c := s.realms[realm].clients[clientID]
	s.mu.Unlock()
	switch {
	case grantType == "client_credentials" && c != nil && c.public:
		return generated.TokenResponse{}, oauthErr(http.StatusUnauthorized, "unauthorized_client", "Public client not allowed to retrieve service account")
	case grantType == "client_credentials":
		return generated.TokenResponse{}, oauthErr(http.StatusUnauthorized, "unauthorized_client", "Client not enabled to retrieve service account")
	}
	return generated.TokenResponse{}, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
}

// RefreshGrant implements receiver.Backend.
func (s *Server) RefreshGrant(ctx context.Context, realm, clientID, refreshToken string) (generated.TokenResponse, error) {
	s.mu.Lock()
	t, err := s.refresh(ctx, realm, clientID, refreshToken)
	s.mu.Unlock()
	if err != nil {
		return generated.TokenResponse{}, err
	}
	return s.sign(t), nil
}

// refresh runs Keycloak's refresh checks in its order (with s.mu held).
func (s *Server) refresh(ctx context.Context, realm, clientID, refreshToken string) (unsigned, error) {
	c, err := s.checkRefreshToken(realm, clientID, refreshToken)
	if err != nil {
		return unsigned{}, err
	}
	now := s.cfg.clock.Now()
	if expired(c.Exp, now) {
		return unsigned{}, invalidGrant("Token is not active")
	}
	ss := s.sessions[c.Sid]
	if !ss.active(now) {
		return unsigned{}, invalidGrant("Session not active")
	}
	if ss.user.disabled {
		return unsigned{}, invalidGrant("User disabled")
	}
	if ss.clientGone {
		return unsigned{}, invalidGrant("Session doesn't have required client")
	}
	if scope, ok := receiver.Param(ctx, "scope"); ok {
		for _, sc := range strings.Fields(scope) {
			if !knownScopes[sc] {
				return unsigned{}, oauthErr(http.StatusBadRequest, "invalid_scope", "Invalid scopes: "+scope)
			}
		}
	}
	if ss.realm.rotation {
		// Keycloak's TokenManager.validateTokenReuse (26.7.3): a token other than the
		// one last used, issued in an earlier second than the last refresh, is stale;
		// any other token becomes the one last used and may be used
		// refreshTokenMaxReuse more times. Either failure ends the client session. So
		// the token last used is "Maximum allowed refresh token reuse exceeded" however
		// late it comes back, and a superseded token back within the second of the last
		// refresh is accepted again (measured).
		if ss.current != "" && c.Jti != ss.current && c.Iat < ss.timestamp {
			ss.clientGone = true
			return unsigned{}, invalidGrant("Stale token")
		}
		if c.Jti != ss.current {
			ss.current, ss.useCount = c.Jti, 0
		}
		if ss.useCount > ss.realm.maxReuse {
			ss.clientGone = true
			return unsigned{}, invalidGrant("Maximum allowed refresh token reuse exceeded")
		}
		ss.useCount++
	}
	return s.prepare(ss, now), nil
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
	c, err := s.hmac.verify(token)
	if err != nil || c.Typ != "Refresh" {
		return claims{}, invalidGrant("Invalid refresh token")
	}
	if want := s.realms[realm].issuer; c.Iss != want {
		return claims{}, invalidGrant(fmt.Sprintf("Invalid token issuer. Expected '%s', but was '%s'", want, c.Iss))
	}
	if c.Azp != clientID {
		return claims{}, invalidGrant("Invalid refresh token. Token client and authorized client don't match")
	}
	return c, nil
}

// unsigned is a grant's answer before its tokens are signed: signing, the costly
// part, is done without the lock.
type unsigned struct {
	access, refresh, id claims
	openid              bool
	accessTTL           int64
	refreshTTL          int64
	scope, sid          string
}

// prepare makes the claims of a grant's tokens for a session and moves the session on
// (with s.mu held).
func (s *Server) prepare(ss *session, now time.Time) unsigned {
	rs, u := ss.realm, ss.user
	iat := now.Unix()
	access := claims{Exp: now.Add(rs.accessTTL).Unix(), Iat: iat, Jti: newUUID(), Iss: rs.issuer, Aud: u.aud, Sub: u.id,
		Typ: "Bearer", Azp: ss.client, Sid: ss.id, Acr: "1", RealmAccess: u.realmAccess, ResourceAccess: u.resourceAccess,
		Scope: ss.scope, profile: u.profile}
	refresh := claims{Iat: iat, Jti: newUUID(), Iss: rs.issuer, Aud: rs.issuer, Sub: u.id, Typ: "Refresh", Azp: ss.client,
		Sid: ss.id, Scope: refreshScope(ss.openid)}
	if s.version.since266() {
		refresh.AudX, refresh.Prov = u.aud, "default"
	}
	refresh.ReuseID = ss.reuseID // "" without rotation: no claim
	ss.expires = time.Time{}
	if rs.refreshTTL > 0 {
		exp := now.Add(rs.refreshTTL)
		if rs.maxLifespan > 0 {
			if limit := ss.started.Add(rs.maxLifespan); limit.Before(exp) {
				exp = limit
			}
		}
		refresh.Exp = exp.Unix()
		ss.expires = time.Unix(refresh.Exp, 0)
		if ss.expires.Before(s.soonest) {
			s.soonest = ss.expires
		}
	}
	ss.timestamp = iat
	t := unsigned{access: access, refresh: refresh, openid: ss.openid, accessTTL: int64(rs.accessTTL / time.Second),
		scope: ss.scope, sid: ss.id}
	if refresh.Exp != 0 {
		t.refreshTTL = refresh.Exp - iat
	}
	if ss.openid {
		t.id = claims{Exp: access.Exp, Iat: iat, Jti: newUUID(), Iss: rs.issuer, Aud: ss.client, Sub: u.id, Typ: "ID",
			Azp: ss.client, Sid: ss.id, Acr: "1", profile: u.profile}
	}
	return t
}

// refreshScope is the scope claim of a refresh token: the realm's default client
// scopes, as Keycloak 26.7.3 writes them (measured).
func refreshScope(openid bool) string {
	if openid {
		return "openid roles basic acr profile web-origins email"
	}
	return "roles basic acr profile web-origins email"
}

// sign signs a grant's tokens and makes the answer.
func (s *Server) sign(t unsigned) generated.TokenResponse {
	access := s.rsa.sign(&t.access)
	r := api.NewTokenResponse(access, t.accessTTL, s.hmac.sign(&t.refresh), t.refreshTTL, t.scope, t.sid)
	if t.openid {
		t.id.AtHash = atHash(access)
		id := s.rsa.sign(&t.id)
		r.IDToken = &id
	}
	return r
}

// ErrNoSuchToken is returned by VerifyAccessToken for a token the server did not sign,
// so that a test can tell a token from elsewhere from one that expired or was revoked.
var ErrNoSuchToken = errors.New("authtest: not a token of this server")

// VerifyAccessToken checks that token is an access token this server signed, not
// expired by its clock, not revoked, of a session still active; it returns the
// username (lower-cased, as Keycloak stores it).
func (s *Server) VerifyAccessToken(token string) (string, error) {
	c, err := s.verifyAccess(token)
	if err != nil {
		return "", err
	}
	return c.PreferredUsername, nil
}

// errSessionGone is verifyAccess's error for a valid access token whose session ended
// (logout, revocation, reuse detected) or idled out.
var errSessionGone = errors.New("authtest: session not active")

// verifyAccess checks an access token as Keycloak's userinfo does: the token first
// (signature, realm, exp, revocation), then its session (errSessionGone, with the
// token's claims).
func (s *Server) verifyAccess(token string) (claims, error) {
	c, err := s.rsa.verify(token)
	if err != nil || c.Typ != "Bearer" {
		return claims{}, ErrNoSuchToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.realms[realmOf(c.Iss, s.URL)]; rs == nil || rs.issuer != c.Iss {
		return claims{}, ErrNoSuchToken
	}
	now := s.cfg.clock.Now()
	if expired(c.Exp, now) {
		return claims{}, errors.New("authtest: access token expired")
	}
	if _, ok := s.revoked[c.Jti]; ok {
		return claims{}, errors.New("authtest: access token revoked")
	}
	if ss := s.sessions[c.Sid]; !ss.active(now) || ss.clientGone {
		return c, errSessionGone
	}
	return c, nil
}

// realmOf is the realm of an issuer of this server ("" when it is not one).
func realmOf(iss, base string) string {
	name, ok := strings.CutPrefix(iss, base+"/realms/")
	if !ok {
		return ""
	}
	return name
}

// String describes the server by its URL. The rest of a Server (signing keys, users,
// sessions) is guarded by its lock, so that printing it field by field would race
// with the requests it serves.
func (s *Server) String() string { return fmt.Sprintf("authtest.Server{URL:%q}", s.URL) }

// Format is String under every fmt verb (encoding/json and slog's JSON handler see
// only URL, its one exported field).
func (s *Server) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.String()) }
