package authclient

import (
	"bytes"
	"context"
	"encoding/base64"
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
	// ErrResponseTooLarge: the body is over 1 MiB.
	ErrResponseTooLarge = errors.New("response too large")
)

// maxResponseBytes bounds every response body the client reads.
const maxResponseBytes = 1 << 20

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
	// Cause is the context's error when its deadline passed or it was cancelled while
	// the body was read, or nil.
	Cause error
	// URL is the endpoint the request went to; Hint says what to check, for a 404
	// ("" otherwise). Error shows both when Hint is set.
	URL, Hint string
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
	case e.Err == ErrRedirect && e.Detail != "":
		b.WriteString(" redirect not followed: " + e.Detail)
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
	if e.Hint != "" {
		b.WriteString("; tried " + e.URL + ": " + e.Hint)
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
// or more consecutive bytes, in any ASCII case. Percent-escapes in text are also
// decoded (with '+' kept, and read as a space), so that any mix of escaped and plain
// bytes is found: a run of minRun bytes of a secret after decoding redacts the span of
// text it was decoded from. Secrets shorter than 4 bytes are left alone: they would
// match everywhere.
func scrub(text string, secrets []string) string {
	var m echoMatcher
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		m.add(sec) // as a decoded view may hold it, control characters included
		for _, f := range secretForms(sec) {
			m.add(redact.Printable(f))
		}
	}
	if m.windows == nil && m.whole == nil {
		return text
	}
	lower := asciiLower(text)
	marked := make([]bool, len(text))
	found := m.mark(lower, nil, marked)
	for _, plusIsSpace := range []bool{false, true} {
		if dec, starts := percentDecode(lower, plusIsSpace); starts != nil {
			found = m.mark(dec, starts, marked) || found
		}
	}
	if !found {
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

// echoMatcher finds the forms of secrets in a text, in lower case: every run of minRun
// bytes of a long form, and short forms whole.
type echoMatcher struct {
	windows map[string]bool
	whole   []string
}

func (m *echoMatcher) add(form string) {
	form = asciiLower(form)
	switch {
	case form == "":
	case len(form) < minRun:
		if !slices.Contains(m.whole, form) {
			m.whole = append(m.whole, form)
		}
	default:
		if m.windows == nil {
			m.windows = map[string]bool{}
		}
		for i := 0; i+minRun <= len(form); i++ {
			m.windows[form[i:i+minRun]] = true
		}
	}
}

// mark sets marked for every byte of the original text that a match in view covers;
// starts[i] is where in the text view's byte i came from, up to starts[i+1] (nil: view
// is the text). It reports whether anything matched.
func (m *echoMatcher) mark(view string, starts []int32, marked []bool) bool {
	found := false
	set := func(from, to int) { // view positions, to exclusive
		found = true
		if starts != nil {
			from, to = int(starts[from]), int(starts[to])
		}
		for i := from; i < to; i++ {
			marked[i] = true
		}
	}
	for i := 0; i+minRun <= len(view) && m.windows != nil; i++ {
		if m.windows[view[i:i+minRun]] {
			set(i, i+minRun)
		}
	}
	for _, f := range m.whole {
		for off := 0; ; {
			j := strings.Index(view[off:], f)
			if j < 0 {
				break
			}
			set(off+j, off+j+len(f))
			off += j + len(f)
		}
	}
	return found
}

// percentDecode decodes the %XX escapes of s (and '+' as a space when plusIsSpace),
// leaving malformed ones as they are. starts[i] is where in s the result's byte i came
// from, and starts[len(result)] is len(s); starts is nil when nothing was decoded.
func percentDecode(s string, plusIsSpace bool) (string, []int32) {
	if !strings.Contains(s, "%") && !(plusIsSpace && strings.Contains(s, "+")) {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	starts := make([]int32, 0, len(s)+1)
	decoded := false
	for i := 0; i < len(s); {
		starts = append(starts, int32(i))
		switch {
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
			decoded = true
			continue
		case s[i] == '+' && plusIsSpace:
			b = append(b, ' ')
			decoded = true
		default:
			b = append(b, s[i])
		}
		i++
	}
	if !decoded {
		return s, nil
	}
	return asciiLower(string(b)), append(starts, int32(len(s)))
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// asciiLower lower-cases the ASCII letters of s only, so that every byte keeps its
// position.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// secretForms lists the encodings in which a server might echo a secret (scrub
// matches them in any ASCII case, so either hex case of an escape): as is;
// percent-encoded as a form value ('+' or "%20" for a space) and as a path segment
// (url.PathEscape); HTML-escaped (named or numeric entities); JSON-escaped (with or
// without \u003c-style escapes of <, > and &, non-ASCII escaped or not, '/' escaped or
// not); base64 in the standard and URL alphabets, padded or not, whole or inside a
// longer encoded text (base64Forms).
func secretForms(sec string) []string {
	forms := []string{sec}
	add := func(f string) {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	form := url.QueryEscape(sec) // Python's quote_plus, as the form encoder writes it
	add(form)
	add(strings.ReplaceAll(form, "+", "%20"))
	add(url.PathEscape(sec))
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
	for _, f := range base64Forms(sec) {
		add(f)
	}
	return forms
}

// base64Forms are the base64 encodings of sec (standard and URL alphabets, padded and
// not) and, for an echo of sec inside a longer encoded text ("user:password" as HTTP
// Basic auth encodes it), the characters that depend on sec alone at each of the three
// byte alignments: those of minRun or more characters.
func base64Forms(sec string) []string {
	var forms []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(sec)))
		raw := enc.WithPadding(base64.NoPadding)
		for k := 0; k < 3; k++ {
			e := raw.EncodeToString(append(make([]byte, k), sec...))
			from, to := (8*k+5)/6, len(e)
			if (8*(k+len(sec)))%6 != 0 {
				to-- // its last character also holds bits of what follows
			}
			if to-from >= minRun {
				forms = append(forms, e[from:to])
			}
		}
	}
	return forms
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
		e.Hint = "it may be down or overloaded; " + envRequestsTimeout + " sets a longer timeout (in seconds)"
	case parent.Err() != nil:
		e.ctxErr = parent.Err()
		e.timeout = errors.Is(e.ctxErr, context.DeadlineExceeded)
		e.Problem = fmt.Sprintf("stopped before an answer from %s: %v", c.base, e.ctxErr)
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
		e.Problem = fmt.Sprintf("no valid answer from the auth server at %s: %s", c.base, text)
		e.Hint = "check that the server URL is the auth server's"
	}
	return e
}
