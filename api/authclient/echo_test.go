package authclient

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// percentAll escapes every byte of s, in upper- or lower-case hex.
func percentAll(s string, lower bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if lower {
			fmt.Fprintf(&b, "%%%02x", s[i])
		} else {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
	}
	return b.String()
}

// shows finds in text a run of minRun bytes of echo, in any case, or "".
func shows(text, echo string) string {
	lt, le := strings.ToLower(text), strings.ToLower(echo)
	if len(le) < minRun {
		if strings.Contains(lt, le) {
			return echo
		}
		return ""
	}
	for i := 0; i+minRun <= len(le); i++ {
		if strings.Contains(lt, le[i:i+minRun]) {
			return le[i : i+minRun]
		}
	}
	return ""
}

// TestScrubOtherEchoes: the echoes the second review found readable (url.PathEscape,
// upper- or lower-cased, base64) and any percent-encoding of a run of 8 or more bytes
// are removed, and the text around them is kept.
func TestScrubOtherEchoes(t *testing.T) {
	const pw = `Echo pw <&> "é" 9f3k2m7xQ/+=`
	b64 := func(enc *base64.Encoding, s string) string { return enc.EncodeToString([]byte(s)) }
	// echo must not show; text holds it (when it is part of a longer encoded text).
	for _, tt := range []struct{ name, echo, text string }{
		{"PathEscape", url.PathEscape(pw), ""},
		{"PathEscape lower hex", lowerHex(url.PathEscape(pw)), ""},
		{"QueryEscape lower hex", lowerHex(url.QueryEscape(pw)), ""},
		{"upper-cased", strings.ToUpper(pw), ""},
		{"lower-cased", strings.ToLower(pw), ""},
		{"upper-cased, percent-encoded", strings.ToUpper(url.QueryEscape(pw)), ""},
		{"base64 std", b64(base64.StdEncoding, pw), ""},
		{"base64 std, no padding", b64(base64.RawStdEncoding, pw), ""},
		{"base64 url", b64(base64.URLEncoding, pw), ""},
		{"base64 url, no padding", b64(base64.RawURLEncoding, pw), ""},
		{"base64 of user:password", b64(base64.StdEncoding, "alice:"+pw)[8:], b64(base64.StdEncoding, "alice:"+pw)},
		{"base64 of ab:password", b64(base64.URLEncoding, "ab:"+pw)[4:], b64(base64.URLEncoding, "ab:"+pw)},
		{"base64 of b:password", b64(base64.RawStdEncoding, "b:"+pw)[3:], b64(base64.RawStdEncoding, "b:"+pw)},
		{"every byte escaped", percentAll(pw, false), ""},
		{"every byte escaped, lower hex", percentAll(pw, true), ""},
		{"a run of 8, escaped", percentAll("k2m7xQ/+", true), ""},
		{"a run of 8, partly escaped", "3k%32m%37xQ/%2B", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := "before " + tt.echo + " after"
			if tt.text != "" {
				text = "before " + tt.text + " after"
			}
			out := clean([]byte(text), []string{pw}, 1<<20)
			if l := shows(out, tt.echo); l != "" {
				t.Errorf("shows %q of the echo: %q", l, testsafe.Text(out))
			}
			if dec, err := url.PathUnescape(out); err == nil {
				if l := shows(dec, pw); l != "" {
					t.Errorf("shows %q of the password once decoded: %q", l, testsafe.Text(out))
				}
			}
			if !strings.HasPrefix(out, "before ") || !strings.HasSuffix(out, " after") || !strings.Contains(out, "[REDACTED]") {
				t.Errorf("text around the echo not kept, or no marker: %q", testsafe.Text(out))
			}
		})
	}
}

// TestScrubKeepsUnrelatedText: text with no run of the secret is not touched, in
// any case or encoding.
func TestScrubKeepsUnrelatedText(t *testing.T) {
	const pw = "correct horse battery"
	for _, text := range []string{
		"Invalid user credentials",
		"%41%42%43 %zz %4 % +++ ===",
		base64.StdEncoding.EncodeToString([]byte("unrelated text here")),
		"CORRECT",
	} {
		if out := clean([]byte(text), []string{pw}, 1<<20); out != text {
			t.Errorf("%q became %q", testsafe.Text(text), testsafe.Text(out))
		}
	}
}

func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLowerASCII(b[i+1]), toLowerASCII(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// TestScrubPathEscapeOfMixedPassword: url.PathEscape leaves & : @ + $ = readable
// between the escapes of non-ASCII letters and spaces, so its runs match neither the
// raw password nor the form encodings; they are removed too.
func TestScrubPathEscapeOfMixedPassword(t *testing.T) {
	const pw = "pä&ö:ü@é+ß$ñ=å ø"
	for _, echo := range []string{url.PathEscape(pw), lowerHex(url.PathEscape(pw)), strings.ToUpper(url.PathEscape(pw))} {
		out := clean([]byte("path /"+echo+"/ not found"), []string{pw}, 1<<20)
		if l := shows(out, echo); l != "" {
			t.Errorf("shows %q of %q: %q", l, echo, testsafe.Text(out))
		}
	}
}
