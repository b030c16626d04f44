package authclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
)

// Defaults of Keep.
const (
	// DefaultRenewBefore: Keep renews the tokens when the access token has this little
	// left, or half its lifetime when that is less. With Keycloak's default lifetime
	// (5 min) that is at half the lifetime; with a lifetime of an hour, 10 min before
	// the end. Either way at most two renewals per lifetime, and readers that re-read
	// the file when 60 s or less remain (iqm-client 36) find a token with more left.
	// Exported as a command line's flag default (iqmauth keep --renew-before).
	DefaultRenewBefore = 10 * time.Minute
	// defaultKeepPoll is how often Keep looks at the file between renewals, to notice
	// that it was replaced (a new login) or removed (a logout).
	defaultKeepPoll = time.Second
	// defaultStopGrace: see keepTuning.
	defaultStopGrace = 250 * time.Millisecond
)

// Keep's outcomes; the errors it returns wrap one of them (or the cause: a
// *ConfigError, a *tokensfile.Error).
var (
	// ErrSessionEnded: the session cannot be renewed any more: the server refused the
	// refresh token (invalid_grant, also wrapped) and there is no password to log in
	// again with, the refresh token has expired, or there is none. Only a new login
	// helps. Keep returns it, and so do Grants without a password (and the sources on
	// them); a Session that gets it from its Source forgets the refresh token.
	ErrSessionEnded = errors.New("session ended")
	// ErrFileRemoved: the tokens file was removed (a logout): there is nothing left to
	// keep.
	ErrFileRemoved = errors.New("tokens file removed")
	// ErrNoExpiry: the file's access token is not a JWT with an exp claim, so there is
	// no telling when to renew it (and iqm-client 36 would refuse it).
	ErrNoExpiry = errors.New("access token has no expiry")
)

// KeepOptions configures Keep; the zero value gives the defaults.
type KeepOptions struct {
	// Config configures the client that renews: its HTTPClient, UserAgent, Timeout and
	// AllowInsecureHTTP are used; the server, realm and client id are the file's.
	Config Config
	// Lock configures the wait for the file's lock.
	Lock FileLock
	// RenewBefore: renew when the access token has this little left, or half its
	// lifetime when that is less; 0 means DefaultRenewBefore.
	RenewBefore time.Duration
	// Once renews if the tokens are due, then returns, without retrying (for a timer
	// that runs it again).
	Once bool
	// Clock tells the time; nil means the real clock.
	Clock Clock
	// Sleep waits d, or until ctx ends (then it returns ctx's error); nil means a real
	// timer. A test passes one that advances a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnEvent, if set, is told of each renewal, adoption of another writer's tokens,
	// failure and wait. KeepEvent.String is one line without secrets.
	OnEvent func(KeepEvent)

	tuning keepTuning // set by tests only (export_test.go)
}

// keepTuning is what Keep's tests tune and a consumer has no need to: how often the
// file is read between renewals (poll; 0: 1 s), the first wait after a transient
// failure (backoff; 0: 1 s), doubling up to maxBackoff (0: 30 s), each wait drawn at
// random (jitter, in [0, 1); nil: math/rand/v2) between half and all of it, and how
// long a renewal in flight may still finish after ctx ends (stopGrace; 0: 250 ms,
// negative: none).
type keepTuning struct {
	poll, backoff, maxBackoff, stopGrace time.Duration
	jitter                               func() float64
}

// KeepEventKind says what happened: each kind is a line of its own that iqmauth keep
// prints (KeepEvent.String), and what a service counts or alerts on (KeepRenewed,
// KeepRetrying, KeepUnreadable) without parsing text.
type KeepEventKind int

// The kinds of KeepEvent.
const (
	// KeepStarted: Keep read the file and knows when to renew.
	KeepStarted KeepEventKind = iota
	// KeepRenewed: Keep renewed the tokens with the refresh grant and wrote them.
	KeepRenewed
	// KeepAdopted: the file holds tokens that another process wrote (another keeper,
	// iqmauth token, a new login); Keep follows them instead of renewing.
	KeepAdopted
	// KeepNotDue: with Once, the tokens were not due, and nothing was sent.
	KeepNotDue
	// KeepRetrying: a renewal failed for a reason that may pass; Keep tries again at
	// Next.
	KeepRetrying
	// KeepUnreadable: the file could not be read between renewals (say, while someone
	// writes it without replacing it atomically); Keep reads it again at every poll,
	// and says so once until a read succeeds.
	KeepUnreadable
)

// KeepEvent is one thing Keep did. It holds no token.
type KeepEvent struct {
	Kind KeepEventKind
	Path string
	// At is the clock's time of the event.
	At time.Time
	// AccessExpiry and RefreshExpiry are those of the file's tokens after the event
	// (RefreshExpiry zero when unknown or never).
	AccessExpiry, RefreshExpiry time.Time
	// Next is when Keep next renews (or retries).
	Next time.Time
	// Err is the failure, for KeepRetrying and KeepUnreadable.
	Err error
}

// String is the event in one line, without secrets.
func (e KeepEvent) String() string {
	at := func(t time.Time) string {
		return t.UTC().Format(time.RFC3339) + " (in " + t.Sub(e.At).Round(time.Second).String() + ")"
	}
	var b strings.Builder
	switch e.Kind {
	case KeepStarted:
		fmt.Fprintf(&b, "keeping %s: access token expires %s", e.Path, at(e.AccessExpiry))
	case KeepRenewed:
		fmt.Fprintf(&b, "renewed %s: access token expires %s", e.Path, at(e.AccessExpiry))
	case KeepAdopted:
		fmt.Fprintf(&b, "%s was renewed or replaced by another process: access token expires %s", e.Path, at(e.AccessExpiry))
	case KeepNotDue:
		fmt.Fprintf(&b, "%s not due: access token expires %s", e.Path, at(e.AccessExpiry))
	case KeepRetrying:
		fmt.Fprintf(&b, "renewing %s failed: %v; retrying %s", e.Path, e.Err, at(e.Next))
		return b.String()
	case KeepUnreadable:
		fmt.Fprintf(&b, "reading %s failed: %v; reading it again", e.Path, e.Err)
		return b.String()
	}
	if !e.RefreshExpiry.IsZero() {
		fmt.Fprintf(&b, ", refresh token %s", at(e.RefreshExpiry))
	}
	if !e.Next.IsZero() {
		fmt.Fprintf(&b, "; next renewal %s", at(e.Next))
	}
	return b.String()
}

// Keep keeps the tokens file at path fresh for the processes that read it (iqm-client
// 36 with IQM_TOKENS_FILE, iqmauth token, a TokensFileReader): it renews the tokens with the
// refresh grant when the access token has RenewBefore left (at most half its
// lifetime), under the file's lock, so that other keepers and iqmauth token on the
// same file send one refresh, never two; it writes the file atomically and keeps the
// members it does not own. It never logs in with a password.
//
// Between renewals it reads the file every second: tokens that another process wrote
// (a new login, another keeper) are followed, never overwritten. A transient failure
// (the server down, a 5xx, a timeout) is retried with backoff (1 s, doubling up to
// 30 s, each wait drawn at random between half and all of it) until the refresh token
// expires.
//
// Keep returns nil when ctx ends (a renewal in flight gets 250 ms more to finish and
// write the file, so that the tokens a rotating server sent are not lost) or, with
// Once, after one pass. It returns an error wrapping
// ErrSessionEnded when the session cannot be renewed any more (run a new login),
// ErrFileRemoved when the file was removed (a logout), and any other error that a
// retry cannot mend (a malformed file, a configuration error) as it is.
func Keep(ctx context.Context, path string, opts KeepOptions) error {
	k, err := newKeeper(path, opts)
	if err != nil {
		return err
	}
	return k.run(ctx)
}

type keeper struct {
	path string
	opts KeepOptions
	g    *FileGrants

	seen       string    // the access token last read from the file
	seenIssued time.Time // when it was issued (its iat, else when first read)
	failures   int
	retryAt    time.Time
	unreadable bool // the last read failed
}

func newKeeper(path string, opts KeepOptions) (*keeper, error) {
	if opts.RenewBefore == 0 {
		opts.RenewBefore = DefaultRenewBefore
	}
	if opts.tuning.poll == 0 {
		opts.tuning.poll = defaultKeepPoll
	}
	if opts.tuning.backoff == 0 {
		opts.tuning.backoff = defaultBackoff
	}
	if opts.tuning.maxBackoff == 0 {
		opts.tuning.maxBackoff = max(maxBackoff, opts.tuning.backoff)
	}
	if opts.tuning.stopGrace == 0 {
		opts.tuning.stopGrace = defaultStopGrace
	}
	switch {
	case opts.RenewBefore < 0:
		return nil, &ConfigError{Setting: "renew before", Problem: "must not be negative", Err: ErrConfig}
	case opts.tuning.poll < 0 || opts.tuning.backoff < 0 || opts.tuning.maxBackoff < opts.tuning.backoff:
		return nil, &ConfigError{Setting: "poll and backoff", Problem: "must be positive, and the backoff at most the maximum backoff", Err: ErrConfig}
	}
	if opts.Clock == nil {
		opts.Clock = systemClock
	}
	if opts.Config.Clock == nil {
		opts.Config.Clock = opts.Clock
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.tuning.jitter == nil {
		opts.tuning.jitter = rand.Float64
	}
	// No username or password: a keeper only refreshes; a password is never sent to a
	// server that a file names.
	g := NewFileGrants(path, opts.Config, "", "", opts.Lock)
	return &keeper{path: path, opts: opts, g: g}, nil
}

// sleep waits d on a real timer, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *keeper) event(e KeepEvent) {
	if k.opts.OnEvent != nil {
		e.Path = k.path
		k.opts.OnEvent(e)
	}
}

func (k *keeper) run(ctx context.Context) error {
	for first := true; ; first = false {
		if ctx.Err() != nil {
			return nil
		}
		now := k.opts.Clock.Now()
		f, err := tokensfile.Read(k.path)
		switch {
		case err != nil && first:
			return err
		case errors.Is(err, fs.ErrNotExist):
			return &tokensfile.Error{Path: k.path, Problem: "removed (logged out); nothing left to keep", Err: ErrFileRemoved}
		case err != nil:
			if !k.unreadable { // said once, not at every poll
				k.event(KeepEvent{Kind: KeepUnreadable, At: now, Err: err})
			}
			k.unreadable = true
			if k.wait(ctx, k.opts.tuning.poll) != nil {
				return nil
			}
			continue
		}
		if first {
			// What NewFileGrants no longer reads: a file whose server cannot be used
			// (none, or plain http) is refused at once, not at its first renewal.
			if _, err := k.g.grants(f); err != nil {
				return err
			}
		}
		k.unreadable = false
		changed := k.follow(f.Tokens, f.Timestamp, now)
		due, err := k.check(f.Tokens, now)
		if err != nil {
			return err
		}
		switch {
		case first:
			k.event(KeepEvent{Kind: KeepStarted, At: now, AccessExpiry: f.Tokens.AccessExpiry,
				RefreshExpiry: f.Tokens.RefreshExpiry, Next: due})
		case changed:
			// Another process renewed the tokens or logged in again: what failed before
			// is forgotten.
			k.failures, k.retryAt = 0, time.Time{}
			k.event(KeepEvent{Kind: KeepAdopted, At: now, AccessExpiry: f.Tokens.AccessExpiry,
				RefreshExpiry: f.Tokens.RefreshExpiry, Next: due})
		}
		next := due
		if k.retryAt.After(next) {
			next = k.retryAt
		}
		if now.Before(next) {
			if k.opts.Once {
				k.event(KeepEvent{Kind: KeepNotDue, At: now, AccessExpiry: f.Tokens.AccessExpiry,
					RefreshExpiry: f.Tokens.RefreshExpiry, Next: due})
				return nil
			}
			if k.wait(ctx, min(next.Sub(now), k.opts.tuning.poll)) != nil {
				return nil
			}
			continue
		}
		if err := k.renew(ctx, now); err != nil {
			if ctx.Err() != nil && !errors.Is(err, ErrSessionEnded) {
				return nil // stopped during the renewal: not a failure to report
			}
			if !transient(err) || k.opts.Once {
				return err
			}
			k.failures++
			d := k.opts.tuning.backoff << min(k.failures-1, 30)
			if d <= 0 || d > k.opts.tuning.maxBackoff {
				d = k.opts.tuning.maxBackoff
			}
			d = d/2 + time.Duration(k.opts.tuning.jitter()*float64(d/2))
			k.retryAt = now.Add(d)
			k.event(KeepEvent{Kind: KeepRetrying, At: now, Next: k.retryAt, Err: err})
		} else if k.opts.Once {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// wait sleeps d (at least a nanosecond, so that a fake clock moves).
func (k *keeper) wait(ctx context.Context, d time.Duration) error {
	return k.opts.Sleep(ctx, max(d, time.Nanosecond))
}

// follow notes the file's access token; it reports whether it differs from the one
// seen before (another process wrote the file).
func (k *keeper) follow(t tokens.Set, written, now time.Time) bool {
	access := t.AccessToken()
	if access == k.seen {
		return false
	}
	changed := k.seen != ""
	k.seen = access
	k.seenIssued = issuedAt(access, t.AccessExpiry, written, now)
	return changed
}

// check says when the file's tokens are due for renewal, or why they cannot be kept.
func (k *keeper) check(t tokens.Set, now time.Time) (time.Time, error) {
	if t.AccessExpiry.IsZero() {
		return time.Time{}, &tokensfile.Error{Path: k.path, Err: ErrNoExpiry,
			Problem: "its access token is not a JWT with an exp claim: there is no telling when to renew it"}
	}
	if !t.HasRefreshToken() {
		return time.Time{}, &tokensfile.Error{Path: k.path, Err: errors.Join(ErrSessionEnded, ErrNoRefreshToken),
			Problem: "it has no refresh token to renew the tokens with"}
	}
	if refreshExpired(t, now) {
		return time.Time{}, &tokensfile.Error{Path: k.path, Err: ErrSessionEnded,
			Problem: "its refresh token expired at " + t.RefreshExpiry.UTC().Format(time.RFC3339)}
	}
	return dueAt(t, k.seenIssued, k.opts.RenewBefore), nil
}

func refreshExpired(t tokens.Set, now time.Time) bool {
	return !t.RefreshNeverExpires && !t.RefreshExpiry.IsZero() && !now.Before(t.RefreshExpiry)
}

// dueAt is when tokens whose access token was issued at issued are due: when their
// access token has before left, or half its lifetime when that is less; or, when the
// refresh token expires first, the same for the refresh token (a server whose refresh
// tokens idle out sooner than its access tokens expire: each refresh extends them).
func dueAt(t tokens.Set, issued time.Time, before time.Duration) time.Time {
	due := renewAt(t.AccessExpiry, issued, before)
	if !t.RefreshNeverExpires && !t.RefreshExpiry.IsZero() {
		refreshIssued := issuedAt(t.RefreshToken(), t.RefreshExpiry, issued, issued)
		if r := renewAt(t.RefreshExpiry, refreshIssued, before); r.Before(due) {
			due = r
		}
	}
	return due
}

// renewAt is when a token issued at issued and expiring at expiry is due: when it has
// before left, or half its lifetime when that is less (a Session's rule).
func renewAt(expiry, issued time.Time, before time.Duration) time.Time {
	return expiry.Add(-effectiveMargin(before, expiry.Sub(issued)))
}

// issuedAt is when a token expiring at expiry was issued: its iat claim, else when the
// file was written, else now (when it was first seen); never at or after its expiry.
func issuedAt(token string, expiry, written, now time.Time) time.Time {
	var claims struct {
		Iat json.Number `json:"iat"`
	}
	at := now
	if !written.IsZero() && written.Before(now) {
		at = written
	}
	if tokens.JWTClaims(token, &claims) {
		if f, err := claims.Iat.Float64(); err == nil && f > 0 && f < 1e11 {
			at = time.Unix(int64(f), 0)
		}
	}
	if !expiry.IsZero() && !at.Before(expiry) {
		at = now
	}
	return at
}

// renew renews the tokens under the file's lock if they are still due there: another
// process may have renewed them, or logged in again, while this one waited.
func (k *keeper) renew(ctx context.Context, now time.Time) error {
	// The renewal outlives ctx by tuning.stopGrace (250 ms): tokens that a rotating server sent are
	// written, not lost.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if k.opts.tuning.stopGrace < 0 {
			cancel()
			return
		}
		t := time.AfterFunc(k.opts.tuning.stopGrace, cancel)
		context.AfterFunc(rctx, func() { t.Stop() })
	})
	defer stop()

	renewed := false
	followed := func(f tokensfile.File) bool {
		return f.Tokens.AccessToken() != k.seen // another process wrote the file: follow it
	}
	t, err := k.g.update(rctx, followed, func(f tokensfile.File, gr *Grants) (tokens.Set, error) {
		ft := f.Tokens
		if _, err := k.check(ft, now); err != nil {
			return ft, err
		}
		t, err := gr.Refresh(rctx, Renewal{Current: ft, Now: now})
		renewed = err == nil
		return t, err
	})
	renewed = renewed && err == nil
	switch {
	case errors.Is(err, api.ErrInvalidGrant):
		return &tokensfile.Error{Path: k.path, Err: errors.Join(ErrSessionEnded, err),
			Problem: "the server refused its refresh token: " + err.Error()}
	case errors.Is(err, fs.ErrNotExist):
		return &tokensfile.Error{Path: k.path, Problem: "removed (logged out); nothing left to keep", Err: ErrFileRemoved}
	case err != nil:
		return err
	case !renewed:
		return nil // the next pass follows the file
	}
	k.failures, k.retryAt = 0, time.Time{}
	k.seen = t.AccessToken()
	k.seenIssued = issuedAt(t.AccessToken(), t.AccessExpiry, time.Time{}, now)
	if !t.ObtainedAt.IsZero() && t.ObtainedAt.Before(k.seenIssued) {
		k.seenIssued = t.ObtainedAt
	}
	k.event(KeepEvent{Kind: KeepRenewed, At: k.opts.Clock.Now(), AccessExpiry: t.AccessExpiry,
		RefreshExpiry: t.RefreshExpiry, Next: dueAt(t, k.seenIssued, k.opts.RenewBefore)})
	return nil
}

// transient reports whether a failed renewal may succeed when tried again: the
// server could not be reached or answered a 5xx, 408 or 429 (or an answer a proxy may
// have mangled), the request timed out, or another process held the lock too long.
// A refusal (4xx), a configuration error and a bad file are final.
func transient(err error) bool {
	var ae *Error
	var ce *ConfigError
	var fe *tokensfile.Error
	switch {
	case errors.Is(err, ErrSessionEnded), errors.Is(err, ErrFileRemoved):
		return false
	case errors.As(err, &ae):
		return ae.StatusCode >= 500 || ae.StatusCode == 408 || ae.StatusCode == 429 ||
			(ae.StatusCode == 200 && (errors.Is(err, ErrBadResponse) || errors.Is(err, ErrResponseTooLarge)))
	case errors.As(err, &ce):
		return false
	case errors.As(err, &fe):
		return errors.Is(err, tokensfile.ErrLockTimeout)
	}
	return true // the network, a timeout
}
