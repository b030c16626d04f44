package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
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
}

// newFlags makes a command's flag set. The flag package prints nothing itself:
// parseFlags prints the usage once, to stdout, on --help, and one line plus a hint on
// stderr for a mistake.
func newFlags(name, synopsis string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, stderr: stderr}
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
		return fs.mistake(err.Error()), true
	}
	if fs.NArg() > 0 {
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
		r, err = api.DecodeJSON(body)
	} else {
		r, err = api.DecodeForm(bytes.TrimRight(body, "\r\n"))
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
