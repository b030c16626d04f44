package authclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/internal/redact"
)

// Session errors.
var (
	// ErrLoggedOut: the session was logged out; Login starts a new one.
	ErrLoggedOut = errors.New("session is logged out")
	// ErrExternalSession: the session's source is managed elsewhere (a tokens file, a
	// plain token): it cannot log in, refresh or log out.
	ErrExternalSession = errors.New("unable to close or renew an externally managed auth session")
	// ErrClosed: the session was closed.
	ErrClosed = errors.New("session is closed")
	// ErrNoCredentials: the tokens need a password login, and there is no password.
	ErrNoCredentials = errors.New("no username and password to log in with")
	// ErrTokenExpired: the token from a tokens file has expired.
	ErrTokenExpired = errors.New("token has expired")
	// ErrNoRefreshToken: a refresh was asked for, and there is no refresh token.
	ErrNoRefreshToken = errors.New("no refresh token")
	// ErrExpiredOnArrival: a renewal gave an access token that had already expired (or
	// would within the margin) when it arrived, such as a past JWT exp without
	// expires_in. Such a renewal counts as a failure: the session backs off.
	ErrExpiredOnArrival = errors.New("the new access token had already expired when it arrived (compare the server's clock with this machine's)")
	// ErrUselessRenewals: 5 renewals in a row gave tokens that had
	// expired on arrival; the session no longer renews by itself (Token returns this
	// error without a request) until Login or Refresh is called.
	ErrUselessRenewals = errors.New("gave up renewing")
)

// Defaults of the session.
const (
	// DefaultRefreshMargin: a token with less than this left is renewed first (at most
	// half its lifetime: see RenewalMargin). Exported as a command line's flag default
	// (iqmauth token --min-valid).
	DefaultRefreshMargin = 60 * time.Second
	// defaultBackoff is the first wait after a failed renewal; it doubles up to maxBackoff.
	defaultBackoff = time.Second
	// maxBackoff caps the wait after repeated failures.
	maxBackoff = 30 * time.Second
	// maxUselessRenewals is how many renewals in a row may give tokens that expired on
	// arrival before the session gives up (ErrUselessRenewals).
	maxUselessRenewals = 5
)

// A Source gets tokens for a Session: Grants (the password and refresh grants),
// TokensFileReader (a tokens file that another program keeps fresh), StaticToken,
// FileGrants (a tokens file shared with other processes), or one of your own. This is
// what a Session calls, and when; it never calls a Source from two goroutines at once:
//   - Renew, when it holds no tokens or its access token is due (Token, Tokens,
//     Transport); the Renewal says what it holds and until when tokens must last.
//   - Login, Refresh and Logout of a LoginSource, RefreshSource and LogoutSource, for
//     Session.Login, Session.Refresh and Session.Logout. A Source without the method
//     cannot do it: the Session's method answers ErrExternalSession.
//
// An error of Renew or Refresh that wraps ErrSessionEnded says that the session's
// refresh token is dead and the source cannot do without it (Grants without a
// password, after invalid_grant): the Session then forgets the refresh token, so that
// it never sends it again.
type Source interface {
	Renew(ctx context.Context, r Renewal) (tokens.Set, error)
}

// A LoginSource can log in afresh (Grants: the password grant); Session.Login calls
// Login, also after Session.Logout.
type LoginSource interface {
	Source
	Login(ctx context.Context) (tokens.Set, error)
}

// A RefreshSource can renew on demand, whether or not the tokens are due (Grants: the
// refresh grant; a tokens file's sources: read it again); Session.Refresh calls Refresh.
type RefreshSource interface {
	Source
	Refresh(ctx context.Context, r Renewal) (tokens.Set, error)
}

// A LogoutSource can end the session at the server (Grants, FileGrants);
// Session.Logout calls Logout with the tokens the Session holds, and forgets them when
// it succeeds.
type LogoutSource interface {
	Source
	Logout(ctx context.Context, current tokens.Set) error
}

// Renewal is what a Session tells its Source when it asks for tokens.
type Renewal struct {
	// Current are the tokens the session holds (zero when it holds none).
	Current tokens.Set
	// Now is the session clock's time.
	Now time.Time
	// ValidUntil is when tokens like Current are due by the session's policy (Now and
	// its RenewalMargin): a token that expires by then is no use. A Source spends no
	// refresh token that expires by then (Grants logs in instead) and should return an
	// access token that lasts past it (a Session counts one already due as expired on
	// arrival). Zero means no deadline.
	ValidUntil time.Time
}

// Fresh reports whether the session would hand out t's access token without a
// renewal: t lasts past ValidUntil, or, for tokens whose lifetime is shorter than
// twice ValidUntil - Now, past half their lifetime before they expire (RenewalMargin
// applied to t). A Source asks it of tokens the session has not seen (FileGrants, of
// tokens another process wrote into the file), so that it needs no rule of its own.
func (r Renewal) Fresh(t tokens.Set) bool {
	if r.ValidUntil.IsZero() {
		return t.AccessValidFor(r.Now, 0)
	}
	return t.AccessValidFor(r.Now, RenewalMargin(t, max(r.ValidUntil.Sub(r.Now), 0), r.Now))
}

// RenewalMargin is how long before its expiry a Session configured with margin renews
// t's access token: margin, but at most half the token's lifetime (from t.ObtainedAt),
// so that a token whose lifetime is at or below the margin (a Keycloak access lifespan
// of 60 s with DefaultRefreshMargin) is reused for a while instead of renewed on every
// call; margin itself when the lifetime is unknown (no ObtainedAt), since one counted
// from now would shrink as the token ages. It is the Session's one rule, exported for
// programs that judge tokens outside a Session by it (iqmauth token --min-valid).
func RenewalMargin(t tokens.Set, margin time.Duration, now time.Time) time.Duration {
	if t.ObtainedAt.IsZero() {
		return margin
	}
	return effectiveMargin(margin, lifetime(t.AccessExpiry, t.ObtainedAt, now))
}

// effectiveMargin is margin, but at most half of lifetime (when it is known).
func effectiveMargin(margin, lifetime time.Duration) time.Duration {
	if lifetime > 0 && lifetime/2 < margin {
		return lifetime / 2
	}
	return margin
}

// lifetime is how long a token lasts from when it was obtained (or from now, for
// tokens of unknown origin).
func lifetime(expiry, obtained, now time.Time) time.Duration {
	if obtained.IsZero() || obtained.After(now) {
		obtained = now
	}
	return expiry.Sub(obtained)
}

var (
	maxUnixNano = time.Unix(0, math.MaxInt64)
	minUnixNano = time.Unix(0, math.MinInt64)
)

// unixNano is t.UnixNano, saturated for times beyond what it can represent.
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxUnixNano):
		return math.MaxInt64
	case t.Before(minUnixNano):
		return math.MinInt64
	}
	return t.UnixNano()
}

// Grants gets tokens as the Python client does: with the refresh_token grant while
// the refresh token lasts past Renewal.ValidUntil, else with the password grant; a
// refresh refused with invalid_grant falls back to the password grant once. Without a
// password it only refreshes (tokens given in SessionOptions.Tokens), and a refresh
// token refused with invalid_grant ends the session (ErrSessionEnded).
type Grants struct {
	client   *Client
	username string
	password redact.Secret
}

// NewGrants makes a Grants source. password may be "" for a session that only
// refreshes the tokens it was given.
func NewGrants(c *Client, username, password string) *Grants {
	return &Grants{client: c, username: username, password: redact.New(password)}
}

// Client is the client the source sends its requests with: for requests of one's own
// beside the session's (a refresh with a given refresh token, a logout).
func (g *Grants) Client() *Client { return g.client }

// Renew implements Source.
func (g *Grants) Renew(ctx context.Context, r Renewal) (tokens.Set, error) {
	cur := r.Current
	// The refresh token must last until ValidUntil, but at most half its own lifetime
	// is asked of it (a margin beyond that would log in where a refresh does), and a
	// zero or past ValidUntil asks only that it has not expired.
	margin := effectiveMargin(max(r.ValidUntil.Sub(r.Now), 0), lifetime(cur.RefreshExpiry, cur.ObtainedAt, r.Now))
	if !cur.RefreshValidFor(r.Now, margin) {
		return g.Login(ctx)
	}
	t, err := deref(g.client.Refresh(ctx, cur.RefreshToken()))
	if errors.Is(err, api.ErrInvalidGrant) && !g.password.IsZero() {
		return g.Login(ctx)
	}
	return t, g.ended(err)
}

// Login logs in with the password grant.
func (g *Grants) Login(ctx context.Context) (tokens.Set, error) {
	if g.password.IsZero() {
		return tokens.Set{}, ErrNoCredentials
	}
	return deref(g.client.Login(ctx, g.username, g.password.Reveal()))
}

// Refresh uses the refresh_token grant with the current refresh token.
func (g *Grants) Refresh(ctx context.Context, r Renewal) (tokens.Set, error) {
	if !r.Current.HasRefreshToken() {
		return tokens.Set{}, fmt.Errorf("refresh: %w", ErrNoRefreshToken)
	}
	t, err := deref(g.client.Refresh(ctx, r.Current.RefreshToken()))
	return t, g.ended(err)
}

// Logout ends the session of cur's refresh token at the server; with no refresh
// token it sends nothing.
func (g *Grants) Logout(ctx context.Context, cur tokens.Set) error {
	if !cur.HasRefreshToken() {
		return nil
	}
	return g.client.Logout(ctx, cur.RefreshToken())
}

// ended marks a refresh token refused with invalid_grant as the end of the session
// (ErrSessionEnded) when there is no password to log in again with; the text stays
// the server's refusal.
func (g *Grants) ended(err error) error {
	if g.password.IsZero() && errors.Is(err, api.ErrInvalidGrant) {
		return sessionEnded{err}
	}
	return err
}

// sessionEnded is err, seen by errors.Is as ErrSessionEnded too.
type sessionEnded struct{ err error }

func (e sessionEnded) Error() string   { return e.err.Error() }
func (e sessionEnded) Unwrap() []error { return []error{ErrSessionEnded, e.err} }

// String names the server, realm, client and user the source logs in as, and whether
// it has a password (the Session's String shows it); its default printing would show
// only the client's address.
func (g Grants) String() string {
	server, realm, clientID := g.target()
	return fmt.Sprintf("Grants{server:%q realm:%q client_id:%q username:%q password:%v}",
		server, realm, clientID, g.username, g.password)
}

func (g Grants) target() (server, realm, clientID string) {
	if g.client == nil {
		return "", "", ""
	}
	return g.client.ServerURL(), g.client.Realm(), g.client.ClientID()
}

func deref(t *tokens.Set, err error) (tokens.Set, error) {
	if err != nil {
		return tokens.Set{}, err
	}
	return *t, nil
}

// staticSource is a plain bearer token used as it is.
type staticSource struct{ token *string }

// StaticToken is a source of a plain bearer token (IQM_TOKEN), used as it is: it
// never expires from the session's point of view and cannot be renewed.
func StaticToken(token string) Source { return staticSource{&token} }

func (s staticSource) Renew(context.Context, Renewal) (tokens.Set, error) {
	t := tokens.New(*s.token, "")
	t.AccessExpiry = time.Time{} // used as it is, as the Python client does
	return t, nil
}

func (staticSource) String() string { return "StaticToken{[REDACTED]}" }

// SessionOptions configures a Session; the zero value gives the defaults.
type SessionOptions struct {
	// Tokens are tokens to start with, which the session then owns: they are renewed,
	// and logged out, like those of a login (say, tokens that iqmauth login wrote).
	Tokens *tokens.Set
	// RefreshMargin: an access token with less than this left is renewed first;
	// 0 means DefaultRefreshMargin. For a token whose lifetime is less than twice the
	// margin, half its lifetime is used instead.
	RefreshMargin time.Duration
	// Clock defaults to the real clock.
	Clock Clock
	// OnTokens, if set, runs after every successful renewal, login or refresh, before
	// the callers waiting for it return, so that a service can persist rotated tokens
	// (also tokens that expired on arrival: their refresh token may be the only valid
	// one). Calls run one at a time, in the order the tokens were renewed; tokens
	// superseded by newer ones before their call are skipped.
	OnTokens func(tokens.Set) `json:"-"` // encoding/json refuses a func
}

type op int

const (
	opAuto op = iota
	opRefresh
	opLogin
)

// Session keeps an access token fresh: it reuses the access token while it has more
// than the margin left (by the wall clock, so also after the machine was suspended),
// and otherwise asks its Source for new tokens. It is safe for any number of
// goroutines. Close it when done.
type Session struct {
	src      Source
	clock    Clock
	margin   time.Duration
	onTokens func(tokens.Set)

	state atomic.Pointer[tokenState] // read without a lock on the hot path

	mu        sync.Mutex
	flight    *flight
	gen       uint64 // bumped by Logout and Close: results of older flights are dropped
	loggedOut bool
	closed    bool
	failure   error
	retryAt   time.Time
	backoff   time.Duration
	useless   int             // renewals in a row whose tokens had expired on arrival
	gaveUp    bool            // after maxUselessRenewals of them: no more automatic renewals
	stored    uint64          // counts the token sets stored, for OnTokens' order
	ctx       context.Context // flights run under it; Close cancels it
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	onTokensMu sync.Mutex // held while OnTokens runs: one call at a time
	delivered  uint64     // the number (stored) of the last tokens given to OnTokens
}

// tokenState is an immutable set of tokens and the wall-clock time until which its
// access token is handed out without a renewal.
type tokenState struct {
	tokens     tokens.Set
	freshUntil int64 // Unix nanoseconds, wall clock
}

type flight struct {
	op     op
	done   chan struct{}
	tokens tokens.Set
	err    error
}

// NewSession builds a Session on src. It sends nothing: the first Token asks src
// (call Login to log in eagerly).
func NewSession(src Source, opts SessionOptions) (*Session, error) {
	if src == nil {
		return nil, &ConfigError{Setting: "source", Problem: "is required", Err: ErrConfig}
	}
	s := &Session{src: src, clock: opts.Clock, margin: opts.RefreshMargin, onTokens: opts.OnTokens}
	if s.clock == nil {
		s.clock = systemClock
	}
	if s.margin == 0 {
		s.margin = DefaultRefreshMargin
	}
	if s.margin < 0 {
		return nil, &ConfigError{Setting: "refresh margin", Problem: "must not be negative", Err: ErrConfig}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.Tokens != nil && opts.Tokens.AccessToken() != "" {
		s.store(*opts.Tokens)
	}
	return s, nil
}

// Source is the session's source of tokens, to reach what it has beyond Source
// (a Grants' Client).
func (s *Session) Source() Source { return s.src }

// Token returns an access token with more than the refresh margin left, renewing it
// first when needed. While the token is fresh it takes no lock and allocates nothing;
// it reads the wall clock, so that a token is never handed out past its expiry (less
// the margin), also after a suspend. When it must be renewed, concurrent callers share
// one request and its result; after a failed renewal, calls return that failure
// without a request until a backoff (1 s, doubling up to 30 s) has passed.
func (s *Session) Token(ctx context.Context) (string, error) {
	if st := s.state.Load(); st != nil && s.clock.Now().UnixNano() < st.freshUntil {
		return st.tokens.AccessToken(), nil
	}
	t, err := s.do(ctx, opAuto)
	return t.AccessToken(), err
}

// Tokens returns the current tokens, renewing them first like Token.
func (s *Session) Tokens(ctx context.Context) (tokens.Set, error) {
	if st := s.state.Load(); st != nil && s.clock.Now().UnixNano() < st.freshUntil {
		return st.tokens, nil
	}
	return s.do(ctx, opAuto)
}

// Current returns the tokens held now, without renewing them; ok is false when there
// are none.
func (s *Session) Current() (t tokens.Set, ok bool) {
	if st := s.state.Load(); st != nil {
		return st.tokens, true
	}
	return tokens.Set{}, false
}

// Refresh renews the tokens now with the source's Refresh (the refresh grant; a
// TokensFileReader reads its file again).
func (s *Session) Refresh(ctx context.Context) (tokens.Set, error) { return s.do(ctx, opRefresh) }

// Login logs in with the source's Login (the password grant) now, also after Logout.
func (s *Session) Login(ctx context.Context) (tokens.Set, error) { return s.do(ctx, opLogin) }

func (s *Session) do(ctx context.Context, o op) (tokens.Set, error) {
	switch o {
	case opLogin:
		if _, ok := s.src.(LoginSource); !ok {
			return tokens.Set{}, ErrExternalSession
		}
	case opRefresh:
		if _, ok := s.src.(RefreshSource); !ok {
			return tokens.Set{}, ErrExternalSession
		}
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return tokens.Set{}, ErrClosed
		}
		if o == opAuto {
			if st := s.state.Load(); st != nil && s.clock.Now().UnixNano() < st.freshUntil {
				s.mu.Unlock()
				return st.tokens, nil
			}
		}
		if o != opLogin && s.loggedOut {
			s.mu.Unlock()
			return tokens.Set{}, ErrLoggedOut
		}
		if o == opAuto && s.failure != nil {
			if s.gaveUp {
				err := s.failure
				s.mu.Unlock()
				return tokens.Set{}, err
			}
			if now := s.clock.Now(); now.Before(s.retryAt) {
				err := &BackoffError{Err: s.failure, RetryAt: s.retryAt}
				s.mu.Unlock()
				return tokens.Set{}, err
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
				return tokens.Set{}, ctx.Err()
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
			return tokens.Set{}, ctx.Err()
		}
	}
}

// run performs one flight, detached from the callers' contexts (one caller giving up
// does not fail the others), under the session's context, which Close cancels.
func (s *Session) run(f *flight, gen uint64) {
	defer s.wg.Done()
	t, err := s.fetch(s.ctx, f.op)
	var seq uint64 // of the tokens stored, for OnTokens
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
		// Stored even when useless: under rotation its refresh token is the only one
		// the server still takes.
		s.store(t)
		s.stored++
		seq = s.stored
		s.loggedOut = false
		if s.clock.Now().UnixNano() < s.state.Load().freshUntil {
			s.failure, s.backoff, s.useless, s.gaveUp = nil, 0, 0, false
			break
		}
		s.useless++
		err = fmt.Errorf("renewal %d in a row: %w", s.useless, ErrExpiredOnArrival)
		if s.useless >= maxUselessRenewals {
			err = fmt.Errorf("%w after %d renewals in a row: %w", ErrUselessRenewals, s.useless, ErrExpiredOnArrival)
			s.gaveUp = true
		}
		s.backOff(err)
	case f.op == opAuto:
		s.dropDeadRefreshToken(err)
		s.backOff(err)
	default:
		s.dropDeadRefreshToken(err)
	}
	if s.flight == f {
		s.flight = nil
	}
	s.mu.Unlock()
	if seq > 0 && s.onTokens != nil {
		s.deliver(seq, t)
	}
	f.tokens, f.err = t, err
	if err != nil {
		f.tokens = tokens.Set{}
	}
	close(f.done)
}

// backOff records a failed renewal: calls get err without a request until the
// backoff (doubling up to maxBackoff) has passed. Called with s.mu held.
func (s *Session) backOff(err error) {
	s.failure = err
	if s.backoff == 0 {
		s.backoff = defaultBackoff
	} else {
		s.backoff = min(2*s.backoff, maxBackoff)
	}
	s.retryAt = s.clock.Now().Add(s.backoff)
}

// deliver gives the tokens stored as number seq to OnTokens, one call at a time and in
// the order they were stored: tokens that newer ones superseded before their turn
// came are skipped, so that a slow call never saves old tokens over new ones.
func (s *Session) deliver(seq uint64, t tokens.Set) {
	s.onTokensMu.Lock()
	defer s.onTokensMu.Unlock()
	if seq <= s.delivered {
		return
	}
	s.delivered = seq
	s.onTokens(t)
}

// fetch asks the source for new tokens for o.
func (s *Session) fetch(ctx context.Context, o op) (tokens.Set, error) {
	cur, _ := s.Current()
	now := s.clock.Now()
	r := Renewal{Current: cur, Now: now, ValidUntil: now.Add(RenewalMargin(cur, s.margin, now))}
	switch o {
	case opLogin:
		return s.src.(LoginSource).Login(ctx)
	case opRefresh:
		return s.src.(RefreshSource).Refresh(ctx, r)
	default:
		return s.src.Renew(ctx, r)
	}
}

// dropDeadRefreshToken forgets the refresh token when the source says that the
// session ended (err wraps ErrSessionEnded: a refresh token refused with invalid_grant
// and no password to log in again): invalid_grant is final, so resending the token
// after every backoff would only fail again. Called with s.mu held.
func (s *Session) dropDeadRefreshToken(err error) {
	st := s.state.Load()
	if st == nil || !st.tokens.HasRefreshToken() || !errors.Is(err, ErrSessionEnded) {
		return
	}
	t := st.tokens.WithoutRefreshToken()
	s.state.Store(&tokenState{tokens: t, freshUntil: st.freshUntil})
}

// store installs t, handed out until its access token enters the margin. Called with
// s.mu held (or before the session is shared).
func (s *Session) store(t tokens.Set) {
	st := &tokenState{tokens: t, freshUntil: math.MaxInt64}
	switch {
	case t.AccessToken() == "":
		st.freshUntil = math.MinInt64
	case !t.AccessExpiry.IsZero():
		st.freshUntil = unixNano(t.AccessExpiry.Add(-RenewalMargin(t, s.margin, s.clock.Now())))
	}
	s.state.Store(st)
}

// Logout ends the session at the server with the source's Logout and forgets the
// tokens; on failure it keeps them and returns the error. Afterwards Token returns
// ErrLoggedOut until Login. A source without Logout (a tokens file, a plain token)
// gives ErrExternalSession.
func (s *Session) Logout(ctx context.Context) error {
	lo, ok := s.src.(LogoutSource)
	if !ok {
		return ErrExternalSession
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	cur, _ := s.Current()
	s.mu.Unlock()
	if err := lo.Logout(ctx, cur); err != nil {
		return err
	}
	s.mu.Lock()
	s.state.Store(nil)
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
	s.state.Store(nil)
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

// String describes the session by its source: the source's own String (Grants' and
// FileGrants' name the server, user or file), else only its type. The rest of a
// Session is guarded by its lock, so that printing it field by field would race with
// its renewals; Format and LogValue print this too.
func (s *Session) String() string { return "Session{source:" + describeSource(s.src) + "}" }

func describeSource(src Source) string {
	if str, ok := src.(fmt.Stringer); ok {
		return str.String()
	}
	return fmt.Sprintf("%T", src)
}

// Format keeps the password and tokens out of every fmt verb.
func (s *Session) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), "authclient."+s.String())
}

// LogValue keeps the password and tokens out of log/slog output.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("source", describeSource(s.src)))
}
