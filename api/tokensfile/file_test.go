package tokensfile_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/internal/testtime"
)

var t0 = testtime.Epoch()

func jwtWithExp(exp int64) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d,"sub":"x-_?>"}`, exp)))
	return "eyJhbGciOiJIUzI1NiJ9." + payload + ".c2ln"
}

func TestTokensFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "tokens.json")
	exp := t0.Add(time.Hour).Unix()
	in := tokensfile.File{AuthServerURL: "https://auth.example", Realm: "cortex", ClientID: "iqm_client",
		RefreshStatus: "SUCCESS", Timestamp: t0, Tokens: tokens.New(jwtWithExp(exp), jwtWithExp(exp+600))}
	if err := tokensfile.Write(context.Background(), path, in); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 || entries[0].Name() != "tokens.json" || entries[1].Name() != "tokens.json.lock" {
		t.Errorf("want the file and its lock file, found %v", entries)
	}
	out, err := tokensfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.AuthServerURL != in.AuthServerURL || out.Realm != "cortex" || out.ClientID != "iqm_client" ||
		out.Tokens.AccessToken() != in.Tokens.AccessToken() || out.Tokens.RefreshToken() != in.Tokens.RefreshToken() ||
		out.Tokens.AccessExpiry.Unix() != exp || !out.Timestamp.Equal(t0) || out.RefreshStatus != "SUCCESS" {
		t.Errorf("read back %v", testsafe.Value(out))
	}
	// Overwrite in place: still one file.
	in.RefreshStatus = "FAILED"
	if err := tokensfile.Write(context.Background(), path, in); err != nil {
		t.Fatal(err)
	}
	if out, _ := tokensfile.Read(path); out.RefreshStatus != "FAILED" {
		t.Error("not replaced")
	}
}

// TestTokensFileCortexFormat reads a file as the Cortex CLI writes it.
func TestTokensFileCortexFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	exp := t0.Add(time.Hour).Unix()
	body := `{"pid": 4242, "timestamp": "2026-11-27T12:00:00.123456", "refresh_status": "SUCCESS",
 "access_token": "` + jwtWithExp(exp) + `", "refresh_token": "r", "auth_server_url": "https://auth.example", "extra": [1]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := tokensfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Timestamp.IsZero() || f.AuthServerURL != "https://auth.example" || f.Tokens.AccessExpiry.Unix() != exp {
		t.Errorf("%v", f)
	}
}

func TestTokensFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := tokensfile.Read(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
	for name, body := range map[string]string{
		"syntax":    `{"access_token": "CANARY-TOKEN-abc", oops}`,
		"truncated": `{"access_token": "CANARY-TOKEN-abc"`,
		"type":      `{"access_token": 42}`,
		"no access": `{"refresh_token": "CANARY-TOKEN-abc"}`,
		"empty":     ``,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := tokensfile.Read(path)
		if !errors.Is(err, tokensfile.ErrMalformed) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := tokensfile.Write(context.Background(), filepath.Join(dir, "x.json"), tokensfile.File{}); !errors.Is(err, tokensfile.ErrMalformed) {
		t.Errorf("write without token: %v", err)
	}
}

// TestTokensFileNeverWritesOwnPID: Cortex CLI kills the process named in pid; a file we
// write names none.
func TestTokensFileNeverWritesOwnPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := tokensfile.Write(context.Background(), path, tokensfile.File{AuthServerURL: "https://a.example", Tokens: tokens.New("a", "r")}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["pid"]; ok {
		t.Errorf("wrote a pid: %s", testsafe.Text(string(data)))
	}
}

// TestTokensFileRewriteKeepsForeignFields: rewriting a Cortex file keeps the fields we
// do not own (its token manager's pid included) exactly as they were.
func TestTokensFileRewriteKeepsForeignFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	orig := `{"pid": 4242, "timestamp": "2026-11-27T12:00:00.123456", "refresh_status": "SUCCESS",
 "access_token": "old-a", "refresh_token": "old-r", "auth_server_url": "https://auth.example",
 "extra": {"b": [1, 2.50, "x"], "a": null}, "nested_pid": 7}`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := tokensfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Tokens = tokens.New("new-a", "new-r")
	if err := tokensfile.Write(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"pid": `4242`, "extra": `{"b": [1, 2.50, "x"], "a": null}`, "nested_pid": `7`, "access_token": `"new-a"`} {
		if got := string(m[k]); got != want {
			t.Errorf("%s: %s, want %s", k, testsafe.Text(got), want)
		}
	}
}

// TestStaleTempFilesRemovedOnWrite: temporary files that a killed writer left (they
// hold full tokens) are removed by the next write; other files are not touched.
func TestStaleTempFilesRemovedOnWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	stale := []string{".tokens.json.123456.tmp", ".tokens.json.9.tmp"}
	keep := []string{".other.json.1.tmp", "tokens.json.bak", "notes.tmp"}
	for _, name := range append(append([]string{}, stale...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"access_token":"CANARY"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := tokensfile.Write(context.Background(), path, tokensfile.File{Tokens: tokens.New("a", "r")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", name, err)
		}
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s removed: %v", name, err)
		}
	}
}

// TestTokensFileRefusesNonRegularFile: a FIFO (or a device, or a folder) as the tokens
// file is refused before it is read, instead of blocking forever.
func TestTokensFileRefusesNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "tokens.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := tokensfile.Read(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the reader so that the test can end, then fail.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("reading a FIFO blocked")
	}
	if _, err := tokensfile.Read(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder: %v", err)
	}
}

// holdLock holds the lock of path in an Update of this process until release, as
// another process would.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	held, done, end := make(chan struct{}), make(chan error), make(chan struct{})
	go func() {
		done <- tokensfile.Update(context.Background(), path, nil, func(*tokensfile.Tx) error {
			close(held)
			<-end
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(end)
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// TestTokensFileLockTimesOut: waiting for a lock another Update holds ends with
// ErrLockTimeout at the context's deadline, fn does not run, and the lock is free
// again when the holder's fn returns.
func TestTokensFileLockTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	release := holdLock(t, path)
	ran := func(*tokensfile.Tx) error { t.Error("fn ran without the lock"); return nil }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	waited := false
	err := tokensfile.Update(ctx, path, func() { waited = true }, ran)
	var fe *tokensfile.Error
	if !errors.Is(err, tokensfile.ErrLockTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &fe) || !strings.Contains(err.Error(), path) || !waited {
		t.Fatalf("held lock: %v (onWait ran: %t)", err, waited)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := tokensfile.Update(ctx, path, nil, ran); !errors.Is(err, context.Canceled) || errors.Is(err, tokensfile.ErrLockTimeout) {
		t.Errorf("cancelled: %v", err)
	}
	release()
	if err := tokensfile.Update(context.Background(), path, nil, func(*tokensfile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
