package authclient

import (
	"context"
	"fmt"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
)

// TokensFileReader reads a tokens file (IQM_TOKENS_FILE) by iqm-client 36's rules
// (iqm-station-control-client 14.0.0, TokensFileReader): only access_token is read,
// and a file with nothing else is enough; the token must be a JWT whose exp is in the
// future (in whole seconds), else ErrTokenExpired ("access token in file has expired
// or is not valid"); the file is read again once the token has 60 s
// (iqm-client's REFRESH_MARGIN_SECONDS) or less left, also for tokens whose lifetime
// is shorter than twice that (a Session otherwise waits until half the lifetime: the
// tokens the reader returns carry an ObtainedAt that makes it read again then, with
// a session margin of 60 s or more). The file is not read when the reader is made: a
// missing file is an error of the first Token, as in iqm-client 36.
//
// Two differences: within the margin iqm-client 36 reads the file on every call, the
// reader at most once a second; and iqm-client 36 decodes the JWT payload with
// standard base64, which fails on a payload holding '-' or '_', the reader base64url,
// as JWTs are written.
type TokensFileReader struct {
	path      string
	opts      SourceOptions
	failedAt  time.Time // the last failed renewal, after which the file's token is used as it is
	failDelay time.Duration
}

// NewTokensFileReader makes a reader of the tokens file at path: for a path that does
// not come from IQM_TOKENS_FILE (SourceFromEnv makes the reader of that one).
func NewTokensFileReader(path string, opts SourceOptions) *TokensFileReader {
	return &TokensFileReader{path: path, opts: opts}
}

// Renew implements Source: it reads the file again, and renews its tokens when that is
// allowed and possible and the token does not last past rn.ValidUntil. A renewal that
// fails leaves the file's token in use while it is valid (tried again after a backoff).
func (r *TokensFileReader) Renew(ctx context.Context, rn Renewal) (tokens.Set, error) {
	f, err := tokensfile.Read(r.path)
	if err != nil {
		return tokens.Set{}, err
	}
	t := f.Tokens
	if !r.valid(t, rn.Now) {
		return tokens.Set{}, &tokensfile.Error{Path: r.path, Problem: "access token in file has expired or is not valid", Err: ErrTokenExpired}
	}
	if r.opts.RenewTokensFile && f.Tokens.HasRefreshToken() && f.AuthServerURL != "" && !t.AccessValidFor(rn.ValidUntil, 0) &&
		!rn.Now.Before(r.failedAt.Add(r.failDelay)) {
		renewed, err := r.renew(ctx, t, rn)
		switch {
		case err == nil && r.valid(renewed, rn.Now):
			t, r.failDelay = renewed, 0
		case err != nil && !r.valid(t, rn.Now):
			return tokens.Set{}, err
		default:
			r.failedAt, r.failDelay = rn.Now, min(max(2*r.failDelay, defaultBackoff), maxBackoff)
		}
	}
	t.ObtainedAt = obtainedFor(t.AccessExpiry, rn.Now)
	return t, nil
}

// iqmClientMargin is iqm-client 36's REFRESH_MARGIN_SECONDS: it reads the tokens file
// again once the token has this little left.
const iqmClientMargin = 60 * time.Second

// obtainedFor is the ObtainedAt that makes a Session (RenewalMargin: at most half the
// lifetime counted from ObtainedAt) read the file again as iqm-client 36 does: once
// iqmClientMargin is reached, whatever the lifetime, and within it a second later
// (iqm-client 36 reads it on every call; a Session wants a token it may hand out for a
// while, and counts one already due as expired on arrival).
func obtainedFor(expiry, now time.Time) time.Time {
	left := expiry.Sub(now)
	if left > iqmClientMargin {
		if at := expiry.Add(-2 * iqmClientMargin); at.Before(now) {
			return at // the margin as it is
		}
		return now
	}
	return expiry.Add(-2 * (left - time.Second)) // a margin of left - 1 s
}

// valid is iqm-client 36's test: a JWT whose exp, in whole seconds, is after now.
func (r *TokensFileReader) valid(t tokens.Set, now time.Time) bool {
	exp, ok := tokens.JWTExpiry(t.AccessToken())
	return ok && exp.Unix()-now.Unix() > 0
}

func (r *TokensFileReader) renew(ctx context.Context, cur tokens.Set, rn Renewal) (tokens.Set, error) {
	// No password: a password is never sent to a server that a file names.
	g := NewFileGrants(r.path, r.opts.Config, "", "", r.opts.Lock)
	return g.Renew(ctx, Renewal{Current: cur, Now: rn.Now, ValidUntil: rn.ValidUntil})
}

// Refresh reads the file again (and renews it, as Renew does).
func (r *TokensFileReader) Refresh(ctx context.Context, rn Renewal) (tokens.Set, error) {
	return r.Renew(ctx, rn)
}

// String names the file.
func (r *TokensFileReader) String() string {
	return fmt.Sprintf("TokensFileReader{path:%q renew:%v}", r.path, r.opts.RenewTokensFile)
}
