package authtest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// call sends a request to srv and decodes a JSON object answer (nil for another
// body); a failure never prints a token.
func call(t *testing.T, method, u string, form url.Values, hdr map[string]string) (int, http.Header, map[string]any, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, m, string(raw)
}

func tokenURL(srv *authtest.Server, realm string) string {
	return srv.URL + "/realms/" + realm + "/protocol/openid-connect/token"
}

func passwordForm(user, pw string, extra ...string) url.Values {
	f := url.Values{"client_id": {"iqm_client"}, "grant_type": {"password"}, "username": {user}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func refreshForm(rt string) url.Values {
	return url.Values{"client_id": {"iqm_client"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// jwtParts decodes a JWT's header and claims without checking the signature.
func jwtParts(t *testing.T, token string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT (%d parts)", len(parts))
	}
	dec := func(s string) map[string]any {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal("not base64url")
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal("not JSON")
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestKeycloakTokens: the tokens are shaped as Keycloak 26.7.3's (measured): RS256
// access and ID tokens with a kid that the realm's JWKS verifies, HS512 refresh
// tokens with a kid, and Keycloak's claims.
func TestKeycloakTokens(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	status, hdr, tr, _ := call(t, "POST", tokenURL(srv, "cortex"), passwordForm("alice", "pw", "scope", "openid"), nil)
	if status != 200 || hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" {
		t.Fatalf("login: %d %v", status, hdr)
	}
	if got := keys(tr); !slices.Equal(got, sorted("access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type",
		"id_token", "not-before-policy", "session_state", "scope")) || tr["scope"] != "openid profile email" {
		t.Errorf("token response members %v, scope %v", testsafe.Value(got), tr["scope"])
	}
	// The JWKS verifies the access and the ID token.
	status, _, jwks, _ := call(t, "GET", srv.URL+"/realms/cortex/protocol/openid-connect/certs", nil, nil)
	ks, _ := jwks["keys"].([]any)
	if status != 200 || len(ks) != 2 {
		t.Fatalf("certs: %d, %d keys", status, len(ks))
	}
	k := ks[1].(map[string]any) // after Keycloak's RSA-OAEP entry
	n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() != 2048 || k["alg"] != "RS256" || k["use"] != "sig" || k["kty"] != "RSA" {
		t.Errorf("JWK %v (%d bits)", keys(k), pub.N.BitLen())
	}
	for _, name := range []string{"access_token", "id_token"} {
		tok := tr[name].(string)
		h, _ := jwtParts(t, tok)
		if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != k["kid"] {
			t.Errorf("%s header %v", name, h)
		}
		i := strings.LastIndexByte(tok, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		digest := sha256.Sum256([]byte(tok[:i]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			t.Errorf("%s does not verify with the JWKS: %v", name, err)
		}
	}
	// The realm info's public_key is the same key.
	status, _, info, _ := call(t, "GET", srv.URL+"/realms/cortex", nil, nil)
	der, _ := base64.StdEncoding.DecodeString(info["public_key"].(string))
	p, err := x509.ParsePKIXPublicKey(der)
	if status != 200 || err != nil || !p.(*rsa.PublicKey).Equal(pub) || info["realm"] != "cortex" ||
		info["token-service"] != srv.URL+"/realms/cortex/protocol/openid-connect" || info["account-service"] != srv.URL+"/realms/cortex/account" {
		t.Errorf("realm info %d %v %v", status, err, keys(info))
	}

	_, a := jwtParts(t, tr["access_token"].(string))
	// A user given by name and password has default-roles-cortex, as a user Keycloak
	// creates: aud account, realm_access and resource_access.
	if got := keys(a); !slices.Equal(got, sorted("exp", "iat", "jti", "iss", "aud", "sub", "typ", "azp", "sid", "acr",
		"realm_access", "resource_access", "scope", "email_verified", "name", "preferred_username", "given_name", "family_name", "email")) {
		t.Errorf("access claims %v", testsafe.Value(got))
	}
	if a["typ"] != "Bearer" || a["iss"] != srv.URL+"/realms/cortex" || a["preferred_username"] != "alice" || a["email"] != "alice@example.com" ||
		len(a["sub"].(string)) != 36 || a["sid"] != tr["session_state"] || len(a["sid"].(string)) != 24 {
		t.Errorf("access claims: typ %v iss %v user %v", a["typ"], a["iss"], a["preferred_username"])
	}
	h, r := jwtParts(t, tr["refresh_token"].(string))
	if h["alg"] != "HS512" || h["kid"] == nil || h["typ"] != "JWT" {
		t.Errorf("refresh header %v", h)
	}
	if got := keys(r); !slices.Equal(got, sorted("exp", "iat", "jti", "iss", "aud", "sub", "typ", "azp", "sid", "scope", "aud_x", "prov")) ||
		r["typ"] != "Refresh" || r["aud"] != a["iss"] || r["scope"] != "openid roles basic acr profile web-origins email" {
		t.Errorf("refresh claims %v typ %v scope %v", testsafe.Value(got), r["typ"], r["scope"])
	}
	_, id := jwtParts(t, tr["id_token"].(string))
	if id["typ"] != "ID" || id["aud"] != "iqm_client" || id["at_hash"] == nil || id["sub"] != a["sub"] {
		t.Errorf("id claims %v", keys(id))
	}
	// sub is stable: a second server derives the same.
	other := authtest.Start(t, authtest.WithUser("alice", "other"))
	_, _, tr2, _ := call(t, "POST", tokenURL(other, "cortex"), passwordForm("alice", "other"), nil)
	_, a2 := jwtParts(t, tr2["access_token"].(string))
	if a2["sub"] != a["sub"] || tr2["id_token"] != nil || tr2["scope"] != "profile email" {
		t.Errorf("second server: sub differs %v, id_token %v, scope %v", a2["sub"] != a["sub"], tr2["id_token"] != nil, tr2["scope"])
	}
	// A refresh of an openid session brings an ID token too.
	status, _, tr3, _ := call(t, "POST", tokenURL(srv, "cortex"), refreshForm(tr["refresh_token"].(string)), nil)
	if status != 200 || tr3["id_token"] == nil {
		t.Errorf("refresh: %d, id_token %v", status, tr3["id_token"] != nil)
	}
}

// aliceRealm is realm cortex with client iqm_client and a user without roles whose
// username and email are stored in mixed case.
const aliceRealm = `{"realm": "cortex", "enabled": true,
  "clients": [{"clientId": "iqm_client", "publicClient": true, "directAccessGrantsEnabled": true}],
  "users": [{"username": "Alice", "enabled": true, "email": "Alice@Example.org", "firstName": "A", "lastName": "L",
    "credentials": [{"type": "password", "value": "pw"}]}]}`

// TestKeycloakAnswersByVersion: statuses and messages as Keycloak 26.7.3 answers them
// (measured), and as 26.5.6 where it differs.
func TestKeycloakAnswersByVersion(t *testing.T) {
	for _, v := range []struct {
		version string
		bad     int
		scope   string
	}{{"", 400, "profile email"}, {"26.7", 400, "profile email"}, {"26.5", 401, "email profile"}, {"26.5.6", 401, "email profile"}} {
		opts := []authtest.Option{authtest.WithRealmJSON([]byte(aliceRealm))}
		if v.version != "" {
			opts = append(opts, authtest.WithKeycloakVersion(v.version))
		}
		srv := authtest.Start(t, opts...)
		u := tokenURL(srv, "cortex")
		for _, tt := range []struct {
			name      string
			form      url.Values
			status    int
			err, desc string
		}{
			{"wrong password", passwordForm("alice", "nope"), v.bad, "invalid_grant", "Invalid user credentials"},
			{"unknown user", passwordForm("zed", "pw"), v.bad, "invalid_grant", "Invalid user credentials"},
			{"missing password", url.Values{"client_id": {"iqm_client"}, "grant_type": {"password"}, "username": {"alice"}}, v.bad, "invalid_grant", "Invalid user credentials"},
			{"missing client_id", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw"}}, 401, "invalid_client", "Invalid client or Invalid client credentials"},
			{"unknown scope", passwordForm("alice", "pw", "scope", "nope"), 400, "invalid_scope", "Invalid scopes: nope"},
			{"unknown parameter", passwordForm("alice", "pw", "foo", "bar"), 200, "", ""},
			{"username in upper case", passwordForm("ALICE", "pw"), 200, "", ""},
			{"email", passwordForm("alice@example.ORG", "pw"), 200, "", ""},
		} {
			status, _, m, _ := call(t, "POST", u, tt.form, nil)
			if status != tt.status || tt.err != "" && (m["error"] != tt.err || m["error_description"] != tt.desc) {
				t.Errorf("%s %s: %d %v %v", v.version, tt.name, status, m["error"], m["error_description"])
			}
			if status == 200 && m["scope"] != v.scope {
				t.Errorf("%s %s: scope %v", v.version, tt.name, m["scope"])
			}
			if status == 200 {
				// 26.5.6's refresh tokens have no prov (nor aud_x; this user has no roles).
				_, r := jwtParts(t, m["refresh_token"].(string))
				if (r["prov"] != nil) != (v.bad == 400) || r["aud_x"] != nil {
					t.Errorf("%s %s: refresh claims %v", v.version, tt.name, keys(r))
				}
			}
		}
		// A JSON body, a path not normalized, a logout without refresh_token.
		req, _ := http.NewRequest("POST", u, strings.NewReader(`{"client_id":"iqm_client","grant_type":"password"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("JSON body: %d", resp.StatusCode)
		}
		if status, _, m, _ := call(t, "POST", srv.URL+"//realms/cortex/protocol/openid-connect/token", passwordForm("alice", "pw"), nil); status != 400 || m["error"] != "missingNormalization" {
			t.Errorf("//realms: %d %v", status, m["error"])
		}
		status, hdr, _, body := call(t, "POST", srv.URL+"/realms/cortex/protocol/openid-connect/logout", url.Values{"client_id": {"iqm_client"}}, nil)
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
			t.Errorf("logout without refresh_token: %d %q", status, hdr.Get("Content-Type"))
		}
	}
	if _, err := authtest.NewServer(authtest.WithKeycloakVersion("27.0")); err == nil {
		t.Error("Keycloak 27.0 accepted")
	}
}

// TestStrict: WithStrict applies the schema's rules beyond Keycloak.
func TestStrict(t *testing.T) {
	srv := authtest.Start(t, authtest.WithStrict(), authtest.WithUser("alice", "pw"))
	if status, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), passwordForm("alice", "pw", "scope", "openid"), nil); status != 400 || m["error"] != "invalid_request" {
		t.Errorf("unknown parameter: %d %v", status, m["error"])
	}
	if status, _, m, _ := call(t, "POST", srv.URL+"/realms/cortex/protocol/openid-connect/logout", url.Values{"client_id": {"iqm_client"}}, nil); status != 400 || m["error_description"] != "No refresh token" {
		t.Errorf("logout without refresh_token: %d %v", status, m["error_description"])
	}
}

// TestRotationAsKeycloak: with rotation, reusing a superseded refresh token is
// "Maximum allowed refresh token reuse exceeded" and ends the client session, so that
// the newest fails with "Session doesn't have required client"; a token two rotations
// old, a second later, is "Stale token" and ends it too; refreshTokenMaxReuse allows
// that many reuses.
func TestRotationAsKeycloak(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithRotation(), authtest.WithUser("alice", "pw"))
	u := tokenURL(srv, "cortex")
	login := func() string {
		_, _, m, _ := call(t, "POST", u, passwordForm("alice", "pw"), nil)
		_, r := jwtParts(t, m["refresh_token"].(string))
		if r["reuse_id"] == nil {
			t.Error("no reuse_id under rotation")
		}
		return m["refresh_token"].(string)
	}
	refresh := func(rt string) (int, string, string) {
		status, _, m, _ := call(t, "POST", u, refreshForm(rt), nil)
		next, _ := m["refresh_token"].(string)
		desc, _ := m["error_description"].(string)
		return status, desc, next
	}
	r0 := login()
	_, _, r1 := refresh(r0)
	if status, desc, _ := refresh(r0); status != 400 || desc != "Maximum allowed refresh token reuse exceeded" {
		t.Errorf("reuse: %d %q", status, desc)
	}
	if status, desc, _ := refresh(r1); status != 400 || desc != "Session doesn't have required client" {
		t.Errorf("newest after reuse: %d %q", status, desc)
	}

	r0 = login()
	_, _, r1 = refresh(r0)
	clock.Advance(time.Second)
	_, _, r2 := refresh(r1)
	clock.Advance(time.Second)
	if status, desc, _ := refresh(r0); status != 400 || desc != "Stale token" {
		t.Errorf("two rotations old: %d %q", status, desc)
	}
	if status, desc, _ := refresh(r2); status != 400 || desc != "Session doesn't have required client" {
		t.Errorf("newest after a stale token: %d %q", status, desc)
	}

	// Without rotation, an old refresh token keeps working.
	plain := authtest.Start(t, authtest.WithUser("alice", "pw"))
	_, _, m, _ := call(t, "POST", tokenURL(plain, "cortex"), passwordForm("alice", "pw"), nil)
	old := m["refresh_token"].(string)
	for range 2 {
		if status, _, _, _ := call(t, "POST", tokenURL(plain, "cortex"), refreshForm(old), nil); status != 200 {
			t.Errorf("no rotation, old token: %d", status)
		}
	}
}

const realmFile = `{
  "realm": "lab", "enabled": true, "revokeRefreshToken": true, "refreshTokenMaxReuse": 1,
  "accessTokenLifespan": 60, "ssoSessionIdleTimeout": 600,
  "clients": [
    {"clientId": "iqm_client", "publicClient": true, "directAccessGrantsEnabled": true},
    {"clientId": "browser_only", "publicClient": true},
    {"clientId": "backend", "publicClient": false, "directAccessGrantsEnabled": true, "secret": "s3cret"}
  ],
  "users": [
    {"username": "Bob", "enabled": true, "email": "bob@example.org", "emailVerified": true, "firstName": "Bob", "lastName": "B",
     "credentials": [{"type": "password", "value": "pw"}]},
    {"username": "nameless", "enabled": true, "credentials": [{"type": "password", "value": "pw"}]},
    {"username": "off", "enabled": false, "email": "off@example.org", "firstName": "O", "lastName": "F",
     "credentials": [{"type": "password", "value": "pw"}]}
  ]
}`

// TestRealmJSON: a realm file as Keycloak imports it sets the realm, its clients, its
// users and its token settings.
func TestRealmJSON(t *testing.T) {
	srv := authtest.Start(t, authtest.WithRealmJSON([]byte(realmFile)))
	u := tokenURL(srv, "lab")
	status, _, m, _ := call(t, "POST", u, passwordForm("bob", "pw"), nil)
	if status != 200 || m["expires_in"] != float64(60) || m["refresh_expires_in"] != float64(600) {
		t.Fatalf("login: %d expires_in %v refresh_expires_in %v", status, m["expires_in"], m["refresh_expires_in"])
	}
	_, a := jwtParts(t, m["access_token"].(string))
	if a["email_verified"] != true || a["name"] != "Bob B" || a["preferred_username"] != "bob" || a["aud"] != nil || a["realm_access"] != nil {
		t.Errorf("claims: %v %v %v", a["email_verified"], a["name"], a["preferred_username"])
	}
	rt := m["refresh_token"].(string)
	// refreshTokenMaxReuse 1: the token may be used twice, not three times.
	for i, want := range []int{200, 200, 400} {
		if status, _, _, _ := call(t, "POST", u, refreshForm(rt), nil); status != want {
			t.Errorf("use %d: %d, want %d", i+1, status, want)
		}
	}
	for _, tt := range []struct {
		name      string
		form      url.Values
		status    int
		err, desc string
	}{
		{"no names", passwordForm("nameless", "pw"), 400, "invalid_grant", "Account is not fully set up"},
		{"disabled", passwordForm("off", "pw"), 400, "invalid_grant", "Account disabled"},
		{"no direct grants", url.Values{"client_id": {"browser_only"}, "grant_type": {"password"}, "username": {"bob"}, "password": {"pw"}}, 400, "unauthorized_client", "Client not allowed for direct access grants"},
		{"confidential without secret", url.Values{"client_id": {"backend"}, "grant_type": {"password"}, "username": {"bob"}, "password": {"pw"}}, 401, "unauthorized_client", "Invalid client or Invalid client credentials"},
		{"confidential with secret", url.Values{"client_id": {"backend"}, "client_secret": {"s3cret"}, "grant_type": {"password"}, "username": {"bob"}, "password": {"pw"}}, 200, "", ""},
	} {
		status, _, m, _ := call(t, "POST", u, tt.form, nil)
		if status != tt.status || tt.err != "" && (m["error"] != tt.err || m["error_description"] != tt.desc) {
			t.Errorf("%s: %d %v %v", tt.name, status, m["error"], m["error_description"])
		}
	}
	// Defaults as Keycloak's, and errors that name the problem, never a value.
	for _, bad := range []string{`{"realm":`, `{"clients":[]}`, `{"realm":"x","users":[{"username":"u","credentials":[{"type":"password","secretData":"CANARY-HASH"}]}]}`, `{"realm":"x","accessTokenLifespan":"CANARY"}`} {
		_, err := authtest.NewServer(authtest.WithRealmJSON([]byte(bad)))
		if err == nil || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("realm file %.20q: %v", bad, err)
		}
	}
}

// TestRevokeAndUserinfo: revoking a refresh token ends its session; userinfo answers
// the profile for a live access token with the openid scope (as Keycloak 26.7.3,
// measured: 403 without it, errors with an empty body and WWW-Authenticate naming no
// error without a token, "Token verification failed" for a bad one and
// "user_session_not_found" for one whose session ended).
func TestRevokeAndUserinfo(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	oidc := srv.URL + "/realms/cortex/protocol/openid-connect/"
	_, _, plain, _ := call(t, "POST", tokenURL(srv, "cortex"), passwordForm("alice", "pw"), nil)
	if status, _, _, _ := call(t, "GET", oidc+"userinfo", nil, map[string]string{"Authorization": "Bearer " + plain["access_token"].(string)}); status != 403 {
		t.Errorf("userinfo without the openid scope: %d", status)
	}
	_, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), passwordForm("alice", "pw", "scope", "openid"), nil)
	at, rt := m["access_token"].(string), m["refresh_token"].(string)
	status, _, info, _ := call(t, "GET", oidc+"userinfo", nil, map[string]string{"Authorization": "Bearer " + at})
	if status != 200 || info["preferred_username"] != "alice" || info["email"] != "alice@example.com" {
		t.Errorf("userinfo: %d %v", status, keys(info))
	}
	if status, hdr, _, body := call(t, "GET", oidc+"userinfo", nil, nil); status != 401 || body != "" || hdr.Get("WWW-Authenticate") != `Bearer realm="cortex"` {
		t.Errorf("userinfo without a token: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	if status, _, m, body := call(t, "POST", oidc+"revoke", url.Values{"client_id": {"iqm_client"}, "token": {"garbage"}}, nil); status != 200 || m["error"] != "invalid_token" {
		t.Errorf("revoke garbage: %d %d bytes", status, len(body))
	}
	if status, _, m, _ := call(t, "POST", oidc+"revoke", url.Values{"client_id": {"iqm_client"}}, nil); status != 400 || m["error_description"] != "Token not provided" {
		t.Errorf("revoke without token: %d %v", status, m["error_description"])
	}
	if status, _, _, body := call(t, "POST", oidc+"revoke", url.Values{"client_id": {"iqm_client"}, "token": {rt}}, nil); status != 200 || body != "" {
		t.Errorf("revoke: %d %d bytes", status, len(body))
	}
	if status, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), refreshForm(rt), nil); status != 400 || m["error_description"] != "Session not active" {
		t.Errorf("refresh after revoke: %d %v", status, m["error_description"])
	}
	if status, hdr, _, _ := call(t, "GET", oidc+"userinfo", nil, map[string]string{"Authorization": "Bearer " + at}); status != 401 ||
		hdr.Get("WWW-Authenticate") != `Bearer realm="cortex", error="invalid_token", error_description="user_session_not_found"` {
		t.Errorf("userinfo after revoke: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	if status, hdr, _, _ := call(t, "GET", oidc+"userinfo", nil, map[string]string{"Authorization": "Bearer canary-garbage"}); status != 401 ||
		hdr.Get("WWW-Authenticate") != `Bearer realm="cortex", error="invalid_token", error_description="Token verification failed"` {
		t.Errorf("userinfo with garbage: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	status, hdr, d, _ := call(t, "GET", srv.URL+"/realms/cortex/.well-known/openid-configuration", nil, nil)
	if status != 200 || d["token_endpoint"] != oidc+"token" || d["jwks_uri"] != oidc+"certs" || d["issuer"] != srv.URL+"/realms/cortex" ||
		hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("discovery: %d", status)
	}
	if status, _, m, _ := call(t, "GET", srv.URL+"/realms/nope/.well-known/openid-configuration", nil, nil); status != 404 || m["error"] != "Realm does not exist" {
		t.Errorf("unknown realm: %d %v", status, m["error"])
	}
}

// TestOtherGrants: a grant type Keycloak knows beyond the schema's passes the client
// check and is refused as Keycloak refuses it (client_credentials to a public client:
// 401 unauthorized_client); with WithStrict, and for a grant type nobody knows, it is
// 400 unsupported_grant_type.
func TestOtherGrants(t *testing.T) {
	form := url.Values{"client_id": {"iqm_client"}, "grant_type": {"client_credentials"}}
	srv := authtest.Start(t)
	if status, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), form, nil); status != 401 || m["error"] != "unauthorized_client" ||
		m["error_description"] != "Public client not allowed to retrieve service account" {
		t.Errorf("client_credentials: %d %v %v", status, m["error"], m["error_description"])
	}
	form.Set("client_id", "nope")
	if status, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), form, nil); status != 401 || m["error"] != "invalid_client" {
		t.Errorf("client_credentials, unknown client: %d %v", status, m["error"])
	}
	form.Set("grant_type", "nonsense")
	if status, _, m, _ := call(t, "POST", tokenURL(srv, "cortex"), form, nil); status != 400 || m["error"] != "unsupported_grant_type" {
		t.Errorf("unknown grant type: %d %v", status, m["error"])
	}
	strict := authtest.Start(t, authtest.WithStrict())
	form = url.Values{"client_id": {"iqm_client"}, "grant_type": {"client_credentials"}}
	if status, _, m, _ := call(t, "POST", tokenURL(strict, "cortex"), form, nil); status != 400 || m["error"] != "unsupported_grant_type" {
		t.Errorf("strict client_credentials: %d %v", status, m["error"])
	}
}

// TestClientFromBasicAuth: without client_id in the form, the client id comes from
// HTTP Basic authentication, as Keycloak takes it (a form client_id wins); a
// confidential client's secret too. WithStrict keeps the schema's rule: client_id in
// the form.
func TestClientFromBasicAuth(t *testing.T) {
	srv := authtest.Start(t, authtest.WithRealmJSON([]byte(realmFile)))
	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
	}
	form := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"pw"}}
	for _, tt := range []struct {
		name   string
		hdr    map[string]string
		form   url.Values
		status int
	}{
		{"public client in Basic", basic("iqm_client", ""), form, 200},
		{"confidential client in Basic", basic("backend", "s3cret"), form, 200},
		{"confidential client, wrong secret", basic("backend", "nope"), form, 401},
		{"form client_id wins", basic("nope", ""), url.Values{"client_id": {"iqm_client"}, "grant_type": {"password"}, "username": {"bob"}, "password": {"pw"}}, 200},
	} {
		if status, _, m, _ := call(t, "POST", tokenURL(srv, "lab"), tt.form, tt.hdr); status != tt.status {
			t.Errorf("%s: %d %v", tt.name, status, m["error"])
		}
	}
	strict := authtest.Start(t, authtest.WithStrict(), authtest.WithUser("bob", "pw"))
	if status, _, _, _ := call(t, "POST", tokenURL(strict, "cortex"), form, basic("iqm_client", "")); status != 401 {
		t.Errorf("strict, client in Basic: %d", status)
	}
}
