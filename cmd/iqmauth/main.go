// Command iqmauth works with the auth requests of IQM's clients: it validates them,
// logs in to an auth server and keeps a tokens file, prints a fresh access token, and
// runs a Keycloak-compatible test server.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
)

// shutdownGrace is how long a command may take to end after SIGINT or SIGTERM before
// the process exits anyway (a read of a password or of standard input does not see
// the signal).
const shutdownGrace = 2 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, ctx: ctx}
	done := make(chan int, 1)
	go func() { done <- c.run(os.Args[1:]) }()
	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		stop() // a second signal ends the process at once
		timer := time.NewTimer(shutdownGrace)
		select {
		case code = <-done:
		case <-timer.C:
			c.restoreTerminal()
			fmt.Fprintln(os.Stderr, "iqmauth: interrupted")
			code = exitInterrupted
		}
	}
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // invalid input, or an auth or network failure
	exitUsage   = 2 // usage or configuration error
	// exitInterrupted: ended by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
	exitInterrupted = 130
)

const usage = `usage: iqmauth <command> [flags]

commands:
  validate  read one auth request from standard input and check it; prints its kind
  login     log in with the password grant and write the tokens file
  token     print a valid access token, refreshing the tokens file when needed
  keep      keep a tokens file fresh for other processes (iqm-client 36) until stopped
  status    show server, realm, client, user and expiry times (never a token)
  logout    log out and remove the tokens file
  serve     run a Keycloak-compatible test auth server on loopback
  demo      start a test server in-process: the per-kind rules, then a session's life cycle
  spec      write openapi.yaml of this version (for a service that generates its own code)
  help      show this help

Run 'iqmauth <command> --help' for a command's flags. Settings default to the
environment: IQM_AUTH_SERVER, IQM_AUTH_USERNAME, IQM_AUTH_PASSWORD, IQM_TOKENS_FILE,
IQM_TOKEN (token prints it as it is), IQM_CLIENT_REQUESTS_TIMEOUT. A password is never taken from a flag.
`

// cli is one run of the command, with its streams and environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	ctx            context.Context

	termMu    sync.Mutex
	termFD    int
	termState *term.State // saved while a password is read without echo
}

// restoreTerminal turns echo back on when the process must end during a password
// prompt.
func (c *cli) restoreTerminal() {
	c.termMu.Lock()
	defer c.termMu.Unlock()
	if c.termState != nil {
		_ = term.Restore(c.termFD, c.termState)
		c.termState = nil
	}
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	case "validate":
		return runValidate(args[1:], c.stdin, c.stdout, c.stderr)
	case "login":
		return c.login(args[1:])
	case "token":
		return c.token(args[1:])
	case "keep":
		return c.keep(args[1:])
	case "status":
		return c.status(args[1:])
	case "logout":
		return c.logout(args[1:])
	case "serve":
		return c.serve(args[1:])
	case "demo":
		return c.demo(args[1:])
	case "spec":
		return c.spec(args[1:])
	default:
		fmt.Fprintf(c.stderr, "iqmauth: unknown command %q\nrun 'iqmauth help' for the commands\n", args[0])
		return exitUsage
	}
}
