package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/redact"
)

// fail prints one line for an auth, network or file failure and gives exit 1, or exit
// 2 for a configuration error.
func (c *cli) fail(cmd string, err error) int {
	hint := ""
	var fe *tokensfile.Error
	switch {
	case errors.As(err, &fe) && errors.Is(err, fs.ErrNotExist):
		hint = "; run 'iqmauth login' first"
	case cmd != "login" && errors.Is(err, tokensfile.ErrMalformed):
		hint = "; run 'iqmauth login' to write it anew"
	case cmd == "token" && errors.Is(err, api.ErrInvalidGrant):
		hint = "; the session has ended at the server: run 'iqmauth login'"
	case errors.Is(err, authclient.ErrServerMismatch):
		hint = "; a password (IQM_AUTH_PASSWORD) goes only to the server IQM_AUTH_SERVER names: set IQM_AUTH_SERVER to the tokens file's server to allow logging in there again, or unset IQM_AUTH_USERNAME and IQM_AUTH_PASSWORD"
	}
	fmt.Fprintf(c.stderr, "iqmauth %s: %s%s\n", cmd, redact.Printable(userText(err)), hint)
	switch {
	case errors.Is(err, authclient.ErrConfig):
		return exitUsage
	case errors.Is(err, context.Canceled) && c.ctx.Err() != nil:
		return exitInterrupted
	}
	return exitFailure
}

func (c *cli) usageError(fs *flagSet, format string, a ...any) int {
	return fs.mistake(fmt.Sprintf(format, a...))
}

// tokensFileFlag adds --tokens-file with its default from IQM_TOKENS_FILE.
func (c *cli) tokensFileFlag(fs *flagSet) *string {
	return fs.String("tokens-file", c.getenv(authclient.EnvTokensFile), "tokens file (default $IQM_TOKENS_FILE, else the Cortex CLI's ~/.cache/iqm-cortex-cli/tokens.json)")
}

func (c *cli) tokensPath(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	p, err := tokensfile.DefaultPath()
	if err != nil {
		return "", &authclient.ConfigError{Setting: "tokens file", Problem: "no user cache folder: set IQM_TOKENS_FILE or use --tokens-file", Err: authclient.ErrConfig}
	}
	return p, nil
}

func (c *cli) login(args []string) int {
	fs := newFlags("login", "[--server URL] [--realm R] [--client-id C] [--username U] [--tokens-file F] [--allow-insecure-http] [--lock-timeout D]", c.stderr)
	server := fs.String("server", c.getenv(authclient.EnvAuthServer), "auth server base URL, the part before /realms (default $IQM_AUTH_SERVER)")
	realm := fs.String("realm", api.DefaultRealm, "realm")
	clientID := fs.String("client-id", api.DefaultClientID, "client id")
	username := fs.String("username", c.getenv(authclient.EnvAuthUsername), "username (default $IQM_AUTH_USERNAME)")
	file := c.tokensFileFlag(fs)
	insecure := fs.Bool("allow-insecure-http", false, "allow a plain http:// server that is not loopback (sends the password in clear text)")
	lockTimeout := lockTimeoutFlag(fs)
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
	timeout, err := authclient.TimeoutFromEnv(c.getenv)
	if err != nil {
		return c.fail("login", err)
	}
	client, err := authclient.New(authclient.Config{ServerURL: *server, Realm: *realm, ClientID: *clientID,
		Timeout: timeout, AllowInsecureHTTP: *insecure, UserAgent: "iqmauth"})
	if err != nil {
		return c.fail("login", err)
	}
	password, err := c.password()
	if err != nil {
		return c.fail("login", err)
	}
	// The write is prepared (the folder writable, the temporary file made) under the
	// lock before the password is sent: a lock another user holds, or tokens that
	// could not be saved, leave no session at the server.
	lockCtx, cancel := context.WithTimeout(c.ctx, *lockTimeout)
	defer cancel()
	var tk *tokens.Set
	err = tokensfile.Update(lockCtx, path, c.onLockWait("login", path), func(tx *tokensfile.Tx) error {
		if err := tx.Prepare(); err != nil {
			return err
		}
		if tk, err = client.Login(c.ctx, *username, password); err != nil {
			return err
		}
		tx.Write(tokensfile.File{AuthServerURL: client.ServerURL(), Realm: client.Realm(), ClientID: client.ClientID(),
			RefreshStatus: "SUCCESS", Tokens: *tk})
		return nil
	})
	if err != nil {
		return c.fail("login", err)
	}
	c.warnPermissions(path)
	fmt.Fprintf(c.stdout, "logged in as %s at %s (realm %s, client %s)\n", *username, client.ServerURL(), client.Realm(), client.ClientID())
	fmt.Fprintf(c.stdout, "tokens written to %s\n", path)
	c.printExpiry(*tk, time.Now())
	return exitOK
}

// password reads IQM_AUTH_PASSWORD, or prompts without echo on a terminal.
func (c *cli) password() (string, error) {
	if p := c.getenv(authclient.EnvAuthPassword); p != "" {
		return p, nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", &authclient.ConfigError{Setting: "password", Problem: "set IQM_AUTH_PASSWORD, or run in a terminal to be asked for it", Err: authclient.ErrConfig}
	}
	fd := int(f.Fd())
	if st, err := term.GetState(fd); err == nil {
		c.termMu.Lock()
		c.termFD, c.termState = fd, st
		c.termMu.Unlock()
		defer func() {
			c.termMu.Lock()
			c.termState = nil
			c.termMu.Unlock()
		}()
	}
	fmt.Fprint(c.stderr, "Password: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (c *cli) printExpiry(t tokens.Set, now time.Time) {
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

// fileFlags adds the flags of the commands that renew or end the session of a tokens
// file: --allow-insecure-http and --lock-timeout.
func fileFlags(fs *flagSet) (insecure *bool, lockTimeout *time.Duration) {
	insecure = fs.Bool("allow-insecure-http", false, "allow the tokens file's auth_server_url to be a plain http:// server that is not loopback (sends the refresh token, and the password, in clear text)")
	return insecure, lockTimeoutFlag(fs)
}

// lockTimeoutFlag adds --lock-timeout, for the commands that write a tokens file.
func lockTimeoutFlag(fs *flagSet) *time.Duration {
	return fs.Duration("lock-timeout", tokensfile.DefaultLockTimeout, "longest wait for the tokens file's lock, which another iqmauth may hold while it renews")
}

// onLockWait says on stderr that cmd waits for the tokens file's lock.
func (c *cli) onLockWait(cmd, path string) func() {
	return func() {
		fmt.Fprintf(c.stderr, "iqmauth %s: waiting for %s.lock: another process is renewing the tokens\n", cmd, path)
	}
}

// fileGrants makes the source that renews the tokens of a tokens file, shared with
// other processes: under the file's lock, with its auth_server_url checked. With
// withPassword, the password the environment has (IQM_AUTH_USERNAME and
// IQM_AUTH_PASSWORD) lets a renewal log in again when the refresh token is gone, but
// only at the server the user named for it (IQM_AUTH_SERVER): credentials beside a
// tokens file that names another server are refused before anything is sent.
func (c *cli) fileGrants(cmd, path string, insecure bool, lockTimeout time.Duration, withPassword bool) (*authclient.FileGrants, error) {
	timeout, err := authclient.TimeoutFromEnv(c.getenv)
	if err != nil {
		return nil, err
	}
	cfg := authclient.Config{Timeout: timeout, UserAgent: "iqmauth", AllowInsecureHTTP: insecure}
	user, password := "", ""
	if u, p := c.getenv(authclient.EnvAuthUsername), c.getenv(authclient.EnvAuthPassword); withPassword && u != "" && p != "" {
		user, password, cfg.ServerURL = u, p, c.getenv(authclient.EnvAuthServer)
	}
	lock := authclient.FileLock{Timeout: lockTimeout, OnWait: c.onLockWait(cmd, path)}
	return authclient.NewFileGrants(path, cfg, user, password, lock), nil
}

func (c *cli) token(args []string) int {
	fs := newFlags("token", "[--tokens-file F] [--min-valid D] [--force-refresh] [--allow-insecure-http] [--lock-timeout D]", c.stderr)
	file := c.tokensFileFlag(fs)
	minValid := fs.Duration("min-valid", authclient.DefaultRefreshMargin, "renew the token when it has less than this left")
	force := fs.Bool("force-refresh", false, "renew the token even if it is still valid")
	insecure, lockTimeout := fileFlags(fs)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	if *minValid < 0 {
		return c.usageError(fs, "--min-valid must not be negative")
	}
	if code, done := c.tokenFromEnv(fs, *force); done {
		return code
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("token", err)
	}
	c.warnPermissions(path)
	src, err := c.fileGrants("token", path, *insecure, *lockTimeout, true)
	if err != nil {
		return c.fail("token", err)
	}
	// One read of the file, under its lock: Renew uses its tokens while they last
	// longer than the margin (a file with only access_token is enough then, as for
	// iqm-client 36), and otherwise renews them and writes them back.
	now := time.Now()
	r := authclient.Renewal{Now: now, ValidUntil: now.Add(*minValid)}
	var t tokens.Set
	if *force {
		t, err = src.Refresh(c.ctx, r)
	} else {
		t, err = src.Renew(c.ctx, r)
	}
	if err != nil && !*force && errors.Is(err, tokensfile.ErrCannotLock) {
		// A folder this user may read but not write (tokens another program keeps):
		// a token that is fresh can be printed without the lock; renewing it cannot
		// be saved there, so the lock error stands for that.
		if f, rerr := tokensfile.Read(path); rerr == nil && r.Fresh(f.Tokens) {
			fmt.Fprintf(c.stderr, "iqmauth token: %s: read without its lock (its folder is not writable for this user); the token cannot be renewed there\n", redact.Printable(path))
			t, err = f.Tokens, nil
		}
	}
	if err != nil {
		return c.fail("token", err)
	}
	c.noteMargin(t, *minValid, now)
	return c.printToken(t.AccessToken())
}

// noteMargin says on stderr when the margin the token is renewed with
// (authclient.RenewalMargin) is less than --min-valid: half the lifetime of a token
// whose lifetime is at or below twice --min-valid, so that it is not renewed on every
// call.
func (c *cli) noteMargin(t tokens.Set, minValid time.Duration, now time.Time) {
	if m := authclient.RenewalMargin(t, minValid, now); m < minValid {
		fmt.Fprintf(c.stderr, "iqmauth token: the access token lasts %v, less than twice --min-valid (%v): it is renewed when %v (half its lifetime) is left, not on every call\n",
			t.AccessExpiry.Sub(t.ObtainedAt).Round(time.Second), minValid, m.Round(time.Second))
	}
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
	f, err := tokensfile.Read(path)
	if err != nil {
		return c.fail("status", err)
	}
	c.warnPermissions(path)
	orDefault := func(v, d string) string {
		if v = redact.Printable(v); v == "" {
			return d + " (default)"
		}
		return v
	}
	fmt.Fprintf(c.stdout, "tokens file:           %s\n", redact.Printable(path))
	fmt.Fprintf(c.stdout, "server:                %s\n", orDefault(displayURL(f.AuthServerURL), "unknown"))
	fmt.Fprintf(c.stdout, "realm:                 %s\n", orDefault(f.Realm, api.DefaultRealm))
	fmt.Fprintf(c.stdout, "client:                %s\n", orDefault(f.ClientID, api.DefaultClientID))
	fmt.Fprintf(c.stdout, "user:                  %s\n", orDefault(jwtUser(f.Tokens.AccessToken()), "unknown"))
	if s := redact.Printable(f.RefreshStatus); s != "" {
		fmt.Fprintf(c.stdout, "refresh status:        %s\n", s)
	}
	c.printExpiry(f.Tokens, time.Now())
	return exitOK
}

// warnPermissions warns on stderr when others can read the tokens file or replace it.
func (c *cli) warnPermissions(path string) {
	for _, p := range tokensfile.PermissionProblems(path) {
		fmt.Fprintf(c.stderr, "iqmauth: warning: %s\n", redact.Printable(p))
	}
}

// displayURL shows a URL from a tokens file without user information (a password may
// sit there) and without control characters.
func displayURL(raw string) string {
	s := redact.Printable(raw)
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return "(not a valid URL)"
		}
		return s
	}
	u.User = nil
	return u.String()
}

// jwtUser reads preferred_username (else sub) from a JWT, unverified, for display.
func jwtUser(token string) string {
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Sub               string `json:"sub"`
	}
	if !tokens.JWTClaims(token, &claims) {
		return ""
	}
	if claims.PreferredUsername != "" {
		return claims.PreferredUsername
	}
	return claims.Sub
}

func (c *cli) logout(args []string) int {
	fs := newFlags("logout", "[--tokens-file F] [--allow-insecure-http] [--lock-timeout D]", c.stderr)
	file := c.tokensFileFlag(fs)
	insecure, lockTimeout := fileFlags(fs)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("logout", err)
	}
	src, err := c.fileGrants("logout", path, *insecure, *lockTimeout, false)
	if err != nil {
		return c.fail("logout", err)
	}
	// Logout reads the file under its lock (once) for the tokens to end.
	if err := src.Logout(c.ctx, tokens.Set{}); err != nil {
		if !errors.Is(err, api.ErrInvalidGrant) {
			return c.fail("logout", err)
		}
		// The server refused the refresh token: the session is gone there already (it
		// expired, or the server restarted). The local tokens are of no use any more.
		if rmErr := tokensfile.Remove(c.ctx, path); rmErr != nil {
			return c.fail("logout", rmErr)
		}
		fmt.Fprintf(c.stdout, "the session had already ended at %s (%s); removed %s\n", displayURL(src.ServerURL()),
			redact.Printable(err.Error()), redact.Printable(path))
		return exitOK
	}
	fmt.Fprintf(c.stdout, "logged out of %s; removed %s\n", displayURL(src.ServerURL()), redact.Printable(path))
	return exitOK
}
