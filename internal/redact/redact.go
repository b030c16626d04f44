// Package redact holds what the generated types and the api package share to keep
// secrets out of printed forms.
package redact

import (
	"fmt"
	"io"
)

// Marker stands in for a secret.
const Marker = "[REDACTED]"

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
