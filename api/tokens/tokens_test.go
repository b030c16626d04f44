package tokens_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/iqm-finland/authschema/api/tokens"
)

func jwtWithExp(exp int64) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"sub":"x-_?>"}`, exp)))
	return "eyJhbGciOiJIUzI1NiJ9." + payload + ".c2ln"
}

func TestJWTExpiry(t *testing.T) {
	for _, tt := range []struct {
		token string
		ok    bool
		exp   int64
	}{
		{jwtWithExp(1799999999), true, 1799999999},
		{"a." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1.5e9}`)) + ".s", true, 1500000000},
		{"a." + base64.URLEncoding.EncodeToString([]byte(`{"exp":17}`)) + ".s", true, 17},
		{"a." + base64.StdEncoding.EncodeToString([]byte(`{"exp":17,"x":"??>>"}`)) + ".s", false, 0},
		{"a.e30.s", false, 0},
		{"a.bm90IGpzb24.s", false, 0},
		{"no-dots", false, 0},
		{"a.b", false, 0},
		{"a." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":"soon"}`)) + ".s", false, 0},
	} {
		exp, ok := tokens.JWTExpiry(tt.token)
		if ok != tt.ok || (ok && exp.Unix() != tt.exp) {
			t.Errorf("%q: %v %v", tt.token, exp, ok)
		}
	}
}

func FuzzJWTExpiry(f *testing.F) {
	f.Add(jwtWithExp(1799999999))
	f.Add("a.e30.s")
	f.Fuzz(func(t *testing.T, s string) { tokens.JWTExpiry(s) })
}
