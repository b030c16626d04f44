package authclient

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestUserAgentVersion: the version comes from the build information: this module as
// a dependency (replaced or not), as the main module, or "(devel)".
func TestUserAgentVersion(t *testing.T) {
	for _, tt := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Path: "example.com/svc", Version: "v1.0.0"},
			Deps: []*debug.Module{{Path: "golang.org/x/term", Version: "v0.1.0"}, {Path: modulePath, Version: "v0.4.2"}}}, "v0.4.2"},
		{debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.4.2", Replace: &debug.Module{Path: "../authschema"}}}}, "v0.4.2"},
		{debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.4.2", Replace: &debug.Module{Path: modulePath, Version: "v0.5.0"}}}}, "v0.5.0"},
		{debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"}}, "v1.2.3"},
		{debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		{debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"}}, "(devel)"},
	} {
		if got := versionIn(&tt.bi); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.bi.Main, testsafe.Text(got), tt.want)
		}
	}
	if ua := UserAgent(); !strings.HasPrefix(ua, "authschema/") || !strings.Contains(ua, modulePath) {
		t.Errorf("UserAgent() = %q", ua)
	}
}
