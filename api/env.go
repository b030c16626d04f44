package api

import (
	"math"
	"os"
	"strconv"
	"time"
)

// Environment variables the Python client reads, and ConfigFromEnv with it.
const (
	EnvAuthServer      = "IQM_AUTH_SERVER"
	EnvAuthUsername    = "IQM_AUTH_USERNAME"
	EnvAuthPassword    = "IQM_AUTH_PASSWORD"
	EnvTokensFile      = "IQM_TOKENS_FILE"
	EnvToken           = "IQM_TOKEN"
	EnvRequestsTimeout = "IQM_CLIENT_REQUESTS_TIMEOUT"
)

// ConfigFromEnv fills a SessionConfig from the environment (getenv is os.Getenv or a
// test's map lookup), on top of base. NewSession then reports the same configuration
// errors as the Python client: a server URL without username or password, a tokens
// file together with credentials.
func ConfigFromEnv(getenv func(string) string, base SessionConfig) (SessionConfig, error) {
	cfg := base
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&cfg.ServerURL, EnvAuthServer)
	set(&cfg.Username, EnvAuthUsername)
	set(&cfg.Password, EnvAuthPassword)
	set(&cfg.TokensFile, EnvTokensFile)
	set(&cfg.Token, EnvToken)
	cfg.TokensFile = expandHome(cfg.TokensFile)
	if v := getenv(EnvRequestsTimeout); v != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return SessionConfig{}, &ConfigError{Setting: EnvRequestsTimeout, Problem: "must be a positive number of seconds", Err: ErrConfig}
		}
		cfg.Timeout = d
	}
	return cfg, nil
}

// NewSessionFromEnv is NewSession(ConfigFromEnv(os.Getenv, SessionConfig{})).
func NewSessionFromEnv() (*Session, error) {
	cfg, err := ConfigFromEnv(os.Getenv, SessionConfig{})
	if err != nil {
		return nil, err
	}
	return NewSession(cfg)
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
