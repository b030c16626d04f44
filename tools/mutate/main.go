// Command mutate writes mutated copies of openapi.yaml, one per kind of contract
// break and one harmless change, so that .ci/contract can show that its oasdiff check
// reports each of them as expected. It edits the parsed YAML tree (yaml.Node, which
// keeps key order, styles and comments), not the text, so every copy is valid YAML and
// every edit hits the node it names: a missing node, or an edit that changes nothing,
// is an error.
//
// Usage (from the tools module):
//
//	mutate -in ../openapi.yaml -out DIR
//
// writes DIR/NAME.yaml for each NAME in mutations.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// mutation is one edit of the spec's root mapping; the file it is written to is
// named after it. .ci/contract lists what oasdiff must report for each.
type mutation struct {
	name string
	edit func(root *yaml.Node) error
}

var mutations = []mutation{
	// A property removed: from a request, a required one from a response, and an
	// optional one from a response (which clients read: a removed refresh_token breaks
	// them as surely as a removed access_token).
	{"remove-request-property", func(r *yaml.Node) error {
		return errors.Join(
			del(r, schema("PasswordRequest", "properties", "username")),
			dropItem(r, "username", schema("PasswordRequest", "required")))
	}},
	{"remove-optional-response-property", func(r *yaml.Node) error {
		return del(r, schema("TokenResponse", "properties", "refresh_token"))
	}},
	{"remove-response-property", func(r *yaml.Node) error {
		return errors.Join(
			del(r, schema("OAuth2Error", "properties", "error")),
			dropItem(r, "error", schema("OAuth2Error", "required")))
	}},
	// A property renamed: in the schema of the request (the per-kind schemas the
	// operations take), a property left optional (refresh_token) and a required one
	// (client_id). A rename is a removal plus an addition.
	{"rename-property", func(r *yaml.Node) error {
		return errors.Join(
			rename(r, "refreshToken", schema("LogoutRequest", "properties", "refresh_token")),
			dropItem(r, "refresh_token", schema("LogoutRequest", "required")))
	}},
	{"rename-required-property", func(r *yaml.Node) error {
		return errors.Join(
			rename(r, "clientId", schema("PasswordRequest", "properties", "client_id")),
			appendItem(r, "clientId", schema("PasswordRequest", "required")),
			dropItem(r, "client_id", schema("PasswordRequest", "required")))
	}},
	// A narrowed type: a response integer becomes a string; a request string gets a
	// maximum length.
	{"change-type", func(r *yaml.Node) error {
		return errors.Join(
			set(r, "string", schema("TokenResponse", "properties", "expires_in", "type")),
			del(r, schema("TokenResponse", "properties", "expires_in", "format")))
	}},
	{"narrow-max-length", func(r *yaml.Node) error {
		return add(r, "maxLength", "8", schema("PasswordRequest", "properties", "client_id"))
	}},
	// A new required request property.
	{"add-required-property", func(r *yaml.Node) error {
		return errors.Join(
			add(r, "scope", "{type: string, description: Scopes (added by mutate).}", schema("PasswordRequest", "properties")),
			appendItem(r, "scope", schema("PasswordRequest", "required")))
	}},
	// An enum value removed: the grant type a password request pins is replaced.
	{"remove-enum-value", func(r *yaml.Node) error {
		return errors.Join(
			appendItem(r, "passcode", schema("PasswordRequest", "properties", "grant_type", "enum")),
			dropItem(r, "password", schema("PasswordRequest", "properties", "grant_type", "enum")))
	}},
	// A path removed.
	{"remove-path", func(r *yaml.Node) error {
		return del(r, endpoint("logout"))
	}},
	// A response status removed: an error status and a success status.
	{"remove-error-status", func(r *yaml.Node) error {
		return del(r, endpoint("token", "post", "responses", "401"))
	}},
	{"remove-success-status", func(r *yaml.Node) error {
		return del(r, endpoint("logout", "post", "responses", "200"))
	}},
	// Not a break: a new optional response property.
	{"add-optional-property", func(r *yaml.Node) error {
		return add(r, "token_hint", "{type: string, description: A hint (added by mutate).}",
			schema("TokenResponse", "properties"))
	}},
}

func main() {
	in := flag.String("in", "openapi.yaml", "the spec to mutate")
	out := flag.String("out", "mutations", "the folder to write the mutated copies to")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	unchanged, err := rewrite(src, func(*yaml.Node) error { return nil })
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, m := range mutations {
		b, err := rewrite(src, m.edit)
		if err == nil && bytes.Equal(b, unchanged) {
			err = errors.New("changed nothing")
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(out, m.name+".yaml"), b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("mutation %s: %w", m.name, err)
		}
	}
	return nil
}

// rewrite parses src afresh, applies edit to its root mapping and encodes the result.
func rewrite(src []byte, edit func(*yaml.Node) error) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("not a single YAML document")
	}
	if err := edit(doc.Content[0]); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// schema returns the path of components.schemas.NAME, followed by rest.
func schema(name string, rest ...string) []string {
	return append([]string{"components", "schemas", name}, rest...)
}

// endpoint returns the path of paths./realms/{realm}/protocol/openid-connect/NAME,
// followed by rest.
func endpoint(name string, rest ...string) []string {
	return append([]string{"paths", "/realms/{realm}/protocol/openid-connect/" + name}, rest...)
}

// find returns the mapping that holds the last key of path (a list of mapping keys,
// from root) and the index of that key in the mapping's Content.
func find(root *yaml.Node, path []string) (parent *yaml.Node, i int, err error) {
	n := root
	for depth, key := range path {
		if n.Kind != yaml.MappingNode {
			return nil, 0, fmt.Errorf("%s: not a mapping", strings.Join(path[:depth], "."))
		}
		parent, i = n, -1
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				i = j
			}
		}
		if i < 0 {
			return nil, 0, fmt.Errorf("%s: no such key", strings.Join(path[:depth+1], "."))
		}
		n = n.Content[i+1]
	}
	if parent == nil {
		return nil, 0, errors.New("empty path")
	}
	return parent, i, nil
}

// node returns the node at path, which must be of the given kind.
func node(root *yaml.Node, kind yaml.Kind, path []string) (*yaml.Node, error) {
	parent, i, err := find(root, path)
	if err != nil {
		return nil, err
	}
	if n := parent.Content[i+1]; n.Kind == kind {
		return n, nil
	}
	return nil, fmt.Errorf("%s: not of the expected kind", strings.Join(path, "."))
}

// del removes the key at path (and its value) from its mapping.
func del(root *yaml.Node, path []string) error {
	parent, i, err := find(root, path)
	if err != nil {
		return err
	}
	parent.Content = slices.Delete(parent.Content, i, i+2)
	return nil
}

// rename renames the key at path to name.
func rename(root *yaml.Node, name string, path []string) error {
	parent, i, err := find(root, path)
	if err != nil {
		return err
	}
	parent.Content[i].Value = name
	return nil
}

// set sets the scalar at path to value.
func set(root *yaml.Node, value string, path []string) error {
	n, err := node(root, yaml.ScalarNode, path)
	if err != nil {
		return err
	}
	n.Value = value
	return nil
}

// add adds key, with value (YAML text, written in block style), to the mapping at
// path, which must not hold it yet.
func add(root *yaml.Node, key, value string, path []string) error {
	m, err := node(root, yaml.MappingNode, path)
	if err != nil {
		return err
	}
	if _, _, err := find(m, []string{key}); err == nil {
		return fmt.Errorf("%s: already holds %q", strings.Join(path, "."), key)
	}
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(value), &v); err != nil {
		return err
	}
	v.Content[0].Style &^= yaml.FlowStyle
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	m.Content = append(m.Content, k, v.Content[0])
	return nil
}

// appendItem appends the string item to the sequence at path, which must not hold it.
func appendItem(root *yaml.Node, item string, path []string) error {
	s, err := node(root, yaml.SequenceNode, path)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(s.Content, func(n *yaml.Node) bool { return n.Value == item }) {
		return fmt.Errorf("%s: already holds %q", strings.Join(path, "."), item)
	}
	s.Content = append(s.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: item})
	return nil
}

// dropItem removes the scalar item from the sequence at path, where it must be. A
// sequence it empties is removed: OpenAPI 3.0 allows no empty `required` or `enum`.
func dropItem(root *yaml.Node, item string, path []string) error {
	s, err := node(root, yaml.SequenceNode, path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(s.Content, func(n *yaml.Node) bool { return n.Value == item })
	if i < 0 {
		return fmt.Errorf("%s: no item %q", strings.Join(path, "."), item)
	}
	if s.Content = slices.Delete(s.Content, i, i+1); len(s.Content) == 0 {
		return del(root, path)
	}
	return nil
}
