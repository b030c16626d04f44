package authclient

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/redact"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// FuzzScrub: whatever the secret and whatever surrounds an echo of it, in any of the
// encodings, in any ASCII case (scrub does not fold other letters), with any of its bytes percent-escaped, or base64 inside
// a longer encoded text, the cleaned text holds no run of minRun bytes of any encoding
// of it outside the [REDACTED] markers, and none of the secret once decoded.
func FuzzScrub(f *testing.F) {
	f.Add(`Echo pw <&> "é" 9f3k2m7xQ`, "password ", " rejected", uint8(0), uint8(0))
	f.Add("abcdefgh", "x\x00", "\x00y", uint8(3), uint8(1))
	f.Add("pass\nword!", "<p>", "</p>", uint8(5), uint8(2))
	f.Add("短いパスワードです", "{\"d\":\"", "\"}", uint8(9), uint8(3))
	f.Add("s3cr3t/+pw=xyz", "Basic ", "", uint8(0), uint8(4))
	f.Add("s3cr3t pw&x=1", "?q=", "&", uint8(2), uint8(5))
	f.Fuzz(func(t *testing.T, secret, before, after string, which, how uint8) {
		if len(secret) < 4 || strings.Contains(secret, "REDACT") {
			return
		}
		forms := secretForms(secret)
		echo := forms[int(which)%len(forms)]
		switch how % 8 {
		case 1: // scrub folds ASCII case only
			echo = strings.Map(func(r rune) rune {
				if 'a' <= r && r <= 'z' {
					return r - 'a' + 'A'
				}
				return r
			}, echo)
		case 2:
			echo = asciiLower(echo)
		case 3: // every other byte percent-escaped, in either hex case
			var b strings.Builder
			for i := 0; i < len(secret); i++ {
				switch {
				case i%2 == 0:
					b.WriteByte(secret[i])
				case i%4 == 1:
					b.WriteString("%" + strings.ToUpper(hex2(secret[i])))
				default:
					b.WriteString("%" + hex2(secret[i]))
				}
			}
			echo = b.String()
		case 4: // base64 after a prefix of 1 to 3 bytes (the user name of Basic auth)
			pre := strings.Repeat("u", 1+int(which)%3) + ":"
			echo = base64.StdEncoding.EncodeToString([]byte(pre + secret))
		case 5:
			echo = url.PathEscape(secret)
		}
		// A hostile server may also split the echo with control characters.
		if how&0x80 != 0 && len(echo) > 2 {
			echo = echo[:len(echo)/2] + "\x00\r" + echo[len(echo)/2:]
		}
		out := clean([]byte(before+echo+after), []string{secret}, 1<<20)
		lowerSecret := asciiLower(redact.Printable(secret))
		for _, piece := range strings.Split(out, "[REDACTED]") {
			lp := asciiLower(piece)
			for _, form := range forms {
				form = asciiLower(redact.Printable(form))
				if len(form) < minRun {
					if len(form) > 0 && strings.Contains(lp, form) {
						t.Fatalf("secret %q shows whole (%q) in %q", secret, form, testsafe.Text(out))
					}
					continue
				}
				for i := 0; i+minRun <= len(form); i++ {
					if strings.Contains(lp, form[i:i+minRun]) {
						t.Fatalf("secret %q shows %q in %q", secret, form[i:i+minRun], testsafe.Text(out))
					}
				}
			}
			if dec, err := url.PathUnescape(piece); err == nil {
				dec = asciiLower(dec)
				for i := 0; i+minRun <= len(lowerSecret); i++ {
					if strings.Contains(dec, lowerSecret[i:i+minRun]) {
						t.Fatalf("secret %q shows %q once decoded in %q", secret, lowerSecret[i:i+minRun], testsafe.Text(out))
					}
				}
			}
		}
	})
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
