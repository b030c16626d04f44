// Command specgen writes, from openapi.yaml and the models oapi-codegen generated from
// it, the facts that the hand-written code of github.com/iqm-finland/authschema needs
// from the spec, so that none of them is typed twice:
//
//   - the properties of AuthRequest, TokenResponse and OAuth2Error in the spec's order
//     (for AuthRequest, the Python model's declaration order and the encoders' order),
//     with their Go field names and which hold a secret (format: password);
//   - the path and the answered statuses of each operation;
//   - the per-kind request schemas the operations take (PasswordRequest,
//     RefreshRequest, LogoutRequest) as one check method each, for package validate
//     (validate/rules.gen.go);
//   - accessors that read and set AuthRequest's properties by their index, and the
//     field lists of the redacted views (String, GoString, LogValue).
//
// Usage (from go generate, in the tools module):
//
//	specgen -spec ../openapi.yaml -models ../generated/models.gen.go -out ../generated/schema.gen.go -rules ../validate/rules.gen.go
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	spec := flag.String("spec", "openapi.yaml", "the OpenAPI spec")
	models := flag.String("models", "generated/models.gen.go", "the models oapi-codegen generated from it")
	out := flag.String("out", "generated/schema.gen.go", "the file to write")
	rules := flag.String("rules", "validate/rules.gen.go", "the file to write the per-kind rules to (package validate)")
	flag.Parse()
	if err := run(*spec, *models, *out, *rules); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

// property is one property of a schema, from the spec and the model.
type property struct {
	wire, goName, goType string
	secret, required     bool
}

// operation is one operation of the spec.
type operation struct {
	id, path, method string
	statuses         []int
}

func run(specPath, modelsPath, outPath, rulesPath string) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	if len(root.Content) != 1 {
		return fmt.Errorf("%s: not a YAML document", specPath)
	}
	doc := root.Content[0]
	structs, err := modelStructs(modelsPath)
	if err != nil {
		return err
	}
	schemas := map[string][]property{}
	for _, name := range []string{"AuthRequest", "TokenResponse", "OAuth2Error"} {
		props, err := schemaProperties(doc, name, structs[name])
		if err != nil {
			return fmt.Errorf("%s: schema %s: %w", specPath, name, err)
		}
		schemas[name] = props
	}
	ops, err := operations(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	src, err := render(schemas, ops)
	if err != nil {
		return err
	}
	kinds, err := requestKinds(doc, schemas["AuthRequest"])
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	rules, err := renderRules(kinds)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, src, 0o644); err != nil {
		return err
	}
	return os.WriteFile(rulesPath, rules, 0o644)
}

// get returns the value of key in a YAML mapping, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// schemaProperties reads a schema's properties in order and matches each with the
// field of the generated struct that carries its JSON name.
func schemaProperties(doc *yaml.Node, name string, fields map[string][2]string) ([]property, error) {
	schema := get(get(get(doc, "components"), "schemas"), name)
	if schema == nil {
		return nil, errors.New("not in components.schemas")
	}
	if fields == nil {
		return nil, errors.New("no struct generated for it")
	}
	props := get(schema, "properties")
	if props == nil || props.Kind != yaml.MappingNode {
		return nil, errors.New("no properties")
	}
	var required []string
	if r := get(schema, "required"); r != nil {
		for _, n := range r.Content {
			required = append(required, n.Value)
		}
	}
	var out []property
	for i := 0; i+1 < len(props.Content); i += 2 {
		wire, p := props.Content[i].Value, props.Content[i+1]
		f, ok := fields[wire]
		if !ok {
			return nil, fmt.Errorf("property %s has no field in the generated struct", wire)
		}
		secret := false
		if fm := get(p, "format"); fm != nil && fm.Value == "password" {
			secret = true
		}
		out = append(out, property{wire: wire, goName: f[0], goType: f[1], secret: secret, required: slices.Contains(required, wire)})
	}
	if len(out) != len(fields) {
		return nil, fmt.Errorf("%d properties in the spec, %d fields in the generated struct", len(out), len(fields))
	}
	return out, nil
}

// modelStructs reads the generated structs: for each, JSON name -> Go name and type.
func modelStructs(path string) (map[string]map[string][2]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string][2]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, s := range g.Specs {
			ts := s.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			fields := map[string][2]string{}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil || len(fl.Names) != 1 {
					continue
				}
				tag, err := strconv.Unquote(fl.Tag.Value)
				if err != nil {
					return nil, err
				}
				wire, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
				var typ bytes.Buffer
				if err := format.Node(&typ, token.NewFileSet(), fl.Type); err != nil {
					return nil, err
				}
				fields[wire] = [2]string{fl.Names[0].Name, typ.String()}
			}
			out[ts.Name.Name] = fields
		}
	}
	return out, nil
}

// operations reads every operation with its statuses, in the spec's order.
func operations(doc *yaml.Node) ([]operation, error) {
	paths := get(doc, "paths")
	if paths == nil {
		return nil, errors.New("no paths")
	}
	var ops []operation
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			method, op := item.Content[j].Value, item.Content[j+1]
			id := get(op, "operationId")
			if id == nil {
				continue // parameters and the like
			}
			o := operation{id: id.Value, path: path, method: strings.ToUpper(method)}
			resp := get(op, "responses")
			if resp == nil {
				return nil, fmt.Errorf("operation %s: no responses", o.id)
			}
			for k := 0; k+1 < len(resp.Content); k += 2 {
				status, err := strconv.Atoi(resp.Content[k].Value)
				if err != nil {
					return nil, fmt.Errorf("operation %s: response %q is not a status", o.id, resp.Content[k].Value)
				}
				o.statuses = append(o.statuses, status)
			}
			slices.Sort(o.statuses)
			ops = append(ops, o)
		}
	}
	return ops, nil
}

func exported(id string) string { return strings.ToUpper(id[:1]) + id[1:] }

// render writes the Go file.
func render(schemas map[string][]property, ops []operation) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("// Code generated by github.com/iqm-finland/authschema/tools/specgen from openapi.yaml. DO NOT EDIT.\n\n")
	p("package generated\n\n")
	p("// Field is one property of a schema of openapi.yaml.\n")
	p("type Field struct {\n")
	p("\t// Wire is the property's name on the wire, such as \"client_id\".\n\tWire string\n")
	p("\t// Go is the name of the struct field that holds it, such as \"ClientID\".\n\tGo string\n")
	p("\t// Secret is set for a property the spec marks with format: password: its value\n")
	p("\t// is never printed or logged.\n\tSecret bool\n")
	p("\t// Required is set for a property the schema requires.\n\tRequired bool\n}\n\n")

	ar := schemas["AuthRequest"]
	p("// Wire names of the AuthRequest properties.\nconst (\n")
	for _, f := range ar {
		p("\tAuthRequest%s = %q\n", f.goName, f.wire)
	}
	p(")\n\n")
	for _, name := range []string{"AuthRequest", "TokenResponse", "OAuth2Error"} {
		props := schemas[name]
		p("// %sFields returns the properties of %s in the spec's order", name, name)
		if name == "AuthRequest" {
			p(" (the Python\n// model's declaration order, in which the form and JSON encoders write them)")
		}
		p(".\nfunc %sFields() [%d]Field {\n\treturn [%d]Field{\n", name, len(props), len(props))
		for _, f := range props {
			p("\t\t{Wire: %q, Go: %q, Secret: %v, Required: %v},\n", f.wire, f.goName, f.secret, f.required)
		}
		p("\t}\n}\n\n")
	}

	p("// Paths of the operations, with their {parameters}.\nconst (\n")
	for _, o := range ops {
		p("\t%sPath = %q\n", exported(o.id), o.path)
	}
	p(")\n\n")
	for _, o := range ops {
		p("// %sStatuses returns the statuses the spec lists for %s %s.\n", exported(o.id), o.method, o.path)
		p("func %sStatuses() []int { return []int{", exported(o.id))
		for i, s := range o.statuses {
			if i > 0 {
				p(", ")
			}
			p("%d", s)
		}
		p("} }\n\n")
	}

	// AuthRequest by index.
	p("// AuthRequestIndex returns the index of the AuthRequest property whose wire name is\n")
	p("// key, in the spec's order (AuthRequestFields), or -1: a switch, for the decoders.\n")
	p("func AuthRequestIndex(key []byte) int {\n\tswitch string(key) {\n")
	for i, f := range ar {
		p("\tcase %q:\n\t\treturn %d\n", f.wire, i)
	}
	p("\t}\n\treturn -1\n}\n\n")
	// AuthRequest by index.
	p("// WireValues returns the properties of r in the spec's order (AuthRequestFields) as\n")
	p("// strings, and which of them are set.\n")
	p("func (r *AuthRequest) WireValues() (v [%d]string, set [%d]bool) {\n", len(ar), len(ar))
	for i, f := range ar {
		switch {
		case f.goType == "string":
			p("\tv[%d], set[%d] = r.%s, true\n", i, i, f.goName)
		case strings.HasPrefix(f.goType, "*"):
			p("\tif r.%s != nil {\n\t\tv[%d], set[%d] = string(*r.%s), true\n\t}\n", f.goName, i, i, f.goName)
		default:
			return nil, fmt.Errorf("AuthRequest.%s: cannot read a %s as a string", f.goName, f.goType)
		}
	}
	p("\treturn v, set\n}\n\n")
	p("// SetWireValue sets property i (in the spec's order, AuthRequestFields) of r to *v,\n")
	p("// or unsets it when v is nil (a required property becomes \"\"). The property then\n")
	p("// shares v's memory.\n")
	p("func (r *AuthRequest) SetWireValue(i int, v *string) {\n\tswitch i {\n")
	for i, f := range ar {
		p("\tcase %d:\n", i)
		switch {
		case f.goType == "string":
			p("\t\tr.%s = \"\"\n\t\tif v != nil {\n\t\t\tr.%s = *v\n\t\t}\n", f.goName, f.goName)
		default:
			p("\t\tr.%s = (%s)(v)\n", f.goName, f.goType)
		}
	}
	p("\t}\n}\n\n")

	// Redacted views.
	for _, name := range []string{"AuthRequest", "TokenResponse"} {
		recv := map[string]string{"AuthRequest": "r", "TokenResponse": "t"}[name]
		p("// fields lists the properties of %s for its redacted views.\n", recv)
		p("func (%s %s) fields() []field {\n\treturn []field{\n", recv, name)
		for _, f := range schemas[name] {
			switch {
			case f.goType == "string":
				p("\t\t{wire: %q, goName: %q, value: %s.%s, set: true, secret: %v},\n", f.wire, f.goName, recv, f.goName, f.secret)
			case f.goType == "*string":
				p("\t\tstr(%q, %q, %s.%s, %v),\n", f.wire, f.goName, recv, f.goName, f.secret)
			case f.goType == "Secret":
				if !f.secret {
					return nil, fmt.Errorf("%s.%s: a Secret without format: password", name, f.goName)
				}
				p("\t\tsecret(%q, %q, %s.%s),\n", f.wire, f.goName, recv, f.goName)
			case f.goType == "int64":
				if f.secret {
					return nil, fmt.Errorf("%s.%s: a secret number", name, f.goName)
				}
				p("\t\tinteger(%q, %q, %s.%s),\n", f.wire, f.goName, recv, f.goName)
			case f.goType == "*int64":
				if f.secret {
					return nil, fmt.Errorf("%s.%s: a secret number", name, f.goName)
				}
				p("\t\tnum(%q, %q, %s.%s),\n", f.wire, f.goName, recv, f.goName)
			case strings.HasPrefix(f.goType, "*"):
				p("\t\tstr(%q, %q, (*string)(%s.%s), %v),\n", f.wire, f.goName, recv, f.goName, f.secret)
			default:
				return nil, fmt.Errorf("%s.%s: cannot print a %s", name, f.goName, f.goType)
			}
		}
		p("\t}\n}\n\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %w\n%s", err, b.Bytes())
	}
	return src, nil
}
