package api

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// DefaultMaxBodyBytes is the decoders' default body limit, 64 KiB.
const DefaultMaxBodyBytes = 64 << 10

// specFields are the AuthRequest properties in openapi.yaml's order, which is the
// Python model's declaration order and the order the encoders write them in.
var specFields = generated.AuthRequestFields()

const numFields = len(specFields)

// fieldNames are their wire names.
var fieldNames = func() (n [numFields]string) {
	for i, f := range specFields {
		n[i] = f.Wire
	}
	return n
}()

// fieldIndex finds a wire name among fieldNames, or -1 (a switch generated from
// openapi.yaml).
func fieldIndex(key []byte) int { return generated.AuthRequestIndex(key) }

// formSafe marks the bytes Python's urllib.parse.quote_plus leaves as they are:
// ASCII letters, digits and "_.-~". Space becomes '+'; every other byte is %XX in
// upper-case hex.
var formSafe = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "_.-~" {
		t[c] = true
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !formSafe[c] && c != ' ' {
			n += 2
		}
	}
	return n
}

func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if formSafe[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		if c == ' ' {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// EncodeForm validates r and encodes it as an application/x-www-form-urlencoded body,
// byte for byte what the Python client sends: the set fields in the model's order
// (client_id, grant_type, username, password, refresh_token), escaped as Python's
// urlencode does. An invalid request is never encoded: the error is the
// *validate.Error.
func EncodeForm(r generated.AuthRequest) ([]byte, error) {
	if _, err := validate.Request(r); err != nil {
		return nil, fmt.Errorf("encode form: %w", err)
	}
	v, ok := r.WireValues()
	n := -1
	for i := range v {
		if ok[i] {
			n += 1 + len(fieldNames[i]) + 1 + escapedLen(v[i])
		}
	}
	return appendForm(make([]byte, 0, n), &v, &ok), nil
}

func appendForm(dst []byte, v *[numFields]string, ok *[numFields]bool) []byte {
	first := true
	for i := range v {
		if !ok[i] {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		dst = append(dst, fieldNames[i]...)
		dst = append(dst, '=')
		dst = appendEscaped(dst, v[i])
	}
	return dst
}

// Decoder holds the settings of the strict decoders. The zero value is ready to use.
type Decoder struct {
	// MaxBytes is the largest body accepted; 0 means DefaultMaxBodyBytes.
	MaxBytes int
}

func (d Decoder) limit() int {
	if d.MaxBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return d.MaxBytes
}

// DecodeFormRequest decodes a form body strictly with the default limit (see
// Decoder.Form) and checks it with validate.Request: the one call a service receiving
// the wire format of the token and logout endpoints needs. The Kind is what the
// request claims by its grant_type; a service that expects one kind (its logout
// endpoint) compares it.
func DecodeFormRequest(body []byte) (generated.AuthRequest, validate.Kind, error) {
	return checkDecoded(Decoder{}.Form(body))
}

// checkDecoded applies validate.Request to a decoded request.
func checkDecoded(r generated.AuthRequest, err error) (generated.AuthRequest, validate.Kind, error) {
	if err != nil {
		return generated.AuthRequest{}, validate.KindUnknown, err
	}
	k, err := validate.Request(r)
	return r, k, err
}

// Form parses an application/x-www-form-urlencoded body strictly. It rejects, with a
// *DecodeError: a repeated key (ErrDuplicateField); a key that is not one of the five
// AuthRequest fields (ErrUnknownField); an empty parameter, a parameter without '=',
// bad percent-encoding or invalid UTF-8 (ErrMalformed); a body over the limit
// (ErrTooLarge). '+' decodes to a space. The result does not share memory with body.
//
// It does not apply the kind rules, for a caller that knows which kind to expect
// (validate.Check, as iqmauth validate --kind does) or sets its own limit; otherwise
// DecodeFormRequest decodes and checks in one call.
func (d Decoder) Form(body []byte) (generated.AuthRequest, error) { return d.form(body, nil) }

// Leftovers is what LenientForm skipped that the strict decoder would have refused, for
// a receiver that answers in Keycloak's order of checks.
type Leftovers struct {
	// Duplicate is the wire name of the first field given more than once ("" when
	// none); the first value was kept.
	Duplicate string
	// Unknown tells that a key that is not an AuthRequest field was skipped, and
	// UnknownKey is the first such key quoted, when it may be shown (see DecodeError).
	Unknown    bool
	UnknownKey string
}

// LenientForm decodes a form body as Form does, except that it skips unknown keys and
// keeps the first value of a repeated field, and reports both in Leftovers instead of
// failing. A malformed body or one over the limit is still an error. It is for a
// receiver that is as lenient as Keycloak and answers in Keycloak's order of checks
// (api/receiver without strict mode).
func (d Decoder) LenientForm(body []byte) (generated.AuthRequest, Leftovers, error) {
	var left Leftovers
	r, err := d.form(body, &left)
	return r, left, err
}

func (d Decoder) form(body []byte, extras *Leftovers) (generated.AuthRequest, error) {
	if len(body) > d.limit() {
		return generated.AuthRequest{}, tooLarge(d.limit())
	}
	var (
		spans [numFields][2]int
		seen  [numFields]bool
	)
	f, buf := newStorage(len(body))
	// One pass: each parameter starts at i (the body's start or just after a '&'); its
	// key runs to the first '=', its value to the next '&', which the value's decoding
	// finds as it goes.
	for i := 0; len(body) > 0; {
		j := i
		for j < len(body) && body[j] != '=' && body[j] != '&' {
			j++
		}
		if j == len(body) || body[j] == '&' {
			detail := "parameter without '='"
			if j == i {
				detail = "empty parameter"
			}
			return generated.AuthRequest{}, &DecodeError{Field: "body", Err: ErrMalformed, Detail: detail}
		}
		idx, err := formKey(body[i:j], body)
		switch {
		case err == nil:
		case extras != nil && errors.Is(err, ErrUnknownField):
			if !extras.Unknown {
				extras.Unknown = true
				if de := err.(*DecodeError); de.Field != "body" {
					extras.UnknownKey = de.Field
				}
			}
			idx = -1
		default:
			return generated.AuthRequest{}, err
		}
		if idx >= 0 && seen[idx] {
			if extras == nil {
				return generated.AuthRequest{}, &DecodeError{Field: fieldNames[idx], Err: ErrDuplicateField}
			}
			if extras.Duplicate == "" {
				extras.Duplicate = fieldNames[idx]
			}
			idx = -1
		}
		value := j + 1
		if idx < 0 { // skipped: on to the next parameter
			next := bytes.IndexByte(body[value:], '&')
			if next < 0 {
				break
			}
			i = value + next + 1
			continue
		}
		seen[idx] = true
		start := len(buf)
		var n int
		var ascii, ok bool
		if buf, n, ascii, ok = unescapeValue(buf, body[value:]); !ok {
			return generated.AuthRequest{}, &DecodeError{Field: fieldNames[idx], Err: ErrMalformed, Detail: "invalid percent-encoding"}
		}
		if !ascii && !utf8.Valid(buf[start:]) {
			return generated.AuthRequest{}, &DecodeError{Field: fieldNames[idx], Err: ErrMalformed, Detail: "invalid UTF-8"}
		}
		spans[idx] = [2]int{start, len(buf)}
		end := value + n
		if end == len(body) {
			break
		}
		i = end + 1 // body[end] is '&'
	}
	return build(f, buf, &spans, &seen), nil
}

func tooLarge(limit int) error {
	return &DecodeError{Field: "body", Err: ErrTooLarge, Detail: fmt.Sprintf("over %d bytes", limit)}
}

// cutByte is bytes.Cut for a one-byte separator.
func cutByte(s []byte, sep byte) (before, after []byte, found bool) {
	if i := bytes.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, nil, false
}

// formKey decodes a form key and finds its field. body is the whole form, for the
// error of an unknown key (see unknownFormKeyError).
func formKey(raw, body []byte) (int, error) {
	// A key as the encoders write it has nothing escaped (the names are [a-z_]).
	if idx := fieldIndex(raw); idx >= 0 {
		return idx, nil
	}
	key := raw
	if bytes.IndexByte(raw, '%') >= 0 || bytes.IndexByte(raw, '+') >= 0 {
		var scratch [16]byte
		var ok bool
		if key, ok = unescapeForm(scratch[:0], raw); !ok {
			return -1, &DecodeError{Field: "body", Err: ErrMalformed, Detail: "invalid percent-encoding in a key"}
		}
	}
	idx := fieldIndex(key)
	if idx < 0 {
		if !utf8.Valid(key) {
			return -1, &DecodeError{Field: "body", Err: ErrMalformed, Detail: "invalid UTF-8 in a key"}
		}
		return -1, unknownFormKeyError(key, formHasSecret(body))
	}
	return idx, nil
}

// formHasSecret tells whether a form body has a password or refresh_token key.
func formHasSecret(body []byte) bool {
	for rest := body; len(rest) > 0; {
		seg, tail, _ := cutByte(rest, '&')
		rawKey, _, _ := cutByte(seg, '=')
		var scratch [16]byte
		if key, ok := unescapeForm(scratch[:0], rawKey); ok {
			if i := fieldIndex(key); i >= 0 && specFields[i].Secret {
				return true
			}
		}
		rest = tail
	}
	return false
}

// unescapeForm appends the form-decoded s to dst.
func unescapeForm(dst, s []byte) ([]byte, bool) {
	dst, n, _, ok := unescape(dst, s, false)
	return dst, ok && n == len(s)
}

// unescapeValue appends the form-decoded value at the start of s, up to the first '&'
// or the end, to dst, and says how many bytes of s it took and whether every decoded
// byte is ASCII (then the text is valid UTF-8 without another pass).
func unescapeValue(dst, s []byte) (_ []byte, n int, ascii, ok bool) {
	return unescape(dst, s, true)
}

// unescape decodes s ('+' is a space, %XX a byte) into dst, stopping at the first '&'
// when stopAtAmp is set. Runs of eight plain bytes are skipped a word at a time.
func unescape(dst, s []byte, stopAtAmp bool) (_ []byte, n int, ascii, ok bool) {
	start := 0
	var high, high8 uint64
	i := 0
	for i < len(s) {
		for i+8 <= len(s) {
			w := binary.LittleEndian.Uint64(s[i:])
			if hasByte(w, '%') || hasByte(w, '+') || (stopAtAmp && hasByte(w, '&')) {
				break
			}
			high8 |= w
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c == '&' && stopAtAmp {
			break
		}
		high |= uint64(c)
		if c != '%' && c != '+' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c == '+' {
			dst = append(dst, ' ')
		} else {
			if i+2 >= len(s) {
				return dst, i, false, false
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				return dst, i, false, false
			}
			high |= uint64(h<<4 | l)
			dst = append(dst, byte(h<<4|l))
			i += 2
		}
		i++
		start = i
	}
	return append(dst, s[start:i]...), i, high < utf8.RuneSelf && high8&0x8080808080808080 == 0, true
}

// hasByte tells whether one of the eight bytes of w is b (exact: the zero-byte test
// of "Bit Twiddling Hacks" on w with b's bytes cleared).
func hasByte(w uint64, b byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := w ^ (ones * uint64(b))
	return (x-ones)&^x&highs != 0
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// newStorage returns the strings of the fields to fill in (one allocation for all the
// pointers the result hands out) and an empty buffer with room for n bytes of decoded
// text (decoding never lengthens). Two small allocations measured faster than one
// that holds both.
func newStorage(n int) (*[numFields]string, []byte) {
	if n == 0 {
		return new([numFields]string), nil
	}
	return new([numFields]string), make([]byte, 0, n)
}

// build makes the AuthRequest from the decoded bytes, which nothing else references
// and nobody writes to afterwards: the strings share them.
func build(f *[numFields]string, buf []byte, spans *[numFields][2]int, seen *[numFields]bool) generated.AuthRequest {
	var all string
	if len(buf) > 0 {
		all = unsafe.String(&buf[0], len(buf))
	}
	var r generated.AuthRequest
	for i := range seen {
		if seen[i] {
			f[i] = all[spans[i][0]:spans[i][1]]
			r.SetWireValue(i, &f[i])
		}
	}
	return r
}
