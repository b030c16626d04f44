// Package leaky is a fixture for the secrets guard (secrets_test.go): Config holds a
// password in a plain string and has no redaction, Outer holds a Config by value, and
// Safe does it right.
package leaky

import (
	"fmt"
	"log/slog"
)

type Config struct {
	Server   string
	Password string
}

type Outer struct {
	Name string
	Conf Config
}

type Safe struct {
	User   string
	secret *string
}

func (Safe) Format(f fmt.State, verb rune) { fmt.Fprint(f, "Safe{[REDACTED]}") }
func (Safe) LogValue() slog.Value          { return slog.StringValue("[REDACTED]") }

type noSecret struct{ Name string }
