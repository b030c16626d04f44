// Package authtest is a Keycloak-compatible auth server for tests, in the spirit of
// net/http/httptest: NewServer starts a real listener on 127.0.0.1 serving the token
// and logout endpoints of one or more realms, with real HS256 JWTs, Keycloak-like
// sessions, an injectable clock, fault injection, and a record of what it received.
//
//	srv := authtest.Start(t, authtest.WithUser("alice", "secret"))
//	client, _ := api.NewClient(api.ClientConfig{ServerURL: srv.URL})
//	sess, _ := api.NewSession(api.NewGrants(client, "alice", "secret"), api.SessionOptions{})
//
// It answers as Keycloak does (see the api package's Handler): 401 invalid_grant
// "Invalid user credentials", 400 invalid_grant "Session not active" for a refresh
// token of a logged-out session, 204 for a second logout, and so on.
package authtest
