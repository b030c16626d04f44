// Package generated holds the models of openapi.yaml (AuthRequest, GrantType,
// TokenResponse, OAuth2Error, OAuth2ErrorCode) and the facts of the spec that the
// hand-written packages need (schema.gen.go), written by `go generate ./...`; it
// imports nothing outside the standard library.
//
// Its sub-packages hold what else is generated from the same spec: client (the HTTP
// client), server (the server interface and its net/http router) and spec (the spec
// embedded for kin-openapi). The models print their secrets as [REDACTED] (redact.go).
package generated
