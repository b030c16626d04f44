package authclient

import (
	"context"
	"fmt"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
)

// TokensFileOptions configures a TokensFileReader.
type TokensFileOptions struct {
	// Renew allows the reader to renew the file's tokens (the refresh grant, under the
	// file's lock, written back) when its access token is within the margin and the
	// file holds a refresh token and an auth_server_url. iqm-client 36 never renews;
	// by default neither does the reader.
	Renew bool
	// Config configures the client that renews (see NewFileGrants).
	Config Config
	// Lock configures the wait for the file's lock when renewing.
	Lock FileLock
}

// TokensFileReader reads a tokens file (IQM_TOKENS_FILE) by iqm-client 36's rules
// (iqm-station-control-client 14.0.0, TokensFileReader): only access_token is read,
// and a file with nothing else is enough; the token must be a JWT whose exp is in the
// future (in whole seconds), else ErrTokenExpired ("access token in file has expired
// or is not valid"); the file is read again whenever the token has the session's
// margin (60 s by default, iqm-client's REFRESH_MARGIN_SECONDS) or less left, also
// for tokens whose lifetime is shorter than twice that (a Session otherwise waits
// until half the lifetime). The file is not read when the reader is made: a missing
// file is an error of the first Token, as in iqm-client 36.
//
// One difference: iqm-client 36 decodes the JWT payload with standard base64, which
// fails on a payload holding '-' or '_'; the reader decodes base64url, as JWTs are
// written.
type TokensFileReader struct {
	path      string
	opts      TokensFileOptions
	failedAt  time.Time // the last failed renewal, after which the file's token is used as it is
	failDelay time.Duration
}

// NewTokensFileReader makes a reader of the tokens file at path.
func NewTokensFileReader(path string, opts TokensFileOptions) *TokensFileReader {
	return &TokensFileReader{path: path, opts: opts}
}

// Path is the tokens file.
func (r *TokensFileReader) Path() string { return r.path }

// Renew implements Source: it reads the file again, and renews its tokens when that is
// allowed and possible and the token is within the margin. A renewal that fails
// leaves the file's token in use while it is valid (tried again after a backoff).
func (r *TokensFileReader) Renew(ctx context.Context, rn Renewal) (tokens.Set, error) {
	f, err := tokensfile.Read(r.path)
	if err != nil {
		return tokens.Set{}, err
	}
	t := f.Tokens
	if !r.valid(t, rn.Now) {
		return tokens.Set{}, &tokensfile.Error{Path: r.path, Problem: "access token in file has expired or is not valid", Err: ErrTokenExpired}
	}
	if r.opts.Renew && f.Tokens.HasRefreshToken() && f.AuthServerURL != "" && !t.AccessValidFor(rn.Now, rn.Margin) &&
		!rn.Now.Before(r.failedAt.Add(r.failDelay)) {
		renewed, err := r.renew(ctx, t, rn)
		switch {
		case err == nil && r.valid(renewed, rn.Now):
			t, r.failDelay = renewed, 0
		case err != nil && !r.valid(t, rn.Now):
			return tokens.Set{}, err
		default:
			r.failedAt, r.failDelay = rn.Now, min(max(2*r.failDelay, DefaultBackoff), MaxBackoff)
		}
	}
	// The session re-reads when the margin is reached, whatever the lifetime: so
	// the lifetime it is told is at least twice the margin.
	t.ObtainedAt = rn.Now
	if at := t.AccessExpiry.Add(-2 * rn.Margin); at.Before(t.ObtainedAt) {
		t.ObtainedAt = at
	}
	return t, nil
}

// valid is iqm-client 36's test: a JWT whose exp, in whole seconds, is after now.
func (r *TokensFileReader) valid(t tokens.Set, now time.Time) bool {
	exp, ok := tokens.JWTExpiry(t.AccessToken())
	return ok && exp.Unix()-now.Unix() > 0
}

func (r *TokensFileReader) renew(ctx context.Context, cur tokens.Set, rn Renewal) (tokens.Set, error) {
	// No password: a password is never sent to a server that a file names.
	g, err := NewFileGrants(r.path, r.opts.Config, "", "", r.opts.Lock)
	if err != nil {
		return tokens.Set{}, err
	}
	return g.Renew(ctx, Renewal{Current: cur, Now: rn.Now, Margin: rn.Margin})
}

// Refresh reads the file again (and renews it, as Renew does).
func (r *TokensFileReader) Refresh(ctx context.Context, rn Renewal) (tokens.Set, error) {
	return r.Renew(ctx, rn)
}

// String names the file.
func (r *TokensFileReader) String() string {
	return fmt.Sprintf("TokensFileReader{path:%q renew:%v}", r.path, r.opts.Renew)
}
