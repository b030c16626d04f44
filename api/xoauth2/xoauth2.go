// Package xoauth2 adapts an authclient.Session to golang.org/x/oauth2, so that code
// written for an oauth2.TokenSource gets the session's tokens. It is the only package
// of this module that imports x/oauth2: programs that do not use it do not link it.
package xoauth2

import (
	"context"

	"golang.org/x/oauth2"

	"github.com/iqm-finland/authschema/api/authclient"
)

// TokenSource is the session as an oauth2.TokenSource. Its tokens carry the access
// token, type and expiry, never the refresh token (x/oauth2 prints tokens with %v).
// x/oauth2's interface has no context: renewals run under context.Background(),
// bounded by the client's timeout.
func TokenSource(s *authclient.Session) oauth2.TokenSource { return source{s} }

type source struct{ s *authclient.Session }

func (ts source) Token() (*oauth2.Token, error) {
	t, err := ts.s.Tokens(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken(), TokenType: t.TokenType, Expiry: t.AccessExpiry}, nil
}
