package xoauth2_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/xoauth2"
	"github.com/iqm-finland/authschema/authtest"
)

// An http.Client from oauth2.NewClient that sends the session's access token to an
// API, renewing it through the session when needed.
func ExampleTokenSource() {
	auth, err := authtest.NewServer(authtest.WithUser("alice", "s3cret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer auth.Close()
	// An API that accepts the auth server's access tokens.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.VerifyAccessToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	defer api.Close()

	c, err := authclient.New(authclient.Config{ServerURL: auth.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := authclient.NewSession(authclient.NewGrants(c, "alice", "s3cret"), authclient.SessionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	hc := oauth2.NewClient(context.Background(), xoauth2.TokenSource(s))
	resp, err := hc.Get(api.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
