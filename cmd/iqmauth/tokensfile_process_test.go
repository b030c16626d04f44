package main

// Tests of the tokens file shared by processes: Cortex's members kept, one refresh for
// many processes, FIFOs, text from the file sanitized, the lock's wait bounded.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// TestTokensFileKeepsCortexFields: iqmauth never writes its own pid (Cortex CLI kills
// the process a tokens file names), and keeps the fields it does not own exactly.
func TestTokensFileKeepsCortexFields(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	e := env{"IQM_AUTH_SERVER": srv.URL, "IQM_AUTH_USERNAME": "alice", "IQM_AUTH_PASSWORD": cliPassword, "IQM_TOKENS_FILE": file}
	if code, _, errOut := runWith(t, e, "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), `"pid"`) {
		t.Errorf("login wrote a pid:\n%s", testsafe.Text(string(data)))
	}
	// As Cortex's token manager would have written it.
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["pid"] = 4242
	m["cortex_extra"] = map[string]any{"keep": []any{1.5, "x"}}
	writeJSON(t, file, m)
	if code, _, errOut := runWith(t, e, "token", "--force-refresh"); code != 0 {
		t.Fatalf("token: %s", testsafe.Text(errOut))
	}
	data, _ = os.ReadFile(file)
	var after map[string]json.RawMessage
	if err := json.Unmarshal(data, &after); err != nil {
		t.Fatal(err)
	}
	if string(after["pid"]) != "4242" || strings.Join(strings.Fields(string(after["cortex_extra"])), "") != `{"keep":[1.5,"x"]}` {
		t.Errorf("foreign fields changed:\n%s", testsafe.Text(string(data)))
	}
	if string(after["access_token"]) == fmt.Sprintf("%q", m["access_token"]) {
		t.Error("tokens not rewritten")
	}
}

// TestConcurrentTokenProcessesRefreshOnce: ten `iqmauth token` processes on one tokens
// file, against a server that rotates refresh tokens behind 300 ms of latency, send
// exactly one refresh request, and all print a valid token.
func TestConcurrentTokenProcessesRefreshOnce(t *testing.T) {
	serve := exec.Command(iqmauthBin, "serve", "--addr", "127.0.0.1:0", "--rotation", "--access-ttl", "120s")
	serve.Env = baseEnv("IQMAUTH_SERVE_USERS=alice:" + cliPassword)
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v %s", err, testsafe.Text(logs.String()))
	}
	target, _ := url.Parse(strings.TrimSpace(line))
	// 300 ms of network latency in front of it.
	rp := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(300 * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
			rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()

	file := filepath.Join(t.TempDir(), "tokens.json")
	e := env{"IQM_AUTH_SERVER": slow.URL, "IQM_AUTH_USERNAME": "alice", "IQM_AUTH_PASSWORD": cliPassword, "IQM_TOKENS_FILE": file}
	if code, _, errOut := runWith(t, e, "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	// The access token has 60 s left: every process wants a refresh for 119 s.
	var m map[string]any
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["access_token"] = fakeJWT(time.Now().Add(60*time.Second), "")
	writeJSON(t, file, m)

	const n = 10
	type result struct {
		code        int
		out, errOut string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token", "--min-valid", "119s")
			results[i] = result{code, out, errOut}
		}()
	}
	wg.Wait()
	for i, r := range results {
		tok := strings.TrimSpace(r.out)
		exp, ok := tokens.JWTExpiry(tok)
		if r.code != 0 || !ok || time.Until(exp) < 110*time.Second {
			t.Errorf("process %d: exit %d, token expiring %v, stderr %q", i, r.code, exp, testsafe.Text(r.errOut))
		}
	}
	serve.Process.Signal(syscall.SIGTERM)
	io.Copy(io.Discard, stdout)
	serve.Wait()
	refreshes := strings.Count(logs.String(), "kind=refresh")
	if refreshes != 1 {
		t.Errorf("%d refresh requests, want 1:\n%s", refreshes, testsafe.Text(logs.String()))
	}
}

// TestStatusOnFIFOEndsPromptly: a FIFO as the tokens file is refused instead of read,
// and a signal ends the command in any case.
func TestStatusOnFIFOEndsPromptly(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tokens.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, sub := range []string{"status", "token", "logout"} {
		cmd := exec.Command(iqmauthBin, sub, "--tokens-file", fifo)
		cmd.Env = baseEnv()
		var errOut lockedBuffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(errOut.String(), "not a regular file") {
				t.Errorf("%s: %v, stderr %q", sub, err, testsafe.Text(errOut.String()))
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
				t.Errorf("%s: blocked on the FIFO until SIGINT", sub)
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("%s: blocked on the FIFO, deaf to SIGINT", sub)
			}
		}
	}
}

// TestStatusSanitizesFileText: text from the tokens file reaches the terminal without
// control characters or user information, and loose permissions are warned about.
func TestStatusSanitizesFileText(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	writeJSON(t, file, map[string]string{
		"access_token":    fakeJWT(time.Now().Add(time.Hour), `,"sub":"x\u001b]0;title\u0007"`),
		"auth_server_url": "https://user:CANARY-URLPW@auth.example/\u001b[31mred\nserver:                https://forged.example",
		"realm":           "cortex\r\x1b[2K", "client_id": "iqm\u009bclient", "refresh_status": "SUCCESS\u202e",
	})
	code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "status")
	if code != 0 {
		t.Fatalf("status: %d %q", code, testsafe.Text(errOut))
	}
	if strings.ContainsAny(out, "\x1b\r\x07\u009b\u202e") || strings.Contains(out, "CANARY-URLPW") || strings.Contains(out, "@auth.example") {
		t.Errorf("status output:\n%q", testsafe.Text(out))
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "server:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d server lines (a forged line got through):\n%s", n, testsafe.Text(out))
	}
	if !strings.Contains(out, "https://auth.example/") {
		t.Errorf("status lacks the server:\n%s", testsafe.Text(out))
	}
	if strings.Contains(errOut, "permission") || strings.Contains(errOut, "warning") {
		t.Errorf("warned for mode 0600: %q", testsafe.Text(errOut))
	}
	// Readable by others, in a folder others can write to.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	_, _, errOut = runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "status")
	if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, file) || !strings.Contains(errOut, dir) ||
		!strings.Contains(errOut, "0644") || !strings.Contains(errOut, "0777") {
		t.Errorf("no warning about permissions: %q", testsafe.Text(errOut))
	}
}

// holdLock takes the tokens file's lock as another process would (an flock on its
// lock file, made with mode 0600 as tokensfile makes it), for the test.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	fh, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fh.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { fh.Close() }) }
	t.Cleanup(release)
	return release
}

// TestLockWaitEndsOnSignalOrTimeout: a command waiting for the tokens file's lock says
// so, ends promptly on SIGINT, and gives up after --lock-timeout with a clear error.
func TestLockWaitEndsOnSignalOrTimeout(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	file := filepath.Join(t.TempDir(), "tokens.json")
	e := env{"IQM_AUTH_SERVER": srv.URL, "IQM_AUTH_USERNAME": "alice", "IQM_AUTH_PASSWORD": cliPassword, "IQM_TOKENS_FILE": file}
	if code, _, errOut := runWith(t, e, "login"); code != 0 {
		t.Fatalf("login: %s", testsafe.Text(errOut))
	}
	release := holdLock(t, file)
	defer release()

	code, out, errOut := runBin(t, baseEnv("IQM_TOKENS_FILE="+file), "", "token", "--force-refresh", "--lock-timeout", "200ms")
	if code != 1 || out != "" || !strings.Contains(errOut, "timed out waiting for its lock") || !strings.Contains(errOut, "waiting for") {
		t.Errorf("lock timeout: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}

	cmd := exec.Command(iqmauthBin, "token", "--force-refresh", "--lock-timeout", "1h")
	cmd.Env = baseEnv("IQM_TOKENS_FILE=" + file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "waiting for "+file+".lock") {
		cmd.Process.Kill()
		t.Fatalf("no waiting message: %q %v", testsafe.Text(line), err)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, stderr); done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Errorf("after SIGINT: %v", err)
		}
		if took := time.Since(start); took > shutdownGrace {
			t.Errorf("took %v to end", took)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("did not end on SIGINT")
	}
	if reqs := srv.Requests(); len(reqs) != 1 {
		t.Errorf("%d requests (the login only)", len(reqs))
	}
}
