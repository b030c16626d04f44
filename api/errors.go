package api

import (
	"errors"
	"strconv"
)

// Sentinels of the strict decoders; every *DecodeError wraps one of them.
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
	// Field is the wire name of a known field ("client_id"), an unknown key quoted
	// (`"scope"`: only a key that looks like a parameter name, in a body without a
	// secret field), or "body" when no key applies or the key is not shown.
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

// unknownKeyError is the error for a key that is not an AuthRequest field. The key is
// quoted only when it looks like a parameter name and the body carries no secret
// field: a stray '&' in a password or refresh token makes the rest of it look like a
// key ("password=ab&cdefgh=1"), and quoting that would show part of the secret.
func unknownKeyError(key []byte, secretInBody bool) *DecodeError {
	if !secretInBody && looksLikeName(key) {
		return &DecodeError{Field: quoteKey(key), Err: ErrUnknownField}
	}
	return &DecodeError{Field: "body", Err: ErrUnknownField, Detail: hiddenKey + " (its name is not shown: it may be part of a secret)"}
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

// quoteKey quotes a key that looksLikeName for an error message.
func quoteKey(key []byte) string { return strconv.Quote(string(key)) }
