// Package redact keeps this module's secrets (passwords, access, refresh and ID
// tokens) out of printed and logged forms: Secret holds one, Format redacts a type
// that prints its own view, and Printable cleans text from outside that reaches a
// terminal or a log.
package redact

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Marker stands in for a secret.
const Marker = "[REDACTED]"

// none is how an empty Secret prints.
const none = "<none>"

// Secret holds a secret text. In every printed, logged or encoded form it is Marker,
// or "<none>" when it is empty ("" in encodings): under every fmt verb and flag, through log/slog
// (LogValuer), encoding/json and other encoders (encoding.TextMarshaler), and so in
// error messages made with fmt. Reveal returns the text.
//
// The text sits behind a pointer to a string, so that a Secret also stays redacted
// where fmt calls none of its methods: in an unexported field of a struct (fmt cannot
// call methods on one and prints it raw) and on fmt's error paths (%p on a struct,
// say), fmt prints a pointer to a string as an address under every verb. A plain
// `type Secret string` would print its text there, and so would a pointer to a slice,
// array, struct or map: on fmt's bad-verb path (%s on a pointer field) fmt prints
// what such a pointer points to.
//
// A Secret has no UnmarshalJSON: decoding one from JSON is an error, so that a
// redacted form read back can never pass for the secret. Types that put a secret on
// the wire (the generated models) marshal Reveal themselves.
//
// The zero value is the empty secret. Copies share the text, which is never changed;
// == compares identity, not text.
type Secret struct {
	redacted *string
}

// New returns a Secret holding s (the zero Secret when s is empty).
func New(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{redacted: &s}
}

// Reveal returns the secret text ("" for the empty Secret).
func (s Secret) Reveal() string {
	if s.redacted == nil {
		return ""
	}
	return *s.redacted
}

// IsZero tells whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String is Marker, or "<none>" when the secret is empty.
func (s Secret) String() string {
	if s.IsZero() {
		return none
	}
	return Marker
}

// GoString is String: %#v is redacted too.
func (s Secret) GoString() string { return s.String() }

// Format prints String under every verb, with the verb's width and flags: %q quotes
// it, every other verb prints it as %s would.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb != 'q' {
		verb = 's'
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// LogValue is String for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText is Marker, or empty when the secret is empty, for encoding/json (a JSON
// string, also as a map key) and every encoder that uses encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) {
	if s.IsZero() {
		return []byte{}, nil
	}
	return []byte(Marker), nil
}

// Format implements fmt.Formatter from a redacted view: %#v prints the Go-syntax view
// goStr, every other verb formats the view str as a string would be (verbs that do not
// apply to strings print it as %v would), so no verb reaches the fields themselves.
func Format(s fmt.State, verb rune, str, goStr string) {
	if verb == 'v' && s.Flag('#') {
		_, _ = io.WriteString(s, goStr)
		return
	}
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		_, _ = fmt.Fprintf(s, fmt.FormatString(s, verb), str)
	default:
		_, _ = io.WriteString(s, str)
	}
}

// Printable makes text safe for a terminal or a log line: it drops invalid UTF-8,
// control characters (C0, DEL, C1, so no escape sequence gets through) and Unicode
// bidirectional controls (which can make a line show in another order than it is);
// newlines and tabs become one space, so that no line can be forged.
func Printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
		case r == '\n' || r == '\r' || r == '\t':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
