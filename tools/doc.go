// Package tools pins the code generators of github.com/iqm-finland/authschema in a
// module of their own, so that the modules importing authschema carry none of their
// requirements. `go generate ./...` at the repository root runs them with
// `go -C tools tool ...`: oapi-codegen, and specgen (the facts the hand-written code
// needs from openapi.yaml). authload, a load program of the standard library only,
// measures `iqmauth serve` beside Keycloak (BENCHMARKS.md).
package tools
