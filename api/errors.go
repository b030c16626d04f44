package api

import (
	"errors"
	"strconv"
	"unicode/utf8"
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
	// Field is the wire name of a known field ("client_id"), the offending key quoted
	// and shortened (`"client_secret"`), or "body" when no key applies.
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

// quoteKey quotes an offending key for an error message, shortened to maxKeyShown
// bytes (on a rune boundary when the key is valid UTF-8).
func quoteKey(key []byte) string {
	if len(key) <= maxKeyShown {
		return strconv.Quote(string(key))
	}
	n := maxKeyShown
	for n > 0 && !utf8.RuneStart(key[n]) {
		n--
	}
	if n == 0 {
		n = maxKeyShown
	}
	return strconv.Quote(string(key[:n])) + "..."
}
