package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// flagSet is a command's flags, with where its messages go.
type flagSet struct {
	*flag.FlagSet
	synopsis string
	stderr   io.Writer
	// secret: the command's flags or arguments may hold a secret (a password typed
	// where a flag's value or an argument goes), so a mistake never quotes a value.
	secret bool
}

// secretCommands are the commands whose flags or arguments may hold a secret: serve's
// --user holds a password, and a password or token typed by mistake after login's,
// token's, status's or logout's flags lands in an argument.
var secretCommands = map[string]bool{"serve": true, "login": true, "token": true, "status": true, "logout": true}

// flagOfError finds the flag that the flag package's value error names.
var flagOfError = regexp.MustCompile(`for (?:flag )?-([A-Za-z0-9-]+): `)

// flagLikeName is an unknown flag's name that may be shown: lower-case words joined by
// hyphens (a password typed as a flag rarely looks so).
var flagLikeName = regexp.MustCompile(`^-?[a-z]+(-[a-z]+)*$`)

// newFlags makes a command's flag set. The flag package prints nothing itself:
// parseFlags prints the usage once, to stdout, on --help, and one line plus a hint on
// stderr for a mistake.
func newFlags(name, synopsis string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, stderr: stderr,
		secret: secretCommands[name]}
	fs.SetOutput(io.Discard)
	return fs
}

// printUsage writes the synopsis and every flag.
func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: iqmauth %s %s\n", fs.Name(), fs.synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// mistake reports a usage or configuration mistake: one line, and where to read more.
func (fs *flagSet) mistake(problem string) int {
	fmt.Fprintf(fs.stderr, "iqmauth %s: %s\n", fs.Name(), problem)
	fmt.Fprintf(fs.stderr, "run 'iqmauth %s --help' for its flags\n", fs.Name())
	return exitUsage
}

// parseProblem is the flag package's error, without the value it quotes when the
// command's flags may hold a secret.
func (fs *flagSet) parseProblem(err error) string {
	msg := err.Error()
	if !fs.secret {
		return msg
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if flagLikeName.MatchString(name) {
			return msg
		}
		return "unknown flag (its name is not shown: it may be a secret)"
	}
	if m := flagOfError.FindStringSubmatch(msg); m != nil && fs.Lookup(m[1]) != nil {
		return "invalid value for --" + m[1] + " (the value is not shown: it may be a secret)"
	}
	if m := strings.TrimPrefix(msg, "flag needs an argument: "); m != msg && !strings.ContainsAny(m, `"`) {
		return msg
	}
	return "invalid flags (not shown: they may hold a secret)"
}

// parseFlags parses args; it returns an exit code when the command should stop.
func parseFlags(fs *flagSet, args []string, stdout io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.printUsage(stdout)
			return exitOK, true
		}
		if strings.HasSuffix(err.Error(), "not defined: -password") {
			return fs.mistake("there is no --password flag, so that no password sits on a command line or in a shell's history: " +
				"set IQM_AUTH_PASSWORD, or run in a terminal to be asked for it"), true
		}
		return fs.mistake(fs.parseProblem(err)), true
	}
	if fs.NArg() > 0 {
		if fs.secret {
			return fs.mistake("unexpected argument (not shown: it may be a secret); a flag's value follows its flag, as --flag=value"), true
		}
		return fs.mistake(fmt.Sprintf("unexpected argument %q", fs.Arg(0))), true
	}
	return 0, false
}

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "[--format auto|form|json] [--kind password|refresh|logout] < request", stderr)
	format := fs.String("format", "auto", "body format: auto (JSON when the first non-space byte is '{'), form or json")
	kindName := fs.String("kind", "", "check as this kind (password, refresh or logout) instead of classifying by grant_type")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	var kind validate.Kind
	switch *kindName {
	case "":
	case "password":
		kind = validate.KindPassword
	case "refresh":
		kind = validate.KindRefresh
	case "logout":
		kind = validate.KindLogout
	default:
		return fs.mistake("--kind must be password, refresh or logout")
	}
	if *format != "auto" && *format != "form" && *format != "json" {
		return fs.mistake("--format must be auto, form or json")
	}

	body, err := io.ReadAll(io.LimitReader(stdin, api.DefaultMaxBodyBytes+1))
	if err != nil {
		fmt.Fprintf(stderr, "body: cannot read standard input: %v\n", err)
		return exitFailure
	}
	isJSON := *format == "json"
	if *format == "auto" {
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		isJSON = len(trimmed) > 0 && trimmed[0] == '{'
	}
	var r generated.AuthRequest
	if isJSON {
		r, err = api.Decoder{}.JSON(body)
	} else {
		r, err = api.Decoder{}.Form(bytes.TrimRight(body, "\r\n"))
	}
	if err == nil {
		if kind == validate.KindUnknown {
			kind, err = validate.Request(r)
		} else {
			err = validate.Check(kind, r)
		}
	}
	if err != nil {
		printProblems(stderr, err)
		return exitFailure
	}
	fmt.Fprintln(stdout, kind)
	return exitOK
}

// printProblems writes one line per problem, each starting with the field name or the
// offending key and ": ".
func printProblems(w io.Writer, err error) {
	var verr *validate.Error
	if errors.As(err, &verr) {
		for _, f := range verr.Fields {
			fmt.Fprintln(w, f.Error())
		}
		return
	}
	fmt.Fprintln(w, err.Error())
}
