// Package client is the HTTP client generated from openapi.yaml: one method per
// operation (RequestTokenWithBody, LogoutWithBody), on the models of package
// generated. api/authclient sends its requests through it.
//
// ClientWithResponses is not generated: it would read whole answers without a bound.
package client
