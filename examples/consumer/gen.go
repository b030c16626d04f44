// Package consumer is an example service that shares IQM's auth schema: its own
// endpoint (api.yaml) takes the shared AuthRequest and answers the shared
// TokenResponse or OAuth2Error, generated against the authschema version in go.mod.
package consumer

// The spec of exactly the authschema version in go.mod, then this service's code.
//go:generate go tool iqmauth spec -o authschema.yaml
//go:generate go tool oapi-codegen -config cfg.yaml api.yaml
