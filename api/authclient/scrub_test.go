package authclient

import (
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/redact"
)

// FuzzScrub: whatever the secret and whatever surrounds an echo of it, in any of the
// encodings, the cleaned text holds no run of minRun bytes of any encoding of it
// outside the [REDACTED] markers.
func FuzzScrub(f *testing.F) {
	f.Add(`Echo pw <&> "é" 9f3k2m7xQ`, "password ", " rejected", uint8(0))
	f.Add("abcdefgh", "x\x00", "\x00y", uint8(3))
	f.Add("pass\nword!", "<p>", "</p>", uint8(5))
	f.Add("短いパスワードです", "{\"d\":\"", "\"}", uint8(9))
	f.Fuzz(func(t *testing.T, secret, before, after string, which uint8) {
		if len(secret) < 4 || strings.Contains(secret, "REDACT") {
			return
		}
		forms := secretForms(secret)
		echo := forms[int(which)%len(forms)]
		// A hostile server may also split the echo with control characters.
		if which&0x80 != 0 && len(echo) > 2 {
			echo = echo[:len(echo)/2] + "\x00\r" + echo[len(echo)/2:]
		}
		out := clean([]byte(before+echo+after), []string{secret}, 1<<20)
		for _, piece := range strings.Split(out, "[REDACTED]") {
			for _, form := range forms {
				form = redact.Printable(form)
				if len(form) < minRun {
					if len(form) > 0 && strings.Contains(piece, form) {
						t.Fatalf("secret %q shows whole (%q) in %q", secret, form, out)
					}
					continue
				}
				for i := 0; i+minRun <= len(form); i++ {
					if strings.Contains(piece, form[i:i+minRun]) {
						t.Fatalf("secret %q shows %q in %q", secret, form[i:i+minRun], out)
					}
				}
			}
		}
	})
}
