// Package spec is openapi.yaml embedded for kin-openapi (GetSpec, GetSpecJSON), for
// programs that check requests or answers against the spec. Importing it links
// kin-openapi; the spec's text alone is authschema.Spec, which links nothing.
package spec
