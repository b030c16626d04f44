package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	authschema "github.com/iqm-finland/authschema"
	"github.com/iqm-finland/authschema/generated/spec"
)

// spec writes openapi.yaml of this version, so that a service generating its own code
// against the shared schema gets exactly the version in its go.mod:
//
//	//go:generate go run github.com/iqm-finland/authschema/cmd/iqmauth spec -o authschema.yaml
func (c *cli) spec(args []string) int {
	fs := newFlags("spec", "[--format yaml|json] [-o FILE]", c.stderr)
	format := fs.String("format", "yaml", "yaml (openapi.yaml as it is) or json (the spec as kin-openapi reads it)")
	out := fs.String("o", "", "write to FILE instead of standard output")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	var data []byte
	switch *format {
	case "yaml":
		data = authschema.Spec()
	case "json":
		raw, err := spec.GetSpecJSON()
		if err != nil {
			return c.fail("spec", err)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return c.fail("spec", err)
		}
		data = append(buf.Bytes(), '\n')
	default:
		return c.usageError(fs, "--format must be yaml or json")
	}
	if *out == "" {
		_, err := c.stdout.Write(data)
		if err != nil {
			return c.fail("spec", err)
		}
		return exitOK
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return c.fail("spec", fmt.Errorf("writing %s: %w", *out, err))
	}
	return exitOK
}
