package testsafe

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"token eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTU4Njc1MDB9.-VNfQgD7S_JEuulmkgc77FYrOQVGc\n", "token [REDACTED]\n"},
		{"stderr shows CANARY-CLI-PW-55 here", "stderr shows [REDACTED] here"},
		{"client_id=iqm_client&password=hunter22&refresh_token=abc.def%3D", "client_id=iqm_client&password=[REDACTED]&refresh_token=[REDACTED]"},
		{`{"access_token": "opaque-1", "scope":"profile"}`, `{"access_token": "[REDACTED]", "scope":"profile"}`},
		{"exit 1, stderr \"no such file\"", "exit 1, stderr \"no such file\""},
	} {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Text("the key s3cr3t-value leaked", "s3cr3t-value"); strings.Contains(got, "s3cr3t") {
		t.Errorf("a given secret stays: %q", got)
	}
}
