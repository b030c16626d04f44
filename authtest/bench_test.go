package authtest_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/authtest"
)

// The floor of a grant with RS256: one RSA-2048 signature. BenchmarkPasswordGrant and
// BenchmarkRefreshGrant run a whole grant through the server's handler (form decoding,
// the checks, the claims, an RS256 access token, an HS512 refresh token, the JSON
// answer); BENCHMARKS.md compares them with BenchmarkRSASign.

func BenchmarkRSASign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	key.Precompute()
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGrant(b *testing.B, body func(*authtest.Server) string) {
	srv := authtest.Start(b, authtest.WithUser("alice", "pw"))
	h := srv.Handler()
	form := body(srv)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkPasswordGrant(b *testing.B) {
	benchGrant(b, func(*authtest.Server) string {
		return "client_id=iqm_client&grant_type=password&username=alice&password=pw"
	})
}

func BenchmarkRefreshGrant(b *testing.B) {
	benchGrant(b, func(srv *authtest.Server) string {
		req := httptest.NewRequest(http.MethodPost, "/realms/cortex/protocol/openid-connect/token",
			strings.NewReader("client_id=iqm_client&grant_type=password&username=alice&password=pw"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		_, rt, _ := strings.Cut(rec.Body.String(), `"refresh_token":"`)
		rt, _, _ = strings.Cut(rt, `"`)
		return "client_id=iqm_client&grant_type=refresh_token&refresh_token=" + rt
	})
}
