package authschema_test

// One source of truth: the facts of openapi.yaml that hand-written code and scripts
// hold are pinned to it here, each test naming the place that disagrees. (The rest is
// generated from it: generated/schema.gen.go, and CI fails when `go generate` changes
// anything.)

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	authschema "github.com/iqm-finland/authschema"
	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(authschema.Spec())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// TestEmbeddedSpecIsTheFile: authschema.Spec is openapi.yaml, byte for byte.
func TestEmbeddedSpecIsTheFile(t *testing.T) {
	file, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != string(authschema.Spec()) {
		t.Error("authschema.Spec() differs from openapi.yaml")
	}
}

// TestPythonModelsFollowSpec: the Python models in the scripts declare AuthRequest's
// fields in the spec's order (which is the order the encoders write and the Python
// client sends). The real iqm-client 17.5's model is checked against the spec by
// interop/python/iqm17.py in CI.
func TestPythonModelsFollowSpec(t *testing.T) {
	var want []string
	for _, f := range generated.AuthRequestFields() {
		want = append(want, f.Wire)
	}
	field := regexp.MustCompile(`^    (\w+): `)
	for _, path := range []string{"api/testdata/gen_vectors.py"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		in := false
		for _, line := range strings.Split(string(data), "\n") {
			switch {
			case strings.HasPrefix(line, "class AuthRequest("):
				in = true
			case in && strings.HasPrefix(line, "class "), in && line != "" && !strings.HasPrefix(line, " "):
				in = false
			case in:
				if m := field.FindStringSubmatch(line); m != nil {
					got = append(got, m[1])
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: class AuthRequest declares %v; openapi.yaml's AuthRequest has %v", path, testsafe.Value(got), want)
		}
	}
}

// TestTokenResponseEncoderFollowsSpec: api.AppendTokenResponse writes every property of
// TokenResponse, with the spec's names, in the spec's order.
func TestTokenResponseEncoderFollowsSpec(t *testing.T) {
	s, n := "x", int64(1)
	full := generated.TokenResponse{AccessToken: generated.NewSecret(s), ExpiresIn: n, RefreshExpiresIn: n, RefreshToken: &s, TokenType: s,
		IDToken: &s, NotBeforePolicy: n, SessionState: &s, Scope: s}
	data := api.EncodeTokenResponse(&full)
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var got []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, f := range generated.TokenResponseFields() {
		want = append(want, f.Wire)
	}
	if !slices.Equal(got, want) {
		t.Errorf("api/tokenresponse.go writes %v; openapi.yaml's TokenResponse has %v", testsafe.Value(got), want)
	}
	// And encoding/json reads it back whole.
	var back generated.TokenResponse
	if err := json.Unmarshal(data, &back); err != nil || back.NotBeforePolicy != 1 || back.Scope != "x" || back.AccessToken.Value() != "x" {
		t.Errorf("round trip: %v %v", back, err)
	}
}

// TestEveryErrorCodeHasASentinel: every value of OAuth2ErrorCode in the spec has its
// sentinel in api, and every sentinel's code is in the spec.
func TestEveryErrorCodeHasASentinel(t *testing.T) {
	doc := loadSpec(t)
	schema := doc.Components.Schemas["OAuth2ErrorCode"]
	if schema == nil || len(schema.Value.Enum) == 0 {
		t.Fatal("openapi.yaml has no OAuth2ErrorCode enum")
	}
	sentinels := []error{api.ErrInvalidRequest, api.ErrInvalidClient, api.ErrInvalidGrant, api.ErrUnauthorizedClient,
		api.ErrUnsupportedGrantType, api.ErrInvalidScope, api.ErrAccessDenied, api.ErrServerError}
	for _, v := range schema.Value.Enum {
		code := v.(string)
		i := slices.IndexFunc(sentinels, func(e error) bool { return e.Error() == code })
		if i < 0 || !errors.Is(&api.OAuthError{Code: code}, sentinels[i]) {
			t.Errorf("api/oauth.go has no sentinel for %q of openapi.yaml's OAuth2ErrorCode", code)
		}
	}
	for _, sentinel := range sentinels {
		if !slices.Contains(schema.Value.Enum, any(sentinel.Error())) {
			t.Errorf("api/oauth.go's %q is not in openapi.yaml's OAuth2ErrorCode", sentinel)
		}
	}
}

// TestGeneratedFactsFollowSpec checks schema.gen.go against the spec as kin-openapi reads
// it (CI also regenerates it and fails on a difference), and validate's names.
func TestGeneratedFactsFollowSpec(t *testing.T) {
	doc := loadSpec(t)
	for name, fields := range map[string][]generated.Field{
		"AuthRequest":   fieldList(generated.AuthRequestFields()),
		"TokenResponse": fieldList(generated.TokenResponseFields()),
		"OAuth2Error":   fieldList(generated.OAuth2ErrorFields()),
	} {
		schema := doc.Components.Schemas[name].Value
		if len(fields) != len(schema.Properties) {
			t.Errorf("generated/schema.gen.go has %d fields of %s, openapi.yaml %d", len(fields), name, len(schema.Properties))
		}
		for _, f := range fields {
			p := schema.Properties[f.Wire]
			switch {
			case p == nil:
				t.Errorf("generated/schema.gen.go: %s.%s is not in openapi.yaml", name, f.Wire)
			case (p.Value.Format == "password") != f.Secret:
				t.Errorf("generated/schema.gen.go: %s.%s secret=%v, openapi.yaml's format is %q", name, f.Wire, f.Secret, p.Value.Format)
			case slices.Contains(schema.Required, f.Wire) != f.Required:
				t.Errorf("generated/schema.gen.go: %s.%s required=%v disagrees with openapi.yaml", name, f.Wire, f.Required)
			}
		}
	}
	for path, statuses := range map[string][]int{generated.RequestTokenPath: generated.RequestTokenStatuses(),
		generated.LogoutPath: generated.LogoutStatuses()} {
		item := doc.Paths.Find(path)
		if item == nil || item.Post == nil {
			t.Errorf("generated/schema.gen.go: no POST %s in openapi.yaml", path)
			continue
		}
		if len(statuses) != item.Post.Responses.Len() {
			t.Errorf("generated/schema.gen.go: %v for %s, openapi.yaml has %d responses", statuses, path, item.Post.Responses.Len())
		}
	}
	names := []string{generated.AuthRequestClientID, generated.AuthRequestGrantType, generated.AuthRequestUsername,
		generated.AuthRequestPassword, generated.AuthRequestRefreshToken}
	for i, f := range generated.AuthRequestFields() {
		if names[i] != f.Wire {
			t.Errorf("generated's wire name %d is %q, openapi.yaml's %q", i, names[i], f.Wire)
		}
	}
	grants := doc.Components.Schemas["GrantType"].Value.Enum
	if !slices.Equal(grants, []any{string(generated.GrantTypePassword), string(generated.GrantTypeRefreshToken)}) {
		t.Errorf("GrantType: openapi.yaml has %v", grants)
	}
}

func fieldList[A ~[3]generated.Field | ~[5]generated.Field | ~[9]generated.Field](a A) []generated.Field {
	var out []generated.Field
	for i := range len(a) {
		out = append(out, a[i])
	}
	return out
}
