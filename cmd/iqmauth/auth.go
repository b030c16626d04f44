package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/iqm-finland/authschema/api"
)

// fail prints one line for an auth, network or file failure and gives exit 1, or exit
// 2 for a configuration error.
func (c *cli) fail(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "iqmauth %s: %v\n", cmd, err)
	if errors.Is(err, api.ErrConfig) {
		return exitUsage
	}
	return exitFailure
}

func (c *cli) usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(c.stderr, "iqmauth %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// tokensFileFlag adds --tokens-file with its default from IQM_TOKENS_FILE.
func (c *cli) tokensFileFlag(fs *flag.FlagSet) *string {
	return fs.String("tokens-file", c.getenv(api.EnvTokensFile), "tokens file (default $IQM_TOKENS_FILE, else the Cortex CLI's ~/.cache/iqm-cortex-cli/tokens.json)")
}

func (c *cli) tokensPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return api.DefaultTokensFile()
}

func (c *cli) login(args []string) int {
	fs := newFlags("login", "[--server URL] [--realm R] [--client-id C] [--username U] [--tokens-file F]", c.stderr)
	server := fs.String("server", c.getenv(api.EnvAuthServer), "auth server base URL, the part before /realms (default $IQM_AUTH_SERVER)")
	realm := fs.String("realm", api.DefaultRealm, "realm")
	clientID := fs.String("client-id", api.DefaultClientID, "client id")
	username := fs.String("username", c.getenv(api.EnvAuthUsername), "username (default $IQM_AUTH_USERNAME)")
	file := c.tokensFileFlag(fs)
	insecure := fs.Bool("allow-insecure-http", false, "allow a plain http:// server that is not loopback (sends the password in clear text)")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	if *server == "" {
		return c.usageError(fs, "no server: use --server or set IQM_AUTH_SERVER")
	}
	if *username == "" {
		return c.usageError(fs, "no username: use --username or set IQM_AUTH_USERNAME")
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("login", err)
	}
	timeout, err := api.TimeoutFromEnv(c.getenv)
	if err != nil {
		return c.fail("login", err)
	}
	client, err := api.NewClient(api.ClientConfig{ServerURL: *server, Realm: *realm, ClientID: *clientID,
		Timeout: timeout, AllowInsecureHTTP: *insecure, UserAgent: "iqmauth"})
	if err != nil {
		return c.fail("login", err)
	}
	password, err := c.password()
	if err != nil {
		return c.fail("login", err)
	}
	tokens, err := client.Login(c.ctx, *username, password)
	if err != nil {
		return c.fail("login", err)
	}
	f := api.TokensFile{AuthServerURL: client.ServerURL(), Realm: client.Realm(), ClientID: client.ClientID(),
		RefreshStatus: "SUCCESS", Tokens: *tokens}
	if err := api.WriteTokensFile(path, f); err != nil {
		return c.fail("login", err)
	}
	fmt.Fprintf(c.stdout, "logged in as %s at %s (realm %s, client %s)\n", *username, client.ServerURL(), client.Realm(), client.ClientID())
	fmt.Fprintf(c.stdout, "tokens written to %s\n", path)
	c.printExpiry(*tokens, time.Now())
	return exitOK
}

// password reads IQM_AUTH_PASSWORD, or prompts without echo on a terminal.
func (c *cli) password() (string, error) {
	if p := c.getenv(api.EnvAuthPassword); p != "" {
		return p, nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", &api.ConfigError{Setting: "password", Problem: "set IQM_AUTH_PASSWORD, or run in a terminal to be asked for it", Err: api.ErrConfig}
	}
	fmt.Fprint(c.stderr, "Password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (c *cli) printExpiry(t api.Tokens, now time.Time) {
	fmt.Fprintf(c.stdout, "access token expires:  %s\n", describeExpiry(t.AccessExpiry, false, now))
	switch {
	case !t.HasRefreshToken():
		fmt.Fprintln(c.stdout, "refresh token:         none")
	default:
		fmt.Fprintf(c.stdout, "refresh token expires: %s\n", describeExpiry(t.RefreshExpiry, t.RefreshNeverExpires, now))
	}
}

func describeExpiry(at time.Time, never bool, now time.Time) string {
	switch {
	case never:
		return "never"
	case at.IsZero():
		return "unknown"
	case !at.After(now):
		return at.UTC().Format(time.RFC3339) + " (expired)"
	default:
		return at.UTC().Format(time.RFC3339) + " (in " + at.Sub(now).Round(time.Second).String() + ")"
	}
}

// fileSession builds a session that owns the tokens of a tokens file and writes
// renewed tokens back to it; *writeErr tells whether that write failed.
func (c *cli) fileSession(cmd, path string, margin time.Duration, writeErr *error) (*api.Session, api.TokensFile, int) {
	f, err := api.ReadTokensFile(path)
	if err != nil {
		return nil, f, c.fail(cmd, err)
	}
	if f.AuthServerURL == "" {
		return nil, f, c.fail(cmd, &api.TokensFileError{Path: path, Problem: "has no auth_server_url", Err: api.ErrMalformedTokensFile})
	}
	timeout, err := api.TimeoutFromEnv(c.getenv)
	if err != nil {
		return nil, f, c.fail(cmd, err)
	}
	cfg := api.SessionConfig{ServerURL: f.AuthServerURL, Realm: f.Realm, ClientID: f.ClientID, Tokens: &f.Tokens,
		RefreshMargin: margin, Timeout: timeout, UserAgent: "iqmauth", AllowInsecureHTTP: true}
	// The password, if the environment has it, lets the session log in again when the
	// refresh token is gone.
	if u, p := c.getenv(api.EnvAuthUsername), c.getenv(api.EnvAuthPassword); u != "" && p != "" {
		cfg.Username, cfg.Password = u, p
	}
	cfg.OnTokens = func(t api.Tokens) {
		nf := f
		nf.Tokens, nf.RefreshStatus, nf.Timestamp, nf.PID = t, "SUCCESS", time.Time{}, 0
		*writeErr = api.WriteTokensFile(path, nf)
	}
	s, err := api.NewSession(cfg)
	if err != nil {
		return nil, f, c.fail(cmd, err)
	}
	return s, f, -1
}

func (c *cli) token(args []string) int {
	fs := newFlags("token", "[--tokens-file F] [--min-valid D] [--force-refresh]", c.stderr)
	file := c.tokensFileFlag(fs)
	minValid := fs.Duration("min-valid", api.DefaultRefreshMargin, "renew the token when it has less than this left")
	force := fs.Bool("force-refresh", false, "renew the token even if it is still valid")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	if *minValid < 0 {
		return c.usageError(fs, "--min-valid must not be negative")
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("token", err)
	}
	var writeErr error
	s, _, code := c.fileSession("token", path, max(*minValid, time.Nanosecond), &writeErr)
	if code >= 0 {
		return code
	}
	defer s.Close()
	var tok string
	if *force {
		var t api.Tokens
		if t, err = s.Refresh(c.ctx); err == nil {
			tok = t.AccessToken()
		}
	} else {
		tok, err = s.Token(c.ctx)
	}
	if err == nil {
		err = writeErr
	}
	if err != nil {
		return c.fail("token", err)
	}
	fmt.Fprintln(c.stdout, tok)
	return exitOK
}

func (c *cli) status(args []string) int {
	fs := newFlags("status", "[--tokens-file F]", c.stderr)
	file := c.tokensFileFlag(fs)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("status", err)
	}
	f, err := api.ReadTokensFile(path)
	if err != nil {
		return c.fail("status", err)
	}
	orDefault := func(v, d string) string {
		if v == "" {
			return d + " (default)"
		}
		return v
	}
	fmt.Fprintf(c.stdout, "tokens file:           %s\n", path)
	fmt.Fprintf(c.stdout, "server:                %s\n", orDefault(f.AuthServerURL, "unknown"))
	fmt.Fprintf(c.stdout, "realm:                 %s\n", orDefault(f.Realm, api.DefaultRealm))
	fmt.Fprintf(c.stdout, "client:                %s\n", orDefault(f.ClientID, api.DefaultClientID))
	fmt.Fprintf(c.stdout, "user:                  %s\n", orDefault(jwtUser(f.Tokens.AccessToken()), "unknown"))
	if f.RefreshStatus != "" {
		fmt.Fprintf(c.stdout, "refresh status:        %s\n", f.RefreshStatus)
	}
	c.printExpiry(f.Tokens, time.Now())
	return exitOK
}

// jwtUser reads preferred_username (else sub) from a JWT, unverified, for display.
func jwtUser(token string) string {
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Sub               string `json:"sub"`
	}
	if !api.JWTClaims(token, &claims) {
		return ""
	}
	if claims.PreferredUsername != "" {
		return claims.PreferredUsername
	}
	return claims.Sub
}

func (c *cli) logout(args []string) int {
	fs := newFlags("logout", "[--tokens-file F]", c.stderr)
	file := c.tokensFileFlag(fs)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("logout", err)
	}
	var writeErr error
	s, f, code := c.fileSession("logout", path, api.DefaultRefreshMargin, &writeErr)
	if code >= 0 {
		return code
	}
	defer s.Close()
	if err := s.Logout(c.ctx); err != nil {
		return c.fail("logout", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return c.fail("logout", &api.TokensFileError{Path: path, Problem: "cannot remove: " + err.Error(), Err: err})
	}
	fmt.Fprintf(c.stdout, "logged out of %s; removed %s\n", f.AuthServerURL, path)
	return exitOK
}
