package main

// Tests of iqmauth keep as a process, against iqmauth serve as a process, with short
// token lifetimes: the real clock, real files, real signals.

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// serveProc is an iqmauth serve process.
type serveProc struct {
	url  string
	logs *lockedBuffer
	cmd  *exec.Cmd
}

// startServeProc starts iqmauth serve with alice:cliPassword and args; it is stopped at the
// end of the test.
func startServeProc(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(iqmauthBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = baseEnv("IQMAUTH_SERVE_USERS=alice:" + cliPassword)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("serve: %v %s", err, testsafe.Text(logs.String()))
	}
	go io.Copy(io.Discard, stdout)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	return &serveProc{url: strings.TrimSpace(line), logs: logs, cmd: cmd}
}

// keepProc is an iqmauth keep process.
type keepProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	code   int
}

func startKeep(t *testing.T, env []string, args ...string) *keepProc {
	t.Helper()
	p := &keepProc{cmd: exec.Command(iqmauthBin, append([]string{"keep"}, args...)...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exited waits up to d for the process to end and gives its exit code.
func (p *keepProc) exited(t *testing.T, d time.Duration) int {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.code
	case <-timer.C:
		t.Fatalf("iqmauth keep still running after %v:\n%s", d, testsafe.Text(p.stderr.String()))
		return -1
	}
}

// stop sends sig and checks that the process ends within a second with exit 0.
func (p *keepProc) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	if code := p.exited(t, time.Second); code != 0 {
		t.Errorf("exit %d after %v:\n%s", code, sig, testsafe.Text(p.stderr.String()))
	}
}

// loginFile logs in to srv with iqmauth login, writing path.
func loginFile(t *testing.T, srv *serveProc, path string) {
	t.Helper()
	code, _, errOut := runBin(t, baseEnv("IQM_AUTH_SERVER="+srv.url, "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword), "",
		"login", "--tokens-file", path)
	if code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
}

// every runs fn every interval for d, on a ticker.
func every(interval, d time.Duration, fn func(now time.Time)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.Now().Add(d)
	for now := range tick.C {
		if now.After(end) {
			return
		}
		fn(now)
	}
}

// TestKeepProcessesShareOneFile: three iqmauth keep processes on one file against a
// server with 4 s tokens that rotates refresh tokens: a reader that reads the file
// every 200 ms as iqm-client 36 does always finds a valid token, the keepers send one
// refresh per renewal between them (two per lifetime), no refresh is refused, and
// SIGTERM ends each within a second with the file intact.
func TestKeepProcessesShareOneFile(t *testing.T) {
	t.Parallel()
	const ttl = 4 * time.Second
	srv := startServeProc(t, "--access-ttl", ttl.String(), "--refresh-ttl", "60s", "--rotation")
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginFile(t, srv, path)
	keepers := []*keepProc{
		startKeep(t, baseEnv("IQM_TOKENS_FILE="+path)),
		startKeep(t, baseEnv(), "--tokens-file", path),
		startKeep(t, baseEnv(), "--tokens-file", path),
	}
	start := time.Now()
	reads := 0
	every(200*time.Millisecond, 3*ttl, func(now time.Time) {
		f, err := tokensfile.Read(path)
		if err != nil {
			t.Fatalf("reading the file: %v", err)
		}
		// iqm-client 36: exp - int(time.time()) > 0.
		if f.Tokens.AccessExpiry.Unix()-now.Unix() <= 0 {
			t.Fatalf("at +%v the file's token has expired", now.Sub(start))
		}
		reads++
	})
	elapsed := time.Since(start)
	for _, k := range keepers {
		k.stop(t, syscall.SIGTERM)
	}
	f, err := tokensfile.Read(path)
	if err != nil || !f.Tokens.AccessExpiry.After(time.Now()) {
		t.Fatalf("file after SIGTERM: %v", err)
	}
	logs := srv.logs.String()
	refreshes := strings.Count(logs, "kind=refresh")
	renewed := 0
	for _, k := range keepers {
		out := k.stderr.String()
		renewed += strings.Count(out, "iqmauth keep: renewed")
		if strings.Contains(out, "invalid_grant") || strings.Contains(out, "retrying") || strings.Contains(out, f.Tokens.AccessToken()) {
			t.Errorf("keeper's log:\n%s", testsafe.Text(out))
		}
	}
	lifetimes := float64(elapsed) / float64(ttl)
	if refreshes != renewed || strings.Contains(logs, "invalid_grant") || float64(refreshes) > 2*lifetimes+1 || float64(refreshes) < lifetimes {
		t.Errorf("%d refreshes (%d renewals logged) in %.1f lifetimes:\n%s", refreshes, renewed, lifetimes, testsafe.Text(logs))
	}
	t.Logf("%d refreshes in %.1f lifetimes of %v by 3 keepers; the reader read %d times, always a valid token", refreshes, lifetimes, ttl, reads)
}

// TestKeepProcessEnds: how iqmauth keep ends: a logout removes the file (exit 0), the
// session ended elsewhere (exit 1, run 'iqmauth login'), the server down until the
// refresh token expires (retried, then exit 1), SIGINT (exit 0 within a second), and a
// new login replacing the file (followed, no refresh refused).
func TestKeepProcessEnds(t *testing.T) {
	t.Parallel()
	type setup struct {
		srv  *serveProc
		path string
		keep *keepProc
	}
	for _, tt := range []struct {
		name  string
		serve []string
		run   func(t *testing.T, s setup)
	}{
		{"logout", nil, func(t *testing.T, s setup) {
			if code, _, errOut := runBin(t, baseEnv(), "", "logout", "--tokens-file", s.path); code != 0 {
				t.Fatal(testsafe.Text(errOut))
			}
			if code := s.keep.exited(t, 3*time.Second); code != 0 || !strings.Contains(s.keep.stderr.String(), "removed (logged out)") {
				t.Errorf("exit %d:\n%s", code, testsafe.Text(s.keep.stderr.String()))
			}
		}},
		{"session ended elsewhere", []string{"--access-ttl", "2s"}, func(t *testing.T, s setup) {
			other := filepath.Join(filepath.Dir(s.path), "copy.json")
			data, _ := os.ReadFile(s.path)
			if err := os.WriteFile(other, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runBin(t, baseEnv(), "", "logout", "--tokens-file", other); code != 0 {
				t.Fatal(testsafe.Text(errOut))
			}
			out := s.keep.stderr.String
			if code := s.keep.exited(t, 5*time.Second); code != 1 || !strings.Contains(out(), "run 'iqmauth login'") || !strings.Contains(out(), "invalid_grant") {
				t.Errorf("exit %d:\n%s", code, testsafe.Text(out()))
			}
		}},
		{"server down", []string{"--access-ttl", "2s", "--refresh-ttl", "5s"}, func(t *testing.T, s setup) {
			s.srv.cmd.Process.Kill()
			out := s.keep.stderr.String
			if code := s.keep.exited(t, 15*time.Second); code != 1 || !strings.Contains(out(), "refresh token expired") ||
				!strings.Contains(out(), "run 'iqmauth login'") || strings.Count(out(), "retrying") < 2 {
				t.Errorf("exit %d:\n%s", code, testsafe.Text(out()))
			}
		}},
		{"SIGINT", nil, func(t *testing.T, s setup) {
			before, _ := os.ReadFile(s.path)
			s.keep.stop(t, syscall.SIGINT)
			after, _ := os.ReadFile(s.path)
			if string(before) != string(after) || !strings.Contains(s.keep.stderr.String(), "stopped") {
				t.Errorf("file changed or no message:\n%s", testsafe.Text(s.keep.stderr.String()))
			}
		}},
		{"new login", []string{"--access-ttl", "3s", "--rotation"}, func(t *testing.T, s setup) {
			loginFile(t, s.srv, s.path)
			every(100*time.Millisecond, 4*time.Second, func(time.Time) {})
			s.keep.stop(t, syscall.SIGTERM)
			out := s.keep.stderr.String()
			if !strings.Contains(out, "replaced by another process") || !strings.Contains(out, "renewed") ||
				strings.Contains(s.srv.logs.String(), "invalid_grant") {
				t.Errorf("keeper:\n%s\nserver:\n%s", testsafe.Text(out), testsafe.Text(s.srv.logs.String()))
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServeProc(t, tt.serve...)
			path := filepath.Join(t.TempDir(), "tokens.json")
			loginFile(t, srv, path)
			k := startKeep(t, baseEnv(), "--tokens-file", path)
			// Keep has read the file when it says so.
			if !waitFor(5*time.Second, func() bool { return strings.Contains(k.stderr.String(), "keeping") }) {
				t.Fatalf("keep did not start:\n%s", testsafe.Text(k.stderr.String()))
			}
			tt.run(t, setup{srv, path, k})
			if strings.Contains(k.stderr.String(), cliPassword) {
				t.Error("the password in the log")
			}
		})
	}
}

// TestKeepOnceProcess: --once sends nothing while the tokens are not due, renews them
// once when they are, and keeps the members it does not own.
func TestKeepOnceProcess(t *testing.T) {
	t.Parallel()
	srv := startServeProc(t)
	path := filepath.Join(t.TempDir(), "tokens.json")
	loginFile(t, srv, path)
	code, _, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+path), "", "keep", "--once")
	if code != 0 || !strings.Contains(errOut, "not due") || strings.Contains(srv.logs.String(), "kind=refresh") {
		t.Fatalf("not due: exit %d %s", code, testsafe.Text(errOut))
	}
	// 10 s left of a 300 s lifetime: due.
	var m map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m["access_token"] = fakeJWT(now.Add(10*time.Second), `,"iat":`+jsonInt(now.Add(-290*time.Second).Unix()))
	m["pid"], m["x-site"] = 4242, "kept"
	writeJSON(t, path, m)
	code, _, errOut = runBin(t, baseEnv("IQM_TOKENS_FILE="+path), "", "keep", "--once")
	if code != 0 || !strings.Contains(errOut, "renewed") || strings.Count(srv.logs.String(), "kind=refresh") != 1 {
		t.Fatalf("due: exit %d %s\n%s", code, testsafe.Text(errOut), testsafe.Text(srv.logs.String()))
	}
	data, _ = os.ReadFile(path)
	if err := json.Unmarshal(data, &m); err != nil || m["pid"] != 4242.0 || m["x-site"] != "kept" {
		t.Errorf("members not kept: %v", testsafe.Value(m))
	}
	if code, _, errOut := runBin(t, baseEnv(), "", "keep", "--once", "--renew-before", "-1s", "--tokens-file", path); code != 2 || !strings.Contains(errOut, "--renew-before") {
		t.Errorf("negative --renew-before: exit %d %s", code, testsafe.Text(errOut))
	}
}

// waitFor polls cond every 20 ms until it holds (true) or d has passed (false).
func waitFor(d time.Duration, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	for now := range tick.C {
		if cond() {
			return true
		}
		if now.After(end) {
			return false
		}
	}
	return false
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
