package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/receiver"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// badBackend answers every grant with a configured error or response.
type badBackend struct {
	err  error
	resp generated.TokenResponse
}

func (b *badBackend) Realm(context.Context, string) error { return nil }

func (b *badBackend) Client(context.Context, string, string) error { return nil }

func (b *badBackend) PasswordGrant(context.Context, string, string, string, string) (generated.TokenResponse, error) {
	return b.resp, b.err
}

func (b *badBackend) RefreshGrant(context.Context, string, string, string) (generated.TokenResponse, error) {
	return b.resp, b.err
}

func (b *badBackend) EndSession(context.Context, string, string, string) error { return b.err }

func serveRecovering(h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder, panicked any) {
	rec = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	h.ServeHTTP(rec, req)
	return rec, nil
}

// TestBackendAnswersNeverPanic: errors and responses a Backend should never give get a
// 500 server_error instead of a panic.
func TestBackendAnswersNeverPanic(t *testing.T) {
	var nilOAuth *api.OAuthError
	access := "a"
	for _, tt := range []struct {
		name string
		b    *badBackend
		want int
	}{
		{"status 0", &badBackend{err: &api.OAuthError{Code: "invalid_grant"}}, 500},
		{"status 42", &badBackend{err: &api.OAuthError{Status: 42, Code: "invalid_grant"}}, 500},
		{"status 999", &badBackend{err: &api.OAuthError{Status: 999, Code: "invalid_grant"}}, 500},
		{"status 200 as an error", &badBackend{err: &api.OAuthError{Status: 200, Code: "invalid_grant"}}, 500},
		{"typed nil", &badBackend{err: nilOAuth}, 500},
		{"wrapped typed nil", &badBackend{err: fmt.Errorf("x: %w", nilOAuth)}, 500},
		{"no code", &badBackend{err: &api.OAuthError{Status: 400}}, 400},
		{"no access token", &badBackend{resp: generated.TokenResponse{}}, 500},
		{"fine", &badBackend{resp: generated.TokenResponse{AccessToken: generated.NewSecret(access)}}, 200},
	} {
		h := receiver.New(tt.b, receiver.Config{})
		for _, body := range []string{"client_id=c&grant_type=password&username=u&password=p", "client_id=c&refresh_token=r"} {
			path := tokenPath
			want := tt.want
			if !strings.Contains(body, "grant_type") {
				path = logoutPath
				if tt.b.err == nil {
					want = 204
				}
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", form)
			rec, p := serveRecovering(h, req)
			if p != nil {
				t.Errorf("%s %s: panic %v", tt.name, path, p)
				continue
			}
			if rec.Code != want {
				t.Errorf("%s %s: %d %s, want %d", tt.name, path, rec.Code, testsafe.Text(rec.Body.String()), want)
			}
			if rec.Code == 500 && !strings.Contains(rec.Body.String(), `"error":"server_error"`) {
				t.Errorf("%s: 500 body %s", tt.name, testsafe.Text(rec.Body.String()))
			}
		}
	}
}

// FuzzHandlerBackend: whatever a Backend answers, the handler does not panic, and what
// it sends is a status in 200-599.
func FuzzHandlerBackend(f *testing.F) {
	f.Add(0, "invalid_grant", "desc", true, "tok", int64(300), false)
	f.Add(401, "", "", false, "", int64(-1), true)
	f.Add(999, "x\x00", "\xff", false, "t", int64(math.MaxInt64), false)
	f.Fuzz(func(t *testing.T, status int, code, desc string, fail bool, access string, expiresIn int64, typedNil bool) {
		b := &badBackend{}
		switch {
		case typedNil:
			var e *api.OAuthError
			b.err = e
		case fail:
			b.err = &api.OAuthError{Status: status, Code: code, Description: desc}
		default:
			b.resp = generated.TokenResponse{AccessToken: generated.NewSecret(access), ExpiresIn: expiresIn, Scope: desc}
		}
		h := receiver.New(b, receiver.Config{Lenient: true})
		for _, path := range []string{tokenPath, logoutPath} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("client_id=c&grant_type=password&username=u&password=p&refresh_token=r"))
			req.Header.Set("Content-Type", form)
			rec, p := serveRecovering(h, req)
			if p != nil {
				t.Fatalf("panic: %v", p)
			}
			if rec.Code < 200 || rec.Code > 599 {
				t.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// TestFormContentTypeCaseInsensitive: media types match without regard to case, with
// or without parameters; a body of another type is not read, so the request has no
// grant_type (400, as Keycloak 26 answers; it was 415 before Keycloak was measured).
func TestFormContentTypeCaseInsensitive(t *testing.T) {
	srv := authtest.Start(t, authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	body := "client_id=iqm_client&grant_type=password&username=alice&password=pw"
	for ct, want := range map[string]int{
		"application/x-www-form-urlencoded":                 200,
		"Application/X-WWW-Form-URLEncoded":                 200,
		"APPLICATION/X-WWW-FORM-URLENCODED":                 200,
		"application/x-www-form-urlencoded; charset=UTF-8":  200,
		"Application/X-Www-Form-Urlencoded;charset=utf-8":   200,
		"application/x-www-form-urlencoded ; charset=utf-8": 200,
		"application/x-www-form-urlencodedx":                400,
		"application/json":                                  400,
		"multipart/form-data; boundary=x":                   400,
		"application/x-www-form-urlencoded; charset=\"oops": 400,
	} {
		if status, b, _ := post(t, h, tokenPath, ct, body); status != want {
			t.Errorf("%q: %d %v, want %d", ct, status, testsafe.Value(b), want)
		}
	}
}

// TestUnknownParameterNotQuotedWithSecret: a stray '&' in a password makes the rest of
// the password look like a parameter name; neither the answer, the log, the record of
// the request nor the strict decoder's error shows it.
func TestUnknownParameterNotQuotedWithSecret(t *testing.T) {
	var logs bytes.Buffer
	srv := authtest.Start(t, authtest.WithStrict(), authtest.WithUser("alice", "pw"), authtest.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	h := srv.Handler()
	for _, tt := range []struct {
		body, hidden, shown string
	}{
		{"client_id=iqm_client&grant_type=password&username=alice&password=ab&cdefgh=1", "cdefgh", ""},
		{"client_id=iqm_client&grant_type=refresh_token&refresh_token=eyJ&hbGciOi=x", "hbGciOi", ""},
		{"client_id=iqm_client&grant_type=password&username=alice&Zq-9x=1", "Zq-9x", ""},
		{"client_id=iqm_client&grant_type=password&username=alice&scope=openid", "", `"scope"`},
	} {
		status, body, _ := post(t, h, tokenPath, form, tt.body)
		if status != 400 || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], "nknown parameter") {
			t.Errorf("%q: %d %v", tt.body, status, testsafe.Value(body))
		}
		reqs := srv.Requests()
		last := reqs[len(reqs)-1]
		_, decErr := api.Decoder{}.Form([]byte(tt.body))
		for where, text := range map[string]string{"answer": body["error_description"], "record": fmt.Sprint(last) + last.RedactedBody,
			"decoder": fmt.Sprint(decErr)} {
			if tt.hidden != "" && strings.Contains(text, tt.hidden) {
				t.Errorf("%q: the %s shows %q: %s", tt.body, where, tt.hidden, testsafe.Text(text))
			}
		}
		if tt.shown != "" && !strings.Contains(body["error_description"], tt.shown) {
			t.Errorf("%q: the answer does not name %s: %v", tt.body, tt.shown, testsafe.Value(body))
		}
	}
	for _, hidden := range []string{"cdefgh", "hbGciOi", "Zq-9x"} {
		if strings.Contains(logs.String(), hidden) {
			t.Errorf("the log shows %q:\n%s", hidden, testsafe.Text(logs.String()))
		}
	}
}

// TestObservationJSONRedacted (issue 12): json.Marshal of an Observation shows no
// password or refresh token.
func TestObservationJSONRedacted(t *testing.T) {
	const rt = "CANARY-RT-9a0c"
	var seen []receiver.Observation
	var data [][]byte
	h := receiver.New(&badBackend{err: &api.OAuthError{Status: 400, Code: "invalid_grant"}}, receiver.Config{Observe: func(o receiver.Observation) {
		seen = append(seen, o)
		b, err := json.Marshal(o)
		if err != nil {
			t.Error(err)
		}
		data = append(data, b)
	}})
	for _, body := range []string{
		"client_id=iqm_client&grant_type=password&username=alice&password=" + canaryPassword,
		"client_id=iqm_client&grant_type=refresh_token&refresh_token=" + rt,
	} {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(data) != 2 {
		t.Fatalf("%d observations", len(data))
	}
	for _, b := range data {
		if s := string(b); strings.Contains(s, canaryPassword) || strings.Contains(s, rt) || !strings.Contains(s, "iqm_client") {
			t.Errorf("json.Marshal(Observation) shows a secret (or not the client): %d bytes", len(s))
		}
	}
}
