package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestTokenFromFolderItCannotWrite: a tokens file that another program keeps, in a
// folder this user may read but not write, with no lock file beside it. token takes
// the file's lock, which it cannot create there: a fresh token is still printed (the
// file read once, without the lock, and a note on stderr); one that needs renewing is
// refused with the lock file's problem, and nothing is sent. As root (which ignores
// folder modes) the command runs as uid 65534.
func TestTokenFromFolderItCannotWrite(t *testing.T) {
	uid := -1
	if os.Geteuid() == 0 {
		uid = nobodyUID
		if err := os.Chmod(filepath.Dir(iqmauthBin), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "iqmauth-readonly-nolock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700); os.RemoveAll(dir) })
	file := filepath.Join(dir, "tokens.json")
	write := func(access string) {
		t.Helper()
		_ = os.Chmod(dir, 0o700)
		writeJSON(t, file, map[string]any{"auth_server_url": "http://127.0.0.1:9", "access_token": access,
			"refresh_token": "canary-refresh-token", "refresh_status": "SUCCESS"})
		if uid >= 0 {
			if err := os.Chown(file, uid, uid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	fresh := fakeJWT(time.Now().Add(time.Hour), "")
	write(fresh)
	code, out, errOut := runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
	if code != 0 || strings.TrimSpace(out) != fresh || !strings.Contains(errOut, "read without its lock") {
		t.Errorf("fresh token: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if _, err := os.Stat(file + ".lock"); !os.IsNotExist(err) {
		t.Errorf("a lock file appeared: %v", err)
	}
	for _, args := range [][]string{{"token", "--force-refresh"}, {"token", "--min-valid", "2h"}} {
		code, out, errOut = runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "cannot open its lock file") || !strings.Contains(errOut, "permission denied") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, testsafe.Text(out), testsafe.Text(errOut))
		}
	}
	write(fakeJWT(time.Now().Add(-time.Minute), ""))
	code, out, errOut = runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
	if code != 1 || out != "" || !strings.Contains(errOut, "cannot open its lock file") {
		t.Errorf("expired token: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
}
