package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// kind is one per-kind request schema that an operation takes, such as
// PasswordRequest: what it says of each AuthRequest property, in AuthRequest's order.
type kind struct {
	schema, operation string
	props             []kindProperty
}

// kindProperty is what a per-kind schema says of one AuthRequest property.
type kindProperty struct {
	property
	allowed  bool   // listed in the kind's properties (additionalProperties: false forbids the rest)
	required bool   // in the kind's required
	nonEmpty bool   // minLength: 1
	value    string // the one value of its enum, or ""
}

// requestKinds reads the request schemas of the operations: a $ref to a schema, or a
// oneOf of $refs, each a closed object whose properties are AuthRequest's.
func requestKinds(doc *yaml.Node, auth []property) ([]kind, error) {
	paths := get(doc, "paths")
	var kinds []kind
	for i := 0; i+1 < len(paths.Content); i += 2 {
		item := paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			op := item.Content[j+1]
			id := get(op, "operationId")
			if id == nil {
				continue
			}
			body := get(get(get(get(op, "requestBody"), "content"), "application/x-www-form-urlencoded"), "schema")
			if body == nil {
				return nil, fmt.Errorf("operation %s: no form request body schema", id.Value)
			}
			names, err := schemaRefs(doc, body)
			if err != nil {
				return nil, fmt.Errorf("operation %s: %w", id.Value, err)
			}
			for _, name := range names {
				k, err := readKind(doc, name, auth)
				if err != nil {
					return nil, fmt.Errorf("operation %s: schema %s: %w", id.Value, name, err)
				}
				k.operation = id.Value
				kinds = append(kinds, k)
			}
		}
	}
	return kinds, nil
}

const schemaPrefix = "#/components/schemas/"

// schemaRefs follows a $ref to a component schema; a oneOf gives each of its $refs.
func schemaRefs(doc *yaml.Node, s *yaml.Node) ([]string, error) {
	ref := get(s, "$ref")
	if ref == nil || !strings.HasPrefix(ref.Value, schemaPrefix) {
		return nil, errors.New("the request body schema is not a $ref to a component schema")
	}
	name := strings.TrimPrefix(ref.Value, schemaPrefix)
	target := get(get(get(doc, "components"), "schemas"), name)
	if target == nil {
		return nil, fmt.Errorf("schema %s is not in components.schemas", name)
	}
	one := get(target, "oneOf")
	if one == nil {
		return []string{name}, nil
	}
	var names []string
	for _, alt := range one.Content {
		r := get(alt, "$ref")
		if r == nil || !strings.HasPrefix(r.Value, schemaPrefix) {
			return nil, fmt.Errorf("schema %s: a oneOf member is not a $ref to a component schema", name)
		}
		names = append(names, strings.TrimPrefix(r.Value, schemaPrefix))
	}
	return names, nil
}

// readKind reads a per-kind schema. It accepts only what the generated checks can
// express: a closed object (additionalProperties: false) whose properties are
// AuthRequest's with the same secrecy, minLength 0 or 1, and at most an enum of one
// value on a required property.
func readKind(doc *yaml.Node, name string, auth []property) (kind, error) {
	s := get(get(get(doc, "components"), "schemas"), name)
	k := kind{schema: name}
	if t := get(s, "type"); t == nil || t.Value != "object" {
		return k, errors.New("not type: object")
	}
	if ap := get(s, "additionalProperties"); ap == nil || ap.Value != "false" {
		return k, errors.New("not additionalProperties: false (the members a kind may not use must be refused)")
	}
	props := get(s, "properties")
	var required []string
	for _, n := range get(s, "required").Content {
		required = append(required, n.Value)
		if get(props, n.Value) == nil {
			return k, fmt.Errorf("required %s is not among its properties", n.Value)
		}
	}
	for i := 0; i+1 < len(props.Content); i += 2 {
		wire := props.Content[i].Value
		if !slices.ContainsFunc(auth, func(p property) bool { return p.wire == wire }) {
			return k, fmt.Errorf("property %s is not an AuthRequest property", wire)
		}
	}
	for _, a := range auth {
		kp := kindProperty{property: a}
		p := get(props, a.wire)
		if p == nil {
			k.props = append(k.props, kp)
			continue
		}
		kp.allowed, kp.required = true, slices.Contains(required, a.wire)
		if (get(p, "format") != nil && get(p, "format").Value == "password") != a.secret {
			return k, fmt.Errorf("property %s: format: password differs from AuthRequest's", a.wire)
		}
		if ml := get(p, "minLength"); ml != nil {
			switch ml.Value {
			case "0":
			case "1":
				kp.nonEmpty = true
			default:
				return k, fmt.Errorf("property %s: minLength %s (only 0 or 1 is supported)", a.wire, ml.Value)
			}
		}
		if e := get(p, "enum"); e != nil {
			if len(e.Content) != 1 || !kp.required {
				return k, fmt.Errorf("property %s: only a required property with an enum of one value is supported", a.wire)
			}
			kp.value = e.Content[0].Value
		}
		if a.goType != "string" && a.goType != "*string" && !(a.goType == "*GrantType" && kp.value != "") {
			return k, fmt.Errorf("property %s: cannot check a %s", a.wire, a.goType)
		}
		if a.goType == "*GrantType" {
			enum := get(get(get(get(doc, "components"), "schemas"), "GrantType"), "enum")
			if enum == nil || !slices.ContainsFunc(enum.Content, func(n *yaml.Node) bool { return n.Value == kp.value }) {
				return k, fmt.Errorf("property %s: %q is not a value of GrantType", a.wire, kp.value)
			}
		}
		k.props = append(k.props, kp)
	}
	return k, nil
}

// renderRules writes validate/rules.gen.go: one method of validate's checker per
// kind, which checks each AuthRequest property as the kind's schema says. It calls
// the checker's methods for what the schemas say today (nonEmptyString, enumValue,
// required, forbidden); a schema that needs another (text: a plain string that may
// be empty; optional: an allowed, not required property) fails to compile until
// validate has it.
func renderRules(kinds []kind) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("// Code generated by github.com/iqm-finland/authschema/tools/specgen from openapi.yaml. DO NOT EDIT.\n\n")
	p("package validate\n\nimport \"github.com/iqm-finland/authschema/generated\"\n\n")
	for _, k := range kinds {
		p("// check%s applies openapi.yaml's %s (a request body of %s) to r:\n", k.schema, k.schema, k.operation)
		p("// every AuthRequest property, in AuthRequest's order.\n")
		p("func (c *checker) check%s(r *generated.AuthRequest) {\n", k.schema)
		for _, f := range k.props {
			field := "generated.AuthRequest" + f.goName
			v := "r." + f.goName
			switch {
			case !f.allowed:
				if f.goType == "string" {
					return nil, fmt.Errorf("%s: the required AuthRequest property %s cannot be forbidden", k.schema, f.wire)
				}
				p("\tc.forbidden(%s, %s != nil) // not in %s\n", field, v, k.schema)
			case f.value != "":
				p("\tc.enumValue(%s, (*string)(%s), %q) // required, enum [%s]\n", field, v, f.value, f.value)
			case f.goType == "string" && f.required && f.nonEmpty:
				p("\tc.nonEmptyString(%s, %s) // required, minLength: 1\n", field, v)
			case f.goType == "string":
				p("\tc.text(%s, %s)\n", field, v)
			case f.required && f.nonEmpty:
				p("\tc.required(%s, %s, true) // required, minLength: 1\n", field, v)
			case f.required:
				p("\tc.required(%s, %s, false) // required\n", field, v)
			default:
				p("\tc.optional(%s, %s)\n", field, v)
			}
		}
		p("}\n\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the rules: %w\n%s", err, b.Bytes())
	}
	return src, nil
}
