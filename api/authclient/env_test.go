package authclient_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
)

// TestTokensFileSession: a session on a file another program keeps fresh reads it
// again when its token is within the margin, and cannot log out.
func TestTokensFileSession(t *testing.T) {
	clock := authtest.NewClock(t0)
	path := filepath.Join(t.TempDir(), "tokens.json")
	write := func(exp time.Time) string {
		tok := jwtWithExp(exp.Unix())
		if err := tokensfile.Write(context.Background(), path, tokensfile.File{Tokens: tokens.New(tok, "")}); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	first := write(t0.Add(120 * time.Second))
	s, err := authclient.NewSession(authclient.NewTokensFileReader(path, authclient.SourceOptions{}), authclient.SessionOptions{Clock: clock})
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
	if err := s.Logout(ctx); !errors.Is(err, authclient.ErrExternalSession) {
		t.Errorf("logout: %v", err)
	}
	// An expired token in the file is an error naming the path.
	write(t0.Add(30 * time.Second))
	clock.Advance(600 * time.Second)
	if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrTokenExpired) || !strings.Contains(err.Error(), path) {
		t.Errorf("expired: %v", err)
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
		{"tokens file", env("IQM_TOKENS_FILE", "/none/tokens.json"), ""},
		{"token and tokens file (iqm-client 36's error)", env("IQM_TOKEN", "CANARY", "IQM_TOKENS_FILE", "/x"), authclient.MultipleSourcesMessage},
		{"nothing", env(), "no server URL"},
		{"bad timeout", env("IQM_TOKEN", "CANARY", "IQM_CLIENT_REQUESTS_TIMEOUT", "soon"), "positive number"},
		{"remote http", env("IQM_AUTH_SERVER", "http://auth.example", "IQM_AUTH_USERNAME", "u", "IQM_AUTH_PASSWORD", "CANARY"), "plain http"},
	} {
		src, err := authclient.SourceFromEnv(tt.env, authclient.SourceOptions{})
		var s *authclient.Session
		if err == nil {
			s, err = authclient.NewSession(src, authclient.SessionOptions{})
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (!errors.Is(err, authclient.ErrConfig) || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		case err != nil && strings.Contains(err.Error(), "CANARY"):
			t.Errorf("%s: error shows a secret: %v", tt.name, err)
		}
		var ce *authclient.ConfigError
		if tt.err != "" && !errors.As(err, &ce) {
			t.Errorf("%s: not a *ConfigError", tt.name)
		}
		if s != nil {
			s.Close()
		}
	}
}
