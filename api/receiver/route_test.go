package receiver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/generated/server"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// recordingServer records which operation the generated router called, with which realm.
type recordingServer struct{ endpoint, realm string }

func (s *recordingServer) RequestToken(_ http.ResponseWriter, _ *http.Request, realm generated.Realm) {
	s.endpoint, s.realm = endpointToken, realm
}

func (s *recordingServer) Logout(_ http.ResponseWriter, _ *http.Request, realm generated.Realm) {
	s.endpoint, s.realm = endpointLogout, realm
}

// generatedRoute is what the generated router does with a request, after ServeHTTP's
// own steps (a path that is not normalized is answered before any routing; a trailing
// slash is dropped).
func generatedRoute(method string, u *url.URL) (realm, endpoint string) {
	if !Normalized(u.Path) {
		return "", ""
	}
	r := httptest.NewRequest(method, "/", nil)
	r.URL = u
	if p := u.Path; len(p) > 1 && p[len(p)-1] == '/' {
		u2 := *u
		u2.Path, u2.RawPath = p[:len(p)-1], ""
		r.URL = &u2
	}
	rec := &recordingServer{}
	mux := http.NewServeMux()
	server.HandlerWithOptions(rec, server.StdHTTPServerOptions{BaseRouter: mux})
	mux.ServeHTTP(httptest.NewRecorder(), r)
	return rec.realm, rec.endpoint
}

// checkRoute: whenever route answers, the generated router answers the same; when it
// does not, ServeHTTP hands the request to the generated router.
func checkRoute(t *testing.T, method, rawURL string) (fast bool) {
	t.Helper()
	u, err := url.ParseRequestURI(rawURL)
	if err != nil {
		return false
	}
	realm, endpoint := route(&http.Request{Method: method, URL: u})
	if endpoint == "" {
		return false
	}
	if gRealm, gEndpoint := generatedRoute(method, u); gRealm != realm || gEndpoint != endpoint {
		t.Errorf("%s %q: route gives %s of realm %q, the generated router %s of realm %q", method, rawURL, endpoint, realm, gEndpoint, gRealm)
	}
	return true
}

var routeCases = []struct {
	method, url string
	fast        bool // route answers (else the generated router does)
}{
	{"POST", "/realms/cortex/protocol/openid-connect/token", true},
	{"POST", "/realms/cortex/protocol/openid-connect/logout", true},
	{"POST", "/realms/cortex/protocol/openid-connect/token/", true},
	{"POST", "/realms/cortex/protocol/openid-connect/logout/", true},
	{"POST", "/realms/a-b_c.d~e09/protocol/openid-connect/token", true},
	{"POST", "/realms/.../protocol/openid-connect/token", true},
	{"POST", "/realms/x/protocol/openid-connect/token?x=1", true},
	{"POST", "/realms/./protocol/openid-connect/token", false},
	{"POST", "/realms/../protocol/openid-connect/token", false},
	{"POST", "/realms//protocol/openid-connect/token", false},
	{"POST", "/realms/protocol/openid-connect/token", false},
	{"POST", "/realms/a/b/protocol/openid-connect/token", false},
	{"POST", "/realms/a%2Fb/protocol/openid-connect/token", false},
	{"POST", "/realms/a%20b/protocol/openid-connect/token", false},
	{"POST", "/realms/%63ortex/protocol/openid-connect/token", false},
	{"POST", "/realms/cortex/protocol%2Fopenid-connect/token", false},
	{"POST", "/realms/cortex/protocol/openid-connect/token//", false},
	{"POST", "/realms/cortex/protocol/openid-connect/tokens", false},
	{"POST", "/realms/é/protocol/openid-connect/token", false},
	{"POST", "/realms/cortex/protocol/openid-connect/", false},
	{"POST", "/realms/cortex/protocol/openid-connect/token/x", false},
	{"POST", "/realms/protocol/openid-connect/logout", false},
	{"GET", "/realms/cortex/protocol/openid-connect/token", false},
	{"post", "/realms/cortex/protocol/openid-connect/token", false},
	{"PUT", "/realms/cortex/protocol/openid-connect/logout", false},
	{"POST", "/", false},
	{"POST", "/realms/", false},
}

// TestRouteAgreesWithGeneratedRouter: ServeHTTP's own route answers only where the
// generated router gives the same endpoint and realm.
func TestRouteAgreesWithGeneratedRouter(t *testing.T) {
	for _, c := range routeCases {
		if got := checkRoute(t, c.method, c.url); got != c.fast {
			t.Errorf("%s %q: routed by route: %v, want %v", c.method, c.url, testsafe.Value(got), c.fast)
		}
	}
}

func FuzzRoute(f *testing.F) {
	for _, c := range routeCases {
		f.Add(c.method, c.url)
	}
	f.Fuzz(func(t *testing.T, method, rawURL string) {
		checkRoute(t, method, rawURL)
	})
}
