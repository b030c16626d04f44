package authschema_test

// The guard for secrets in printed and logged forms, across the whole module.
//
// It reads the source of every package, finds each exported type that holds a secret
// (a field named like a password, secret or token, a field tagged `redact:"secret"`, or
// a field of another such type), and requires of it:
//
//   - Format and LogValue methods, so that no fmt verb and no slog handler reaches the
//     fields;
//   - every secret field behind a pointer or a func: fmt's %p on a struct value takes
//     its error path, which calls no method and prints strings, maps and slices raw,
//     while a pointer at depth one prints as an address;
//   - a sample value in secretSamples, which TestSecretsNeverPrinted prints with every
//     verb (%p included, on the value itself) and through both slog handlers, looking
//     for the canaries.
//
// The methods must have value receivers: %s on a struct value without a value-receiver
// Format takes fmt's bad-verb path, which prints what a pointer field points to.
// Types that hold a lock (a sync.Mutex, say) are exempt from both value-form rules:
// they are used through pointers only, and printing a copy of one is a go vet error
// (copylocks).
//
// A new exported type with a secret field and no redaction fails the guard test
// below; TestGuardFindsLeakyType proves that on a fixture.

import (
	"bytes"
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

type typeInfo struct {
	pkg, name string
	fields    []fieldInfo
	methods   map[string]bool // name -> has a value receiver
	alias     bool
	under     ast.Expr // for a named type that is not a struct
}

// locked tells whether the type holds a lock by value, so that it is never copied.
func (ti *typeInfo) locked() bool {
	for _, f := range ti.fields {
		switch typeName(f.typ) {
		case "sync.Mutex", "sync.RWMutex", "sync.WaitGroup", "sync.Once":
			return true
		}
	}
	return false
}

type fieldInfo struct {
	name   string
	typ    ast.Expr
	tagged bool
}

func (f fieldInfo) named() bool {
	return f.tagged || (secretField.MatchString(f.name) && !notSecret[f.name] && !cannotHoldSecret[typeName(f.typ)])
}

// cannotHoldSecret are field types that hold no text (Field.Secret is a flag).
var cannotHoldSecret = map[string]bool{
	"bool": true, "int": true, "int64": true, "float64": true, "time.Time": true, "time.Duration": true,
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
				types[key] = &typeInfo{pkg: pkg, name: name, methods: map[string]bool{}}
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
			case *ast.FuncDecl:
				if d.Recv != nil && len(d.Recv.List) > 0 {
					recv := d.Recv.List[0].Type
					_, ptr := recv.(*ast.StarExpr)
					get(typeName(recv)).methods[d.Name.Name] = !ptr
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

// exposes tells whether fmt's %p error path, printing a field of type e raw at depth
// one or more, shows a secret: pointers, funcs and channels print as addresses (also
// as elements of a slice or map); a named secret of a basic type prints as it is; a
// value of a type holding secrets shows what that type shows (unsafe).
func exposes(pkg string, e ast.Expr, named bool, holds, unsafe map[string]bool) bool {
	switch x := e.(type) {
	case *ast.StarExpr, *ast.FuncType, *ast.ChanType, *ast.InterfaceType:
		return false
	case *ast.IndexExpr:
		if typeName(x.X) == "atomic.Pointer" {
			return false
		}
		return exposes(pkg, x.X, named, holds, unsafe)
	case *ast.ArrayType:
		return exposes(pkg, x.Elt, named, holds, unsafe)
	case *ast.MapType:
		return exposes(pkg, x.Key, named, holds, unsafe) || exposes(pkg, x.Value, named, holds, unsafe)
	case *ast.Ident, *ast.SelectorExpr:
		name := typeName(x)
		if !strings.Contains(name, ".") {
			name = pkg + "." + name
		}
		if holds[name] {
			return unsafe[name]
		}
		return named
	case *ast.StructType:
		for _, f := range x.Fields.List {
			if exposes(pkg, f.Type, named, holds, unsafe) {
				return true
			}
		}
	}
	return false
}

// secretTypes finds the exported types holding a secret and what is wrong with each.
func secretTypes(types map[string]*typeInfo) (holders []string, problems map[string][]string) {
	exprs := func(ti *typeInfo) []ast.Expr {
		var es []ast.Expr
		for _, f := range ti.fields {
			es = append(es, f.typ)
		}
		if ti.under != nil {
			es = append(es, ti.under)
		}
		return es
	}
	// A type holds a secret when a field is named or tagged as one, or refers to a type
	// that holds one (through pointers, slices and maps too); an alias holds what its
	// target holds.
	holds := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for key, ti := range types {
			if holds[key] {
				continue
			}
			found := false
			for _, f := range ti.fields {
				found = found || f.named()
			}
			for _, e := range exprs(ti) {
				for _, r := range referenced(ti.pkg, e) {
					found = found || holds[r]
				}
			}
			if found {
				holds[key], changed = true, true
			}
		}
	}
	// A type is unsafe under %p when fmt's error path, printing its fields raw, reaches
	// a secret.
	unsafe := map[string]bool{}
	leak := func(ti *typeInfo, f fieldInfo) bool {
		return exposes(ti.pkg, f.typ, f.named(), holds, unsafe)
	}
	for changed := true; changed; {
		changed = false
		for key, ti := range types {
			if unsafe[key] || !holds[key] {
				continue
			}
			bad := false
			for _, f := range ti.fields {
				bad = bad || leak(ti, f)
			}
			if ti.under != nil {
				bad = bad || exposes(ti.pkg, ti.under, false, holds, unsafe)
			}
			if bad {
				unsafe[key], changed = true, true
			}
		}
	}
	problems = map[string][]string{}
	for key := range holds {
		ti := types[key]
		if !ast.IsExported(ti.name) || ti.alias {
			continue
		}
		holders = append(holders, key)
		for _, m := range []string{"Format", "LogValue"} {
			value, ok := ti.methods[m]
			switch {
			case !ok:
				problems[key] = append(problems[key], "no "+m+" method")
			case !value && !ti.locked():
				problems[key] = append(problems[key], m+" has a pointer receiver, so a value of the type prints its fields")
			}
		}
		if ti.locked() {
			continue
		}
		for _, f := range ti.fields {
			if leak(ti, f) {
				problems[key] = append(problems[key], "secret field "+f.name+" is not behind a pointer (fmt's %p prints it raw)")
			}
		}
	}
	sort.Strings(holders)
	return holders, problems
}

// TestEverySecretTypeRedacts fails for an exported type that holds a secret and is not
// redacted, not %p-safe, or not printed with canaries by TestSecretsNeverPrinted.
func TestEverySecretTypeRedacts(t *testing.T) {
	holders, problems := secretTypes(scan(t, ".", true))
	if len(holders) < 5 {
		t.Fatalf("found only %v holding a secret: the scan is broken", holders)
	}
	samples := secretSamples(t)
	for _, key := range holders {
		for _, p := range problems[key] {
			t.Errorf("%s: %s", key, p)
		}
		if _, ok := samples[key]; !ok {
			t.Errorf("%s holds a secret but has no sample in secretSamples, so nothing checks its printed forms", key)
		}
	}
	for key := range samples {
		if sort.SearchStrings(holders, key) == len(holders) || holders[sort.SearchStrings(holders, key)] != key {
			t.Errorf("secretSamples has %s, which the scan does not find holding a secret", key)
		}
	}
}

// TestGuardFindsLeakyType runs the guard on a fixture package with a config type that
// holds a password in a plain string and has no redaction.
func TestGuardFindsLeakyType(t *testing.T) {
	holders, problems := secretTypes(scan(t, filepath.Join("testdata", "guard"), false))
	want := []string{"leaky.Config", "leaky.Outer", "leaky.Safe"}
	if fmt.Sprint(holders) != fmt.Sprint(want) {
		t.Fatalf("holders %v, want %v", holders, want)
	}
	if got := problems["leaky.Config"]; len(got) != 3 {
		t.Errorf("leaky.Config: %v, want no Format, no LogValue and a plain-string secret", testsafe.Value(got))
	}
	if got := problems["leaky.Outer"]; len(got) != 3 {
		t.Errorf("leaky.Outer (holds a Config by value): %v", testsafe.Value(got))
	}
	if got := problems["leaky.Safe"]; len(got) != 0 {
		t.Errorf("leaky.Safe: %v, want none", testsafe.Value(got))
	}
}

// TestSecretsNeverPrinted prints every sample with every fmt verb, on the value and on
// a pointer to it, and through slog's text and JSON handlers, and looks for the
// canaries in any form (raw, hex, byte list).
func TestSecretsNeverPrinted(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%-8s", "%t", "%p"}
	for key, v := range secretSamples(t) {
		rv := reflect.ValueOf(v)
		forms := []any{v}
		if rv.Kind() == reflect.Pointer {
			if !holdsLock(rv.Elem().Type()) {
				forms = append(forms, rv.Elem().Interface()) // the value itself, %p included
			}
		} else {
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

// holdsLock tells whether a struct type holds a lock by value (it is never copied).
func holdsLock(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if f := t.Field(i).Type; f.PkgPath() == "sync" && (f.Name() == "Mutex" || f.Name() == "RWMutex" || f.Name() == "WaitGroup" || f.Name() == "Once") {
			return true
		}
	}
	return false
}
