// Package authschema is the shared, code-generated schema for the auth requests that
// IQM's quantum-computer clients send to their auth server, a Keycloak realm (by
// default `cortex`, public client `iqm_client`); this package holds its spec.
//
// The module is laid out in layers, each depending only on the ones before it:
//
//   - openapi.yaml, the one source of truth, embedded here (Spec);
//   - generated, the models `go generate ./...` writes from it (standard library only),
//     and its sub-packages client, server and spec (never edited by hand);
//   - validate, hand-written rules for which fields each request kind may use;
//   - api, the form and JSON codecs; api/tokens, api/tokensfile, api/authclient (the
//     client and token session) and api/receiver (the receiving side) build on it.
//
// The generators are pinned in the module tools/, so that modules importing this one
// carry none of their requirements.
package authschema

//go:generate go tool -modfile=tools/go.mod oapi-codegen -config generated/config.yaml openapi.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config generated/client/config.yaml openapi.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config generated/server/config.yaml openapi.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config generated/spec/config.yaml openapi.yaml
//go:generate go -C tools run ./specgen -spec ../openapi.yaml -models ../generated/models.gen.go -out ../generated/schema.gen.go -rules ../validate/rules.gen.go
