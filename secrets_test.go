package authschema_test

// The guard for secrets in printed, logged and encoded forms, across the whole module.
//
// A secret is held in a redact.Secret (internal/redact), which no fmt verb, slog
// handler or encoder shows, also in an unexported field, where fmt calls no method
// (internal/redact's tests prove it). What is left to guard is that every secret is
// held so, and that the types holding one print as they should. The guard reads the
// source of every package, finds the exported types that hold a secret (a field of
// type redact.Secret, a field named like a password, secret or token or tagged
// `redact:"secret"`, or a field of another such type), and requires:
//
//   - no secret field of a type that prints its text (a string, a []byte, a named
//     string type, slices and maps of them, and pointers to them, see printsText):
//     TestSecretFieldTypes;
//   - a sample value with canaries in secretSamples for every such type, which
//     TestSecretsNeverPrinted prints with every fmt verb (as it is, behind a pointer
//     and in an unexported field), through slog's text and JSON handlers and through
//     encoding/json.
//
// TestGuardFinds proves the rules on a fixture (testdata/guard).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// secretField matches field names that hold a secret.
var secretField = regexp.MustCompile(`(?i)password|secret|token`)

// notSecret lists field names that match secretField but hold no secret.
var notSecret = map[string]bool{
	"TokenType": true, "TokensFile": true, "TokenURL": true, "LogoutURL": true,
}

// cannotHoldSecret are field types that hold no text (Field.Secret is a flag).
var cannotHoldSecret = map[string]bool{
	"bool": true, "int": true, "int64": true, "float64": true, "time.Time": true, "time.Duration": true,
}

// wireSecrets are the secret fields that are plain on purpose: the generated models
// carry the secrets on the wire (encoding/json, forms) as openapi.yaml says, and
// redact them in their printed and logged forms (generated/redact.go).
var wireSecrets = map[string]bool{
	"generated.AuthRequest.Password": true, "generated.AuthRequest.RefreshToken": true,
	"generated.TokenResponse.RefreshToken": true, "generated.TokenResponse.IDToken": true,
}

// wireTypes are the types whose JSON is the wire form, secrets included.
var wireTypes = map[string]bool{"generated.AuthRequest": true, "generated.TokenResponse": true, "generated.Secret": true}

type typeInfo struct {
	pkg, name string
	fields    []fieldInfo
	alias     bool
	under     ast.Expr // for a named type that is not a struct
}

type fieldInfo struct {
	name   string
	typ    ast.Expr
	tagged bool
}

func (f fieldInfo) named() bool {
	return f.tagged || (secretField.MatchString(f.name) && !notSecret[f.name] && !cannotHoldSecret[typeName(f.typ)])
}

// scan parses the non-test Go files under root, skipping nested modules, hidden
// folders and (when asked) testdata, and returns the types found, keyed "pkg.Type".
func scan(t *testing.T, root string, skipTestdata bool) map[string]*typeInfo {
	t.Helper()
	types := map[string]*typeInfo{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			name := d.Name()
			if strings.HasPrefix(name, ".") || (skipTestdata && name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		pkg := f.Name.Name
		get := func(name string) *typeInfo {
			key := pkg + "." + name
			if types[key] == nil {
				types[key] = &typeInfo{pkg: pkg, name: name}
			}
			return types[key]
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					ti := get(ts.Name.Name)
					ti.alias = ts.Assign.IsValid()
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						ti.under = ts.Type
						continue
					}
					for _, fl := range st.Fields.List {
						tagged := fl.Tag != nil && strings.Contains(fl.Tag.Value, `redact:"secret"`)
						if len(fl.Names) == 0 { // embedded
							ti.fields = append(ti.fields, fieldInfo{name: typeName(fl.Type), typ: fl.Type, tagged: tagged})
						}
						for _, n := range fl.Names {
							ti.fields = append(ti.fields, fieldInfo{name: n.Name, typ: fl.Type, tagged: tagged})
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return types
}

// typeName is the name of a (pointer, generic or qualified) type expression.
func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return typeName(x.X)
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return typeName(x.X) + "." + x.Sel.Name
	case *ast.IndexExpr:
		return typeName(x.X)
	}
	return ""
}

// referenced lists the type names an expression refers to, qualified with pkg where
// they are not qualified already. Func, interface and channel types are skipped: they
// hold no value that prints.
func referenced(pkg string, e ast.Expr) []string {
	var names []string
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncType, *ast.InterfaceType, *ast.ChanType:
			return false
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				names = append(names, id.Name+"."+x.Sel.Name)
			}
			return false
		case *ast.Ident:
			names = append(names, pkg+"."+x.Name)
		}
		return true
	})
	return names
}

// referencedByValue lists the type names e holds by value (in arrays, slices and maps
// too, not behind pointers), qualified as referenced does.
func referencedByValue(pkg string, e ast.Expr) []string {
	switch x := e.(type) {
	case *ast.ArrayType:
		return referencedByValue(pkg, x.Elt)
	case *ast.MapType:
		return append(referencedByValue(pkg, x.Key), referencedByValue(pkg, x.Value)...)
	case *ast.Ident, *ast.SelectorExpr:
		return referenced(pkg, x)
	}
	return nil
}

// printsText tells whether a field of type e, printed raw (fmt in an unexported field
// or on its error path) or encoded, shows text: a string or []byte, a named type of
// one, and slices, arrays and maps of them. Behind a pointer too, but for a pointer to
// a string in an unexported field: fmt prints a pointer below the top level as an
// address, yet on its bad-verb path (%s on a pointer) it prints what a pointer to a
// slice, array, map or struct points to, and encoding/json follows every pointer of
// an exported field. Funcs, channels and interfaces print no text.
func printsText(pkg string, e ast.Expr, exported bool, types map[string]*typeInfo) bool {
	switch x := e.(type) {
	case *ast.StarExpr:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "string" && !exported {
			return false
		}
		return printsText(pkg, x.X, exported, types)
	case *ast.ArrayType:
		return printsText(pkg, x.Elt, exported, types)
	case *ast.MapType:
		return printsText(pkg, x.Key, exported, types) || printsText(pkg, x.Value, exported, types)
	case *ast.Ident:
		switch x.Name {
		case "string", "byte", "rune":
			return true
		}
		if ti := types[pkg+"."+x.Name]; ti != nil && ti.under != nil {
			return printsText(pkg, ti.under, exported, types)
		}
	}
	return false
}

// secretTypes finds the exported types holding a secret (sorted) and the secret
// fields held in a type that prints their text.
func secretTypes(types map[string]*typeInfo) (holders, problems []string) {
	// A type holds a secret when a field is of type redact.Secret, is named or tagged
	// as a secret, or refers to a type that holds one (through pointers, slices and
	// maps too); an alias holds what its target holds.
	holds := map[string]bool{"redact.Secret": true}
	for changed := true; changed; {
		changed = false
		for key, ti := range types {
			if holds[key] {
				continue
			}
			found := false
			var exprs []ast.Expr
			if ti.under != nil {
				exprs = append(exprs, ti.under)
			}
			for _, f := range ti.fields {
				found = found || f.named()
				exprs = append(exprs, f.typ)
			}
			for _, e := range exprs {
				for _, r := range referenced(ti.pkg, e) {
					found = found || holds[r]
				}
			}
			if found {
				holds[key], changed = true, true
			}
		}
	}
	// The rule covers the exported types and the unexported ones they hold by value
	// (fmt prints those field by field); a type behind a pointer prints as an address.
	checked := map[string]bool{}
	var check func(key string)
	check = func(key string) {
		ti := types[key]
		if ti == nil || checked[key] {
			return
		}
		checked[key] = true
		for _, f := range ti.fields {
			if f.named() && !wireSecrets[key+"."+f.name] && printsText(ti.pkg, f.typ, ast.IsExported(f.name), types) {
				problems = append(problems, key+"."+f.name+" holds a secret in a type that prints it: use redact.Secret")
			}
			for _, r := range referencedByValue(ti.pkg, f.typ) {
				if holds[r] && types[r] != nil && !ast.IsExported(types[r].name) {
					check(r)
				}
			}
		}
	}
	for key := range holds {
		if ti := types[key]; ti != nil && ast.IsExported(ti.name) && !ti.alias {
			holders = append(holders, key)
			check(key)
		}
	}
	sort.Strings(holders)
	sort.Strings(problems)
	return holders, problems
}

// TestSecretFieldTypes fails for a secret held in a field that prints it.
func TestSecretFieldTypes(t *testing.T) {
	holders, problems := secretTypes(scan(t, ".", true))
	if len(holders) < 5 {
		t.Fatalf("found only %v holding a secret: the scan is broken", holders)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestEverySecretTypeHasSample fails for an exported type that holds a secret and that
// TestSecretsNeverPrinted does not print.
func TestEverySecretTypeHasSample(t *testing.T) {
	holders, _ := secretTypes(scan(t, ".", true))
	samples := secretSamples(t)
	for _, key := range holders {
		if _, ok := samples[key]; !ok {
			t.Errorf("%s holds a secret but has no sample in secretSamples, so nothing checks its printed forms", key)
		}
	}
	for key := range samples {
		if !slices.Contains(holders, key) {
			t.Errorf("secretSamples has %s, which the scan does not find holding a secret", key)
		}
	}
}

// TestGuardFinds runs the guard on a fixture package (testdata/guard).
func TestGuardFinds(t *testing.T) {
	holders, problems := secretTypes(scan(t, filepath.Join("testdata", "guard"), false))
	if want := []string{"leaky.Config", "leaky.Outer", "leaky.Safe"}; !slices.Equal(holders, want) {
		t.Errorf("holders %v, want %v", holders, want)
	}
	want := []string{"leaky.Config.APISecret", "leaky.Config.Password", "leaky.Config.Token", "leaky.Config.Tokens", "leaky.Config.body"}
	var got []string
	for _, p := range problems {
		got = append(got, strings.Fields(p)[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems %v, want those of %v", testsafe.Value(problems), want)
	}
}

// holder holds a value in an unexported field, where fmt calls none of its methods.
type holder struct{ held any }

// TestSecretsNeverPrinted prints every sample with every fmt verb, as it is, behind a
// pointer (a value) and in an unexported field (where fmt prints it raw, and on its
// bad-verb path prints what a pointer points to), through slog's text and JSON
// handlers and through encoding/json (but for the wire models), and looks for the
// canaries in any form (raw, hex, byte list).
func TestSecretsNeverPrinted(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%-8s", "%t", "%p"}
	for key, v := range secretSamples(t) {
		forms := []any{v, holder{v}}
		if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer {
			p := reflect.New(rv.Type())
			p.Elem().Set(rv)
			forms = append(forms, p.Interface())
		}
		var out strings.Builder
		for _, form := range forms {
			for _, verb := range verbs {
				fmt.Fprintf(&out, verb+"\n", form)
			}
			fmt.Fprint(&out, form)
			fmt.Fprintln(&out, form)
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var buf bytes.Buffer
				slog.New(h(&buf)).Info("msg", "value", form, slog.Any("any", form), slog.Group("g", "nested", form))
				out.Write(buf.Bytes())
			}
			if !wireTypes[key] {
				data, err := json.Marshal(form)
				fmt.Fprintf(&out, "%s %v\n", data, err)
			}
		}
		for _, c := range canaries {
			for _, enc := range []string{c, fmt.Sprintf("%x", c), fmt.Sprintf("%X", c), fmt.Sprint([]byte(c))[1:20]} {
				if strings.Contains(out.String(), enc) {
					t.Errorf("%s: output shows %s:\n%s", key, c, testsafe.Text(out.String()))
					break
				}
			}
		}
	}
}
