package api_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/authtest"
)

func TestTokensFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "tokens.json")
	exp := t0.Add(time.Hour).Unix()
	in := api.TokensFile{AuthServerURL: "https://auth.example", Realm: "cortex", ClientID: "iqm_client",
		RefreshStatus: "SUCCESS", Timestamp: t0, Tokens: api.NewTokens(jwtWithExp(exp), jwtWithExp(exp+600))}
	if err := api.WriteTokensFile(context.Background(), path, in); err != nil {
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
	out, err := api.ReadTokensFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.AuthServerURL != in.AuthServerURL || out.Realm != "cortex" || out.ClientID != "iqm_client" ||
		out.Tokens.AccessToken() != in.Tokens.AccessToken() || out.Tokens.RefreshToken() != in.Tokens.RefreshToken() ||
		out.Tokens.AccessExpiry.Unix() != exp || !out.Timestamp.Equal(t0) || out.PID != 0 || out.RefreshStatus != "SUCCESS" {
		t.Errorf("read back %v", out)
	}
	// Overwrite in place: still one file.
	in.RefreshStatus = "FAILED"
	if err := api.WriteTokensFile(context.Background(), path, in); err != nil {
		t.Fatal(err)
	}
	if out, _ := api.ReadTokensFile(path); out.RefreshStatus != "FAILED" {
		t.Error("not replaced")
	}
}

// TestTokensFileCortexFormat reads a file as the Cortex CLI writes it.
func TestTokensFileCortexFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	exp := t0.Add(time.Hour).Unix()
	body := `{"pid": 4242, "timestamp": "2026-11-27T12:00:00.123456", "refresh_status": "SUCCESS",
 "access_token": "` + jwtWithExp(exp) + `", "refresh_token": "r", "auth_server_url": "https://auth.example", "extra": [1]}`
	os.WriteFile(path, []byte(body), 0o600)
	f, err := api.ReadTokensFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.PID != 4242 || f.Timestamp.IsZero() || f.AuthServerURL != "https://auth.example" || f.Tokens.AccessExpiry.Unix() != exp {
		t.Errorf("%v", f)
	}
}

func TestTokensFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := api.ReadTokensFile(missing)
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
		os.WriteFile(path, []byte(body), 0o600)
		_, err := api.ReadTokensFile(path)
		if !errors.Is(err, api.ErrMalformedTokensFile) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := api.WriteTokensFile(context.Background(), filepath.Join(dir, "x.json"), api.TokensFile{}); !errors.Is(err, api.ErrMalformedTokensFile) {
		t.Errorf("write without token: %v", err)
	}
}

// TestTokensFileSession: a session on a file another program keeps fresh reads it
// again when its token is within the margin.
func TestTokensFileSession(t *testing.T) {
	clock := authtest.NewClock(t0)
	path := filepath.Join(t.TempDir(), "tokens.json")
	write := func(exp time.Time) string {
		tok := jwtWithExp(exp.Unix())
		if err := api.WriteTokensFile(context.Background(), path, api.TokensFile{Tokens: api.NewTokens(tok, "")}); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	first := write(t0.Add(120 * time.Second))
	src, err := api.NewFileSource(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.NewSession(src, api.SessionOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if tok := mustToken(t, s); tok != first {
		t.Fatal("not the file's token")
	}
	second := write(t0.Add(600 * time.Second))
	if tok := mustToken(t, s); tok != first {
		t.Fatal("file read again too early")
	}
	clock.Advance(61 * time.Second) // within the margin
	if tok := mustToken(t, s); tok != second {
		t.Fatal("file not read again")
	}
	if err := s.Logout(ctx); !errors.Is(err, api.ErrExternalSession) {
		t.Errorf("logout: %v", err)
	}
	// An expired token in the file is an error naming the path.
	write(t0.Add(30 * time.Second))
	clock.Advance(600 * time.Second)
	if _, err := s.Token(ctx); !errors.Is(err, api.ErrTokenExpired) || !strings.Contains(err.Error(), path) {
		t.Errorf("expired: %v", err)
	}
	if _, err := api.NewFileSource(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSourceFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tt := range []struct {
		name string
		env  func(string) string
		err  string // "" = valid
	}{
		{"credentials", env("IQM_AUTH_SERVER", "http://127.0.0.1:1", "IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "CANARY"), ""},
		{"server without password", env("IQM_AUTH_SERVER", "http://127.0.0.1:1", "IQM_AUTH_USERNAME", "u"), "auth server URL is set but no username or password"},
		{"server without username", env("IQM_AUTH_SERVER", "http://127.0.0.1:1", "IQM_AUTH_PASSWORD", "CANARY"), "auth server URL is set but no username or password"},
		{"tokens file and credentials", env("IQM_TOKENS_FILE", "/x", "IQM_AUTH_SERVER", "http://127.0.0.1:1", "IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "CANARY"), "cannot be combined"},
		{"token and credentials", env("IQM_TOKEN", "CANARY", "IQM_AUTH_USERNAME", "u"), "cannot be combined"},
		{"token", env("IQM_TOKEN", "CANARY"), ""},
		{"nothing", env(), "no server URL"},
		{"bad timeout", env("IQM_TOKEN", "CANARY", "IQM_CLIENT_REQUESTS_TIMEOUT", "soon"), "positive number"},
		{"remote http", env("IQM_AUTH_SERVER", "http://auth.example", "IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "CANARY"), "plain http"},
	} {
		src, err := api.SourceFromEnv(tt.env, api.ClientConfig{})
		var s *api.Session
		if err == nil {
			s, err = api.NewSession(src, api.SessionOptions{})
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (!errors.Is(err, api.ErrConfig) || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		case err != nil && strings.Contains(err.Error(), "CANARY"):
			t.Errorf("%s: error shows a secret: %v", tt.name, err)
		}
		var ce *api.ConfigError
		if tt.err != "" && !errors.As(err, &ce) {
			t.Errorf("%s: not a *ConfigError", tt.name)
		}
		if s != nil {
			s.Close()
		}
	}
	src, err := api.SourceFromEnv(env("IQM_CLIENT_REQUESTS_TIMEOUT", "2.5", "IQM_AUTH_SERVER", "http://127.0.0.1:1",
		"IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "p"), api.ClientConfig{Timeout: time.Hour})
	if g, ok := src.(*api.Grants); err != nil || !ok || g.Client().Timeout() != 2500*time.Millisecond {
		t.Errorf("timeout from the environment: %v, %v", src, err)
	}
	src, _ = api.SourceFromEnv(env("IQM_AUTH_SERVER", "http://127.0.0.1:1", "IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "p"),
		api.ClientConfig{Timeout: time.Hour})
	if g, ok := src.(*api.Grants); !ok || g.Client().Timeout() != time.Hour {
		t.Errorf("timeout of the given config: %v", src)
	}
}
