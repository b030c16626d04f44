package generated

// This file is written by hand (it is not generated): it keeps the secrets of the
// generated models out of every printed or logged form. The properties openapi.yaml
// marks with format: password (password, refresh_token, access_token, id_token) are
// shown as [REDACTED]; each model's list of fields comes from schema.gen.go. The wire
// encodings (encoding/json, form bodies) still carry the real values.

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Redacted stands in for a secret in every printed or logged form.
const Redacted = redact.Marker

// field is one field of a printed view.
type field struct {
	wire, goName string
	value        string
	set, secret  bool
	raw          bool // value is printed as is (numbers, nested views)
}

func str(wire, goName string, v *string, secret bool) field {
	f := field{wire: wire, goName: goName, secret: secret}
	if v != nil {
		f.set, f.value = true, *v
	}
	return f
}

// secret is a required secret: always set, always redacted.
func secret(wire, goName string, v Secret) field {
	return field{wire: wire, goName: goName, value: v.Value(), set: true, secret: true}
}

// integer is a required number.
func integer(wire, goName string, v int64) field {
	return field{wire: wire, goName: goName, value: strconv.FormatInt(v, 10), set: true, raw: true}
}

// view prints a value's set fields with secrets redacted: String-style (wire names)
// or GoString-style (Go names).
func view(typeName string, goSyntax bool, fields ...field) string {
	var b strings.Builder
	if goSyntax {
		b.WriteString("generated.")
	}
	b.WriteString(typeName)
	b.WriteByte('{')
	n := 0
	for _, f := range fields {
		if !f.set {
			continue
		}
		if n > 0 {
			if goSyntax {
				b.WriteString(", ")
			} else {
				b.WriteByte(' ')
			}
		}
		n++
		if goSyntax {
			b.WriteString(f.goName)
		} else {
			b.WriteString(f.wire)
		}
		b.WriteByte(':')
		switch {
		case f.secret:
			b.WriteString(Redacted)
		case f.raw:
			b.WriteString(f.value)
		default:
			b.WriteString(strconv.Quote(f.value))
		}
	}
	b.WriteByte('}')
	return b.String()
}

func logValue(fields ...field) slog.Value {
	attrs := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		switch {
		case !f.set:
		case f.secret:
			attrs = append(attrs, slog.String(f.wire, Redacted))
		default:
			attrs = append(attrs, slog.String(f.wire, f.value))
		}
	}
	return slog.GroupValue(attrs...)
}

// String shows the set fields with the secret ones (password, refresh_token) redacted.
func (r AuthRequest) String() string { return view("AuthRequest", false, r.fields()...) }

// GoString is String in Go syntax, still redacted.
func (r AuthRequest) GoString() string { return view("AuthRequest", true, r.fields()...) }

// Format keeps secrets out of every fmt verb.
func (r AuthRequest) Format(s fmt.State, verb rune) { redact.Format(s, verb, r.String(), r.GoString()) }

// LogValue keeps secrets out of log/slog output.
func (r AuthRequest) LogValue() slog.Value { return logValue(r.fields()...) }

// String shows the set fields with the secret ones (access_token, refresh_token,
// id_token) redacted.
func (t TokenResponse) String() string { return view("TokenResponse", false, t.fields()...) }

// GoString is String in Go syntax, still redacted.
func (t TokenResponse) GoString() string { return view("TokenResponse", true, t.fields()...) }

// Format keeps secrets out of every fmt verb.
func (t TokenResponse) Format(s fmt.State, verb rune) {
	redact.Format(s, verb, t.String(), t.GoString())
}

// LogValue keeps secrets out of log/slog output.
func (t TokenResponse) LogValue() slog.Value { return logValue(t.fields()...) }
