// Package generated holds the models of openapi.yaml (AuthRequest, GrantType,
// TokenResponse, OAuth2Error, OAuth2ErrorCode) and the facts of the spec that the
// hand-written packages need (schema.gen.go), written by `go generate ./...`; it
// imports nothing outside the standard library.
//
// Its sub-packages hold what else is generated from the same spec: client (the HTTP
// client), server (the server interface and its net/http router) and spec (the spec
// embedded for kin-openapi). The models print their secrets as [REDACTED] (redact.go).
//
// Every schema, parameter and response of openapi.yaml has a Go type here, most of
// them aliases that nothing in this module names: the per-kind request schemas
// (PasswordRequest, RefreshRequest, LogoutRequest, TokenRequest) are AuthRequest, the
// error responses (Forbidden, NotAForm, ServerError, TooLarge, UnknownRealm) are
// OAuth2Error. They are kept for services whose own spec refers to this one: with
// oapi-codegen's import-mapping, a `$ref: authschema.yaml#/components/responses/TooLarge`
// in a consumer's spec generates code that names generated.TooLarge
// (TestEveryComponentHasAGoType).
package generated
