package generated

// This file is written by hand (it is not generated): it keeps the secrets of the
// generated types out of every printed or logged form. Password, refresh_token,
// access_token and id_token values are shown as [REDACTED]; the wire encodings
// (encoding/json, form bodies) still carry the real values.

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

func num(wire, goName string, v *int64) field {
	f := field{wire: wire, goName: goName, raw: true}
	if v != nil {
		f.set, f.value = true, strconv.FormatInt(*v, 10)
	}
	return f
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

func (r AuthRequest) fields() []field {
	return []field{
		{wire: "client_id", goName: "ClientID", value: r.ClientID, set: true},
		str("grant_type", "GrantType", (*string)(r.GrantType), false),
		str("username", "Username", r.Username, false),
		str("password", "Password", r.Password, true),
		str("refresh_token", "RefreshToken", r.RefreshToken, true),
	}
}

// String shows the set fields with password and refresh_token redacted.
func (r AuthRequest) String() string { return view("AuthRequest", false, r.fields()...) }

// GoString is String in Go syntax, still redacted.
func (r AuthRequest) GoString() string { return view("AuthRequest", true, r.fields()...) }

// Format keeps secrets out of every fmt verb.
func (r AuthRequest) Format(s fmt.State, verb rune) { redact.Format(s, verb, r.String(), r.GoString()) }

// LogValue keeps secrets out of log/slog output.
func (r AuthRequest) LogValue() slog.Value { return logValue(r.fields()...) }

func (t TokenResponse) fields() []field {
	return []field{
		str("access_token", "AccessToken", t.AccessToken, true),
		num("expires_in", "ExpiresIn", t.ExpiresIn),
		num("refresh_expires_in", "RefreshExpiresIn", t.RefreshExpiresIn),
		str("refresh_token", "RefreshToken", t.RefreshToken, true),
		str("token_type", "TokenType", t.TokenType, false),
		str("id_token", "IDToken", t.IDToken, true),
		num("not-before-policy", "NotBeforePolicy", t.NotBeforePolicy),
		str("session_state", "SessionState", t.SessionState, false),
		str("scope", "Scope", t.Scope, false),
	}
}

// String shows the set fields with access_token, refresh_token and id_token redacted.
func (t TokenResponse) String() string { return view("TokenResponse", false, t.fields()...) }

// GoString is String in Go syntax, still redacted.
func (t TokenResponse) GoString() string { return view("TokenResponse", true, t.fields()...) }

// Format keeps secrets out of every fmt verb.
func (t TokenResponse) Format(s fmt.State, verb rune) {
	redact.Format(s, verb, t.String(), t.GoString())
}

// LogValue keeps secrets out of log/slog output.
func (t TokenResponse) LogValue() slog.Value { return logValue(t.fields()...) }

// String is the redacted view of the TokenResponse it carries.
func (r RequestToken200JSONResponse) String() string { return TokenResponse(r).String() }

// GoString is the redacted Go-syntax view of the TokenResponse it carries.
func (r RequestToken200JSONResponse) GoString() string { return TokenResponse(r).GoString() }

// Format keeps secrets out of every fmt verb.
func (r RequestToken200JSONResponse) Format(s fmt.State, verb rune) {
	TokenResponse(r).Format(s, verb)
}

// LogValue keeps secrets out of log/slog output.
func (r RequestToken200JSONResponse) LogValue() slog.Value { return TokenResponse(r).LogValue() }

func (r RequestTokenResponse) fields() []field {
	f := []field{{wire: "status", goName: "Status", value: strconv.Itoa(r.StatusCode()), set: r.HTTPResponse != nil, raw: true}}
	if r.Body != nil {
		f = append(f, field{wire: "body", goName: "Body", value: strconv.Itoa(len(r.Body)) + " bytes", set: true, raw: true})
	}
	if r.JSON200 != nil {
		f = append(f, field{wire: "json200", goName: "JSON200", value: r.JSON200.String(), set: true, raw: true})
	}
	if r.JSON400 != nil {
		f = append(f, str("json400", "JSON400", &r.JSON400.Error, false))
	}
	if r.JSON401 != nil {
		f = append(f, str("json401", "JSON401", &r.JSON401.Error, false))
	}
	return f
}

// String shows the status, the body's length (never its bytes: it carries tokens)
// and the redacted parsed response.
func (r RequestTokenResponse) String() string {
	return view("RequestTokenResponse", false, r.fields()...)
}

// GoString is String in Go syntax, still redacted.
func (r RequestTokenResponse) GoString() string {
	return view("RequestTokenResponse", true, r.fields()...)
}

// Format keeps secrets out of every fmt verb.
func (r RequestTokenResponse) Format(s fmt.State, verb rune) {
	redact.Format(s, verb, r.String(), r.GoString())
}

// LogValue keeps secrets out of log/slog output.
func (r RequestTokenResponse) LogValue() slog.Value { return logValue(r.fields()...) }

func requestObjectView(typeName string, goSyntax bool, realm string, body *AuthRequest) string {
	b := "<nil>"
	if body != nil {
		b = body.String()
		if goSyntax {
			b = "&" + body.GoString()
		}
	}
	if goSyntax {
		return "generated." + typeName + "{Realm:" + strconv.Quote(realm) + ", Body:" + b + "}"
	}
	return typeName + "{realm:" + strconv.Quote(realm) + " body:" + b + "}"
}

// Format keeps secrets out of every fmt verb.
func (o RequestTokenRequestObject) Format(s fmt.State, verb rune) {
	redact.Format(s, verb, requestObjectView("RequestTokenRequestObject", false, o.Realm, o.Body),
		requestObjectView("RequestTokenRequestObject", true, o.Realm, o.Body))
}

// Format keeps secrets out of every fmt verb.
func (o LogoutRequestObject) Format(s fmt.State, verb rune) {
	redact.Format(s, verb, requestObjectView("LogoutRequestObject", false, o.Realm, o.Body),
		requestObjectView("LogoutRequestObject", true, o.Realm, o.Body))
}

func requestObject(realm string, body *AuthRequest) slog.Value {
	attrs := []slog.Attr{slog.String("realm", realm)}
	if body != nil {
		attrs = append(attrs, slog.Any("body", body.LogValue()))
	}
	return slog.GroupValue(attrs...)
}

// LogValue keeps secrets out of log/slog output (the JSON handler would otherwise
// marshal the body with its real values).
func (o RequestTokenRequestObject) LogValue() slog.Value { return requestObject(o.Realm, o.Body) }

// LogValue keeps secrets out of log/slog output.
func (o LogoutRequestObject) LogValue() slog.Value { return requestObject(o.Realm, o.Body) }
