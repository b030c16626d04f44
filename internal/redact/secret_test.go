package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

const canary = "CANARY-SECRET-3e1f"

// plain is what Secret must not be: a named string type with redacting methods. fmt
// calls no method on an unexported field, so it prints the text there.
type plain string

func (plain) String() string               { return Marker }
func (plain) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, Marker) }
func (plain) LogValue() slog.Value         { return slog.StringValue(Marker) }
func (plain) MarshalText() ([]byte, error) { return []byte(Marker), nil }
func (p plain) GoString() string           { return p.String() }

type (
	exported struct {
		User   string
		Secret Secret
	}
	unexported struct {
		user   string
		secret Secret
	}
	nested struct {
		Inner  exported
		inner  unexported
		ptr    *unexported
		Ptr    *exported
		list   []Secret
		List   []Secret
		byName map[string]Secret
		ByKey  map[Secret]string
		any    any
		Any    any
		arr    [2]Secret
	}
	leaky struct {
		user   string
		secret plain
	}
	leakyBytes struct {
		body *[]byte
	}
)

// secretError is an error that holds a secret, as a careless one would.
type secretError struct {
	Op       string
	password Secret
	Password Secret
}

func (e *secretError) Error() string { return fmt.Sprintf("%s: %+v", e.Op, *e) }

// samples are values holding the canary in every place a Secret can sit.
func samples() map[string]any {
	s := New(canary)
	u := unexported{"alice", s}
	e := exported{"alice", s}
	return map[string]any{
		"Secret":           s,
		"*Secret":          &s,
		"exported field":   e,
		"unexported field": u,
		"*unexported":      &u,
		"slice":            []Secret{s, s},
		"map value":        map[string]Secret{"k": s},
		"map key":          map[Secret]int{s: 1},
		"slice of structs": []unexported{u, u},
		"map of structs":   map[string]unexported{"k": u},
		"any":              []any{s, u},
		"nested": nested{Inner: e, inner: u, ptr: &u, Ptr: &e, list: []Secret{s}, List: []Secret{s},
			byName: map[string]Secret{"k": s}, ByKey: map[Secret]string{s: "v"}, any: s, Any: u, arr: [2]Secret{s, s}},
		"*nested":      &nested{inner: u, ptr: &u, any: &u, Any: &s},
		"error":        &secretError{Op: "login", password: s, Password: s},
		"wrapped":      fmt.Errorf("login alice: %w", &secretError{Op: "login", password: s, Password: s}),
		"errorf":       fmt.Errorf("login with %v, %s, %q, %+v: %w", s, s, s, u, io.EOF),
		"joined error": errors.Join(errors.New("first"), &secretError{Op: "x", password: s}),
	}
}

var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p", "%t", "%o", "%b", "%e", "%U", "%c",
	"%10v", "%-12s", "%.3v", "%08x", "%+q", "%#q", "%# x", "%[1]v %[1]s"}

// printed is everything fmt, log/slog (text and JSON) and encoding/json make of v.
func printed(v any) string {
	var out strings.Builder
	for _, verb := range verbs {
		fmt.Fprintf(&out, verb+"\n", v)
	}
	fmt.Fprint(&out, v, "\n")
	fmt.Fprintln(&out, v)
	if err, ok := v.(error); ok {
		fmt.Fprintln(&out, err.Error())
	}
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		slog.New(h(&out)).Info("msg", "value", v, slog.Any("any", v), slog.Group("g", "nested", v))
	}
	data, err := json.Marshal(v)
	fmt.Fprintf(&out, "%s %v\n", data, err)
	return out.String()
}

// shows tells whether out holds the canary raw, in hex (either case) or as bytes.
func shows(out string) bool {
	for _, enc := range []string{canary, fmt.Sprintf("%x", canary), fmt.Sprintf("%X", canary),
		fmt.Sprintf("% x", canary), strings.Trim(fmt.Sprint([]byte(canary)), "[]"), fmt.Sprintf("%o", []byte(canary))[1:20]} {
		if strings.Contains(out, enc) {
			return true
		}
	}
	return false
}

func TestSecretNeverPrinted(t *testing.T) {
	for name, v := range samples() {
		out := printed(v)
		if shows(out) {
			t.Errorf("%s: the secret shows:\n%s", name, strings.ReplaceAll(out, canary, "<CANARY>"))
		}
		if !strings.Contains(out, Marker) && !strings.Contains(out, "0x") {
			t.Errorf("%s: neither the marker nor an address in:\n%s", name, out)
		}
	}
}

// TestPlainStringTypeLeaks proves that the canary check can fail: a string type with
// every redacting method still shows its text in an unexported field and under %p
// (fmt's error path calls no method), and so does a pointer to bytes in an unexported
// field (under %s), where Secret does not.
func TestPlainStringTypeLeaks(t *testing.T) {
	if out := printed(leaky{"alice", plain(canary)}); !shows(out) {
		t.Fatalf("a plain string type in an unexported field did not show the canary:\n%s", out)
	}
	body := []byte(canary)
	if out := printed(leakyBytes{&body}); !shows(out) {
		t.Fatalf("a pointer to bytes in an unexported field did not show the canary:\n%s", out)
	}
	if out := fmt.Sprintf("%p", plain(canary)); !shows(out) {
		t.Fatalf("%%p, fmt's error path, did not show the canary of a plain string type: %s", out)
	}
}

func TestSecretForms(t *testing.T) {
	s := New(canary)
	for _, tt := range []struct{ format, want string }{
		{"%v", Marker}, {"%s", Marker}, {"%#v", Marker}, {"%+v", Marker}, {"%q", `"[REDACTED]"`},
		{"%x", Marker}, {"%d", Marker}, {"%12v", "  " + Marker}, {"%-12s|", Marker + "  |"},
		{"%+v", Marker},
	} {
		if got := fmt.Sprintf(tt.format, s); got != tt.want {
			t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
	if got := fmt.Sprint(Secret{}, New("")); got != "<none> <none>" {
		t.Errorf("empty secrets print %q", got)
	}
	if got := fmt.Sprintf("%+v", exported{"alice", s}); got != "{User:alice Secret:[REDACTED]}" {
		t.Errorf("exported field: %q", got)
	}
	if got := fmt.Sprintf("%+v", unexported{"alice", s}); !strings.HasPrefix(got, "{user:alice secret:{redacted:0x") {
		t.Errorf("unexported field: %q, want an address", got)
	}
	if got := fmt.Sprintf("%+v", unexported{"alice", Secret{}}); got != "{user:alice secret:{redacted:<nil>}}" {
		t.Errorf("unexported empty field: %q", got)
	}
	data, err := json.Marshal(map[string]any{"s": s, "e": Secret{}})
	if err != nil || string(data) != `{"e":"","s":"[REDACTED]"}` {
		t.Errorf("json: %s, %v", data, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "s", s)
	if !strings.Contains(buf.String(), `"s":"[REDACTED]"`) {
		t.Errorf("slog: %s", buf.String())
	}
}

func TestSecretReveal(t *testing.T) {
	s := New(canary)
	if s.Reveal() != canary || s.IsZero() {
		t.Errorf("Reveal: %v %v", s.Reveal() == canary, s.IsZero())
	}
	if (Secret{}).Reveal() != "" || !(Secret{}).IsZero() || New("") != (Secret{}) {
		t.Error("the empty Secret")
	}
	var into struct{ S Secret }
	if err := json.Unmarshal([]byte(`{"S":"[REDACTED]"}`), &into); err == nil {
		t.Errorf("a redacted form decoded into a Secret: %q", into.S.Reveal())
	}
}
