// Package testsafe keeps secrets out of the failure messages of this module's tests:
// a test that prints what a command wrote, a body or a file through Text shows where
// things went wrong without showing a token or a password, also when the very thing
// tested is a leak.
package testsafe

import (
	"fmt"
	"regexp"
)

// Marker stands in for what Text removes.
const Marker = "[REDACTED]"

var (
	// jwt matches a JWT (three base64url parts; the signature may be empty).
	jwt = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
	// canary matches the canary secrets of the tests (CANARY-..., in any case).
	canary = regexp.MustCompile(`(?i)canary[A-Za-z0-9_~.+/=-]*`)
	// member matches the value of a secret form parameter or JSON member.
	member = regexp.MustCompile(`((?:password|refresh_token|access_token|id_token|token)(?:=|"\s*:\s*"|\\"\s*:\s*\\"))[^&"\\\s]*`)
)

// Text is s with every JWT, canary and value of a secret form parameter or JSON member
// (password, refresh_token, access_token, id_token, token) replaced by Marker, and
// with each of secrets too.
func Text(s string, secrets ...string) string {
	s = jwt.ReplaceAllString(s, Marker)
	s = canary.ReplaceAllString(s, Marker)
	s = member.ReplaceAllString(s, "${1}"+Marker)
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = regexp.MustCompile(regexp.QuoteMeta(sec)).ReplaceAllString(s, Marker)
		}
	}
	return s
}

// Value is Text of v printed with %v.
func Value(v any, secrets ...string) string { return Text(fmt.Sprint(v), secrets...) }
