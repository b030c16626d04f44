package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Session errors.
var (
	// ErrLoggedOut: the session was logged out; Login starts a new one.
	ErrLoggedOut = errors.New("session is logged out")
	// ErrExternalSession: a session from a tokens file or a plain token is managed
	// elsewhere and cannot log in, refresh or log out.
	ErrExternalSession = errors.New("unable to close or renew an externally managed auth session")
	// ErrClosed: the session was closed.
	ErrClosed = errors.New("session is closed")
	// ErrNoCredentials: the tokens need a password login, and the session has no
	// password.
	ErrNoCredentials = errors.New("no username and password to log in with")
	// ErrTokenExpired: the token from a tokens file has expired.
	ErrTokenExpired = errors.New("token has expired")
)

// Defaults of the session.
const (
	// DefaultRefreshMargin: a token with less than this left is renewed first.
	DefaultRefreshMargin = 60 * time.Second
	// DefaultBackoff is the first wait after a failed renewal; it doubles up to MaxBackoff.
	DefaultBackoff = time.Second
	// MaxBackoff caps the wait after repeated failures.
	MaxBackoff = 30 * time.Second
	// fileRecheck: how long a tokens-file token within the margin is used before the
	// file is read again.
	fileRecheck = time.Second
)

// SessionConfig configures a Session. Exactly one source of tokens is set: Username
// and Password (with ServerURL), Tokens (with ServerURL; Username and Password
// optional, for a password login when the refresh token is gone), TokensFile, or
// Token.
type SessionConfig struct {
	// ServerURL, Realm, ClientID, HTTPClient, UserAgent, Timeout and AllowInsecureHTTP
	// configure the Client, as in ClientConfig.
	ServerURL, Realm, ClientID string
	HTTPClient                 *http.Client
	UserAgent                  string
	Timeout                    time.Duration
	AllowInsecureHTTP          bool

	// Username and Password log in with the password grant (IQM_AUTH_USERNAME,
	// IQM_AUTH_PASSWORD).
	Username, Password string
	// Tokens are tokens this process owns already (say, written by iqmauth login): they
	// are refreshed and can be logged out like those of a password login.
	Tokens *Tokens
	// TokensFile is a tokens file that another program keeps fresh (IQM_TOKENS_FILE); it
	// is read again when its token is within the margin.
	TokensFile string
	// Token is a bearer token used as it is (IQM_TOKEN).
	Token string

	// RefreshMargin defaults to DefaultRefreshMargin.
	RefreshMargin time.Duration
	// Backoff is the first wait after a failed renewal; 0 means DefaultBackoff.
	Backoff time.Duration
	// Clock defaults to SystemClock.
	Clock Clock
	// OnTokens, if set, runs after every successful login or refresh, before the
	// callers waiting for it return, so that a service can persist rotated tokens.
	OnTokens func(Tokens)
}

type sessionMode int

const (
	modePassword sessionMode = iota // credentials and/or owned tokens
	modeFile
	modeStatic
)

type op int

const (
	opAuto op = iota
	opRefresh
	opLogin
)

// Session keeps an access token fresh, as the Python client does: it reuses the
// access token while it has more than the margin left, otherwise uses the refresh
// grant while the refresh token has more than the margin left, otherwise the password
// grant. It is safe for any number of goroutines. Close it when done.
type Session struct {
	mode     sessionMode
	client   *Client
	clock    Clock
	margin   time.Duration
	backoff0 time.Duration
	username string
	password string
	file     string
	onTokens func(Tokens)

	state atomic.Pointer[tokenState] // read without a lock on the hot path

	mu        sync.Mutex
	flight    *flight
	gen       uint64 // bumped by Logout and Close: results of older flights are dropped
	loggedOut bool
	closed    bool
	failure   error
	retryAt   time.Time
	backoff   time.Duration
	ctx       context.Context // flights run under it; Close cancels it
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// tokenState is an immutable set of tokens plus a flag that a timer clears when the
// access token enters the margin, so that Token needs neither a lock nor the time.
type tokenState struct {
	tokens Tokens
	access string
	fresh  atomic.Bool
	stop   func() bool
}

type flight struct {
	op     op
	done   chan struct{}
	tokens Tokens
	err    error
}

// NewSession checks the configuration and builds a Session. It sends nothing: the
// first Token logs in (call Login to do it eagerly). A TokensFile is read here, so a
// missing or corrupt file is reported at once.
func NewSession(cfg SessionConfig) (*Session, error) {
	s := &Session{clock: cfg.Clock, margin: cfg.RefreshMargin, backoff0: cfg.Backoff,
		username: cfg.Username, password: cfg.Password, file: cfg.TokensFile, onTokens: cfg.OnTokens}
	if s.clock == nil {
		s.clock = SystemClock
	}
	if s.margin == 0 {
		s.margin = DefaultRefreshMargin
	}
	if s.margin < 0 {
		return nil, &ConfigError{Setting: "refresh margin", Problem: "must not be negative", Err: ErrConfig}
	}
	if s.backoff0 <= 0 {
		s.backoff0 = DefaultBackoff
	}
	creds := cfg.Username != "" || cfg.Password != ""
	switch {
	case cfg.Token != "" && (creds || cfg.TokensFile != "" || cfg.Tokens != nil):
		return nil, &ConfigError{Setting: "token", Problem: "cannot be combined with credentials, tokens or a tokens file", Err: ErrConfig}
	case cfg.TokensFile != "" && (creds || cfg.Tokens != nil):
		return nil, &ConfigError{Setting: "tokens file", Problem: "cannot be combined with credentials or tokens", Err: ErrConfig}
	case cfg.Token != "":
		s.mode = modeStatic
	case cfg.TokensFile != "":
		s.mode = modeFile
	case cfg.ServerURL != "" && cfg.Tokens == nil && (cfg.Username == "" || cfg.Password == ""):
		return nil, &ConfigError{Setting: "credentials", Problem: "auth server URL is set but no username or password", Err: ErrConfig}
	case cfg.ServerURL == "" && (creds || cfg.Tokens != nil):
		return nil, &ConfigError{Setting: "server URL", Problem: "is required with credentials or tokens", Err: ErrConfig}
	case cfg.ServerURL == "":
		return nil, &ConfigError{Setting: "auth", Problem: "no server URL with credentials, tokens file or token configured", Err: ErrConfig}
	case creds && (cfg.Username == "" || cfg.Password == ""):
		return nil, &ConfigError{Setting: "credentials", Problem: "username and password go together", Err: ErrConfig}
	default:
		s.mode = modePassword
	}
	if s.mode == modePassword {
		c, err := NewClient(ClientConfig{ServerURL: cfg.ServerURL, Realm: cfg.Realm, ClientID: cfg.ClientID,
			HTTPClient: cfg.HTTPClient, UserAgent: cfg.UserAgent, Timeout: cfg.Timeout,
			AllowInsecureHTTP: cfg.AllowInsecureHTTP, Clock: s.clock})
		if err != nil {
			return nil, err
		}
		s.client = c
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	switch s.mode {
	case modeStatic:
		s.store(Tokens{secrets: &tokenSecrets{access: cfg.Token}, TokenType: "Bearer"})
	case modeFile:
		t, err := s.readFile()
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.store(t)
	default:
		if cfg.Tokens != nil && cfg.Tokens.AccessToken() != "" {
			s.store(*cfg.Tokens)
		}
	}
	return s, nil
}

// Client is the client the session logs in with (nil for a tokens-file or plain-token
// session).
func (s *Session) Client() *Client { return s.client }

// Token returns an access token with more than the refresh margin left, renewing it
// first when needed. While the token is fresh it takes no lock and allocates nothing.
// When it must be renewed, concurrent callers share one request and its result; after
// a failed renewal, calls return that failure without a request until a backoff
// (1 s, doubling up to 30 s) has passed. A refresh refused with invalid_grant falls
// back to the password grant once.
func (s *Session) Token(ctx context.Context) (string, error) {
	if st := s.state.Load(); st != nil && st.fresh.Load() {
		return st.access, nil
	}
	t, err := s.do(ctx, opAuto)
	return t.AccessToken(), err
}

// Tokens returns the current tokens, renewing them first like Token.
func (s *Session) Tokens(ctx context.Context) (Tokens, error) {
	if st := s.state.Load(); st != nil && st.fresh.Load() {
		return st.tokens, nil
	}
	return s.do(ctx, opAuto)
}

// Current returns the tokens held now, without renewing them; ok is false when there
// are none.
func (s *Session) Current() (t Tokens, ok bool) {
	if st := s.state.Load(); st != nil {
		return st.tokens, true
	}
	return Tokens{}, false
}

// Refresh renews the tokens with the refresh grant now (for a tokens-file session:
// reads the file again).
func (s *Session) Refresh(ctx context.Context) (Tokens, error) { return s.do(ctx, opRefresh) }

// Login logs in with the password grant now, also after Logout.
func (s *Session) Login(ctx context.Context) (Tokens, error) { return s.do(ctx, opLogin) }

func (s *Session) do(ctx context.Context, o op) (Tokens, error) {
	if s.mode == modeStatic && o != opAuto || s.mode == modeFile && o == opLogin {
		return Tokens{}, ErrExternalSession
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Tokens{}, ErrClosed
		}
		if o == opAuto {
			if st := s.state.Load(); st != nil && st.fresh.Load() {
				s.mu.Unlock()
				return st.tokens, nil
			}
		}
		if o != opLogin && s.loggedOut {
			s.mu.Unlock()
			return Tokens{}, ErrLoggedOut
		}
		if o == opAuto && s.failure != nil {
			if now := s.clock.Now(); now.Before(s.retryAt) {
				err := &BackoffError{Err: s.failure, RetryAt: s.retryAt}
				s.mu.Unlock()
				return Tokens{}, err
			}
		}
		f := s.flight
		if f != nil && f.op != o && o != opAuto {
			// A forced login or refresh waits for a different operation to end first.
			s.mu.Unlock()
			select {
			case <-f.done:
				continue
			case <-ctx.Done():
				return Tokens{}, ctx.Err()
			}
		}
		if f == nil {
			f = &flight{op: o, done: make(chan struct{})}
			s.flight = f
			s.wg.Add(1)
			go s.run(f, s.gen)
		}
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.tokens, f.err
		case <-ctx.Done():
			return Tokens{}, ctx.Err()
		}
	}
}

// run performs one flight, detached from the callers' contexts (one caller giving up
// does not fail the others), under the session's context, which Close cancels.
func (s *Session) run(f *flight, gen uint64) {
	defer s.wg.Done()
	t, err := s.fetch(s.ctx, f.op)
	s.mu.Lock()
	switch {
	case s.gen != gen || s.closed:
		if err == nil {
			err = ErrLoggedOut
			if s.closed {
				err = ErrClosed
			}
		}
	case err == nil:
		s.store(t)
		s.loggedOut, s.failure, s.backoff = false, nil, 0
	case f.op == opAuto:
		s.dropDeadRefreshToken(err)
		s.failure = err
		if s.backoff == 0 {
			s.backoff = s.backoff0
		} else {
			s.backoff = min(2*s.backoff, MaxBackoff)
		}
		s.retryAt = s.clock.Now().Add(s.backoff)
	default:
		s.dropDeadRefreshToken(err)
	}
	if s.flight == f {
		s.flight = nil
	}
	s.mu.Unlock()
	if err == nil && s.onTokens != nil && s.mode == modePassword {
		s.onTokens(t)
	}
	f.tokens, f.err = t, err
	close(f.done)
}

// fetch gets new tokens for o.
func (s *Session) fetch(ctx context.Context, o op) (Tokens, error) {
	if s.mode == modeFile {
		return s.readFile()
	}
	cur, _ := s.Current()
	now := s.clock.Now()
	switch {
	case o == opLogin:
		return s.login(ctx)
	case o == opRefresh:
		if !cur.HasRefreshToken() {
			return Tokens{}, fmt.Errorf("refresh: %w", ErrNoRefreshToken)
		}
		return deref(s.client.Refresh(ctx, cur.RefreshToken()))
	case cur.RefreshValidFor(now, s.margin):
		t, err := deref(s.client.Refresh(ctx, cur.RefreshToken()))
		if errors.Is(err, ErrInvalidGrant) && s.password != "" {
			return s.login(ctx)
		}
		return t, err
	default:
		return s.login(ctx)
	}
}

// ErrNoRefreshToken: a refresh was asked for, and there is no refresh token.
var ErrNoRefreshToken = errors.New("no refresh token")

func (s *Session) login(ctx context.Context) (Tokens, error) {
	if s.password == "" {
		return Tokens{}, ErrNoCredentials
	}
	return deref(s.client.Login(ctx, s.username, s.password))
}

func deref(t *Tokens, err error) (Tokens, error) {
	if err != nil {
		return Tokens{}, err
	}
	return *t, nil
}

func (s *Session) readFile() (Tokens, error) {
	f, err := ReadTokensFile(s.file)
	if err != nil {
		return Tokens{}, err
	}
	if !f.Tokens.AccessValidFor(s.clock.Now(), 0) {
		return Tokens{}, &TokensFileError{Path: s.file, Problem: "its access token has expired", Err: ErrTokenExpired}
	}
	return f.Tokens, nil
}

// dropDeadRefreshToken forgets a refresh token the server refused with invalid_grant
// when there is no password to fall back to: invalid_grant is final, so resending the
// token after every backoff would only fail again. The session then needs Login (or
// new tokens). Called with s.mu held.
func (s *Session) dropDeadRefreshToken(err error) {
	st := s.state.Load()
	if s.password != "" || st == nil || !st.tokens.HasRefreshToken() || !errors.Is(err, ErrInvalidGrant) {
		return
	}
	t := st.tokens
	t.secrets = &tokenSecrets{access: t.AccessToken()}
	t.RefreshExpiry, t.RefreshNeverExpires = time.Time{}, false
	ns := &tokenState{tokens: t, access: t.AccessToken()}
	ns.fresh.Store(st.fresh.Load())
	s.swap(ns)
}

// store installs t and arms the timer that marks the access token stale when it
// enters the margin. Called with s.mu held (or before the session is shared).
func (s *Session) store(t Tokens) {
	st := &tokenState{tokens: t, access: t.AccessToken()}
	now := s.clock.Now()
	switch {
	case t.AccessExpiry.IsZero():
		st.fresh.Store(true)
	default:
		d := t.AccessExpiry.Sub(now) - s.margin
		if d <= 0 && s.mode == modeFile && t.AccessExpiry.After(now) {
			// Use a tokens-file token within the margin for a moment before reading
			// the file again, as long as it has not expired.
			d = min(fileRecheck, t.AccessExpiry.Sub(now))
		}
		if d > 0 {
			st.fresh.Store(true)
			st.stop = s.clock.AfterFunc(d, func() { st.fresh.Store(false) })
		}
	}
	s.swap(st)
}

func (s *Session) swap(st *tokenState) {
	if old := s.state.Swap(st); old != nil && old.stop != nil {
		old.stop()
	}
}

// Logout ends the session at the server with the refresh token and forgets the
// tokens; on failure it keeps them and returns the error. With no refresh token it
// sends nothing and just forgets the access token. Afterwards Token returns
// ErrLoggedOut until Login. Sessions from a tokens file or a plain token cannot be
// logged out (ErrExternalSession).
func (s *Session) Logout(ctx context.Context) error {
	if s.mode != modePassword {
		return ErrExternalSession
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	cur, _ := s.Current()
	s.mu.Unlock()
	if cur.HasRefreshToken() {
		if err := s.client.Logout(ctx, cur.RefreshToken()); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.swap(nil)
	s.loggedOut = true
	s.failure = nil
	s.gen++
	s.mu.Unlock()
	return nil
}

// Close forgets the tokens, cancels a renewal in flight and waits for it to end.
// It does not log out.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.gen++
	s.swap(nil)
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// BackoffError is returned, without a request, while the session waits after a failed
// renewal. It wraps that failure.
type BackoffError struct {
	Err     error
	RetryAt time.Time
}

func (e *BackoffError) Error() string {
	return e.Err.Error() + " (not retried before " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
}

// Unwrap returns the failure.
func (e *BackoffError) Unwrap() error { return e.Err }

// String describes the session without its password or tokens.
func (s *Session) String() string {
	mode := map[sessionMode]string{modePassword: "password", modeFile: "tokens-file", modeStatic: "token"}[s.mode]
	server := ""
	if s.client != nil {
		server = s.client.base
	}
	return fmt.Sprintf("Session{mode:%s server:%q user:%q}", mode, server, s.username)
}

// Format keeps the password and tokens out of every fmt verb.
func (s *Session) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), "api."+s.String())
}
