package main

import (
	"errors"
	"fmt"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/redact"
)

// keep runs authclient.Keep on a tokens file until stopped: the foreground process of
// a systemd unit, a batch system's prolog, or a shell's background job.
func (c *cli) keep(args []string) int {
	fs := newFlags("keep", "[--tokens-file F] [--once] [--renew-before D] [--allow-insecure-http] [--lock-timeout D]", c.stderr)
	file := c.tokensFileFlag(fs)
	once := fs.Bool("once", false, "renew the tokens if they are due, then exit (for cron and systemd timers)")
	before := fs.Duration("renew-before", authclient.DefaultRenewBefore, "renew when the access token has this little left, or half its lifetime when that is less")
	insecure, lockTimeout := fileFlags(fs)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	if *before <= 0 {
		return c.usageError(fs, "--renew-before must be positive")
	}
	path, err := c.tokensPath(*file)
	if err != nil {
		return c.fail("keep", err)
	}
	timeout, err := authclient.TimeoutFromEnv(c.getenv)
	if err != nil {
		return c.fail("keep", err)
	}
	c.warnPermissions(path)
	opts := authclient.KeepOptions{
		Config:      authclient.Config{Timeout: timeout, UserAgent: authclient.UserAgent(), AllowInsecureHTTP: *insecure},
		Lock:        authclient.FileLock{Timeout: *lockTimeout},
		RenewBefore: *before,
		Once:        *once,
		OnEvent: func(e authclient.KeepEvent) {
			fmt.Fprintf(c.stderr, "iqmauth keep: %s\n", redact.Printable(e.String()))
		},
	}
	err = authclient.Keep(c.ctx, path, opts)
	switch {
	case err == nil && c.ctx.Err() != nil:
		fmt.Fprintf(c.stderr, "iqmauth keep: stopped; %s is as the last renewal left it\n", redact.Printable(path))
		return exitOK
	case err == nil:
		return exitOK
	case errors.Is(err, authclient.ErrFileRemoved):
		fmt.Fprintf(c.stderr, "iqmauth keep: %s\n", redact.Printable(err.Error()))
		return exitOK
	case errors.Is(err, authclient.ErrSessionEnded):
		fmt.Fprintf(c.stderr, "iqmauth keep: %s; run 'iqmauth login' to start a new session\n", redact.Printable(err.Error()))
		return exitFailure
	}
	return c.fail("keep", err)
}
