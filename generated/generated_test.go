package generated_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/generated/spec"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

func TestSpecValidates(t *testing.T) {
	doc, err := spec.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("embedded spec: %v", err)
	}
	loader := openapi3.NewLoader()
	file, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	ar := file.Components.Schemas["AuthRequest"].Value
	for _, p := range []string{"client_id", "grant_type", "username", "password", "refresh_token"} {
		if ar.Properties[p] == nil {
			t.Errorf("AuthRequest lacks %s", p)
		}
	}
	if len(ar.Properties) != 5 || len(ar.Required) != 1 || ar.Required[0] != "client_id" {
		t.Errorf("AuthRequest: %d properties, required %v", len(ar.Properties), ar.Required)
	}
	gt := file.Components.Schemas["GrantType"].Value
	if len(gt.Enum) != 2 || gt.Enum[0] != "password" || gt.Enum[1] != "refresh_token" {
		t.Errorf("GrantType enum %v", gt.Enum)
	}
	for _, op := range []struct{ path, id string }{
		{"/realms/{realm}/protocol/openid-connect/token", "requestToken"},
		{"/realms/{realm}/protocol/openid-connect/logout", "logout"},
	} {
		item := file.Paths.Find(op.path)
		if item == nil || item.Post == nil || item.Post.OperationID != op.id {
			t.Errorf("%s: missing POST %s", op.path, op.id)
			continue
		}
		if item.Post.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") == nil {
			t.Errorf("%s: no form body", op.path)
		}
	}
}

const canaryPassword = "CANARY-PASSWORD-7f3a"

func ptr[T any](v T) *T { return &v }

func TestRedactedViews(t *testing.T) {
	req := generated.AuthRequest{ClientID: "iqm_client", GrantType: ptr(generated.GrantTypePassword),
		Username: ptr("alice"), Password: ptr(canaryPassword)}
	for format, want := range map[string]string{
		"%v":  `AuthRequest{client_id:"iqm_client" grant_type:"password" username:"alice" password:[REDACTED]}`,
		"%#v": `generated.AuthRequest{ClientID:"iqm_client", GrantType:"password", Username:"alice", Password:[REDACTED]}`,
	} {
		if got := fmt.Sprintf(format, req); got != want {
			t.Errorf("%s: %s\nwant %s", format, testsafe.Text(got), want)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("login", "req", req)
	want := `{"level":"INFO","msg":"login","req":{"client_id":"iqm_client","grant_type":"password","username":"alice","password":"[REDACTED]"}}` + "\n"
	if buf.String() != want {
		t.Errorf("slog: %s", buf.String())
	}
	// The wire encoding keeps the real value.
	if b, _ := json.Marshal(req); !strings.Contains(string(b), canaryPassword) {
		t.Errorf("json.Marshal lost the password: %s", testsafe.Text(string(b)))
	}
}

// TestSecretWire: a Secret is a plain JSON string on the wire (TokenResponse's
// access_token), null and absent leave it empty, another JSON type is an error, and it
// prints redacted.
func TestSecretWire(t *testing.T) {
	const canary = "CANARY-ACCESS-e2d4"
	tr := generated.TokenResponse{AccessToken: generated.NewSecret(canary), ExpiresIn: 300, TokenType: "Bearer", Scope: "email"}
	b, err := json.Marshal(tr)
	if err != nil || !strings.Contains(string(b), `"access_token":"`+canary+`"`) {
		t.Fatalf("json.Marshal: %s %v", testsafe.Text(string(b)), err)
	}
	var back generated.TokenResponse
	if err := json.Unmarshal(b, &back); err != nil || back.AccessToken.Value() != canary {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	for _, body := range []string{`{"access_token":null}`, `{}`} {
		var r generated.TokenResponse
		if err := json.Unmarshal([]byte(body), &r); err != nil || r.AccessToken.Value() != "" {
			t.Errorf("%s: %v", testsafe.Text(body), err)
		}
	}
	var r generated.TokenResponse
	if err := json.Unmarshal([]byte(`{"access_token":42}`), &r); err == nil {
		t.Error("a number was taken as an access token")
	}
	for _, got := range []string{fmt.Sprint(tr.AccessToken), fmt.Sprintf("%#v", tr.AccessToken), fmt.Sprintf("%p", tr), fmt.Sprintf("%+v", tr)} {
		if strings.Contains(got, canary) {
			t.Errorf("printed the secret: %s", testsafe.Text(got))
		}
	}
	if got := fmt.Sprint(generated.Secret{}); got != "<none>" {
		t.Errorf("empty secret prints %q", testsafe.Text(got))
	}
}

// TestAuthRequestIndex: the generated switch finds every property at its index in
// AuthRequestFields, and nothing else.
func TestAuthRequestIndex(t *testing.T) {
	for i, f := range generated.AuthRequestFields() {
		// api's form decoder looks a raw key up before unescaping it, which is right
		// only while no name holds a byte that form encoding escapes.
		if strings.Trim(f.Wire, "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Errorf("AuthRequest property %q is not [a-z_]", f.Wire)
		}
		if got := generated.AuthRequestIndex([]byte(f.Wire)); got != i {
			t.Errorf("AuthRequestIndex(%q) = %d, want %d", f.Wire, got, i)
		}
	}
	for _, k := range []string{"", "scope", "Client_id", "client_id ", "password\x00"} {
		if got := generated.AuthRequestIndex([]byte(k)); got != -1 {
			t.Errorf("AuthRequestIndex(%q) = %d", k, got)
		}
	}
}

// TestEveryComponentHasAGoType: a service whose own spec refers to a schema, parameter
// or response of openapi.yaml ($ref: authschema.yaml#/components/...) and maps it to
// this package with oapi-codegen's import-mapping gets code that names the component's
// Go type here, so every component needs one, the aliases nothing in this module uses
// included (see doc.go).
func TestEveryComponentHasAGoType(t *testing.T) {
	file, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					types[s.(*ast.TypeSpec).Name.Name] = true
				}
			}
		}
	}
	var names []string
	for kind, m := range map[string][]string{
		"schemas":    slices.Collect(maps.Keys(file.Components.Schemas)),
		"parameters": slices.Collect(maps.Keys(file.Components.Parameters)),
		"responses":  slices.Collect(maps.Keys(file.Components.Responses)),
	} {
		for _, name := range m {
			names = append(names, kind+"/"+name)
			if !types[name] {
				t.Errorf("components/%s/%s of openapi.yaml has no Go type in package generated", kind, name)
			}
		}
	}
	if len(names) < 15 {
		t.Errorf("only %d components: %v", len(names), names)
	}
}
