// Package receiver is the receiving side of the auth requests: an http.Handler for the
// token and logout endpoints of a Keycloak realm that decodes bodies strictly, checks
// them in Keycloak's order and answers as Keycloak does, asking a Backend for realms,
// clients, users and sessions. It routes through the server interface generated from
// openapi.yaml, and answers only the statuses the spec lists.
//
// authtest.Server is a Backend with real tokens, for tests.
package receiver
