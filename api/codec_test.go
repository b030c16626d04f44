package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/validate"
)

type vector struct {
	Name   string            `json:"name"`
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
	Form   string            `json:"form"`
	JSON   string            `json:"json"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 200 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func (v vector) request() generated.AuthRequest {
	r := generated.AuthRequest{ClientID: v.Fields["client_id"]}
	if g, ok := v.Fields["grant_type"]; ok {
		gt := generated.GrantType(g)
		r.GrantType = &gt
	}
	set := func(name string) *string {
		if s, ok := v.Fields[name]; ok {
			return &s
		}
		return nil
	}
	r.Username, r.Password, r.RefreshToken = set("username"), set("password"), set("refresh_token")
	return r
}

func equalRequests(a, b generated.AuthRequest) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ClientID == b.ClientID && eq((*string)(a.GrantType), (*string)(b.GrantType)) &&
		eq(a.Username, b.Username) && eq(a.Password, b.Password) && eq(a.RefreshToken, b.RefreshToken)
}

// TestGoldenVectors checks both directions byte for byte against the bodies that the
// Python model (pydantic + requests) produced, in testdata/vectors.json.
func TestGoldenVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		r := v.request()
		form, err := api.EncodeForm(r)
		if err != nil || string(form) != v.Form {
			t.Errorf("%s: EncodeForm = %q, %v\nwant %q", v.Name, form, err, v.Form)
		}
		js, err := api.EncodeJSON(r)
		if err != nil || string(js) != v.JSON {
			t.Errorf("%s: EncodeJSON = %q, %v\nwant %q", v.Name, js, err, v.JSON)
		}
		got, kind, err := api.DecodeFormRequest([]byte(v.Form))
		if err != nil || !equalRequests(got, r) || kind.String() != v.Kind {
			t.Errorf("%s: DecodeFormRequest = %v, %v, %v", v.Name, testsafe.Value(got), kind, err)
		}
		got, kind, err = api.DecodeJSONRequest([]byte(v.JSON))
		if err != nil || !equalRequests(got, r) || kind.String() != v.Kind {
			t.Errorf("%s: DecodeJSONRequest = %v, %v, %v", v.Name, testsafe.Value(got), kind, err)
		}
	}
}

func TestGoldenBodies(t *testing.T) {
	tests := []struct {
		r    generated.AuthRequest
		want string
	}{
		{api.NewPasswordRequest("iqm_client", "some_username", "some_password"),
			"client_id=iqm_client&grant_type=password&username=some_username&password=some_password"},
		{api.NewRefreshRequest("iqm_client", "abc.def="),
			"client_id=iqm_client&grant_type=refresh_token&refresh_token=abc.def%3D"},
		{api.NewLogoutRequest("iqm_client", "abc.def="),
			"client_id=iqm_client&refresh_token=abc.def%3D"},
	}
	for _, tt := range tests {
		got, err := api.EncodeForm(tt.r)
		if err != nil || string(got) != tt.want {
			t.Errorf("EncodeForm = %q, %v, want %q", testsafe.Value(got), err, tt.want)
		}
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	r := api.NewRefreshRequest("iqm_client", "CANARY-REFRESH")
	user := "alice"
	r.Username = &user
	if b, err := api.EncodeForm(r); err == nil || b != nil || !errors.Is(err, validate.ErrForbidden) {
		t.Errorf("EncodeForm = %q, %v", testsafe.Text(string(b)), err)
	}
	if b, err := api.EncodeJSON(r); err == nil || b != nil || !errors.Is(err, validate.ErrForbidden) {
		t.Errorf("EncodeJSON = %q, %v", testsafe.Text(string(b)), err)
	}
	if _, err := api.EncodeForm(r); strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error shows a secret: %v", err)
	}
}

func TestDecodeStrict(t *testing.T) {
	// A case with an empty form or json body has no such variant, except where
	// emptyJSON says the empty body itself is the case.
	tests := []struct {
		name, form, json string
		err              error
		field            string
		emptyJSON        bool
		jsonField        string // the field of the JSON case, when it is not field
	}{
		{"duplicate", "client_id=a&client_id=b", `{"client_id":"a","client_id":"b"}`, api.ErrDuplicateField, "client_id", false, ""},
		{"duplicate null", "", `{"password":null,"password":"x"}`, api.ErrDuplicateField, "password", false, ""},
		{"duplicate encoded key", "client_id=a&client%5Fid=b", `{"client_id":"a","client\u005fid":"b"}`, api.ErrDuplicateField, "client_id", false, ""},
		{"unknown", "client_id=a&scope=openid", `{"client_id":"a","scope":"openid"}`, api.ErrUnknownField, `"scope"`, false, ""},
		{"case matters", "Client_ID=a", `{"Client_ID":"a"}`, api.ErrUnknownField, "body", false, `"Client_ID"`},
		// A well-known OAuth parameter name is named beside a secret; a JSON key always.
		{"unknown key beside a secret", "client_id=a&password=CANARY&scope=x", `{"client_id":"a","password":"CANARY","scope":"x"}`, api.ErrUnknownField, `"scope"`, false, ""},
		{"client_secret beside a refresh token", "client_id=a&refresh_token=CANARY&client_secret=CANARY2", `{"refresh_token":"CANARY","client_secret":"CANARY2"}`, api.ErrUnknownField, `"client_secret"`, false, ""},
		{"audience beside a password", "audience=x&password=CANARY", `{"audience":"x","password":"CANARY"}`, api.ErrUnknownField, `"audience"`, false, ""},
		{"misspelled key beside a secret", "client_id=a&pasword=CANARY&refresh_token=CANARY2", `{"client_id":"a","pasword":"CANARY","refresh_token":"CANARY2"}`, api.ErrUnknownField, "body", false, `"pasword"`},
		// The rest of a form secret after a stray '&' stays hidden: it is not a
		// well-known name (CANARYTAIL, canarytail).
		{"stray ampersand in a secret", "client_id=a&password=CANARY&CANARYTAIL=1", "", api.ErrUnknownField, "body", false, ""},
		{"stray ampersand in a secret, name-like rest", "client_id=a&refresh_token=CANARY&canarytail", "", api.ErrMalformed, "body", false, ""},
		{"stray ampersand in a secret, name-like key", "client_id=a&refresh_token=CANARY&canarytail=x", "", api.ErrUnknownField, "body", false, ""},
		{"long unknown key", "client_secret_that_is_much_too_long_to_show_whole=CANARY", `{"client_secret_that_is_much_too_long_to_show_whole":"CANARY"}`, api.ErrUnknownField, "body", false, `"client_secret_that_is_much_too_l"`},
		{"long non-ASCII key cut at a character", "", `{"ééééééééééééééééé":"CANARY"}`, api.ErrUnknownField, "", false, `"éééééééééééééééé"`},
		{"unprintable key escaped", "", `{"a\u202eb\u0007":"CANARY"}`, api.ErrUnknownField, "", false, `"a\u202eb\a"`},
		{"bad percent", "client_id=a&password=CANARY%zz", "", api.ErrMalformed, "password", false, ""},
		{"short percent", "client_id=a&password=CANARY%4", "", api.ErrMalformed, "password", false, ""},
		{"bad percent in key", "client%zzid=a", "", api.ErrMalformed, "body", false, ""},
		{"invalid utf-8", "client_id=a&password=CANARY%FF", "{\"client_id\":\"a\",\"password\":\"CANARY\xff\"}", api.ErrMalformed, "password", false, ""},
		{"empty parameter", "client_id=a&&password=CANARY", "", api.ErrMalformed, "body", false, ""},
		{"trailing ampersand", "client_id=a&", "", api.ErrMalformed, "body", false, ""},
		{"no equals", "client_id=a&CANARY", "", api.ErrMalformed, "body", false, ""},
		{"number", "", `{"client_id":1}`, api.ErrMalformed, "client_id", false, ""},
		{"bool", "", `{"password":true}`, api.ErrMalformed, "password", false, ""},
		{"object", "", `{"password":{"x":"CANARY"}}`, api.ErrMalformed, "password", false, ""},
		{"trailing data", "", `{"client_id":"a"} {}`, api.ErrMalformed, "body", false, ""},
		{"trailing comma", "", `{"client_id":"a",}`, api.ErrMalformed, "body", false, ""},
		{"not an object", "", `["client_id"]`, api.ErrMalformed, "body", false, ""},
		{"empty body", "", ``, api.ErrMalformed, "body", true, ""},
		{"lone surrogate", "", `{"password":"CANARY\ud800"}`, api.ErrMalformed, "password", false, ""},
		{"raw control char", "", "{\"password\":\"CANARY\n\"}", api.ErrMalformed, "password", false, ""},
		{"bad escape", "", `{"password":"CANARY\x"}`, api.ErrMalformed, "password", false, ""},
		{"unterminated", "", `{"password":"CANARY`, api.ErrMalformed, "password", false, ""},
		{"nul literal", "", `{"password":nul}`, api.ErrMalformed, "password", false, ""},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name, body string
			decode     func([]byte) (generated.AuthRequest, error)
		}{{"form", tt.form, api.Decoder{}.Form}, {"json", tt.json, api.Decoder{}.JSON}} {
			if c.body == "" && !(c.name == "json" && tt.emptyJSON) {
				continue
			}
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				r, err := c.decode([]byte(c.body))
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				field := tt.field
				if c.name == "json" && tt.jsonField != "" {
					field = tt.jsonField
				}
				var de *api.DecodeError
				if !errors.As(err, &de) || de.Field != field {
					t.Fatalf("error %#v, want field %s", err, field)
				}
				if !strings.HasPrefix(err.Error(), field+": ") {
					t.Errorf("message %q does not start with the field", err)
				}
				if strings.Contains(strings.ToUpper(err.Error()), "CANARY") {
					t.Errorf("message %q shows a value", err)
				}
				if !equalRequests(r, generated.AuthRequest{}) {
					t.Errorf("partial result %v", r)
				}
			})
		}
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name, body string
		json       bool
		want       generated.AuthRequest
	}{
		{"empty form", "", false, generated.AuthRequest{}},
		{"plus is space, lower-case hex", "client_id=a+b&refresh_token=%7e%2f", false, api.NewLogoutRequest("a b", "~/")},
		{"raw bytes kept", "client_id=a;b*c&refresh_token=x=y", false, api.NewLogoutRequest("a;b*c", "x=y")},
		{"json null is absent", `{"client_id":"a","grant_type":null,"refresh_token":"t"}`, true, api.NewLogoutRequest("a", "t")},
		{"json whitespace and escapes", " {\n\t\"client_id\" : \"a\\u00e9\\ud83d\\ude00\\/\" ,\"refresh_token\":\"\\\"\\\\\\b\\f\\n\\r\\t\"} \n", true,
			api.NewLogoutRequest("aé😀/", "\"\\\b\f\n\r\t")},
		{"json empty object", `{}`, true, generated.AuthRequest{}},
		{"unknown grant type kept for validate", "client_id=a&grant_type=client_credentials", false,
			func() generated.AuthRequest {
				g := generated.GrantType("client_credentials")
				return generated.AuthRequest{ClientID: "a", GrantType: &g}
			}()},
	}
	for _, tt := range tests {
		decode := api.Decoder{}.Form
		if tt.json {
			decode = api.Decoder{}.JSON
		}
		got, err := decode([]byte(tt.body))
		if err != nil || !equalRequests(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, testsafe.Value(got), err, tt.want)
		}
	}
}

func TestDecodeLimit(t *testing.T) {
	body := []byte("client_id=a&refresh_token=" + strings.Repeat("x", api.DefaultMaxBodyBytes))
	for _, decode := range []func([]byte) (generated.AuthRequest, error){api.Decoder{}.Form, api.Decoder{}.JSON} {
		if _, err := decode(body); !errors.Is(err, api.ErrTooLarge) {
			t.Errorf("error %v, want ErrTooLarge", err)
		}
	}
	d := api.Decoder{MaxBytes: len(body)}
	if _, err := d.Form(body); err != nil {
		t.Errorf("raised limit: %v", err)
	}
	d.MaxBytes = 10
	if _, err := d.Form([]byte("client_id=abc")); !errors.Is(err, api.ErrTooLarge) || err.Error() != "body: body too large: over 10 bytes" {
		t.Errorf("lowered limit: %v", err)
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	body := []byte("client_id=abc&refresh_token=def")
	r, err := api.Decoder{}.Form(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	if r.ClientID != "abc" || *r.RefreshToken != "def" {
		t.Errorf("decoded request changed with the body: %v", r)
	}
	// The grant type is never shared between decoded requests.
	a, _ := api.Decoder{}.Form([]byte("client_id=a&grant_type=password"))
	b, _ := api.Decoder{}.Form([]byte("client_id=a&grant_type=password"))
	*a.GrantType = "changed"
	if *b.GrantType != generated.GrantTypePassword || generated.GrantTypePassword != "password" {
		t.Error("grant types share memory")
	}
}

func TestDecodeFormAllocs(t *testing.T) {
	body := []byte("client_id=iqm_client&grant_type=password&username=some_username&password=some_password")
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := api.DecodeFormRequest(body); err != nil {
			t.Fatal(err)
		}
	})
	if n > 6 {
		t.Errorf("DecodeFormRequest: %v allocs, want at most 6", n)
	}
}

// seeds for the fuzz targets: the golden vectors and the strictness tables.
func decodeSeeds(t testing.TB) (forms, jsons [][]byte) {
	for _, v := range loadVectors(t) {
		forms, jsons = append(forms, []byte(v.Form)), append(jsons, []byte(v.JSON))
	}
	forms = append(forms, []byte("client_id=a&client_id=b"), []byte("a=%zz"), []byte("&"), []byte("x"))
	jsons = append(jsons, []byte(`{"a":1}`), []byte(`{"password":"\ud800"}`), []byte(`{} x`), []byte(`nul`))
	return forms, jsons
}

func FuzzDecodeForm(f *testing.F) {
	forms, _ := decodeSeeds(f)
	for _, s := range forms {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := api.Decoder{}.Form(body)
		if err != nil {
			var de *api.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			printableAndShort(t, err.Error())
			return
		}
		roundTrip(t, r)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	_, jsons := decodeSeeds(f)
	for _, s := range jsons {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := api.Decoder{}.JSON(body)
		if err != nil {
			var de *api.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			printableAndShort(t, err.Error())
			return
		}
		if json.Valid(body) == false {
			t.Fatalf("accepted invalid JSON %q", testsafe.Value(body))
		}
		roundTrip(t, r)
	})
}

// roundTrip: a decoded request that validates re-encodes, in both formats, to bodies
// that decode to the same value.
func roundTrip(t *testing.T, r generated.AuthRequest) {
	t.Helper()
	if _, err := validate.Request(r); err != nil {
		if _, eerr := api.EncodeForm(r); eerr == nil {
			t.Fatalf("encoded an invalid request")
		}
		return
	}
	form, err := api.EncodeForm(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := api.Decoder{}.Form(form)
	if err != nil || !equalRequests(again, r) {
		t.Fatalf("form round trip: %v", err)
	}
	js, err := api.EncodeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js) {
		t.Fatalf("EncodeJSON wrote invalid JSON")
	}
	again, err = api.Decoder{}.JSON(js)
	if err != nil || !equalRequests(again, r) {
		t.Fatalf("json round trip: %v", err)
	}
	if bytes.Equal(form, js) {
		t.Fatal("form and json bodies equal")
	}
}

// printableAndShort: an error message of a decoder has only printable characters (an
// unknown key it names is escaped) and is bounded, whatever the body.
func printableAndShort(t *testing.T, msg string) {
	t.Helper()
	if len(msg) > 200 {
		t.Fatalf("message of %d bytes: %q", len(msg), msg)
	}
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			t.Fatalf("message %q holds the unprintable %U", msg, r)
		}
	}
}
