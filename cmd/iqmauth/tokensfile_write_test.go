package main

// Tests that rotated tokens are not lost when the tokens file cannot be written
// (issue 12, finding 7): the write is prepared before anything is sent, and a
// complete, newer temporary file that a killed writer left is recovered. Each failed
// before its fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/validate"
)

// runBinAs runs the command as a process with env, as uid (uid < 0: as this
// process), and fails the test if it does not end within a minute.
func runBinAs(t *testing.T, uid int, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, iqmauthBin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("iqmauth %v did not end: %s", args, testsafe.Text(errOut.String()))
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("iqmauth %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// TestRefreshNotSentWhenFileCannotBeWritten: with the tokens file's folder not
// writable, token --force-refresh fails before it sends the refresh (against a server
// that rotates refresh tokens, a refresh whose answer cannot be saved ends the
// session), says why (so do a renewal, login, and logout, which could not remove the
// file), and once the folder is writable again the session still works,
// with no "refresh token reuse" error. Root ignores folder permissions, so as root the
// command runs as uid 65534 (nobody), which owns the folder; as any other user it runs
// as that user.
func TestRefreshNotSentWhenFileCannotBeWritten(t *testing.T) {
	uid := -1
	if os.Geteuid() == 0 {
		uid = nobodyUID
		// The command and the folder must be reachable for that user.
		if err := os.Chmod(filepath.Dir(iqmauthBin), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword), authtest.WithRotation())
	dir, err := os.MkdirTemp("", "iqmauth-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700); os.RemoveAll(dir) })
	if uid >= 0 {
		if err := os.Chown(dir, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "tokens.json")
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBinAs(t, uid, env, "", "login"); code != 0 {
		t.Fatalf("login: exit %d, %q", code, testsafe.Text(errOut))
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	code, out, errOut := runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "token", "--force-refresh")
	if code != 1 || out != "" || !strings.Contains(errOut, "cannot create a temporary file in its folder "+dir) ||
		!strings.Contains(errOut, "permission denied") {
		t.Errorf("read-only folder: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), errOut)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("sent %d requests though the answer could not be saved", len(reqs))
	}
	// The same with an access token that has expired (the file rewritten in place, as
	// its owner may), and with login.
	var m map[string]any
	data, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("tokens file: %v", err)
	}
	m["access_token"] = fakeJWT(time.Now().Add(-time.Minute), "")
	writeJSON(t, file, m)
	code, _, errOut = runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "token")
	if code != 1 || !strings.Contains(errOut, "cannot create a temporary file") {
		t.Errorf("read-only folder, renewal: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if code, _, errOut := runBinAs(t, uid, env, "", "login"); code != 1 || !strings.Contains(errOut, "cannot create a temporary file") {
		t.Errorf("read-only folder, login: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	// logout could end the session but not remove the file: it sends nothing either.
	if code, _, errOut := runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "logout"); code != 1 || !strings.Contains(errOut, "cannot create a temporary file") {
		t.Errorf("read-only folder, logout: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("sent %d requests though the answer could not be saved", len(reqs))
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		code, out, errOut = runBinAs(t, uid, baseEnv("IQM_TOKENS_FILE="+file), "", "token", "--force-refresh")
		if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); code != 0 || err != nil {
			t.Errorf("writable again: exit %d, %v, stderr %q", code, err, testsafe.Text(errOut))
		}
	}
}

// TestKilledWriterTokensRecovered: a writer killed (kill -9) after syncing its
// temporary file but before renaming it leaves the only live refresh token there,
// beside the older file. The next `iqmauth token` takes it, against `iqmauth serve
// --rotation`, without a "refresh token reuse" error, and leaves no temporary file.
func TestKilledWriterTokensRecovered(t *testing.T) {
	url, logs, _ := startServe(t, "--rotation")
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+url, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: exit %d, %q", code, testsafe.Text(errOut))
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	envFile := baseEnv("IQM_TOKENS_FILE=" + file)
	if code, _, errOut := runBin(t, envFile, "", "token", "--force-refresh"); code != 0 {
		t.Fatalf("token --force-refresh: exit %d, %q", code, testsafe.Text(errOut))
	}
	// As if killed before the rename: the new tokens in the temporary file, the file
	// as it was (its refresh token already used once).
	temp := filepath.Join(dir, ".tokens.json.3141592.tmp")
	if err := os.Rename(file, temp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, before, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		code, out, errOut := runBin(t, envFile, "", "token", "--force-refresh")
		if code != 0 || out == "" || strings.Contains(errOut, "reuse") {
			t.Errorf("token after the kill: exit %d, stderr %q", code, testsafe.Text(errOut))
		}
	}
	if _, err := os.Stat(temp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	if strings.Contains(logs.String(), "reuse") || strings.Count(logs.String(), "kind="+validate.KindRefresh.String()) != 3 {
		t.Errorf("server log:\n%s", testsafe.Text(logs.String()))
	}
}

// TestRefreshNotSentWhenDiskFull: when the new tokens would not fit (here the
// command runs under `prlimit --fsize=100`, a file size limit that root is held to
// too, where writing past 100 bytes fails as on a full disk or over quota), token
// fails before it sends the refresh, and once there is room the session still works.
func TestRefreshNotSentWhenDiskFull(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword), authtest.WithRotation())
	file := filepath.Join(t.TempDir(), "tokens.json")
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: exit %d, %q", code, testsafe.Text(errOut))
	}
	srv.ResetRequests()
	cmd := exec.Command(prlimit, "--fsize=100", "--", iqmauthBin, "token", "--force-refresh")
	cmd.Env = baseEnv("IQM_TOKENS_FILE=" + file)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "file too large") {
		t.Errorf("over the size limit: %v, output %q", err, testsafe.Text(string(out)))
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("sent %d requests though the answer could not be saved", len(reqs))
	}
	for range 2 {
		code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token", "--force-refresh")
		if _, err := srv.VerifyAccessToken(strings.TrimSpace(out)); code != 0 || err != nil {
			t.Errorf("with room again: exit %d, %v, stderr %q", code, err, testsafe.Text(errOut))
		}
	}
}
