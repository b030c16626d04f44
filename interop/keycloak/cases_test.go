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

// caseNames lists every case and step name (for checking the allow-list).
func stepName(c diffCase, st step) string {
	if st.label == "" {
		return c.name
	}
	return c.name + "/" + st.label
}
