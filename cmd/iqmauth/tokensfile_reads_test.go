package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/opencount"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestEachCommandReadsTheFileOnce: login (over an existing file, for the members it
// keeps; none when there is none), token (fresh, and renewing), token
// --force-refresh, status and logout each open the tokens file once, counted from
// outside the process (inotify); logout of a session the server has ended reads it
// once too.
func TestEachCommandReadsTheFileOnce(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword), authtest.WithRotation())
	file := filepath.Join(t.TempDir(), "tokens.json")
	c, err := opencount.Watch(file)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("counting opens needs inotify")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	expire := func() { // the access token within the margin, with its lifetime known
		m := readJSON(t, file)
		m["access_token"] = fakeJWT(time.Now().Add(30*time.Second), fmt.Sprintf(`,"iat":%d`, time.Now().Add(-10*time.Minute).Unix()))
		writeJSON(t, file, m)
	}
	endSession := func() {
		m := readJSON(t, file)
		m["refresh_token"] = "a-refresh-token-the-server-never-issued"
		writeJSON(t, file, m)
	}
	for _, step := range []struct {
		name  string
		setup func()
		args  []string
		want  string // on stdout
		opens int
	}{
		{"login, no file yet", nil, []string{"login"}, "logged in as alice", 0},
		{"login over the file", nil, []string{"login"}, "logged in as alice", 1},
		{"token, fresh", nil, []string{"token"}, ".", 1},
		{"token, renewing", expire, []string{"token"}, ".", 1},
		{"token --force-refresh", nil, []string{"token", "--force-refresh"}, ".", 1},
		{"status", nil, []string{"status"}, "server:", 1},
		{"logout", nil, []string{"logout"}, "logged out of " + srv.URL, 1},
		{"login again", nil, []string{"login"}, "logged in as alice", 0},
		{"logout of an ended session", endSession, []string{"logout"}, "the session had already ended at " + srv.URL, 1},
	} {
		if step.setup != nil {
			step.setup()
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runBin(t, env, "", step.args...)
		if code != 0 || !strings.Contains(out, step.want) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", step.name, code, testsafe.Text(out), testsafe.Text(errOut))
		}
		if n, err := c.Opens(); err != nil || n != step.opens {
			t.Errorf("%s: opened the tokens file %d times, want %d (%v)", step.name, n, step.opens, err)
		}
	}
}
