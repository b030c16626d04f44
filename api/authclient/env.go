package authclient

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables the Python client reads, and SourceFromEnv with it.
const (
	EnvAuthServer      = "IQM_AUTH_SERVER"
	EnvAuthUsername    = "IQM_AUTH_USERNAME"
	EnvAuthPassword    = "IQM_AUTH_PASSWORD"
	EnvTokensFile      = "IQM_TOKENS_FILE"
	EnvToken           = "IQM_TOKEN"
	EnvRequestsTimeout = "IQM_CLIENT_REQUESTS_TIMEOUT"
)

// SourceFromEnv picks the source of tokens the environment configures (getenv is
// os.Getenv, or a test's map lookup), with the Python client's rules: IQM_TOKEN (a
// plain token, StaticToken), IQM_TOKENS_FILE (a file another program keeps fresh,
// FileSource), or IQM_AUTH_SERVER with IQM_AUTH_USERNAME and IQM_AUTH_PASSWORD
// (Grants). A server URL without username or password, or a tokens file or token
// together with credentials, is a *ConfigError. cfg configures the client of Grants;
// IQM_AUTH_SERVER and IQM_CLIENT_REQUESTS_TIMEOUT, when set, override its ServerURL
// and Timeout.
func SourceFromEnv(getenv func(string) string, cfg Config) (Source, error) {
	server, user, password := getenv(EnvAuthServer), getenv(EnvAuthUsername), getenv(EnvAuthPassword)
	file, token := expandHome(getenv(EnvTokensFile)), getenv(EnvToken)
	creds := user != "" || password != ""
	timeout, err := TimeoutFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if server != "" {
		cfg.ServerURL = server
	}
	switch {
	case token != "" && (creds || file != ""):
		return nil, &ConfigError{Setting: EnvToken, Problem: "cannot be combined with credentials or a tokens file", Err: ErrConfig}
	case file != "" && creds:
		return nil, &ConfigError{Setting: EnvTokensFile, Problem: "cannot be combined with credentials", Err: ErrConfig}
	case token != "":
		return StaticToken(token), nil
	case file != "":
		return NewFileSource(file)
	case cfg.ServerURL != "" && (user == "" || password == ""):
		return nil, &ConfigError{Setting: "credentials", Problem: "auth server URL is set but no username or password", Err: ErrConfig}
	case cfg.ServerURL == "" && creds:
		return nil, &ConfigError{Setting: EnvAuthServer, Problem: "is required with credentials", Err: ErrConfig}
	case cfg.ServerURL == "":
		return nil, &ConfigError{Setting: "auth", Problem: "no server URL with credentials, tokens file or token configured", Err: ErrConfig}
	}
	if getenv(EnvRequestsTimeout) != "" || cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return NewGrants(c, user, password), nil
}

// NewSessionFromEnv is a Session on SourceFromEnv(os.Getenv, Config{}) with the
// default options.
func NewSessionFromEnv() (*Session, error) {
	src, err := SourceFromEnv(os.Getenv, Config{})
	if err != nil {
		return nil, err
	}
	return NewSession(src, SessionOptions{})
}

// TimeoutFromEnv reads IQM_CLIENT_REQUESTS_TIMEOUT (seconds), or DefaultTimeout.
func TimeoutFromEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv(EnvRequestsTimeout)
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := parseSeconds(v)
	if err != nil {
		return 0, &ConfigError{Setting: EnvRequestsTimeout, Problem: "must be a positive number of seconds", Err: ErrConfig}
	}
	return d, nil
}

func parseSeconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1e6 {
		return 0, strconv.ErrSyntax
	}
	return time.Duration(f * float64(time.Second)), nil
}

// expandHome expands a leading ~/ the way the Python client's paths are written.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
