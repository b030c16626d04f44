package authschema_test

// validate's rules are openapi.yaml's per-kind request schemas: here a schema
// validator (kin-openapi) and validate.Check judge the same table of requests, and
// must agree both ways, down to the fields they blame.

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/validate"
)

// wireCell is one value a property takes in a test request.
type wireCell struct {
	name  string
	set   bool
	value string
}

var (
	cellAbsent = wireCell{name: "absent"}
	cellEmpty  = wireCell{name: "empty", set: true}
)

// propertyCells lists the values tried for each AuthRequest property, in the spec's
// order: absent, empty, and the good and wrong values of each.
func propertyCells() [5][]wireCell {
	return [5][]wireCell{
		{cellAbsent, cellEmpty, {"iqm_client", true, "iqm_client"}},
		{cellAbsent, cellEmpty, {"password", true, "password"}, {"refresh_token", true, "refresh_token"}, {"client_credentials", true, "client_credentials"}},
		{cellAbsent, cellEmpty, {"alice", true, "alice"}},
		{cellAbsent, cellEmpty, {"CANARY-PASSWORD", true, "CANARY-PASSWORD"}},
		{cellAbsent, cellEmpty, {"CANARY-REFRESH", true, "CANARY-REFRESH"}},
	}
}

// eachRequest calls f with every combination of the cells: the request as the wire
// carries it (a JSON object) and as the Go model holds it.
func eachRequest(f func(name string, wire map[string]any, r generated.AuthRequest)) {
	cells := propertyCells()
	fields := generated.AuthRequestFields()
	var pick [5]int
	for {
		wire := map[string]any{}
		var r generated.AuthRequest
		var names []string
		for i := range pick {
			c := cells[i][pick[i]]
			names = append(names, fields[i].Wire+"="+c.name)
			if c.set {
				wire[fields[i].Wire] = c.value
				v := c.value
				r.SetWireValue(i, &v)
			}
		}
		f(strings.Join(names, ","), wire, r)
		i := len(pick) - 1
		for ; i >= 0; i-- {
			if pick[i]++; pick[i] < len(cells[i]) {
				break
			}
			pick[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// propertyInReason finds the property a kin-openapi error names in its reason.
var propertyInReason = regexp.MustCompile(`property "([^"]+)"`)

// blamed lists the properties a schema validator's error names, sorted.
func blamed(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			if p := e.JSONPointer(); len(p) > 0 {
				out = append(out, p[0])
			} else if m := propertyInReason.FindStringSubmatch(e.Reason); m != nil {
				out = append(out, m[1])
			} else {
				t.Fatalf("a schema error that names no property: %v", e)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	}
	walk(err)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestValidateAgreesWithSchemas: for each kind, openapi.yaml's schema (through
// kin-openapi) accepts exactly the requests validate.Check accepts, and on a refusal
// both blame the same properties.
func TestValidateAgreesWithSchemas(t *testing.T) {
	doc := loadSpec(t)
	kinds := []struct {
		schema string
		kind   validate.Kind
	}{
		{"PasswordRequest", validate.KindPassword},
		{"RefreshRequest", validate.KindRefresh},
		{"LogoutRequest", validate.KindLogout},
	}
	for _, k := range kinds {
		schema := doc.Components.Schemas[k.schema]
		if schema == nil {
			t.Fatalf("openapi.yaml has no schema %s", k.schema)
		}
		accepted, n := 0, 0
		eachRequest(func(name string, wire map[string]any, r generated.AuthRequest) {
			n++
			schemaErr := schema.Value.VisitJSON(wire, openapi3.MultiErrors())
			err := validate.Check(k.kind, r)
			if (schemaErr == nil) != (err == nil) {
				t.Errorf("%s %s: openapi.yaml says %v, validate.Check(%v) says %v", k.schema, name, schemaErr, k.kind, err)
				return
			}
			if err == nil {
				accepted++
				return
			}
			var fields []string
			for _, fe := range err.(*validate.Error).Fields {
				fields = append(fields, fe.Field)
			}
			slices.Sort(fields)
			if got := blamed(t, schemaErr); !slices.Equal(got, fields) {
				t.Errorf("%s %s: openapi.yaml blames %v (%v), validate.Check(%v) blames %v (%v)", k.schema, name, testsafe.Value(got), schemaErr, k.kind, fields, err)
			}
		})
		if accepted != 1 || n != 3*5*3*3*3 {
			t.Errorf("%s: %d of %d requests accepted, want 1 of %d", k.schema, accepted, n, 3*5*3*3*3)
		}
	}
}

// TestOperationsTakeTheKinds: the token operation's body (TokenRequest, a oneOf with a
// discriminator on grant_type) accepts exactly the requests validate.Request accepts as
// a password or a refresh request, and the logout operation's body exactly those it
// accepts as a logout.
func TestOperationsTakeTheKinds(t *testing.T) {
	doc := loadSpec(t)
	body := func(path string) *openapi3.Schema {
		op := doc.Paths.Find(path).Post
		return op.RequestBody.Value.Content["application/x-www-form-urlencoded"].Schema.Value
	}
	token, logout := body(generated.RequestTokenPath), body(generated.LogoutPath)
	n := 0
	eachRequest(func(name string, wire map[string]any, r generated.AuthRequest) {
		n++
		kind, err := validate.Request(r)
		okToken := err == nil && (kind == validate.KindPassword || kind == validate.KindRefresh)
		okLogout := err == nil && kind == validate.KindLogout
		if e := token.VisitJSON(wire); (e == nil) != okToken {
			t.Errorf("token %s: openapi.yaml says %v, validate.Request says %v %v", name, e, kind, err)
		}
		if e := logout.VisitJSON(wire); (e == nil) != okLogout {
			t.Errorf("logout %s: openapi.yaml says %v, validate.Request says %v %v", name, e, kind, err)
		}
	})
	if n == 0 {
		t.Fatal("no requests")
	}
}

// TestKindSchemasAreAuthRequests: each per-kind schema is a closed object whose
// properties are AuthRequest's, with the same format (a secret stays a secret).
func TestKindSchemasAreAuthRequests(t *testing.T) {
	doc := loadSpec(t)
	auth := doc.Components.Schemas["AuthRequest"].Value
	for _, name := range []string{"PasswordRequest", "RefreshRequest", "LogoutRequest"} {
		s := doc.Components.Schemas[name].Value
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: additionalProperties is not false", name)
		}
		for prop, p := range s.Properties {
			a := auth.Properties[prop]
			switch {
			case a == nil:
				t.Errorf("%s.%s is not an AuthRequest property", name, prop)
			case a.Value.Format != p.Value.Format:
				t.Errorf("%s.%s has format %q, AuthRequest's %q", name, prop, p.Value.Format, a.Value.Format)
			}
		}
	}
}

// TestKinOpenAPIDecodesTheForms: a service that checks requests against openapi.yaml
// with kin-openapi's request validator (openapi3filter, whose form decoder needs a
// `type: object` body schema) gets the same verdict as validate on form bodies of
// every kind, at both endpoints. One limit of kin-openapi is left out: its form
// decoder builds the object from the keys the schema declares and drops the others,
// so additionalProperties: false never sees them (logout with a grant_type passes
// it); such bodies are not compared at that endpoint.
func TestKinOpenAPIDecodesTheForms(t *testing.T) {
	doc := loadSpec(t)
	doc.Servers = nil // match any host
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{
		"client_id=iqm_client&grant_type=password&username=alice&password=CANARY-PASSWORD",
		"client_id=iqm_client&grant_type=refresh_token&refresh_token=CANARY-REFRESH",
		"client_id=iqm_client&refresh_token=CANARY-REFRESH",
		"client_id=iqm_client&grant_type=refresh_token&username=alice&refresh_token=CANARY-REFRESH",
		"client_id=iqm_client&grant_type=password&username=alice",
		"client_id=&grant_type=password&username=alice&password=CANARY-PASSWORD",
		"client_id=iqm_client&grant_type=client_credentials",
		"client_id=iqm_client&grant_type=password&refresh_token=CANARY-REFRESH",
		"client_id=iqm_client",
	}
	for _, body := range bodies {
		_, kind, verr := api.DecodeFormRequest([]byte(body))
		for _, path := range []string{generated.RequestTokenPath, generated.LogoutPath} {
			url := "http://127.0.0.1" + strings.Replace(path, "{realm}", "cortex", 1)
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			if undeclared(t, route.Operation.RequestBody.Value.Content["application/x-www-form-urlencoded"].Schema.Value, body) {
				continue
			}
			err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route})
			if err != nil && strings.Contains(err.Error(), "unsupported schema") {
				t.Fatalf("%s: kin-openapi cannot decode the body: %v", path, err)
			}
			want := verr == nil && (kind == validate.KindLogout) == (path == generated.LogoutPath)
			if (err == nil) != want {
				t.Errorf("%s %q: kin-openapi says %v, validate says %v %v", path, testsafe.Text(body), err, kind, verr)
			}
		}
	}
}

// undeclared tells whether a form body has a key that neither the schema nor any of
// its oneOf members declares.
func undeclared(t *testing.T, s *openapi3.Schema, body string) bool {
	t.Helper()
	declared := map[string]bool{}
	for _, m := range append([]*openapi3.SchemaRef{{Value: s}}, s.OneOf...) {
		for name := range m.Value.Properties {
			declared[name] = true
		}
	}
	for _, kv := range strings.Split(body, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if !declared[k] {
			return true
		}
	}
	return false
}
