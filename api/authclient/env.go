package authclient

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables the Python client reads, and SourceFromEnv with it; exported
// for a command line's flag defaults and messages (iqmauth).
const (
	EnvAuthServer      = "IQM_AUTH_SERVER"
	EnvAuthUsername    = "IQM_AUTH_USERNAME"
	EnvAuthPassword    = "IQM_AUTH_PASSWORD"
	EnvTokensFile      = "IQM_TOKENS_FILE"
	EnvToken           = "IQM_TOKEN"
	envRequestsTimeout = "IQM_CLIENT_REQUESTS_TIMEOUT"
)

// ErrMultipleSources: both IQM_TOKEN and IQM_TOKENS_FILE are set (iqm-client 36 takes
// exactly one).
var ErrMultipleSources = fmt.Errorf("%w: more than one source of tokens", ErrConfig)

// MultipleSourcesMessage is iqm-client 36's error (ClientConfigurationError, from
// iqm-station-control-client 14.0.0's TokenManager) when IQM_TOKEN and
// IQM_TOKENS_FILE are both set; the *ConfigError of SourceFromEnv says it word for word,
// and so can a program that checks the variables itself (iqmauth token).
const MultipleSourcesMessage = "No more than one authentication parameter may be given, received ['IQM_TOKEN', 'IQM_TOKENS_FILE']"

// SourceOptions configures the sources that SourceFromEnv and NewTokensFileReader
// make; the zero value is iqm-client 36's behaviour.
type SourceOptions struct {
	// Config configures the client of the legacy variables' Grants, and of a tokens
	// file's renewal (see NewFileGrants); for SourceFromEnv, IQM_AUTH_SERVER and
	// IQM_CLIENT_REQUESTS_TIMEOUT, when set, override its ServerURL and Timeout.
	Config Config
	// RenewTokensFile lets a TokensFileReader renew the file's tokens (the refresh
	// grant, under the file's lock, written back) when they are due and the file holds
	// a refresh token and an auth_server_url. iqm-client 36 never renews; by default
	// neither does the reader.
	RenewTokensFile bool
	// Lock configures the wait for the file's lock when renewing.
	Lock FileLock
}

// SourceFromEnv picks the source of tokens the environment configures (getenv is
// os.Getenv, or a test's map lookup; an empty value counts as unset, as in Python's
// os.environ.get). The rules, and the iqm-client version each follows:
//   - IQM_TOKEN and IQM_TOKENS_FILE both set: a *ConfigError with iqm-client 36's
//     message (MultipleSourcesMessage), wrapping ErrMultipleSources. (36)
//   - IQM_TOKEN: StaticToken, used as it is, never parsed nor renewed. (36, and 17.5)
//   - IQM_TOKENS_FILE: a TokensFileReader: access_token only, read again within the
//     margin, renewed only when o.RenewTokensFile allows and the file has a refresh
//     token and an auth_server_url. A leading ~/ is the home folder. (36)
//   - IQM_AUTH_SERVER with IQM_AUTH_USERNAME and IQM_AUTH_PASSWORD: Grants, the
//     password and refresh grants. A server URL without username or password is
//     17.5's error "auth server URL is set but no username or password". (17.5; 31.3
//     removed these variables)
//   - IQM_TOKEN or IQM_TOKENS_FILE together with IQM_AUTH_USERNAME or
//     IQM_AUTH_PASSWORD: a *ConfigError, as 17.5's "Either external token or
//     credentials must be provided" (which 17.5 raised for arguments only; here the
//     password is never sent when a token or tokens file is meant).
func SourceFromEnv(getenv func(string) string, o SourceOptions) (Source, error) {
	cfg := o.Config
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
	if getenv(envRequestsTimeout) != "" || cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	switch {
	case token != "" && file != "":
		return nil, &ConfigError{Setting: EnvToken + " and " + EnvTokensFile, Problem: MultipleSourcesMessage, Err: ErrMultipleSources}
	case token != "" && creds:
		return nil, &ConfigError{Setting: EnvToken, Problem: "cannot be combined with credentials or a tokens file", Err: ErrConfig}
	case file != "" && creds:
		return nil, &ConfigError{Setting: EnvTokensFile, Problem: "cannot be combined with credentials", Err: ErrConfig}
	case token != "":
		return StaticToken(token), nil
	case file != "":
		o.Config = cfg
		return NewTokensFileReader(file, o), nil
	case cfg.ServerURL != "" && (user == "" || password == ""):
		return nil, &ConfigError{Setting: "credentials", Problem: "auth server URL is set but no username or password", Err: ErrConfig}
	case cfg.ServerURL == "" && creds:
		return nil, &ConfigError{Setting: EnvAuthServer, Problem: "is required with credentials", Err: ErrConfig}
	case cfg.ServerURL == "":
		return nil, &ConfigError{Setting: "auth", Problem: "no server URL with credentials, tokens file or token configured", Err: ErrConfig}
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return NewGrants(c, user, password), nil
}

// NewSessionFromEnv is a Session on SourceFromEnv(os.Getenv, SourceOptions{}) with
// the default options: what a program that follows the Python client's variables
// needs, in one call.
func NewSessionFromEnv() (*Session, error) {
	src, err := SourceFromEnv(os.Getenv, SourceOptions{})
	if err != nil {
		return nil, err
	}
	return NewSession(src, SessionOptions{})
}

// TimeoutFromEnv reads IQM_CLIENT_REQUESTS_TIMEOUT (seconds), else 60 s (the Python
// client's default), as SourceFromEnv does: for a program that builds its Config
// itself (iqmauth).
func TimeoutFromEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv(envRequestsTimeout)
	if v == "" {
		return defaultTimeout, nil
	}
	d, err := parseSeconds(v)
	if err != nil {
		return 0, &ConfigError{Setting: envRequestsTimeout, Problem: "must be a positive number of seconds", Err: ErrConfig}
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
