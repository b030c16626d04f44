// Package authschema is the shared, code-generated schema for the auth requests that
// IQM's quantum-computer clients send to their auth server, a Keycloak realm (by
// default `cortex`, public client `iqm_client`).
//
// The module is laid out in layers, each depending only on the ones before it:
//
//   - openapi.yaml, the one source of truth;
//   - generated, the types, client, server interfaces and embedded spec that
//     `go generate ./...` writes from it (never edited by hand);
//   - validate, hand-written rules for which fields each request kind may use;
//   - api, the layer other services import: constructors, the form and JSON codecs,
//     the client and token session, and the receiving side.
package authschema

//go:generate go tool oapi-codegen -config generated/config.yaml openapi.yaml
