package authschema

import _ "embed"

//go:embed openapi.yaml
var spec string

// Spec returns openapi.yaml, the contract of this module's version, for programs that
// serve it, check against it, or generate their own code from it (`iqmauth spec`
// writes it). Each call returns a new copy.
func Spec() []byte { return []byte(spec) }
