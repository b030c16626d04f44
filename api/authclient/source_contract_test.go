package authclient_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// The package's sources and what a Session can do with each: the contract is the
// exported interfaces, nothing else.
var (
	_ authclient.LoginSource   = (*authclient.Grants)(nil)
	_ authclient.RefreshSource = (*authclient.Grants)(nil)
	_ authclient.LogoutSource  = (*authclient.Grants)(nil)
	_ authclient.LoginSource   = (*authclient.FileGrants)(nil)
	_ authclient.RefreshSource = (*authclient.FileGrants)(nil)
	_ authclient.LogoutSource  = (*authclient.FileGrants)(nil)
	_ authclient.RefreshSource = (*authclient.TokensFileReader)(nil)
)

// recordingSource is a Source of one's own: it records the Renewals it is given and
// answers with next (or err).
type recordingSource struct {
	renewals []authclient.Renewal
	next     tokens.Set
	err      error
}

func (r *recordingSource) Renew(_ context.Context, rn authclient.Renewal) (tokens.Set, error) {
	r.renewals = append(r.renewals, rn)
	if r.err != nil {
		return tokens.Set{}, r.err
	}
	return r.next, nil
}

// loginRecorder adds Login, and nothing else.
type loginRecorder struct{ recordingSource }

func (l *loginRecorder) Login(context.Context) (tokens.Set, error) { return l.next, nil }

// tokensFor are tokens obtained at obtained whose access token lives life and whose
// refresh token lives an hour.
func tokensFor(obtained time.Time, life time.Duration, access, refresh string) tokens.Set {
	t := tokens.New(access, refresh)
	t.ObtainedAt, t.AccessExpiry, t.RefreshExpiry = obtained, obtained.Add(life), obtained.Add(time.Hour)
	return t
}

// TestSessionCallsOnlyWhatTheSourceHas: Session.Login, Refresh and Logout use the
// LoginSource, RefreshSource and LogoutSource methods a Source has, and answer
// ErrExternalSession, without calling anything, for those it lacks.
func TestSessionCallsOnlyWhatTheSourceHas(t *testing.T) {
	ctx := context.Background()
	src := &loginRecorder{recordingSource{next: tokensFor(t0, 5*time.Minute, "CANARY-A1", "CANARY-R1")}}
	s, err := authclient.NewSession(src, authclient.SessionOptions{Clock: fixedClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Login(ctx); err != nil {
		t.Errorf("Login of a LoginSource: %v", err)
	}
	if _, err := s.Refresh(ctx); !errors.Is(err, authclient.ErrExternalSession) {
		t.Errorf("Refresh without RefreshSource: %v", err)
	}
	if err := s.Logout(ctx); !errors.Is(err, authclient.ErrExternalSession) {
		t.Errorf("Logout without LogoutSource: %v", err)
	}
	if len(src.renewals) != 0 {
		t.Errorf("Renew called %d times, want 0", len(src.renewals))
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestRenewalValidUntil: the Session tells its Source until when tokens must last: Now
// and its RenewalMargin, which is the configured margin, or half the current token's
// lifetime when that is less; with no tokens, the margin as it is.
func TestRenewalValidUntil(t *testing.T) {
	for _, tt := range []struct {
		name   string
		life   time.Duration // of the current access token; 0: no tokens held
		margin time.Duration
		want   time.Duration // ValidUntil - Now
	}{
		{"no tokens", 0, 0, authclient.DefaultRefreshMargin},
		{"no tokens, own margin", 0, 3 * time.Minute, 3 * time.Minute},
		{"long lifetime", 5 * time.Minute, 0, time.Minute},
		{"lifetime at the margin", time.Minute, 0, 30 * time.Second},
		{"lifetime below twice the margin", 100 * time.Second, 0, 50 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &recordingSource{err: errors.New("no tokens here")}
			opts := authclient.SessionOptions{Clock: fixedClock(t0.Add(time.Hour)), RefreshMargin: tt.margin}
			if tt.life > 0 {
				cur := tokensFor(t0, tt.life, "CANARY-A1", "CANARY-R1")
				opts.Tokens = &cur
			}
			s, err := authclient.NewSession(src, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Token(context.Background()); err == nil {
				t.Fatal("no error from a failing source")
			}
			if len(src.renewals) != 1 {
				t.Fatalf("%d renewals", len(src.renewals))
			}
			rn := src.renewals[0]
			if got := rn.ValidUntil.Sub(rn.Now); got != tt.want || !rn.Now.Equal(t0.Add(time.Hour)) {
				t.Errorf("ValidUntil - Now = %v (now %v), want %v", got, rn.Now, tt.want)
			}
			var cur tokens.Set
			if opts.Tokens != nil {
				cur = *opts.Tokens
			}
			if m := authclient.RenewalMargin(cur, tt.margin, rn.Now); tt.margin != 0 && m != tt.want {
				t.Errorf("RenewalMargin = %v, want %v", m, tt.want)
			}
		})
	}
}

// TestSessionEndedDropsRefreshToken: a Source of one's own whose Renew says the session
// ended (an error wrapping ErrSessionEnded) makes the Session forget its refresh token,
// whatever else the error is; another error, even invalid_grant, does not.
func TestSessionEndedDropsRefreshToken(t *testing.T) {
	oauth := &api.OAuthError{Code: "invalid_grant"}
	for _, tt := range []struct {
		name string
		err  error
		drop bool
	}{
		{"session ended", fmt.Errorf("refused: %w", authclient.ErrSessionEnded), true},
		{"invalid_grant alone", fmt.Errorf("refused: %w", oauth), false},
		{"another failure", errors.New("server down"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cur := tokensFor(t0, 5*time.Minute, "CANARY-A1", "CANARY-R1")
			src := &recordingSource{err: tt.err}
			s, err := authclient.NewSession(src, authclient.SessionOptions{Clock: fixedClock(t0.Add(290 * time.Second)), Tokens: &cur})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Token(context.Background()); !errors.Is(err, tt.err) {
				t.Fatalf("Token: %v", err)
			}
			held, ok := s.Current()
			if !ok || held.AccessToken() != "CANARY-A1" {
				t.Fatal("the access token was not kept")
			}
			if dropped := !held.HasRefreshToken(); dropped != tt.drop {
				t.Errorf("refresh token dropped: %v, want %v", dropped, tt.drop)
			}
		})
	}
}

// TestRenewalFresh: Fresh applies the session's rule to tokens it has not seen: they
// must last past ValidUntil, or past half their lifetime when that is shorter than
// twice ValidUntil - Now; past Now when there is no deadline.
func TestRenewalFresh(t *testing.T) {
	now := t0.Add(time.Hour)
	r := authclient.Renewal{Now: now, ValidUntil: now.Add(time.Minute)}
	unknownOrigin := func(left time.Duration) tokens.Set {
		tk := tokensFor(now, left, "CANARY-A", "CANARY-R")
		tk.ObtainedAt = time.Time{}
		return tk
	}
	for _, tt := range []struct {
		name string
		r    authclient.Renewal
		t    tokens.Set
		want bool
	}{
		{"long lifetime, 61 s left", r, tokensFor(now.Add(-239*time.Second), 5*time.Minute, "CANARY-A", "CANARY-R"), true},
		{"long lifetime, 60 s left", r, tokensFor(now.Add(-240*time.Second), 5*time.Minute, "CANARY-A", "CANARY-R"), false},
		{"60 s lifetime, 31 s left", r, tokensFor(now.Add(-29*time.Second), time.Minute, "CANARY-A", "CANARY-R"), true},
		{"60 s lifetime, 30 s left", r, tokensFor(now.Add(-30*time.Second), time.Minute, "CANARY-A", "CANARY-R"), false},
		{"unknown lifetime, 61 s left", r, unknownOrigin(61 * time.Second), true},
		{"unknown lifetime, 59 s left", r, unknownOrigin(59 * time.Second), false},
		{"no deadline, 1 s left", authclient.Renewal{Now: now}, unknownOrigin(time.Second), true},
		{"no deadline, expired", authclient.Renewal{Now: now}, unknownOrigin(-time.Second), false},
		{"deadline before now, expired", authclient.Renewal{Now: now, ValidUntil: now.Add(-time.Hour)}, unknownOrigin(-time.Second), false},
		{"no access token", r, tokens.Set{}, false},
	} {
		if got := tt.r.Fresh(tt.t); got != tt.want {
			t.Errorf("%s: Fresh = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGrantsRenewRefreshTokenDeadline: Grants.Renew refreshes with a refresh token
// that lasts the deadline asked, or half its own lifetime when the deadline is longer
// (a long --min-valid must not turn a refresh into a login), and never spends one
// that has expired, also when no deadline is given.
func TestGrantsRenewRefreshTokenDeadline(t *testing.T) {
	clock := authtest.NewClock(testtime.Epoch())
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithUser(canaryUser, canaryPassword),
		authtest.WithRefreshTTL(30*time.Minute))
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	g := authclient.NewGrants(c, canaryUser, canaryPassword)
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		age        time.Duration // of the tokens when renewed
		validUntil time.Duration // from then; < 0: zero ValidUntil
		want       string        // the grant sent
	}{
		{"deadline within the refresh token's life", 0, 10 * time.Minute, "refresh"},
		{"deadline past it, margin above half its lifetime", 10 * time.Minute, 25 * time.Minute, "refresh"},
		{"less than half its lifetime left of a longer margin", 16 * time.Minute, 20 * time.Minute, "password"},
		{"no deadline, refresh token valid", 29 * time.Minute, -1, "refresh"},
		{"no deadline, refresh token expired", 31 * time.Minute, -1, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, err := g.Login(ctx)
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.age)
			r := authclient.Renewal{Current: cur, Now: clock.Now()}
			if tc.validUntil >= 0 {
				r.ValidUntil = r.Now.Add(tc.validUntil)
			}
			srv.ResetRequests()
			if _, err := g.Renew(ctx, r); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Kind.String() != tc.want {
				t.Errorf("sent %d requests, want one %s grant", len(reqs), tc.want)
			}
		})
	}
}
