package tokens

// ValidBearer tells whether token is an RFC 6750 bearer token: one or more of the
// b64token characters (ALPHA, DIGIT, "-", ".", "_", "~", "+", "/") followed by any
// number of "=". Anything else (control characters that would drive a terminal, a
// line break that would forge a header line, spaces, quotes, non-ASCII) is not a
// token that may be printed or sent in an Authorization header. Every token a server
// issues, a tokens file holds or a command prints is checked with it.
func ValidBearer(token string) bool {
	i := 0
	for i < len(token) && isB64TokenChar(token[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(token) && token[i] == '=' {
		i++
	}
	return i == len(token)
}

func isB64TokenChar(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '+', '/':
		return true
	}
	return false
}
