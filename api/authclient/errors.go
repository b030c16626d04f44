package authclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/redact"
)

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
	// OAuth is the answer's OAuth 2.0 error (code and description, the description
	// with the request's secrets removed), or nil when the answer had none.
	OAuth *api.OAuthError
	// Location is where a redirect pointed: its scheme and host only (the path and
	// query may carry a token); "" for a relative location.
	Location string
	// Detail says what was wrong with an unexpected response.
	Detail string
	// Excerpt is a short, cleaned excerpt of a non-OAuth error body, with the
	// request's secrets removed. Bodies of 200 answers are never quoted.
	Excerpt string
	// Err is ErrRedirect, ErrBadResponse, ErrResponseTooLarge, or nil.
	Err error
	// Cause is why a body could not be read (a network error, or the context's error
	// when its deadline passed or it was cancelled), or nil.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(" request failed: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case e.OAuth != nil:
		b.WriteString(" ")
		b.WriteString(e.OAuth.Error())
	case e.Err == ErrRedirect && e.Location != "":
		fmt.Fprintf(&b, " redirect to %q not followed", e.Location)
	case e.Err == ErrRedirect:
		b.WriteString(" redirect to a relative location not followed")
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

// Unwrap returns the sentinel, the cause and the OAuth error, those that are set, so
// that errors.Is sees each (api.ErrInvalidGrant; ErrBadResponse and
// context.DeadlineExceeded) and errors.As finds the *api.OAuthError.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Err, e.Cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if e.OAuth != nil {
		errs = append(errs, e.OAuth)
	}
	return errs
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

// clean is excerpt with a given limit. Control characters are dropped (newlines and
// tabs become a space) before the secrets are looked for, so that a server cannot
// split an echoed secret with characters that cleaning would remove; the whole body
// is scrubbed before it is shortened, so that no secret is cut in two first.
func clean(body []byte, secrets []string, limit int) string {
	s := scrub(redact.Printable(string(body)), secrets)
	if len(s) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return strings.TrimSpace(s)
}

// minRun is the shortest run of a secret's characters that scrub removes: a server
// that echoes part of a password ("password abcdefgh... rejected") still shows none
// of it.
const minRun = 8

// scrub replaces with [REDACTED] every place where text carries a secret, in any of
// the encodings a server might echo it in (secretForms), whole or as a run of minRun
// or more consecutive bytes. Secrets shorter than 4 bytes are left alone: they would
// match everywhere.
func scrub(text string, secrets []string) string {
	var windows map[string]bool
	var whole []string
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		for _, f := range secretForms(sec) {
			if f = redact.Printable(f); f == "" {
				continue
			}
			if len(f) < minRun {
				whole = append(whole, f)
				continue
			}
			if windows == nil {
				windows = map[string]bool{}
			}
			for i := 0; i+minRun <= len(f); i++ {
				windows[f[i:i+minRun]] = true
			}
		}
	}
	if windows == nil && whole == nil {
		return text
	}
	var marked []bool
	mark := func(from, to int) {
		if marked == nil {
			marked = make([]bool, len(text))
		}
		for i := from; i < to; i++ {
			marked[i] = true
		}
	}
	for i := 0; i+minRun <= len(text) && windows != nil; i++ {
		if windows[text[i:i+minRun]] {
			mark(i, i+minRun)
		}
	}
	for _, f := range whole {
		for off := 0; ; {
			j := strings.Index(text[off:], f)
			if j < 0 {
				break
			}
			mark(off+j, off+j+len(f))
			off += j + len(f)
		}
	}
	if marked == nil {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if !marked[i] {
			b.WriteByte(text[i])
			continue
		}
		b.WriteString(generated.Redacted)
		for i+1 < len(text) && marked[i+1] {
			i++
		}
	}
	return b.String()
}

// secretForms lists the encodings in which a server might echo a secret: as is;
// percent-encoded with '+' or "%20" for a space, in upper- or lower-case hex;
// HTML-escaped (named or numeric entities); JSON-escaped (with or without \u003c-style
// escapes of <, > and &, non-ASCII escaped or not, '/' escaped or not).
func secretForms(sec string) []string {
	forms := []string{sec}
	add := func(f string) {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	form := url.QueryEscape(sec) // Python's quote_plus, as the form encoder writes it
	path := strings.ReplaceAll(form, "+", "%20")
	add(form)
	add(lowerHexEscapes(form))
	add(path)
	add(lowerHexEscapes(path))
	add(html.EscapeString(sec))
	add(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace(sec))
	for _, escapeHTML := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escapeHTML)
		_ = enc.Encode(sec)
		js := strings.TrimSuffix(buf.String(), "\n")
		js = js[1 : len(js)-1]
		add(js)
		add(strings.ReplaceAll(js, "/", `\/`))
		add(asciiJSON(js))
	}
	return forms
}

// lowerHexEscapes rewrites the hex digits of %XX escapes in lower case.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLower(b[i+1]), toLower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiJSON escapes the non-ASCII characters of an escaped JSON string as \uXXXX, as
// Python's json.dumps does.
func asciiJSON(js string) string {
	var b strings.Builder
	for _, r := range js {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// locationHint is what an error shows of a redirect's Location: its scheme and host
// only (the path or query may carry a token), or "" for a relative location.
func locationHint(loc string, secrets []string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return clean([]byte(u.Scheme+"://"+u.Host), secrets, maxExcerpt)
}

// ErrNoAnswer is wrapped by every *TransportError: the request got no HTTP answer.
var ErrNoAnswer = errors.New("no answer from the auth server")

// TransportError is a token or logout request that got no answer: the server could
// not be reached, did not answer in time, or sent something that is not HTTP. Its
// text says once which server, what happened and what to check; what net/http said
// (which may quote the server's bytes) is cleaned as a server's body is: the
// request's secrets removed in any encoding, control characters dropped. It wraps
// ErrNoAnswer and, when the request's context ended, context.DeadlineExceeded or
// context.Canceled, never net/http's own error. It is a net.Error: Timeout tells
// whether the time ran out.
type TransportError struct {
	// Op is "token" or "logout".
	Op string
	// Server is the server's base URL; URL the endpoint the request went to.
	Server, URL string
	// Problem says what happened; Hint what to check ("" when there is nothing to add).
	Problem, Hint string

	timeout bool
	ctxErr  error
}

func (e *TransportError) Error() string {
	s := e.Op + " request: " + e.Problem
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Unwrap yields ErrNoAnswer and the context's error, if the context ended.
func (e *TransportError) Unwrap() []error {
	if e.ctxErr != nil {
		return []error{ErrNoAnswer, e.ctxErr}
	}
	return []error{ErrNoAnswer}
}

// Timeout tells whether the request ran out of time.
func (e *TransportError) Timeout() bool { return e.timeout }

// Temporary is false: net.Error asks for it; it is deprecated there.
func (e *TransportError) Temporary() bool { return false }

// plainHTTPAnswer is net/http's text when a TLS handshake got a plain http answer (it
// has no exported error for it).
const plainHTTPAnswer = "server gave HTTP response to HTTPS client"

// noAnswer maps err, the error of a request to endpoint that ctx (derived from
// parent, with the client's timeout) bounded, to a *TransportError.
func (c *Client) noAnswer(parent, ctx context.Context, op, endpoint string, err error, secrets []string) *TransportError {
	e := &TransportError{Op: op, Server: c.base, URL: endpoint}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // its text repeats the URL
	}
	var ne net.Error
	e.timeout = errors.As(inner, &ne) && ne.Timeout()
	var oe *net.OpError
	var dnsErr *net.DNSError
	text := clean([]byte(inner.Error()), secrets, maxDescription)
	switch {
	case ctx.Err() != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.timeout, e.ctxErr = true, context.DeadlineExceeded
		e.Problem = fmt.Sprintf("no answer from the auth server at %s within %v", c.base, c.timeout)
		e.Hint = "it may be down or overloaded; " + EnvRequestsTimeout + " sets a longer timeout (in seconds)"
	case parent.Err() != nil:
		e.ctxErr = parent.Err()
		e.timeout = errors.Is(e.ctxErr, context.DeadlineExceeded)
		e.Problem = fmt.Sprintf("to %s ended: %v", c.base, e.ctxErr)
	case strings.Contains(inner.Error(), plainHTTPAnswer):
		e.Problem = fmt.Sprintf("the server at %s speaks plain http, not https", c.base)
		e.Hint = "check the URL's scheme and port"
	case errors.As(inner, &dnsErr), errors.As(inner, &oe) && oe.Op == "dial":
		reason := text
		if oe != nil && dnsErr == nil {
			reason = clean([]byte(oe.Err.Error()), secrets, maxDescription)
		}
		e.Problem = fmt.Sprintf("could not reach the auth server at %s (%s)", c.base, reason)
		e.Hint = "check the server URL, and that the server is running and reachable from here"
	default:
		e.Problem = fmt.Sprintf("to %s failed: %s", c.base, text)
	}
	return e
}
