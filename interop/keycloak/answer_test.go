package keycloak_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// side is one server under comparison: Keycloak, or serve (one process per realm).
type side struct {
	name  string
	ctx   context.Context
	bases map[string]string // realm -> base URL (the part before /realms)
}

func (s *side) base(realm string) string {
	if b, ok := s.bases[realm]; ok {
		return b
	}
	return s.bases["cortex"]
}

// req is one HTTP request, sent as it is: path is sent verbatim after the base URL.
type req struct {
	realm  string // which base URL (serve runs one process per realm); "" means cortex
	method string
	path   string
	body   string
	ctype  string // Content-Type; "" sends none
	bearer string // Authorization: Bearer, when set
	basic  string // Authorization: Basic with this client id and an empty secret, when set
}

// answer is what came back, or why the request could not be made.
type answer struct {
	status int
	header http.Header
	body   []byte
	failed string // a transport failure or a failed preparatory step
	base   string // the side's base URL, replaced by {base} in compared values
}

func (s *side) do(r req) *answer {
	base := s.base(r.realm)
	u, err := url.Parse(base)
	if err != nil {
		return &answer{failed: err.Error()}
	}
	// Opaque keeps the path exactly as written (//realms/... included).
	u.Opaque = "//" + u.Host + r.path
	var body io.Reader
	if r.body != "" || r.method == http.MethodPost {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(s.ctx, r.method, base, body)
	if err != nil {
		return &answer{failed: err.Error()}
	}
	hr.URL = u
	hr.Header.Set("Accept", "*/*") // as Python's requests sends it
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.basic != "" {
		hr.SetBasicAuth(r.basic, "")
	}
	resp, err := httpClient.Do(hr)
	if err != nil {
		return &answer{failed: "request failed"} // the error text may quote the URL only, but keep it short
	}
	defer resp.Body.Close()
	data, err := readAll(resp.Body)
	if err != nil {
		return &answer{failed: "reading the answer: " + err.Error()}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data, base: base}
}

const formType = "application/x-www-form-urlencoded"

// post sends a form to an endpoint of a realm ("token", "logout", "revoke").
func (s *side) post(realm, endpoint string, form url.Values) *answer {
	return s.do(req{realm: realm, method: http.MethodPost, path: "/realms/" + realm + "/protocol/openid-connect/" + endpoint,
		body: form.Encode(), ctype: formType})
}

// login is a password grant; extra parameters are added to the form.
func (s *side) login(realm, client, user, password string, extra ...string) *answer {
	f := url.Values{"client_id": {client}, "grant_type": {"password"}, "username": {user}, "password": {password}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	return s.post(realm, "token", f)
}

func (s *side) refresh(realm, client, refreshToken string, extra ...string) *answer {
	f := url.Values{"client_id": {client}, "grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	return s.post(realm, "token", f)
}

func (s *side) logout(realm, client, refreshToken string) *answer {
	return s.post(realm, "logout", url.Values{"client_id": {client}, "refresh_token": {refreshToken}})
}

// token is a member of a 200 token answer ("" when absent).
func (a *answer) token(name string) string {
	if a.status != http.StatusOK {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(a.body, &m) != nil {
		return ""
	}
	v, _ := m[name].(string)
	return v
}

// prepFailed is the answer of a case whose preparatory step did not succeed.
func prepFailed(step string, a *answer) *answer {
	if a.failed != "" {
		return &answer{failed: step + ": " + a.failed}
	}
	return &answer{failed: fmt.Sprintf("%s: status %d", step, a.status)}
}

// field is one compared fact of an answer.
type field struct {
	name, value string
	set         bool // value is a space-separated set of names (shown as a set difference)
}

// valueMembers are the members whose values are compared (after {base} replacement):
// values that are not random by nature.
var valueMembers = []string{
	"token_type", "scope", "expires_in", "refresh_expires_in", "not-before-policy",
	"realm", "token-service", "account-service", "tokens-not-before",
	"issuer", "token_endpoint", "end_session_endpoint", "jwks_uri", "userinfo_endpoint", "revocation_endpoint",
	"preferred_username", "email", "email_verified", "name", "given_name", "family_name",
}

// roughly rounds a lifetime in seconds to a multiple of 30: Keycloak counts it from
// when the session started, so that a loaded Keycloak answers 297 for 300.
func roughly(raw json.RawMessage) string {
	var n int64
	if json.Unmarshal(raw, &n) != nil || n == 0 {
		return string(raw)
	}
	return fmt.Sprintf("~%d", (n+15)/30*30)
}

// uuidRE matches the form of Keycloak's user ids.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// claimValues are the JWT claims whose values are compared.
var claimValues = []string{"typ", "azp", "scope", "iss", "aud", "preferred_username", "email", "email_verified",
	"name", "given_name", "family_name", "acr"}

// fields lists what a client reads of an answer, in a fixed order.
func (a *answer) fields() []field {
	if a.failed != "" {
		return []field{{name: "failed", value: a.failed}}
	}
	norm := func(s string) string {
		if a.base != "" {
			s = strings.ReplaceAll(s, a.base, "{base}")
		}
		return s
	}
	fs := []field{{name: "status", value: fmt.Sprint(a.status)}}
	// WWW-Authenticate carries userinfo's errors (its body is empty).
	for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"} {
		v := strings.Join(a.header.Values(h), ", ")
		if v == "" {
			v = "(none)"
		}
		fs = append(fs, field{name: "header." + h, value: v})
	}
	var obj map[string]json.RawMessage
	var kind string
	switch trimmed := strings.TrimSpace(string(a.body)); {
	case trimmed == "":
		kind = "empty"
	case json.Unmarshal(a.body, &obj) == nil:
		kind = "json-object"
	case json.Valid(a.body):
		kind = "json"
	case strings.HasPrefix(trimmed, "<"):
		kind = "html"
	default:
		kind = "text"
	}
	fs = append(fs, field{name: "body", value: kind})
	if obj == nil {
		return fs
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return norm(s)
		}
		return norm(string(raw))
	}
	for _, k := range []string{"error", "error_description"} {
		if raw, ok := obj[k]; ok {
			fs = append(fs, field{name: k, value: str(raw)})
		} else {
			fs = append(fs, field{name: k, value: "(absent)"})
		}
	}
	fs = append(fs, field{name: "members", value: strings.Join(sortedKeys(obj), " "), set: true})
	for _, k := range valueMembers {
		if raw, ok := obj[k]; ok {
			if k == "expires_in" || k == "refresh_expires_in" {
				raw = json.RawMessage(roughly(raw))
			}
			fs = append(fs, field{name: "value." + k, value: str(raw), set: k == "scope"})
		}
	}
	if raw, ok := obj["keys"]; ok {
		var keys []map[string]json.RawMessage
		if json.Unmarshal(raw, &keys) == nil {
			var ks []string
			for _, k := range keys {
				ks = append(ks, fmt.Sprintf("%s/%s/%s[%s]", str(k["kty"]), str(k["alg"]), str(k["use"]), strings.Join(sortedKeys(k), ",")))
			}
			sort.Strings(ks)
			fs = append(fs, field{name: "jwks.keys", value: strings.Join(ks, " "), set: true})
		}
	}
	for _, tok := range []string{"access_token", "refresh_token", "id_token"} {
		raw, ok := obj[tok]
		if !ok {
			continue
		}
		var jwt string
		_ = json.Unmarshal(raw, &jwt)
		fs = append(fs, jwtFields(tok, jwt, norm)...)
	}
	return fs
}

// jwtFields decodes a JWT without verifying it: its header, its claim names and the
// claims whose values are not random. Nothing of the token itself is kept.
func jwtFields(name, jwt string, norm func(string) string) []field {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return []field{{name: name + ".form", value: fmt.Sprintf("not a JWT (%d parts)", len(parts))}}
	}
	var hdr, claims map[string]json.RawMessage
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return []field{{name: name + ".form", value: "not a decodable JWT"}}
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return norm(s)
		}
		return norm(string(raw))
	}
	kid := "no"
	if _, ok := hdr["kid"]; ok {
		kid = "yes"
	}
	fs := []field{
		{name: name + ".header", value: fmt.Sprintf("alg=%s typ=%s kid=%s", str(hdr["alg"]), str(hdr["typ"]), kid)},
		{name: name + ".claims", value: strings.Join(sortedKeys(claims), " "), set: true},
	}
	for _, c := range claimValues {
		if raw, ok := claims[c]; ok {
			fs = append(fs, field{name: name + ".claim." + c, value: str(raw), set: c == "scope"})
		}
	}
	if raw, ok := claims["sub"]; ok {
		form := "not a UUID"
		if uuidRE.MatchString(str(raw)) {
			form = "UUID"
		}
		fs = append(fs, field{name: name + ".claim.sub", value: form})
	}
	return fs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// diff is one field that differs between the two sides.
type diff struct {
	field, keycloak, serve string
}

// compare lists the fields that differ (a field one side lacks counts as "(absent)").
func compare(kc, sv *answer) []diff {
	kf, sf := kc.fields(), sv.fields()
	if (kc.failed == "") != (sv.failed == "") {
		// One side could not even prepare the request: its failure is the difference.
		kf, sf = kf[:1], sf[:1]
	}
	get := func(fs []field, name string) (field, bool) {
		for _, f := range fs {
			if f.name == name {
				return f, true
			}
		}
		return field{}, false
	}
	var names []string
	for _, f := range append(slices.Clone(kf), sf...) {
		if !slices.Contains(names, f.name) {
			names = append(names, f.name)
		}
	}
	km, _ := get(kf, "members")
	sm, _ := get(sf, "members")
	membersDiffer := km.value != sm.value
	var ds []diff
	for _, n := range names {
		k, kok := get(kf, n)
		s, sok := get(sf, n)
		kv, sv := k.value, s.value
		if k.set && s.set && sameSet(kv, sv) {
			continue
		}
		if (!kok || !sok) && derived(n) && membersDiffer {
			continue // the missing member is reported under "members"
		}
		if !kok {
			kv = "(absent)"
		}
		if !sok {
			sv = "(absent)"
		}
		if kv == sv {
			continue
		}
		if (k.set || s.set) && kok && sok {
			kv, sv = setDiff(kv, sv)
		}
		ds = append(ds, diff{field: n, keycloak: kv, serve: sv})
	}
	return ds
}

// derived fields come from a member of the body (a value, a token, the keys).
func derived(name string) bool {
	for _, p := range []string{"value.", "access_token.", "refresh_token.", "id_token.", "jwks."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func sameSet(a, b string) bool {
	as, bs := strings.Fields(a), strings.Fields(b)
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

// setDiff shows two sets of names by what only one of them has.
func setDiff(a, b string) (onlyA, onlyB string) {
	as, bs := strings.Fields(a), strings.Fields(b)
	var oa, ob []string
	for _, x := range as {
		if !slices.Contains(bs, x) {
			oa = append(oa, x)
		}
	}
	for _, x := range bs {
		if !slices.Contains(as, x) {
			ob = append(ob, x)
		}
	}
	show := func(xs []string) string {
		if len(xs) == 0 {
			return "(same)"
		}
		return "only " + strings.Join(xs, " ")
	}
	return show(oa), show(ob)
}
