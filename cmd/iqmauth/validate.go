package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// newFlags makes a flag set that reports to stderr and prints its usage on --help.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: iqmauth %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns an exit code when the command should stop.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "iqmauth %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, true
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
		fmt.Fprintf(stderr, "iqmauth validate: --kind must be password, refresh or logout\n")
		fs.Usage()
		return exitUsage
	}
	if *format != "auto" && *format != "form" && *format != "json" {
		fmt.Fprintf(stderr, "iqmauth validate: --format must be auto, form or json\n")
		fs.Usage()
		return exitUsage
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
