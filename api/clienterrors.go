package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The RFC 6749 error codes an auth server answers with. errors.Is(err, ErrInvalidGrant)
// is true for an *Error whose Code is "invalid_grant", and so on.
var (
	ErrInvalidRequest       = errors.New("invalid_request")
	ErrInvalidClient        = errors.New("invalid_client")
	ErrInvalidGrant         = errors.New("invalid_grant")
	ErrUnauthorizedClient   = errors.New("unauthorized_client")
	ErrUnsupportedGrantType = errors.New("unsupported_grant_type")
	ErrInvalidScope         = errors.New("invalid_scope")
)

var oauthCodes = map[string]error{
	"invalid_request":        ErrInvalidRequest,
	"invalid_client":         ErrInvalidClient,
	"invalid_grant":          ErrInvalidGrant,
	"unauthorized_client":    ErrUnauthorizedClient,
	"unsupported_grant_type": ErrUnsupportedGrantType,
	"invalid_scope":          ErrInvalidScope,
}

// What else can go wrong with an answer; an *Error wraps one of them (or none, for a
// plain OAuth 2.0 error answer).
var (
	// ErrRedirect: the server answered with a redirect, which is never followed (it
	// would re-send the credentials elsewhere).
	ErrRedirect = errors.New("redirect not followed")
	// ErrBadResponse: the answer is not what the protocol says: an error body that is
	// not an OAuth 2.0 error, a 200 that is not JSON, lacks access_token or carries
	// error, a truncated body, or an unexpected status.
	ErrBadResponse = errors.New("unexpected response")
	// ErrResponseTooLarge: the body is over MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response too large")
)

// MaxResponseBytes bounds every response body the client reads.
const MaxResponseBytes = 1 << 20

// Error is a failed token or logout request that reached the server.
type Error struct {
	// Op is "token" or "logout".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code and Description are the OAuth 2.0 error and error_description.
	Code, Description string
	// Location is where a redirect pointed.
	Location string
	// Detail says what was wrong with an unexpected response.
	Detail string
	// Excerpt is a short, cleaned excerpt of a non-OAuth error body, with the
	// request's secrets removed. Bodies of 200 answers are never quoted.
	Excerpt string
	// Err is ErrRedirect, ErrBadResponse, ErrResponseTooLarge, or nil.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(" request failed: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case e.Code != "":
		b.WriteString(" ")
		b.WriteString(e.Code)
		if e.Description != "" {
			b.WriteString(": ")
			b.WriteString(e.Description)
		}
	case e.Err == ErrRedirect:
		fmt.Fprintf(&b, " redirect to %q not followed", e.Location)
	default:
		if e.Err != nil {
			b.WriteString(" ")
			b.WriteString(e.Err.Error())
		}
		if e.Detail != "" {
			b.WriteString(": ")
			b.WriteString(e.Detail)
		}
		if e.Excerpt != "" {
			fmt.Fprintf(&b, ": body %q", e.Excerpt)
		}
	}
	return b.String()
}

// Unwrap returns the sentinel, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the OAuth 2.0 code sentinels.
func (e *Error) Is(target error) bool {
	return e.Code != "" && oauthCodes[e.Code] == target
}

// How much of a server's text an error keeps: a non-OAuth body is only a clue (an HTML
// page), an error_description is the server's whole explanation.
const (
	maxExcerpt     = 160
	maxDescription = 1024
)

// excerpt cleans a body for an error message: secrets replaced, control characters
// and invalid UTF-8 dropped, shortened to maxExcerpt bytes.
func excerpt(body []byte, secrets []string) string { return clean(body, secrets, maxExcerpt) }

// clean is excerpt with a given limit.
func clean(body []byte, secrets []string, limit int) string {
	s := string(body) // whole, so that no secret is cut in two before it is replaced
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		for _, form := range []string{sec, string(appendEscaped(nil, sec))} {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			b.WriteString("...")
			break
		}
		switch {
		case r == utf8.RuneError:
		case r == '\n' || r == '\r' || r == '\t':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
