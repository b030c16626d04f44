// Package authtest is an auth server for tests that answers as Keycloak 26.7 does, in
// the spirit of net/http/httptest: NewServer starts a real listener on 127.0.0.1
// serving, for one or more realms, the endpoints a public client calls (token, logout,
// certs, revoke, userinfo), the realm info and the discovery document, with RS256
// access and ID tokens that the realm's JWKS verifies, HS512 refresh tokens,
// Keycloak's sessions and rotation, realm files as Keycloak imports them, an
// injectable clock, fault injection, and a record of what it received.
//
//	srv := authtest.Start(t, authtest.WithUser("alice", "secret"))
//	client, _ := authclient.New(authclient.Config{ServerURL: srv.URL})
//	tk, _ := client.Login(ctx, "alice", "secret")
//
// Its answers were measured against Keycloak 26.7.3 and 26.5.6 (interop/keycloak's
// differential suite compares them case by case): 400 invalid_grant "Invalid user
// credentials" (401 with WithKeycloakVersion("26.5")), 401 invalid_client for a
// missing client_id, 400 invalid_grant "Session not active" for a refresh token of a
// logged-out session, 204 for a second logout, and so on. It is lenient as Keycloak
// is; WithStrict applies the schema's own rules (api/receiver's default).
package authtest
