package authschema_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/iqm-finland/authschema"

// layers lists, for each package, the packages of this module it may import
// (directly): dependencies point one way: generated <- validate <- api <- api/receiver
// <- authtest <- cmd/iqmauth; generated <- api/tokens <- api/tokensfile; api,
// api/tokens and api/tokensfile <- api/authclient <- api/xoauth2.
var layers = map[string][]string{
	"":                   nil,
	"internal/redact":    nil,
	"internal/testtime":  nil, // test-only: the fake clocks' epoch
	"internal/testsafe":  nil, // test-only: failure messages without secrets
	"internal/opencount": nil, // test-only: how often a file is opened
	"generated":          {"", "internal/redact"},
	"generated/client":   {"generated"},
	"generated/server":   {"generated"},
	"generated/spec":     nil,
	"validate":           {"generated"},
	"api":                {"generated", "validate", "internal/redact"},
	"api/tokens":         {"generated", "internal/redact"},
	"api/tokensfile":     {"api/tokens", "internal/redact"},
	"api/authclient":     {"api", "api/tokens", "api/tokensfile", "generated", "generated/client", "validate", "internal/redact"},
	"api/xoauth2":        {"api/authclient"},
	"api/receiver":       {"api", "generated", "generated/server", "validate", "internal/redact"},
	"authtest":           {"api", "api/receiver", "generated", "validate", "internal/redact"},
	"cmd/iqmauth":        {"", "api", "api/authclient", "api/tokens", "api/tokensfile", "authtest", "generated", "generated/spec", "validate", "internal/redact"},
}

// noIO are packages that do no I/O: no network, no files.
var noIO = []string{"api", "api/tokens", "validate", "generated"}

// TestLayers checks every package's direct imports: the module's own packages against
// layers, no I/O in the codec and models, and third-party modules only where a package
// needs them (the models and rules import none; x/oauth2 only in api/xoauth2).
func TestLayers(t *testing.T) {
	// Every package of the module has its entry.
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != "." {
			return filepath.SkipDir // a nested module
		}
		if p, err := build.ImportDir(path, 0); err == nil && len(p.GoFiles) > 0 {
			rel := filepath.ToSlash(path)
			if rel == "." {
				rel = ""
			}
			if _, ok := layers[rel]; !ok {
				t.Errorf("package %s has no entry in layers", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, allowed := range layers {
		path := module
		if pkg != "" {
			path += "/" + pkg
		}
		p, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			switch {
			case imp == module || strings.HasPrefix(imp, module+"/"):
				rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if !slices.Contains(allowed, rel) {
					t.Errorf("%s imports %s: the layers do not allow it", path, imp)
				}
			case slices.Contains(noIO, pkg) && (imp == "net" || imp == "net/http" || imp == "os"):
				t.Errorf("%s imports %s: it must do no I/O", path, imp)
			case strings.Contains(strings.Split(imp, "/")[0], "."):
				third := map[string]bool{
					"generated/client": strings.HasPrefix(imp, "github.com/oapi-codegen/runtime"),
					"generated/server": strings.HasPrefix(imp, "github.com/oapi-codegen/runtime"),
					"generated/spec":   strings.HasPrefix(imp, "github.com/getkin/kin-openapi"),
					"api/xoauth2":      imp == "golang.org/x/oauth2",
					"cmd/iqmauth":      imp == "golang.org/x/term",
				}[pkg]
				if !third {
					t.Errorf("%s imports the third-party %s", path, imp)
				}
			}
		}
	}
}
