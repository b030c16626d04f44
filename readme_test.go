package authschema_test

import (
	"go/build"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmePathsExist: every path of the repository that README.md and BENCHMARKS.md
// name in backquotes (a/b, a/b/) exists; standard-library packages are not paths.
func TestReadmePathsExist(t *testing.T) {
	path := regexp.MustCompile("`(\\.?[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+)+/?)`")
	n := 0
	for _, doc := range []string{"README.md", "BENCHMARKS.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range path.FindAllStringSubmatch(string(data), -1) {
			p := strings.TrimSuffix(m[1], "/")
			if pkg, err := build.Import(p, ".", build.FindOnly); err == nil && pkg.Goroot {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s names %s, which does not exist", doc, m[1])
			}
			n++
		}
	}
	if n < 10 {
		t.Errorf("found only %d paths: the pattern is broken", n)
	}
}
