package keycloak_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// step is one compared answer of a case; label names it when a case has several.
type step struct {
	label string
	a     *answer
}

// diffCase sends its requests to one side and returns the answers to compare.
type diffCase struct {
	name string
	run  func(s *side, u users) []step
}

// users are the realm file's users and their (canary) passwords.
type users struct {
	alice, bob, carol string // passwords
	dave              string // a password with the characters form encoding changes: space + & = % / ~ é
}

const (
	cortex   = "cortex"
	rotating = "cortex-rotating"
	short    = "cortex-short" // access tokens of 2 s, sessions idle out after 6 s
	client   = "iqm_client"
	other    = "iqm_other"   // a second public client with direct grants
	browser  = "iqm_browser" // a client without direct access grants
	tokenP   = "/realms/cortex/protocol/openid-connect/token"
	logoutP  = "/realms/cortex/protocol/openid-connect/logout"
)

func one(a *answer) []step { return []step{{a: a}} }

// withLogin logs alice in (realm, client) and hands the answer to fn; a failed login
// is the case's answer.
func withLogin(s *side, u users, realm, cl string, fn func(login *answer) []step, extra ...string) []step {
	l := s.login(realm, cl, "alice", u.alice, extra...)
	if l.token("refresh_token") == "" {
		return one(prepFailed("login", l))
	}
	return fn(l)
}

// forgedJWT is a well-formed refresh token for the realm, signed with a key nobody has.
func forgedJWT(s *side) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	iss := s.base(cortex) + "/realms/cortex"
	now := time.Now().Unix()
	h := enc(map[string]string{"alg": "HS512", "typ": "JWT", "kid": "forged"})
	c := enc(map[string]any{"exp": now + 1800, "iat": now, "jti": "forged", "iss": iss, "aud": iss, "sub": "alice",
		"typ": "Refresh", "azp": client, "sid": "forged", "scope": "profile email"})
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	m := hmac.New(sha512.New, key)
	m.Write([]byte(h + "." + c))
	return h + "." + c + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func form(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

// expiryMargin is how long after a deadline a timed case acts: Keycloak and serve
// read the same clock, so that it only covers the time the request takes to arrive.
const expiryMargin = 300 * time.Millisecond

// claimSec is a numeric claim (exp, iat) of a JWT, in Unix seconds; 0 when it has none.
func claimSec(jwt, name string) int64 {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return 0
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c map[string]json.RawMessage
	var n int64
	if json.Unmarshal(raw, &c) != nil || json.Unmarshal(c[name], &n) != nil {
		return 0
	}
	return n
}

// waitPast waits until the second sec (a token's exp or iat) is over, and expiryMargin
// more. Keycloak counts in whole seconds and a token is active through the second its
// exp names (TokenVerifier.IS_ACTIVE: exp < now), so that this is when a token whose
// exp is sec is expired on both sides. It is false when the test's context ends first
// or sec is 0 (no such claim).
func (s *side) waitPast(sec int64) bool {
	if sec == 0 {
		return false
	}
	t := time.NewTimer(time.Until(time.Unix(sec+1, 0).Add(expiryMargin)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// waitFailed is the answer of a timed case that could not wait for its deadline.
func waitFailed(what string) *answer { return &answer{failed: "could not wait past " + what} }

func (s *side) userinfo(realm, accessToken string) *answer {
	return s.do(req{realm: realm, method: http.MethodGet, path: "/realms/" + realm + "/protocol/openid-connect/userinfo", bearer: accessToken})
}

func (s *side) revoke(realm, token, hint string) *answer {
	return s.post(realm, "revoke", form("client_id", client, "token", token, "token_type_hint", hint))
}

// expiryTimeline is the expiry cases in realm cortex-short (access token 2 s, session
// idle 6 s), on three sessions logged in at once, so that the case waits twice, about
// eight seconds in all: first until the access token's exp has passed (the refresh
// tokens are still active: refreshing keeps two sessions alive), then until the first
// refresh tokens' exp has passed (two sessions alive with expired refresh tokens, the
// third idled out).
func expiryTimeline(s *side, u users) []step {
	// The kept session logs in last, so that its deadlines are the latest: the other
	// sessions' tokens are expired by then too.
	rv := s.login(short, client, "alice", u.alice)
	idle := s.login(short, client, "alice", u.alice)
	kept := s.login(short, client, "alice", u.alice, "scope", "openid")
	for _, l := range []struct {
		name string
		a    *answer
	}{{"login to revoke", rv}, {"login to idle out", idle}, {"login to keep", kept}} {
		if l.a.token("refresh_token") == "" {
			return one(prepFailed(l.name, l.a))
		}
	}
	rt, rvRT, idleRT := kept.token("refresh_token"), rv.token("refresh_token"), idle.token("refresh_token")
	at := kept.token("access_token")
	if !s.waitPast(claimSec(at, "exp")) {
		return one(waitFailed("the access token's exp"))
	}
	keep := s.refresh(short, client, rt) // first: the one step with a deadline (the refresh token's exp)
	keepRV := s.refresh(short, client, rvRT)
	out := []step{
		{"access_expired/refresh", keep},
		{"access_expired/refresh_other_session", keepRV},
		{"access_expired/userinfo", s.userinfo(short, at)},
		{"access_expired/revoke_access_token", s.revoke(short, at, "access_token")},
		{"access_expired/refresh_after_revoking_it", s.refresh(short, client, keep.token("refresh_token"))},
	}
	newest := out[4].a.token("refresh_token")
	if newest == "" {
		return append(out, step{"refresh_expired", prepFailed("refresh", out[4].a)})
	}
	if !s.waitPast(max(claimSec(rt, "exp"), claimSec(rvRT, "exp"), claimSec(idleRT, "exp"))) {
		return append(out, step{"refresh_expired", waitFailed("the refresh tokens' exp")})
	}
	// The sessions the refreshes kept alive first (they idle out about 1.7 s after the wait).
	out = append(out,
		step{"refresh_expired/revoke_of_live_session", s.revoke(short, rvRT, "refresh_token")},
		step{"refresh_expired/newest_after_revoke", s.refresh(short, client, keepRV.token("refresh_token"))},
		step{"refresh_expired/logout_of_live_session", s.logout(short, client, rt)},
		step{"refresh_expired/newest_after_logout", s.refresh(short, client, newest)},
		step{"refresh_expired/refresh", s.refresh(short, client, rt)},
		step{"refresh_expired/revoke_of_ended_session", s.revoke(short, rt, "refresh_token")},
		step{"idled_out/refresh", s.refresh(short, client, idleRT)},
		step{"idled_out/userinfo", s.userinfo(short, idle.token("access_token"))},
		step{"idled_out/revoke", s.revoke(short, idleRT, "refresh_token")},
		step{"idled_out/logout", s.logout(short, client, idleRT)},
	)
	return out
}

// rotationLater is reuse and staleness under rotation (realm cortex-rotating), told
// apart as Keycloak 26.7.3 tells them (TokenManager.validateTokenReuse, measured): the
// token last used comes back ("Maximum allowed refresh token reuse exceeded", however
// late), or an older one issued in an earlier second than the last refresh ("Stale
// token"). One wait, past the second the sessions' first tokens were issued in.
func rotationLater(s *side, u users) []step {
	a := s.login(rotating, client, "alice", u.alice)
	b := s.login(rotating, client, "alice", u.alice)
	a1, b1 := a.token("refresh_token"), b.token("refresh_token")
	if a1 == "" {
		return one(prepFailed("first login", a))
	}
	if b1 == "" {
		return one(prepFailed("second login", b))
	}
	rb := s.refresh(rotating, client, b1)
	b2 := rb.token("refresh_token")
	if b2 == "" {
		return one(prepFailed("refresh", rb))
	}
	if !s.waitPast(max(claimSec(a1, "iat"), claimSec(b1, "iat"))) {
		return one(waitFailed("the second the tokens were issued in"))
	}
	ra := s.refresh(rotating, client, a1)
	out := []step{
		{"first_use_a_second_later", ra},
		{"first_reused", s.refresh(rotating, client, a1)},
		{"newest_after_reuse", s.refresh(rotating, client, ra.token("refresh_token"))},
	}
	rb = s.refresh(rotating, client, b2)
	return append(out,
		step{"second_use_a_second_later", rb},
		step{"superseded_first_back", s.refresh(rotating, client, b1)},
		step{"newest_after_stale", s.refresh(rotating, client, rb.token("refresh_token"))},
	)
}

// cases are the differential suite's cases. Each names what it sends.
var cases = []diffCase{
	// The password grant.
	{"password.ok", func(s *side, u users) []step { return one(s.login(cortex, client, "alice", u.alice)) }},
	{"password.scope_openid", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "scope", "openid"))
	}},
	{"password.scope_openid_profile_email", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "scope", "openid profile email"))
	}},
	{"password.unknown_scope", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "scope", "nonsense"))
	}},
	{"password.wrong_password", func(s *side, u users) []step { return one(s.login(cortex, client, "alice", "canary-wrong-pw")) }},
	{"password.unknown_user", func(s *side, u users) []step { return one(s.login(cortex, client, "nobody", "canary-wrong-pw")) }},
	{"password.missing_password", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "grant_type", "password", "username", "alice")))
	}},
	{"password.empty_password", func(s *side, u users) []step { return one(s.login(cortex, client, "alice", "")) }},
	{"password.missing_username", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "grant_type", "password", "password", u.alice)))
	}},
	{"password.empty_username", func(s *side, u users) []step { return one(s.login(cortex, client, "", u.alice)) }},
	{"password.username_other_case", func(s *side, u users) []step { return one(s.login(cortex, client, "ALICE", u.alice)) }},
	{"password.login_by_email", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice@example.com", u.alice))
	}},
	{"password.email_other_case", func(s *side, u users) []step {
		return one(s.login(cortex, client, "Alice@Example.COM", u.alice))
	}},
	{"password.disabled_user", func(s *side, u users) []step { return one(s.login(cortex, client, "carol", u.carol)) }},
	{"password.special_characters", func(s *side, u users) []step { return one(s.login(cortex, client, "dave", u.dave)) }},
	{"password.second_client", func(s *side, u users) []step { return one(s.login(cortex, other, "bob", u.bob)) }},
	{"password.client_without_direct_grants", func(s *side, u users) []step {
		return one(s.login(cortex, browser, "alice", u.alice))
	}},
	{"password.missing_client_id", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("grant_type", "password", "username", "alice", "password", u.alice)))
	}},
	{"password.unknown_client", func(s *side, u users) []step { return one(s.login(cortex, "no_such_client", "alice", u.alice)) }},
	{"password.client_secret_of_public_client", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "client_secret", "canary-secret"))
	}},
	{"password.unknown_extra_parameter", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "foo", "bar"))
	}},
	{"password.extra_refresh_token_parameter", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", u.alice, "refresh_token", "canary-rt"))
	}},
	{"password.duplicated_username", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType,
			body: "client_id=iqm_client&grant_type=password&username=alice&username=alice&password=" + url.QueryEscape(u.alice)}))
	}},
	{"password.duplicated_client_id", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType,
			body: "client_id=iqm_client&client_id=iqm_client&grant_type=password&username=alice&password=" + url.QueryEscape(u.alice)}))
	}},
	{"password.client_in_basic_auth", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType, basic: client,
			body: form("grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"password.basic_auth_overridden_by_form", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType, basic: "no_such_client",
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"password.oversized_password", func(s *side, u users) []step {
		return one(s.login(cortex, client, "alice", "canary-"+strings.Repeat("x", 200<<10)))
	}},
	{"token.missing_grant_type", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "username", "alice", "password", u.alice)))
	}},
	{"token.unknown_grant_type", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "grant_type", "magic", "username", "alice", "password", u.alice)))
	}},
	{"token.client_credentials_grant", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "grant_type", "client_credentials")))
	}},
	{"token.json_body", func(s *side, u users) []step {
		b, _ := json.Marshal(map[string]string{"client_id": client, "grant_type": "password", "username": "alice", "password": u.alice})
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: "application/json", body: string(b)}))
	}},
	{"token.no_content_type", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP,
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"token.content_type_text_plain", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: "text/plain",
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"token.form_charset_utf8", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType + "; charset=UTF-8",
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"token.empty_body", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP, ctype: formType}))
	}},
	{"token.get", func(s *side, u users) []step { return one(s.do(req{method: http.MethodGet, path: tokenP})) }},
	{"token.head", func(s *side, u users) []step { return one(s.do(req{method: http.MethodHead, path: tokenP})) }},
	{"token.put", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPut, path: tokenP, ctype: formType, body: "client_id=iqm_client"}))
	}},
	{"token.double_slash", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: "/" + tokenP, ctype: formType,
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"token.trailing_slash", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodPost, path: tokenP + "/", ctype: formType,
			body: form("client_id", client, "grant_type", "password", "username", "alice", "password", u.alice).Encode()}))
	}},
	{"token.unknown_realm", func(s *side, u users) []step {
		return one(s.login("no-such-realm", client, "alice", u.alice))
	}},

	// The refresh grant.
	{"refresh.ok", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token")))
		})
	}},
	{"refresh.ok_after_scope_openid", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token")))
		}, "scope", "openid")
	}},
	{"refresh.twice_same_token_without_rotation", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			rt := l.token("refresh_token")
			return []step{{"first", s.refresh(cortex, client, rt)}, {"second", s.refresh(cortex, client, rt)}}
		})
	}},
	{"refresh.adding_scope_openid", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token"), "scope", "openid"))
		})
	}},
	{"refresh.narrowing_scope", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token"), "scope", "openid"))
		}, "scope", "openid profile email")
	}},
	{"refresh.missing_refresh_token", func(s *side, u users) []step {
		return one(s.post(cortex, "token", form("client_id", client, "grant_type", "refresh_token")))
	}},
	{"refresh.garbage", func(s *side, u users) []step { return one(s.refresh(cortex, client, "canary-garbage-refresh-token")) }},
	{"refresh.forged_signature", func(s *side, u users) []step { return one(s.refresh(cortex, client, forgedJWT(s))) }},
	{"refresh.access_token_as_refresh_token", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("access_token")))
		})
	}},
	{"refresh.token_of_other_client", func(s *side, u users) []step {
		return withLogin(s, u, cortex, other, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token")))
		})
	}},
	{"refresh.token_of_other_realm", func(s *side, u users) []step {
		return withLogin(s, u, rotating, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token")))
		})
	}},
	{"refresh.missing_client_id", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.post(cortex, "token", form("grant_type", "refresh_token", "refresh_token", l.token("refresh_token"))))
		})
	}},
	{"refresh.extra_username_parameter", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.refresh(cortex, client, l.token("refresh_token"), "username", "alice"))
		})
	}},
	{"refresh.after_logout", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			rt := l.token("refresh_token")
			return []step{{"logout", s.logout(cortex, client, rt)}, {"refresh", s.refresh(cortex, client, rt)}}
		})
	}},

	// Logout.
	{"logout.ok", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.logout(cortex, client, l.token("refresh_token")))
		})
	}},
	{"logout.twice", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			rt := l.token("refresh_token")
			return []step{{"first", s.logout(cortex, client, rt)}, {"second", s.logout(cortex, client, rt)}}
		})
	}},
	{"logout.without_refresh_token", func(s *side, u users) []step {
		return one(s.post(cortex, "logout", form("client_id", client)))
	}},
	{"logout.empty_refresh_token", func(s *side, u users) []step {
		return one(s.post(cortex, "logout", form("client_id", client, "refresh_token", "")))
	}},
	{"logout.without_client_id", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.post(cortex, "logout", form("refresh_token", l.token("refresh_token"))))
		})
	}},
	{"logout.unknown_client", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.logout(cortex, "no_such_client", l.token("refresh_token")))
		})
	}},
	{"logout.garbage_token", func(s *side, u users) []step { return one(s.logout(cortex, client, "canary-garbage-refresh-token")) }},
	{"logout.token_of_other_client", func(s *side, u users) []step {
		return withLogin(s, u, cortex, other, func(l *answer) []step {
			return one(s.logout(cortex, client, l.token("refresh_token")))
		})
	}},
	{"logout.access_token_as_refresh_token", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.logout(cortex, client, l.token("access_token")))
		})
	}},
	{"logout.other_session_survives", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(first *answer) []step {
			second := s.login(cortex, client, "alice", u.alice)
			if second.token("refresh_token") == "" {
				return one(prepFailed("second login", second))
			}
			return []step{{"logout", s.logout(cortex, client, first.token("refresh_token"))},
				{"refresh_other", s.refresh(cortex, client, second.token("refresh_token"))}}
		})
	}},
	{"logout.with_grant_type", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.post(cortex, "logout", form("client_id", client, "grant_type", "refresh_token", "refresh_token", l.token("refresh_token"))))
		})
	}},
	{"logout.get", func(s *side, u users) []step { return one(s.do(req{method: http.MethodGet, path: logoutP})) }},
	{"logout.unknown_realm", func(s *side, u users) []step {
		return one(s.post("no-such-realm", "logout", form("client_id", client, "refresh_token", "canary-garbage-refresh-token")))
	}},

	// The other endpoints a public client calls.
	{"realm.info", func(s *side, u users) []step { return one(s.do(req{method: http.MethodGet, path: "/realms/cortex"})) }},
	{"realm.unknown", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodGet, path: "/realms/no-such-realm"}))
	}},
	{"realm.discovery", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/.well-known/openid-configuration"}))
	}},
	{"realm.jwks", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/certs"}))
	}},
	{"userinfo.ok", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/userinfo", bearer: l.token("access_token")}))
		}, "scope", "openid")
	}},
	{"userinfo.post", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.do(req{method: http.MethodPost, path: "/realms/cortex/protocol/openid-connect/userinfo", bearer: l.token("access_token")}))
		}, "scope", "openid")
	}},
	{"userinfo.without_openid_scope", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/userinfo", bearer: l.token("access_token")}))
		})
	}},
	{"userinfo.no_token", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/userinfo"}))
	}},
	{"userinfo.garbage_token", func(s *side, u users) []step {
		return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/userinfo", bearer: "canary-garbage-access-token"}))
	}},
	{"userinfo.after_logout", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			lo := s.logout(cortex, client, l.token("refresh_token"))
			if lo.status != http.StatusNoContent {
				return one(prepFailed("logout", lo))
			}
			return one(s.do(req{method: http.MethodGet, path: "/realms/cortex/protocol/openid-connect/userinfo", bearer: l.token("access_token")}))
		}, "scope", "openid")
	}},
	{"revoke.refresh_token", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			rt := l.token("refresh_token")
			return []step{
				{"revoke", s.post(cortex, "revoke", form("client_id", client, "token", rt, "token_type_hint", "refresh_token"))},
				{"refresh", s.refresh(cortex, client, rt)},
			}
		})
	}},
	{"revoke.access_token", func(s *side, u users) []step {
		return withLogin(s, u, cortex, client, func(l *answer) []step {
			return one(s.post(cortex, "revoke", form("client_id", client, "token", l.token("access_token"), "token_type_hint", "access_token")))
		})
	}},
	{"revoke.garbage", func(s *side, u users) []step {
		return one(s.post(cortex, "revoke", form("client_id", client, "token", "canary-garbage-token")))
	}},
	{"revoke.missing_token", func(s *side, u users) []step { return one(s.post(cortex, "revoke", form("client_id", client))) }},
	{"revoke.missing_client_id", func(s *side, u users) []step {
		return one(s.post(cortex, "revoke", form("token", "canary-garbage-token")))
	}},

	// Rotation ("Revoke Refresh Token" on, no reuse allowed): realm cortex-rotating.
	{"rotation.login", func(s *side, u users) []step { return one(s.login(rotating, client, "alice", u.alice)) }},
	{"rotation.refresh", func(s *side, u users) []step {
		return withLogin(s, u, rotating, client, func(l *answer) []step {
			return one(s.refresh(rotating, client, l.token("refresh_token")))
		})
	}},
	{"rotation.reuse_superseded_then_newest", func(s *side, u users) []step {
		return withLogin(s, u, rotating, client, func(l *answer) []step {
			first := l.token("refresh_token")
			r := s.refresh(rotating, client, first)
			newest := r.token("refresh_token")
			if newest == "" {
				return one(prepFailed("refresh", r))
			}
			return []step{{"reuse", s.refresh(rotating, client, first)}, {"newest", s.refresh(rotating, client, newest)}}
		})
	}},
	{"rotation.chain_of_three", func(s *side, u users) []step {
		return withLogin(s, u, rotating, client, func(l *answer) []step {
			rt := l.token("refresh_token")
			var out []step
			for _, label := range []string{"first", "second", "third"} {
				a := s.refresh(rotating, client, rt)
				out = append(out, step{label, a})
				if rt = a.token("refresh_token"); rt == "" {
					break
				}
			}
			return out
		})
	}},
	{"rotation.logout_with_superseded", func(s *side, u users) []step {
		return withLogin(s, u, rotating, client, func(l *answer) []step {
			first := l.token("refresh_token")
			r := s.refresh(rotating, client, first)
			if r.token("refresh_token") == "" {
				return one(prepFailed("refresh", r))
			}
			return []step{{"logout", s.logout(rotating, client, first)}, {"newest", s.refresh(rotating, client, r.token("refresh_token"))}}
		})
	}},
}

// timedCases wait for a deadline a token names (its exp, or the second after its iat):
// TestDifferential starts them first and compares them last, so that they wait while
// the other cases run.
var timedCases = []diffCase{
	{"rotation.reuse_and_stale_a_second_later", rotationLater},
	// Expiry: realm cortex-short, waiting for the tokens' own exp.
	{"expiry.timeline", expiryTimeline},
}

// caseNames lists every case and step name (for checking the allow-list).
func stepName(c diffCase, st step) string {
	if st.label == "" {
		return c.name
	}
	return c.name + "/" + st.label
}
