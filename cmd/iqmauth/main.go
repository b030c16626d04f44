// Command iqmauth works with the auth requests of IQM's clients: it validates them,
// and (see its help) logs in to an auth server, prints tokens and serves a test server.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // invalid input, or an auth or network failure
	exitUsage   = 2 // usage or configuration error
)

const usage = `usage: iqmauth <command> [flags]

commands:
  validate [--format auto|form|json] [--kind password|refresh|logout]
           read one auth request from standard input and check it; prints its kind
  help     show this help

Run 'iqmauth <command> --help' for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "validate":
		return runValidate(args[1:], stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "iqmauth: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
}
