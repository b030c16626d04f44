package main

// Tests for the holes the adversarial review found (issue "Hardening"); each failed
// before its fix. They run the command as a process, as a user or a script would.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// lockedBuffer is a bytes.Buffer safe for a process's output and the test to share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// baseEnv is the environment for a child process: this one's, without any IQM_ or
// proxy settings.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "IQM"), strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "no_proxy"), strings.EqualFold(k, "all_proxy"), k == "SSL_CERT_FILE":
		default:
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runBin runs the command as a process with env, and fails the test if it does not
// end within a minute.
func runBin(t *testing.T, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runBinAs(t, -1, env, stdin, args...)
}

// fakeJWT is an unsigned JWT with the given exp, as the client reads expiry from it.
func fakeJWT(exp time.Time, extra string) string {
	payload := fmt.Sprintf(`{"exp":%d,"preferred_username":"alice"%s}`, exp.Unix(), extra)
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// proxyRecorder is a forward proxy on loopback that records every request and answers
// plain-http ones itself with a token response.
func proxyRecorder(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String()+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":300,"refresh_token":"new-r","refresh_expires_in":1800}`, fakeJWT(time.Now().Add(5*time.Minute), ""))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestTokensFileCleartextURLRefused: a tokens file naming a plain http:// server that
// is not loopback makes token and logout refuse (exit 2, saying why and how to opt
// in) and send nothing, neither the refresh token nor the password; with the opt-in
// the request goes out, through the proxy that HTTP_PROXY names.
func TestTokensFileCleartextURLRefused(t *testing.T) {
	proxy, seen := proxyRecorder(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	write := func() {
		writeJSON(t, file, map[string]string{"access_token": fakeJWT(time.Now().Add(10*time.Second), ""),
			"refresh_token": "CANARY-RT-0a1b", "auth_server_url": "http://auth.example.test"})
	}
	env := baseEnv("HTTP_PROXY="+proxy.URL, "HTTPS_PROXY="+proxy.URL, "IQM_TOKENS_FILE="+file,
		"IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	for _, args := range [][]string{{"token"}, {"token", "--force-refresh"}, {"logout"}} {
		write()
		code, out, errOut := runBin(t, env, "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "plain http") || !strings.Contains(errOut, "--allow-insecure-http") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, testsafe.Text(out), testsafe.Text(errOut))
		}
		if strings.Contains(errOut, cliPassword) || strings.Contains(errOut, "CANARY-RT") {
			t.Errorf("%v: stderr shows a secret: %q", args, testsafe.Text(errOut))
		}
	}
	if s := seen(); len(s) != 0 {
		t.Fatalf("sent %d requests: %q", len(s), testsafe.Value(s))
	}
	write()
	// The password may go to the file's server only when the user names it too.
	env = append(env, "IQM_AUTH_SERVER=http://auth.example.test")
	code, out, errOut := runBin(t, env, "", "token", "--force-refresh", "--allow-insecure-http")
	if code != 0 || out == "" {
		t.Errorf("opted in: exit %d, stdout %q, stderr %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if s := seen(); len(s) != 1 || !strings.Contains(s[0], "http://auth.example.test/realms/cortex/protocol/openid-connect/token") {
		t.Errorf("through the proxy: %q", testsafe.Value(s))
	}
}

// TestHTTPSProxyHonoured: with HTTPS_PROXY set, login and token reach an https://
// server through the proxy's CONNECT tunnel (the proxy only ever dials 127.0.0.1).
func TestHTTPSProxyHonoured(t *testing.T) {
	auth := authtest.Start(t, authtest.WithUser("alice", cliPassword))
	tlsSrv := httptest.NewUnstartedServer(auth.Handler())
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != "example.com:443" {
			http.Error(w, "only CONNECT example.com:443", http.StatusForbidden)
			return
		}
		connects.Add(1)
		upstream, err := net.Dial("tcp", tlsSrv.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		go func() { io.Copy(upstream, buf); upstream.(*net.TCPConn).CloseWrite() }()
		io.Copy(conn, upstream)
		conn.Close()
		upstream.Close()
	}))
	t.Cleanup(proxy.Close)
	file := filepath.Join(t.TempDir(), "tokens.json")
	env := baseEnv("HTTPS_PROXY="+proxy.URL, "SSL_CERT_FILE="+certFile, "IQM_TOKENS_FILE="+file,
		"IQM_AUTH_SERVER=https://example.com", "IQM_AUTH_USERNAME=alice", "IQM_AUTH_PASSWORD="+cliPassword)
	if code, out, errOut := runBin(t, env, "", "login"); code != 0 {
		t.Fatalf("login: %d %q %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	code, out, errOut := runBin(t, env, "", "token", "--force-refresh")
	if code != 0 {
		t.Fatalf("token: %d %q %q", code, testsafe.Text(out), testsafe.Text(errOut))
	}
	if _, err := auth.VerifyAccessToken(strings.TrimSpace(out)); err != nil {
		t.Errorf("printed token: %v", err)
	}
	if connects.Load() < 2 {
		t.Errorf("%d CONNECTs through the proxy", connects.Load())
	}
}

// TestServeUserFlagNeverEchoesValue: a malformed --user value (it may be a password)
// is not repeated in the error.
func TestServeUserFlagNeverEchoesValue(t *testing.T) {
	for _, tt := range []struct {
		env  env
		args []string
	}{
		{env{}, []string{"serve", "--addr", "127.0.0.1:0", "--user", "CANARY-USERFLAG-nocolon"}},
		{env{}, []string{"serve", "--addr", "127.0.0.1:0", "--user=CANARY-USERFLAG-nocolon"}},
		{env{"IQMAUTH_SERVE_USERS": "bob:pw,CANARY-USERFLAG-nocolon"}, []string{"serve", "--addr", "127.0.0.1:0"}},
	} {
		code, out, errOut := runWith(t, tt.env, tt.args...)
		if code != 2 || !strings.Contains(errOut, "name:password") {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, testsafe.Text(errOut))
		}
		if strings.Contains(out+errOut, "CANARY-USERFLAG") {
			t.Errorf("%v: output shows the value: %q", tt.args, testsafe.Text(errOut))
		}
	}
}

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

// TestServeCutsTricklingBodyAndIdleConnections: a body trickling in and an idle
// keep-alive connection are closed by the server's timeouts.
func TestServeCutsTricklingBodyAndIdleConnections(t *testing.T) {
	serve := exec.Command(iqmauthBin, "serve", "--addr", "127.0.0.1:0", "--read-timeout", "500ms", "--idle-timeout", "500ms")
	serve.Env = baseEnv()
	stdout, _ := serve.StdoutPipe()
	var logs lockedBuffer
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		io.Copy(io.Discard, stdout)
		serve.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v %s", err, testsafe.Text(logs.String()))
	}
	addr := strings.TrimPrefix(strings.TrimSpace(line), "http://")

	// Trickle: one byte every 100 ms of a 1000-byte body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /realms/cortex/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nc")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn) // returns when the server closes the connection
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("trickling connection open for %v", took)
	}

	// Idle: one request, then the connection is closed by the server.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /realms/cortex/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start = time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Error("data after the response")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("idle connection open for %v", took)
	}
}

// holdLock takes the tokens file's lock as another process would, for the test.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	l, err := tokensfile.Lock(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l.Unlock
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

var _ = tls.VersionTLS12
