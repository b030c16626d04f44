package authclient_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/iqm-finland/authschema/api/authclient"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportNoAuthorizationOverCleartext: as iqm-client 35+, no Authorization over
// plain http to a host that is not loopback, unless INSECURE_ALLOW_NON_HTTPS_AUTH is
// "true" or AllowInsecureHTTP is set; the request itself still goes.
func TestTransportNoAuthorizationOverCleartext(t *testing.T) {
	sess, err := authclient.NewSession(authclient.StaticToken("CANARY-AT"), authclient.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var got http.Header
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Clone()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	for _, tt := range []struct {
		url, env string
		allow    bool
		want     bool
	}{
		{"http://api.example.test/x", "", false, false},
		{"http://api.example.test/x", "false", false, false},
		{"http://api.example.test/x", "1", false, false},
		{"http://api.example.test/x", "TRUE", false, true},
		{"http://api.example.test/x", "true", false, true},
		{"http://api.example.test/x", "", true, true},
		{"https://api.example.test/x", "", false, true},
		{"http://127.0.0.1:9/x", "", false, true},
		{"http://localhost:9/x", "", false, true},
		{"http://[::1]:9/x", "", false, true},
	} {
		t.Setenv("INSECURE_ALLOW_NON_HTTPS_AUTH", tt.env)
		tr := &authclient.Transport{Session: sess, Base: base, AllowInsecureHTTP: tt.allow}
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if has := got.Get("Authorization") == "Bearer CANARY-AT"; has != tt.want {
			t.Errorf("%s with %s=%q, allow %v: Authorization sent %v", tt.url, "INSECURE_ALLOW_NON_HTTPS_AUTH", tt.env, tt.allow, has)
		}
		if ua := got.Get("User-Agent"); ua != authclient.UserAgent() {
			t.Errorf("User-Agent %q", ua)
		}
	}
}

// TestTransportRedirects: a redirect of a state-changing request is not followed (an
// error through a plain http.Client; the redirect response itself through
// Transport.Client); a GET's redirect on the same host is followed with the token,
// to another host without it.
func TestTransportRedirects(t *testing.T) {
	sess, err := authclient.NewSession(authclient.StaticToken("CANARY-AT"), authclient.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var mu sync.Mutex
	var seen []string
	record := func(name string, r *http.Request) {
		mu.Lock()
		seen = append(seen, name+" "+r.Method+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record("other", r) }))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host name
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r.URL.Path, r)
		switch r.URL.Path {
		case "/post":
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
		case "/post302":
			http.Redirect(w, r, "/target", http.StatusFound)
		case "/get":
			http.Redirect(w, r, "/target", http.StatusFound)
		case "/away":
			http.Redirect(w, r, otherURL+"/", http.StatusFound)
		}
	}))
	defer srv.Close()
	tr := &authclient.Transport{Session: sess}
	do := func(hc *http.Client, method, path string) (*http.Response, error) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("body"))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	for _, path := range []string{"/post", "/post302"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			seen = nil
			if _, err := do(&http.Client{Transport: tr}, m, path); !errors.Is(err, authclient.ErrMutatingRedirect) || strings.Contains(err.Error(), "CANARY") {
				t.Errorf("%s %s through http.Client: %v", m, path, err)
			}
			resp, err := do(tr.Client(), m, path)
			if err != nil || resp.StatusCode/100 != 3 || resp.Header.Get("Location") == "" {
				t.Errorf("%s %s through Transport.Client: %v %v", m, path, resp, err)
			}
			for _, s := range seen {
				if strings.HasPrefix(s, "/target") {
					t.Errorf("%s %s: the redirect was followed: %q", m, path, seen)
				}
			}
		}
	}
	seen = nil
	if resp, err := do(tr.Client(), http.MethodGet, "/get"); err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	if len(seen) != 2 || seen[1] != "/target GET auth=Bearer CANARY-AT" {
		t.Errorf("GET redirect on the same host: %q", seen)
	}
	seen = nil
	if resp, err := do(tr.Client(), http.MethodGet, "/away"); err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	if len(seen) != 2 || seen[1] != "other GET auth=" {
		t.Errorf("GET redirect to another host: %q", seen)
	}
}
