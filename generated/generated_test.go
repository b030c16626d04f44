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
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/iqm-finland/authschema/generated"
)

func TestSpecValidates(t *testing.T) {
	spec, err := generated.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(context.Background()); err != nil {
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

const (
	canaryPassword = "CANARY-PASSWORD-7f3a"
	canaryRefresh  = "CANARY-REFRESH-91bc"
	canaryAccess   = "CANARY-ACCESS-e2d4"
	canaryID       = "CANARY-IDTOKEN-5a6b"
)

var canaries = []string{canaryPassword, canaryRefresh, canaryAccess, canaryID}

func ptr[T any](v T) *T { return &v }

func secretValues() map[string]any {
	req := generated.AuthRequest{ClientID: "iqm_client", GrantType: ptr(generated.GrantTypePassword),
		Username: ptr("alice"), Password: ptr(canaryPassword), RefreshToken: ptr(canaryRefresh)}
	tok := generated.TokenResponse{AccessToken: ptr(canaryAccess), RefreshToken: ptr(canaryRefresh), IDToken: ptr(canaryID),
		ExpiresIn: ptr(int64(300)), TokenType: ptr("Bearer"), Scope: ptr("openid")}
	body, _ := json.Marshal(tok)
	return map[string]any{
		"AuthRequest":                     req,
		"*AuthRequest":                    &req,
		"LogoutFormdataRequestBody":       generated.LogoutFormdataRequestBody(req),
		"RequestTokenFormdataRequestBody": generated.RequestTokenFormdataRequestBody(req),
		"TokenResponse":                   tok,
		"*TokenResponse":                  &tok,
		"RequestToken200JSONResponse":     generated.RequestToken200JSONResponse(tok),
		"RequestTokenResponse": generated.RequestTokenResponse{Body: body, JSON200: &tok,
			HTTPResponse: &http.Response{StatusCode: 200}},
		"*RequestTokenResponse":                &generated.RequestTokenResponse{Body: body, JSON200: &tok},
		"RequestTokenRequestObject":            generated.RequestTokenRequestObject{Realm: "cortex", Body: &req},
		"LogoutRequestObject":                  generated.LogoutRequestObject{Realm: "cortex", Body: &req},
		"container []AuthRequest":              []generated.AuthRequest{req},
		"container map[string]TokenResponse":   map[string]generated.TokenResponse{"t": tok},
		"container struct{AuthRequest}":        struct{ R generated.AuthRequest }{req},
		"container struct{*TokenResponse}":     struct{ T *generated.TokenResponse }{&tok},
		"container RequestToken200 in a slice": []generated.RequestToken200JSONResponse{generated.RequestToken200JSONResponse(tok)},
	}
}

// TestSecretsNeverPrinted prints every type that carries a secret with every fmt verb
// and through both slog handlers, and looks for the canary values.
func TestSecretsNeverPrinted(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%-8s", "%t", "%p"}
	for name, v := range secretValues() {
		var out strings.Builder
		for _, verb := range verbs {
			if verb == "%p" && strings.HasPrefix(name, "RequestTokenResponse") {
				// %p on a non-pointer is fmt's error path, which prints the raw fields
				// and calls no method; RequestTokenResponse's Body is a []byte that
				// no type can protect there. Documented in README.md.
				continue
			}
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprint(&out, v)
		fmt.Fprintln(&out, v)
		if s, ok := v.(fmt.Stringer); ok {
			out.WriteString(s.String())
		}
		handlers := []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		}
		if !strings.HasPrefix(name, "container ") {
			// slog's JSON handler hands a container to encoding/json, which writes the
			// wire form; values and pointers go through LogValue.
			handlers = append(handlers, func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) })
		}
		for _, h := range handlers {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("msg", "value", v, slog.Any("any", v), slog.Group("g", "nested", v))
			out.Write(buf.Bytes())
		}
		for _, c := range canaries {
			// Hex forms of a canary would leak it too.
			for _, form := range []string{c, fmt.Sprintf("%x", c), fmt.Sprintf("%X", c), fmt.Sprint([]byte(c))[1:20]} {
				if strings.Contains(out.String(), form) {
					t.Errorf("%s: output shows %s:\n%s", name, c, out.String())
				}
			}
		}
		if !strings.Contains(out.String(), generated.Redacted) && !strings.Contains(out.String(), "0x") {
			t.Errorf("%s: no redaction marker in %s", name, out.String())
		}
	}
}

func TestRedactedViews(t *testing.T) {
	req := generated.AuthRequest{ClientID: "iqm_client", GrantType: ptr(generated.GrantTypePassword),
		Username: ptr("alice"), Password: ptr(canaryPassword)}
	for format, want := range map[string]string{
		"%v":  `AuthRequest{client_id:"iqm_client" grant_type:"password" username:"alice" password:[REDACTED]}`,
		"%#v": `generated.AuthRequest{ClientID:"iqm_client", GrantType:"password", Username:"alice", Password:[REDACTED]}`,
	} {
		if got := fmt.Sprintf(format, req); got != want {
			t.Errorf("%s: %s\nwant %s", format, got, want)
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
		t.Errorf("json.Marshal lost the password: %s", b)
	}
}

// TestEveryTypeClassified fails when the generator adds a type that nobody has
// decided about: either it is printed with canaries above, or it holds no secret.
func TestEveryTypeClassified(t *testing.T) {
	noSecrets := map[string]bool{
		"GrantType": true, "OAuth2Error": true, "Realm": true, "RequestEditorFn": true, "HttpRequestDoer": true,
		"Client": true, "ClientOption": true, "ClientInterface": true, "ClientWithResponses": true,
		"ClientWithResponsesInterface": true, "LogoutResponse": true, "ServerInterface": true,
		"ServerInterfaceWrapper": true, "MiddlewareFunc": true, "UnescapedCookieParamError": true,
		"UnmarshalingParamError": true, "RequiredParamError": true, "RequiredHeaderError": true,
		"InvalidParamFormatError": true, "TooManyValuesForParamError": true, "ServeMux": true,
		"StdHTTPServerOptions": true, "OAuth2ErrorJSONResponse": true, "LogoutResponseObject": true,
		"Logout204Response": true, "Logout400JSONResponse": true, "Logout401JSONResponse": true,
		"RequestTokenResponseObject": true, "RequestToken400JSONResponse": true,
		"RequestToken401JSONResponse": true, "StrictServerInterface": true, "StrictHandlerFunc": true,
		"StrictMiddlewareFunc": true, "StrictHTTPServerOptions": true,
	}
	checked := secretValues()
	files, _ := filepath.Glob("*.gen.go")
	if len(files) == 0 {
		t.Fatal("no generated files")
	}
	for _, file := range files {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				name := s.(*ast.TypeSpec).Name.Name
				if !ast.IsExported(name) {
					continue
				}
				if _, ok := checked[name]; !ok && !noSecrets[name] {
					t.Errorf("generated type %s is neither checked for secrets nor listed as holding none", name)
				}
			}
		}
	}
}
