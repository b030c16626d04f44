package generated

// This file is written by hand (it is not generated).

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Secret is a secret string that a required property of openapi.yaml holds
// (TokenResponse's access_token, through x-go-type): on the wire (encoding/json) it is
// the plain string, and in every printed or logged form it is [REDACTED] ("<none>" when
// empty). The text sits behind a pointer, so that even fmt's %p on a struct holding a
// Secret, which calls no method and prints the fields raw, shows an address. The zero
// value is the empty secret.
type Secret struct {
	p *string `redact:"secret"`
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return Secret{p: &s} }

// Value returns the secret text ("" for the zero Secret).
func (s Secret) Value() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// String is [REDACTED], or <none> when the secret is empty.
func (s Secret) String() string { return redact.New(s.Value()).String() }

// GoString is String: the Go syntax view is redacted too.
func (s Secret) GoString() string { return s.String() }

// Format keeps the secret out of every fmt verb.
func (s Secret) Format(st fmt.State, verb rune) { redact.Format(st, verb, s.String(), s.GoString()) }

// LogValue keeps the secret out of log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the secret as a JSON string: the wire carries the real value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.Value()) }

// UnmarshalJSON reads a JSON string (null leaves the Secret empty).
func (s *Secret) UnmarshalJSON(data []byte) error {
	var v *string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Secret{p: v}
	return nil
}
