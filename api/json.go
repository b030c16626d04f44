package api

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// EncodeJSON validates r and encodes it as JSON, byte for byte what pydantic's
// model_dump_json(exclude_none=True) gives for the Python model: the set fields in the
// model's order, no spaces, non-ASCII written as UTF-8, and only '"', '\' and control
// characters escaped. An invalid request is never encoded.
func EncodeJSON(r generated.AuthRequest) ([]byte, error) {
	if _, err := validate.Request(r); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	v, ok := r.WireValues()
	n := 1
	for i := range v {
		if ok[i] {
			n += len(fieldNames[i]) + len(v[i]) + 6
		}
	}
	dst := make([]byte, 0, n)
	dst = append(dst, '{')
	for i := range v {
		if ok[i] {
			dst = appendJSONString(appendJSONKey(dst, fieldNames[i]), v[i])
		}
	}
	return append(dst, '}'), nil
}

// appendJSONKey writes `"name":` into an object being written into dst, after a comma
// unless it is the first member (dst ends with '{').
func appendJSONKey(dst []byte, name string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

const lowerHex = "0123456789abcdef"

// appendJSONString writes s as a JSON string the way pydantic-core (serde_json) does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// DecodeJSONRequest decodes a JSON body strictly with the default limit (see
// Decoder.JSON) and checks it with validate.Request: the one call a service that takes
// the AuthRequest as JSON needs (examples/consumer).
func DecodeJSONRequest(body []byte) (generated.AuthRequest, validate.Kind, error) {
	return checkDecoded(Decoder{}.JSON(body))
}

// JSON parses a JSON object body strictly. Keys match the wire names exactly (not
// case-insensitively, as encoding/json would); null means absent. It rejects, with a
// *DecodeError: a repeated key (ErrDuplicateField); a key that is not one of the five
// fields (ErrUnknownField); a value that is not a string or null, bad JSON syntax,
// invalid UTF-8, a lone surrogate escape, or data after the object (ErrMalformed); a
// body over the limit (ErrTooLarge). Like Form, it does not apply the kind rules;
// DecodeJSONRequest does.
func (d Decoder) JSON(body []byte) (generated.AuthRequest, error) {
	if len(body) > d.limit() {
		return generated.AuthRequest{}, tooLarge(d.limit())
	}
	f, buf := newStorage(len(body))
	p := jsonParser{s: body, buf: buf}
	var (
		spans [numFields][2]int
		seen  [numFields]bool
		set   [numFields]bool
	)
	p.ws()
	if !p.eat('{') {
		return generated.AuthRequest{}, p.fail("body", "not a JSON object")
	}
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			if p.peek() != '"' {
				return generated.AuthRequest{}, p.fail("body", "expected a key")
			}
			p.i++
			keyStart := len(p.buf)
			if !p.str() {
				return generated.AuthRequest{}, p.fail("body", p.why)
			}
			key := p.buf[keyStart:]
			idx := fieldIndex(key)
			if idx < 0 {
				return generated.AuthRequest{}, unknownJSONKeyError(key)
			}
			p.buf = p.buf[:keyStart]
			if seen[idx] {
				return generated.AuthRequest{}, &DecodeError{Field: fieldNames[idx], Err: ErrDuplicateField}
			}
			seen[idx] = true
			p.ws()
			if !p.eat(':') {
				return generated.AuthRequest{}, p.fail(fieldNames[idx], "expected ':'")
			}
			p.ws()
			switch p.peek() {
			case '"':
				p.i++
				start := len(p.buf)
				if !p.str() {
					return generated.AuthRequest{}, p.fail(fieldNames[idx], p.why)
				}
				spans[idx], set[idx] = [2]int{start, len(p.buf)}, true
			case 'n':
				if !p.lit("null") {
					return generated.AuthRequest{}, p.fail(fieldNames[idx], "invalid literal")
				}
			default:
				return generated.AuthRequest{}, p.fail(fieldNames[idx], "must be a string or null")
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return generated.AuthRequest{}, p.fail("body", "expected ',' or '}'")
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return generated.AuthRequest{}, p.fail("body", "data after the JSON object")
	}
	return build(f, p.buf, &spans, &set), nil
}

type jsonParser struct {
	s   []byte
	i   int
	buf []byte
	why string
}

func (p *jsonParser) fail(field, detail string) error {
	return &DecodeError{Field: field, Err: ErrMalformed, Detail: detail}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) lit(word string) bool {
	if len(p.s)-p.i >= len(word) && string(p.s[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// str decodes a string whose opening quote has been read, appending to p.buf.
func (p *jsonParser) str() bool {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			if !p.escape() {
				return false
			}
		case c < 0x20:
			p.why = "control character in a string"
			return false
		case c < utf8.RuneSelf:
			p.buf = append(p.buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				p.why = "invalid UTF-8"
				return false
			}
			p.buf = append(p.buf, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
	p.why = "unterminated string"
	return false
}

func (p *jsonParser) escape() bool {
	if p.i+1 >= len(p.s) {
		p.why = "unterminated string"
		return false
	}
	c := p.s[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		p.buf = append(p.buf, c)
	case 'b':
		p.buf = append(p.buf, '\b')
	case 'f':
		p.buf = append(p.buf, '\f')
	case 'n':
		p.buf = append(p.buf, '\n')
	case 'r':
		p.buf = append(p.buf, '\r')
	case 't':
		p.buf = append(p.buf, '\t')
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return false
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || !p.lit(`\u`) {
				p.why = "lone surrogate escape"
				return false
			}
			r2, ok := p.hex4()
			if !ok {
				return false
			}
			if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
				p.why = "lone surrogate escape"
				return false
			}
		}
		p.buf = utf8.AppendRune(p.buf, r)
	default:
		p.why = "invalid escape"
		return false
	}
	return true
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		p.why = "invalid \\u escape"
		return 0, false
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		h := unhex(c)
		if h < 0 {
			p.why = "invalid \\u escape"
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	p.i += 4
	return r, true
}
