// Package receiver is the receiving side of the auth requests: an http.Handler for the
// token and logout endpoints of a Keycloak realm that decodes bodies strictly, checks
// them in Keycloak's order and answers as Keycloak does, asking a Backend for realms,
// clients, users and sessions. It implements the server interface generated from
// openapi.yaml and answers only the statuses the spec lists. A POST to one of the two
// endpoints of a plain realm name reaches that interface through the handler's own
// allocation-free route (tested to agree with the generated router); every other
// request goes through the generated router.
//
// authtest.Server is a Backend with real tokens, for tests.
package receiver
