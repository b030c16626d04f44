package api

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Sentinels of the strict decoders; every *DecodeError wraps one of them, so that a
// caller tells the problems apart with errors.Is without parsing a message.
var (
	// ErrDuplicateField: a key appears more than once.
	ErrDuplicateField = errors.New("duplicated field")
	// ErrUnknownField: a key that is not one of the five AuthRequest fields.
	ErrUnknownField = errors.New("unknown field")
	// ErrMalformed: bad percent-encoding, invalid UTF-8, bad JSON syntax, a JSON value
	// of the wrong type, or trailing data.
	ErrMalformed = errors.New("malformed")
	// ErrTooLarge: the body is over the decoder's limit.
	ErrTooLarge = errors.New("body too large")
)

// DecodeError is why a body could not be decoded. It names the offending key, never
// a value.
type DecodeError struct {
	// Field is the wire name of a known field ("client_id"); an unknown key quoted
	// (`"scope"`): a JSON key always (at most its first 32 bytes, non-printable
	// characters escaped), a form key when it is a well-known OAuth parameter name or
	// looks like a parameter name in a body without a secret field; or "body" when no
	// key applies or the key is not shown.
	Field string
	// Err is one of ErrDuplicateField, ErrUnknownField, ErrMalformed and ErrTooLarge.
	Err error
	// Detail says more about the problem, such as "invalid percent-encoding".
	Detail string
}

// Error gives "field: problem", such as `"scope": unknown field`.
func (e *DecodeError) Error() string {
	msg := e.Field + ": " + e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

// maxKeyShown bounds how much of an unknown key an error message quotes.
const maxKeyShown = 32

// hiddenKey stands for an unknown key whose name an error does not show.
const hiddenKey = "an unknown parameter"

// wellKnownParams are parameter names of OAuth 2.0 and OpenID Connect token and logout
// requests (RFC 6749, 7521, 7523, 7636, 8693, 8707, 9126, OpenID Connect Core and
// RP-Initiated Logout) and Keycloak's own: a form key that is one of them is named in
// an error even beside a secret. That a password or refresh token holds "&scope=" is
// far less likely than a client sending scope, and naming it says what to remove.
var wellKnownParams = map[string]bool{
	"scope": true, "client_secret": true, "audience": true, "resource": true,
	"code": true, "redirect_uri": true, "code_verifier": true, "state": true, "nonce": true,
	"client_assertion": true, "client_assertion_type": true, "assertion": true,
	"subject_token": true, "subject_token_type": true, "actor_token": true, "actor_token_type": true,
	"requested_token_type": true, "requested_subject": true, "requested_issuer": true,
	"device_code": true, "token": true, "token_type_hint": true, "id_token_hint": true,
	"post_logout_redirect_uri": true, "response_type": true, "claims": true, "acr_values": true,
	"ui_locales": true, "login_hint": true, "prompt": true, "max_age": true, "totp": true,
	"otp": true, "response_mode": true, "request": true, "request_uri": true, "dpop_jkt": true,
}

// unknownFormKeyError is the error for a form key that is not an AuthRequest field. The
// key is quoted when it is a well-known OAuth parameter name, or when it looks like a
// parameter name and the body carries no secret field: a stray '&' in a password or
// refresh token makes the rest of it look like a key ("password=ab&cdefgh=1"), and
// quoting that would show part of the secret.
func unknownFormKeyError(key []byte, secretInBody bool) *DecodeError {
	if formKeyShown(key, secretInBody) {
		return &DecodeError{Field: quoteKey(key), Err: ErrUnknownField}
	}
	return &DecodeError{Field: "body", Err: ErrUnknownField, Detail: hiddenKey + " (its name is not shown: it may be part of a secret)"}
}

// formKeyShown tells whether an unknown form key may be named (see
// unknownFormKeyError).
func formKeyShown(key []byte, secretInBody bool) bool {
	return wellKnownParams[string(key)] || (!secretInBody && looksLikeName(key))
}

// unknownJSONKeyError is the error for a JSON key that is not an AuthRequest field. A
// JSON key is delimited by its quotes, so it cannot be part of a secret value: it is
// always named, quoted (non-printable characters escaped) and cut to its first
// maxKeyShown bytes at a character boundary.
func unknownJSONKeyError(key []byte) *DecodeError {
	shown := key
	if len(shown) > maxKeyShown {
		shown = shown[:maxKeyShown]
		for len(shown) > 0 && !utf8.Valid(shown) {
			shown = shown[:len(shown)-1]
		}
		return &DecodeError{Field: quoteKey(shown), Err: ErrUnknownField,
			Detail: "the key's first " + strconv.Itoa(len(shown)) + " of its " + strconv.Itoa(len(key)) + " bytes"}
	}
	return &DecodeError{Field: quoteKey(shown), Err: ErrUnknownField}
}

// looksLikeName tells whether key is 1 to maxKeyShown bytes of [a-z_].
func looksLikeName(key []byte) bool {
	if len(key) == 0 || len(key) > maxKeyShown {
		return false
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// quoteKey quotes a key for an error message, escaping what is not printable.
func quoteKey(key []byte) string { return strconv.Quote(string(key)) }
