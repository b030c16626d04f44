package authtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/receiver"
)

// The endpoints beside token and logout that a public client of Keycloak can call:
// the realm info, the discovery document, the keys (JWKS), revocation and userinfo.

const oidcPrefix = "/protocol/openid-connect/"

// serveKeycloak serves the endpoints beside token and logout; false when the path is
// none of them.
func (s *Server) serveKeycloak(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/realms/")
	if !ok || rest == "" {
		return false
	}
	realm, sub, _ := strings.Cut(rest, "/")
	var serve func(http.ResponseWriter, *http.Request, *realmState)
	methods := []string{http.MethodGet}
	switch "/" + sub {
	case "/":
		serve = s.realmInfo
	case "/.well-known/openid-configuration":
		serve = s.discovery
	case oidcPrefix + "certs":
		serve = s.certs
	case oidcPrefix + "revoke":
		serve, methods = s.revoke, []string{http.MethodPost}
	case oidcPrefix + "userinfo":
		serve, methods = s.userinfo, []string{http.MethodGet, http.MethodPost}
	case oidcPrefix + "logout":
		if r.Method != http.MethodGet || s.cfg.strict {
			return false
		}
		serve = s.browserLogout
	default:
		return false
	}
	s.mu.Lock()
	rs := s.realms[realm]
	s.mu.Unlock()
	switch {
	case rs == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Realm does not exist"})
	case !contains(methods, r.Method):
		w.Header()["Allow"] = methods
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "HTTP 405 Method Not Allowed"})
	default:
		serve(w, r, rs)
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Header values of these endpoints, as Keycloak 26.7.3 sends them (measured).
var (
	jsonType       = []string{"application/json"}
	jsonUTF8Type   = []string{"application/json;charset=UTF-8"}
	textType       = []string{"text/plain;charset=utf-8"}
	noCacheOnly    = []string{"no-cache"}
	noStoreOnly    = []string{"no-store"}
	noStoreNoCache = []string{"no-store, no-cache"}
	pragmaNoCache  = []string{"no-cache"}
	discoveryCache = []string{"no-cache, must-revalidate, no-transform, no-store"}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	if w.Header()["Content-Type"] == nil {
		w.Header()["Content-Type"] = jsonType
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// realmInfo is GET /realms/{realm}, which Cortex CLI's init reads for public_key.
func (s *Server) realmInfo(w http.ResponseWriter, _ *http.Request, rs *realmState) {
	w.Header()["Content-Type"] = jsonUTF8Type
	w.Header()["Cache-Control"] = noCacheOnly
	writeJSON(w, http.StatusOK, struct {
		Realm           string `json:"realm"`
		PublicKey       string `json:"public_key"`
		TokenService    string `json:"token-service"`
		AccountService  string `json:"account-service"`
		TokensNotBefore int    `json:"tokens-not-before"`
	}{rs.name, s.rsa.publicB64, rs.issuer + "/protocol/openid-connect", rs.issuer + "/account", 0})
}

// discovery is the OpenID Provider metadata, with the members Keycloak 26 sends.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request, rs *realmState) {
	oidc := rs.issuer + "/protocol/openid-connect"
	algs := []string{"PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"}
	authMethods := []string{"private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth", "client_secret_jwt"}
	encAlgs := []string{"ECDH-ES+A256KW", "ECDH-ES+A192KW", "ECDH-ES+A128KW", "RSA-OAEP", "RSA-OAEP-256", "RSA1_5", "ECDH-ES"}
	encEnc := []string{"A256GCM", "A192GCM", "A128CBC-HS256", "A128GCM", "A256CBC-HS512", "A192CBC-HS384"}
	w.Header()["Cache-Control"] = discoveryCache
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                rs.issuer,
		"authorization_endpoint":                oidc + "/auth",
		"token_endpoint":                        oidc + "/token",
		"introspection_endpoint":                oidc + "/token/introspect",
		"userinfo_endpoint":                     oidc + "/userinfo",
		"end_session_endpoint":                  oidc + "/logout",
		"frontchannel_logout_session_supported": true,
		"frontchannel_logout_supported":         true,
		"jwks_uri":                              oidc + "/certs",
		"check_session_iframe":                  oidc + "/login-status-iframe.html",
		"grant_types_supported": []string{"authorization_code", "client_credentials", "implicit", "password", "refresh_token",
			"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange",
			"urn:ietf:params:oauth:grant-type:uma-ticket", "urn:openid:params:grant-type:ciba"},
		"acr_values_supported":                                            []string{"0", "1"},
		"response_types_supported":                                        []string{"code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"},
		"subject_types_supported":                                         []string{"public", "pairwise"},
		"prompt_values_supported":                                         []string{"none", "login", "consent"},
		"id_token_signing_alg_values_supported":                           algs,
		"id_token_encryption_alg_values_supported":                        encAlgs,
		"id_token_encryption_enc_values_supported":                        encEnc,
		"userinfo_signing_alg_values_supported":                           append(algs, "none"),
		"userinfo_encryption_alg_values_supported":                        encAlgs,
		"userinfo_encryption_enc_values_supported":                        encEnc,
		"request_object_signing_alg_values_supported":                     append(algs, "none"),
		"request_object_encryption_alg_values_supported":                  encAlgs,
		"request_object_encryption_enc_values_supported":                  encEnc,
		"response_modes_supported":                                        []string{"query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"},
		"registration_endpoint":                                           rs.issuer + "/clients-registrations/openid-connect",
		"token_endpoint_auth_methods_supported":                           authMethods,
		"token_endpoint_auth_signing_alg_values_supported":                algs,
		"introspection_endpoint_auth_methods_supported":                   authMethods,
		"introspection_endpoint_auth_signing_alg_values_supported":        algs,
		"authorization_signing_alg_values_supported":                      algs,
		"authorization_encryption_alg_values_supported":                   encAlgs,
		"authorization_encryption_enc_values_supported":                   encEnc,
		"claims_supported":                                                []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "name", "given_name", "family_name", "preferred_username", "email", "acr", "azp", "nonce"},
		"claim_types_supported":                                           []string{"normal"},
		"claims_parameter_supported":                                      true,
		"scopes_supported":                                                []string{"openid", "organization", "roles", "basic", "offline_access", "web-origins", "phone", "acr", "address", "email", "microprofile-jwt", "profile"},
		"request_parameter_supported":                                     true,
		"request_uri_parameter_supported":                                 true,
		"require_request_uri_registration":                                true,
		"code_challenge_methods_supported":                                []string{"plain", "S256"},
		"tls_client_certificate_bound_access_tokens":                      true,
		"dpop_signing_alg_values_supported":                               []string{"PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"},
		"revocation_endpoint":                                             oidc + "/revoke",
		"revocation_endpoint_auth_methods_supported":                      authMethods,
		"revocation_endpoint_auth_signing_alg_values_supported":           algs,
		"backchannel_logout_supported":                                    true,
		"backchannel_logout_session_supported":                            true,
		"device_authorization_endpoint":                                   oidc + "/auth/device",
		"backchannel_token_delivery_modes_supported":                      []string{"poll", "ping"},
		"backchannel_authentication_endpoint":                             oidc + "/ext/ciba/auth",
		"backchannel_authentication_request_signing_alg_values_supported": []string{"PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"},
		"require_pushed_authorization_requests":                           false,
		"pushed_authorization_request_endpoint":                           oidc + "/ext/par/request",
		"mtls_endpoint_aliases": map[string]string{"token_endpoint": oidc + "/token", "revocation_endpoint": oidc + "/revoke",
			"introspection_endpoint": oidc + "/token/introspect", "device_authorization_endpoint": oidc + "/auth/device",
			"registration_endpoint": rs.issuer + "/clients-registrations/openid-connect", "userinfo_endpoint": oidc + "/userinfo",
			"pushed_authorization_request_endpoint": oidc + "/ext/par/request", "backchannel_authentication_endpoint": oidc + "/ext/ciba/auth"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// certs is the realm's JSON Web Key Set: the key that verifies the access and ID
// tokens, and (as Keycloak lists its RSA-OAEP key) the same public key for
// encryption, which the server never needs to decrypt.
func (s *Server) certs(w http.ResponseWriter, _ *http.Request, _ *realmState) {
	w.Header()["Cache-Control"] = noCacheOnly
	writeJSON(w, http.StatusOK, struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{s.rsa.encJWK, s.rsa.jwk}})
}

// browserLogout is Keycloak's answer to GET .../logout: the page that asks whether to
// log out (not in strict mode).
func (s *Server) browserLogout(w http.ResponseWriter, _ *http.Request, _ *realmState) {
	w.Header()["Cache-Control"] = noCacheOnly
	w.Header()["Content-Type"] = []string{"text/html;charset=utf-8"}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, receiver.LogoutPage)
}

// maxFormBytes bounds the bodies of revoke and userinfo.
const maxFormBytes = api.DefaultMaxBodyBytes

func readForm(w http.ResponseWriter, r *http.Request) url.Values {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return url.Values{}
	}
	return r.PostForm
}

// revoke is RFC 7009 revocation as Keycloak answers it: a refresh token detaches the
// client session, an access token is refused from then on.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, rs *realmState) {
	form := readForm(w, r)
	clientID := form.Get("client_id")
	if err := s.Client(r.Context(), rs.name, clientID); clientID == "" || err != nil {
		writeOAuthError(w, http.StatusUnauthorized, codeInvalidClient, "Invalid client or Invalid client credentials")
		return
	}
	for _, v := range form {
		if len(v) > 1 {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "duplicated parameter")
			return
		}
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Token not provided")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.clock.Now()
	// Neither token's exp is checked, its session is (measured with Keycloak 26.7.3:
	// an expired token of a live session is revoked, one of a session that idled out
	// is "Invalid token").
	if c, err := s.hmac.verify(token); err == nil && c.Typ == "Refresh" && c.Iss == rs.issuer {
		if c.Azp != clientID {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unmatching clients")
			return
		}
		if ss := s.sessions[c.Sid]; ss.active(now) && !ss.clientGone {
			// The session's only client is detached, so the session ends
			// (Keycloak then answers "Session not active").
			delete(s.sessions, c.Sid)
			w.WriteHeader(http.StatusOK)
			return
		}
	} else if c, err := s.rsa.verify(token); err == nil && c.Typ == "Bearer" && c.Iss == rs.issuer {
		if c.Azp != clientID {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unmatching clients")
			return
		}
		if ss := s.sessions[c.Sid]; ss.active(now) && !ss.clientGone {
			if len(s.revoked) >= s.cfg.maxSessions {
				s.pruneSessions()
			}
			if len(s.revoked) < s.cfg.maxSessions {
				s.revoked[c.Jti] = c.Exp
			}
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	writeOAuthError(w, http.StatusOK, "invalid_token", "Invalid token")
}

// userinfo answers the profile of an access token's user, the token as a bearer
// token (Authorization header, or access_token in a POST form); the token's scope
// must have openid. Failures are Keycloak's: an empty text/plain body, the error in
// WWW-Authenticate.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request, rs *realmState) {
	h := w.Header()
	newer := s.version.since266()
	if newer {
		h["Pragma"] = pragmaNoCache
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && r.Method == http.MethodPost {
		token = readForm(w, r).Get("access_token")
	}
	fail := func(status int, code, desc string) {
		if newer {
			h["Cache-Control"] = noStoreOnly
		}
		h["Content-Type"] = textType
		challenge := `Bearer realm="` + rs.name + `"`
		if code != "" {
			challenge += `, error="` + code + `", error_description="` + desc + `"`
		}
		h["Www-Authenticate"] = []string{challenge}
		w.WriteHeader(status)
	}
	if token == "" {
		fail(http.StatusUnauthorized, "", "") // no error named (Keycloak 26.7.3, measured)
		return
	}
	// The token is checked before its session: a token of another realm, expired or
	// revoked fails verification; a valid one whose session ended or idled out has
	// "user_session_not_found" (Keycloak 26.7.3, measured).
	c, err := s.verifyAccess(token)
	switch {
	case err != nil && !errors.Is(err, errSessionGone) || c.Iss != rs.issuer:
		fail(http.StatusUnauthorized, "invalid_token", "Token verification failed")
		return
	case err != nil:
		fail(http.StatusUnauthorized, "invalid_token", "user_session_not_found")
		return
	}
	if !slices.Contains(strings.Fields(c.Scope), "openid") {
		fail(http.StatusForbidden, "insufficient_scope", "Missing openid scope")
		return
	}
	h["Cache-Control"] = noCacheOnly
	if newer {
		h["Cache-Control"] = noStoreNoCache
	}
	writeJSON(w, http.StatusOK, c.userinfo())
}

// userinfo is the userinfo endpoint's answer: the profile claims only.
func (c claims) userinfo() any {
	return struct {
		Sub string `json:"sub"`
		profile
	}{c.Sub, c.profile}
}
