package api

import (
	"strings"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/generated"
)

// RedactForm renders a form body for logs: the fields openapi.yaml does not mark as
// secret (client_id, grant_type, username) keep their values; every other value
// (password, refresh_token, and any unknown key's) is [REDACTED]. An unknown key's name
// is shown only when it is a well-known OAuth parameter name, or looks like a parameter
// name and the body has no password or refresh_token (a stray '&' in a secret makes its
// rest look like a key), as in the decoders' errors. A malformed body gives a
// placeholder. It never panics.
func RedactForm(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	secret := formHasSecret(body)
	var b strings.Builder
	for rest := body; ; {
		seg, tail, more := cutByte(rest, '&')
		key, value, hasEq := cutByte(seg, '=')
		var scratch [16]byte
		name, ok := unescapeForm(scratch[:0], key)
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		field := -1
		if ok {
			field = fieldIndex(name)
		}
		switch {
		case !ok || !utf8.Valid(name):
			b.WriteString("[MALFORMED]")
		case field < 0 && (!hasEq || !formKeyShown(name, secret)):
			// A lone word may be a token sent without its key; a key may be part of one.
			b.WriteString(generated.Redacted)
			if hasEq {
				b.WriteString("=" + generated.Redacted)
			}
		default:
			b.WriteString(string(name))
			if hasEq {
				b.WriteByte('=')
				if field >= 0 && !specFields[field].Secret {
					if v, ok := unescapeForm(nil, value); ok && utf8.Valid(v) {
						b.WriteString(string(appendEscaped(nil, string(v))))
					} else {
						b.WriteString("[MALFORMED]")
					}
				} else {
					b.WriteString(generated.Redacted)
				}
			}
		}
		if !more {
			return b.String()
		}
		rest = tail
	}
}
