package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestTokenFromEnv: iqmauth token by iqm-client 36's rules: IQM_TOKEN is printed as it
// is, without a tokens file; with IQM_TOKENS_FILE (or --tokens-file) too it is exit 2
// naming both, with iqm-client's own message; a file with only access_token is enough.
func TestTokenFromEnv(t *testing.T) {
	const opaque = "CANARY-opaque.token/with+odd~chars=="
	file := filepath.Join(t.TempDir(), "tokens.json")
	access := fakeJWT(time.Now().Add(10*time.Minute), "")
	writeJSON(t, file, map[string]string{"access_token": access})
	for _, tt := range []struct {
		name   string
		env    env
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"IQM_TOKEN", env{"IQM_TOKEN": opaque}, nil, 0, opaque + "\n", nil},
		{"IQM_TOKEN with --min-valid", env{"IQM_TOKEN": opaque}, []string{"--min-valid", "1h"}, 0, opaque + "\n", nil},
		{"both", env{"IQM_TOKEN": opaque, "IQM_TOKENS_FILE": file}, nil, 2, "",
			[]string{"IQM_TOKEN and IQM_TOKENS_FILE are both set", authclient.MultipleSourcesMessage}},
		{"IQM_TOKEN and --tokens-file", env{"IQM_TOKEN": opaque}, []string{"--tokens-file", file}, 2, "", []string{"--tokens-file and IQM_TOKEN"}},
		{"IQM_TOKEN and --force-refresh", env{"IQM_TOKEN": opaque}, []string{"--force-refresh"}, 2, "", []string{"cannot be refreshed"}},
		{"file with only access_token", env{"IQM_TOKENS_FILE": file}, nil, 0, access + "\n", nil},
		{"IQM_TOKEN that is not a bearer token", env{"IQM_TOKEN": "CANARY\x1b[2J"}, nil, 1, "", nil},
	} {
		code, stdout, stderr := runWith(t, tt.env, append([]string{"token"}, tt.args...)...)
		if code != tt.code || stdout != tt.stdout {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tt.name, code, testsafe.Text(stdout, opaque), testsafe.Text(stderr, opaque))
		}
		for _, want := range tt.stderr {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, testsafe.Text(stderr, opaque), want)
			}
		}
		if strings.Contains(stderr, "CANARY") {
			t.Errorf("%s: the token in stderr: %q", tt.name, testsafe.Text(stderr, opaque))
		}
	}
}
