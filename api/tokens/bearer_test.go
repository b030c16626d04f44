package tokens_test

import (
	"testing"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestValidBearer: only RFC 6750 b64token strings are bearer tokens; control
// characters (a terminal escape, a forged header line) and spaces are not.
func TestValidBearer(t *testing.T) {
	for _, tt := range []struct {
		token string
		ok    bool
	}{
		{jwtWithExp(1799999999), true},
		{"abc", true},
		{"A-Z.a_z~0+9/", true},
		{"abc==", true},
		{"abc=", true},
		{"a", true},
		{"", false},
		{"=", false},
		{"==", false},
		{"ab=c", false},
		{"abc= ", false},
		{"ab c", false},
		{"\x1b]0;owned\a", false},
		{"abc\x1b[2J", false},
		{"abc\r\nX-Forged: 1", false},
		{"abc\n", false},
		{"tök", false},
		{"a,b", false},
		{"a\x00", false},
		{"a\"b", false},
	} {
		if got := tokens.ValidBearer(tt.token); got != tt.ok {
			t.Errorf("ValidBearer(%q) = %v, want %v", tt.token, testsafe.Value(got), tt.ok)
		}
	}
}

func FuzzValidBearer(f *testing.F) {
	f.Add("abc==")
	f.Add("a\x1b[2J")
	f.Fuzz(func(t *testing.T, s string) {
		if !tokens.ValidBearer(s) {
			return
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == '\\' {
				t.Fatalf("%q accepted with byte %#x", testsafe.Text(s), c)
			}
		}
	})
}
