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
// empty), also in an unexported field of a struct and under fmt's %p. It is this
// module's one secret type (internal/redact), whose printing methods it shares, with
// the wire encoding added. The zero value is the empty secret.
//
// Only encoding/json carries the value; other encoders (text, YAML, XML) are not
// supported.
type Secret struct {
	s redact.Secret
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return Secret{redact.New(s)} }

// Value returns the secret text ("" for the zero Secret).
func (s Secret) Value() string { return s.s.Reveal() }

// String is [REDACTED], or <none> when empty.
func (s Secret) String() string { return s.s.String() }

// GoString is String: %#v keeps the secret out too.
func (s Secret) GoString() string { return s.s.GoString() }

// Format keeps the secret out of every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) { s.s.Format(f, verb) }

// LogValue keeps the secret out of log/slog output.
func (s Secret) LogValue() slog.Value { return s.s.LogValue() }

// MarshalJSON writes the secret as a JSON string: the wire carries the real value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.s.Reveal()) }

// UnmarshalJSON reads a JSON string (null leaves the Secret empty).
func (s *Secret) UnmarshalJSON(data []byte) error {
	var v *string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Secret{}
	if v != nil {
		*s = NewSecret(*v)
	}
	return nil
}
