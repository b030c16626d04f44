package main

// Tests of the tokens file's lock as the command takes it (issue 12, finding 11): a
// lock file another user can hold is refused, login locks before it sends the
// password, and login and token warn about a folder others can write to. Each failed
// before its fix.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// nobodyUID owns the files another local user would have made.
const nobodyUID = 65534

// flockAsOther opens lockPath and holds an exclusive flock on it, as another local
// user's process would (flock needs only a descriptor opened for reading).
func flockAsOther(t *testing.T, lockPath string) {
	t.Helper()
	fh, err := os.Open(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// TestLoginRefusesLockOthersCanHold: a lock file that another user owns, or that
// others may open, and that someone holds, makes login fail at once, saying which
// file and what to do, and before the password is sent (no session is left at the
// server).
func TestLoginRefusesLockOthersCanHold(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	for _, tt := range []struct {
		name    string
		mode    os.FileMode
		foreign bool
		want    string
	}{
		{"another user's lock file, mode 0666", 0o666, true, "owned by uid 65534"},
		{"our lock file, mode 0666", 0o666, false, "chmod 600"},
		{"our lock file, mode 0644", 0o644, false, "chmod 600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.foreign && os.Geteuid() != 0 {
				t.Skip("making a file another user owns needs root")
			}
			srv.ResetRequests()
			file := filepath.Join(t.TempDir(), "tokens.json")
			lock := file + ".lock"
			if err := os.WriteFile(lock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(lock, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.foreign {
				if err := os.Chown(lock, nobodyUID, nobodyUID); err != nil {
					t.Fatal(err)
				}
			}
			flockAsOther(t, lock)
			env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
			code, out, errOut := runBin(t, env, "", "login", "--lock-timeout", "2s")
			if code != 1 || out != "" || !strings.Contains(errOut, lock) || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "timed out") {
				t.Errorf("login: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
			}
			if n := len(srv.Requests()); n != 0 || srv.ActiveSessions() != 0 {
				t.Errorf("%d requests sent, %d sessions left at the server", n, srv.ActiveSessions())
			}
			// token and logout refuse it too.
			writeJSON(t, file, map[string]string{"access_token": "x", "refresh_token": "CANARY-RT", "auth_server_url": srv.URL})
			for _, args := range [][]string{{"token", "--force-refresh"}, {"logout"}} {
				if code, _, errOut := runBin(t, env, "", append(args, "--lock-timeout", "2s")...); code != 1 || !strings.Contains(errOut, tt.want) {
					t.Errorf("%v: exit %d, stderr %q", args, code, testsafe.Text(errOut))
				}
			}
		})
	}
}

// TestLoginLocksBeforeSendingPassword: while another process holds the tokens file's
// lock, login waits for it before it sends anything, and when the wait times out the
// server has seen no request and holds no orphaned session.
func TestLoginLocksBeforeSendingPassword(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	release := holdLock(t, file)
	defer release()
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	code, _, errOut := runBin(t, env, "", "login", "--lock-timeout", "200ms")
	if code != 1 || !strings.Contains(errOut, "timed out waiting for its lock") {
		t.Errorf("login: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if n := len(srv.Requests()); n != 0 || srv.ActiveSessions() != 0 {
		t.Errorf("%d requests sent, %d sessions left at the server", n, srv.ActiveSessions())
	}
	release()
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 || srv.ActiveSessions() != 1 {
		t.Errorf("login after release: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
}

// TestLoginAndTokenWarnAboutSharedFolder: login and token, not only status, warn when
// others can write to the tokens file's folder (they could replace the file or its
// lock file), and say how to fix it.
func TestLoginAndTokenWarnAboutSharedFolder(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	env := baseEnv("IQM_TOKENS_FILE="+file, "IQM_AUTH_SERVER="+srv.URL, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, _, errOut := runBin(t, env, "", "login"); code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("login in a private folder: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if code, _, errOut := runBin(t, env, "", "token"); code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("token in a private folder: exit %d, stderr %q", code, testsafe.Text(errOut))
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	for _, args := range [][]string{{"login"}, {"token"}, {"token", "--force-refresh"}} {
		code, out, errOut := runBin(t, env, "", args...)
		if code != 0 || !strings.Contains(errOut, "warning") || !strings.Contains(errOut, dir) || !strings.Contains(errOut, "0777") ||
			!strings.Contains(errOut, "chmod go-w") || strings.Contains(out, "warning") {
			t.Errorf("%v: exit %d, stderr %q", args, code, testsafe.Text(errOut))
		}
	}
}
