// Package leaky is a fixture for the secrets guard (secrets_test.go): Config holds
// secrets in types that print them, Outer holds a Config, and Safe does it right.
package leaky

import "github.com/iqm-finland/authschema/internal/redact"

type key string

type Config struct {
	Server    string
	Password  string            // a plain string
	APISecret key               // a named string type
	Tokens    map[string]string // a map of strings
	Token     *string           // exported: encoding/json follows the pointer
	body      *[]byte           `redact:"secret"` // printed with %s
	refresh   *string           // unexported, behind a pointer: printed as an address
}

type Outer struct {
	Name string
	Conf Config
}

type Safe struct {
	User     string
	Password redact.Secret
	held     redact.Secret
}

type noSecret struct{ Name string }
