// Package redact holds what this module's types share to keep secrets out of printed
// and logged forms (the generated models, api, api/tokens, api/tokensfile,
// api/authclient, api/receiver, authtest): the marker, a Formatter built on a redacted
// view, and Printable for text from outside that reaches a terminal or a log.
package redact

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Marker stands in for a secret.
const Marker = "[REDACTED]"

// Secret is how a secret prints: Marker, or "<none>" when it is empty.
func Secret(s string) string {
	if s == "" {
		return "<none>"
	}
	return Marker
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
