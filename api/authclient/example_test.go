package authclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// A session against a test server on a fake clock: the first Token logs in, the next
// reuse the token, a token near expiry is refreshed, and after Logout the session gives
// ErrLoggedOut.
func ExampleSession() {
	clock := authtest.NewClock(testtime.Epoch())
	srv, err := authtest.NewServer(authtest.WithClock(clock), authtest.WithUser("alice", "s3cret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, err := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := authclient.NewSession(authclient.NewGrants(client, "alice", "s3cret"), authclient.SessionOptions{Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()

	first, _ := s.Token(ctx)
	again, _ := s.Token(ctx)
	fmt.Println("reused:", again == first)
	clock.Advance(250 * time.Second) // 50 s left: within the 60 s margin
	later, _ := s.Token(ctx)
	fmt.Println("renewed:", later != first)
	for _, r := range srv.Requests() {
		fmt.Println(r.Kind, "request:", r.Status)
	}
	fmt.Println("logout:", s.Logout(ctx))
	_, err = s.Token(ctx)
	fmt.Println(errors.Is(err, authclient.ErrLoggedOut))
	// Output:
	// reused: true
	// renewed: true
	// password request: 200
	// refresh request: 200
	// logout: <nil>
	// true
}

// The client alone: a password login, the answer's types on a refusal, a logout.
func ExampleClient_Login() {
	srv, err := authtest.NewServer(authtest.WithUser("alice", "s3cret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL}) // realm cortex, client iqm_client
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	_, err = c.Login(ctx, "alice", "wrong")
	var oe *api.OAuthError
	fmt.Println(errors.Is(err, api.ErrInvalidGrant), errors.As(err, &oe) && oe.Description == "Invalid user credentials")

	set, err := c.Login(ctx, "alice", "s3cret")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.HasRefreshToken(), set.AccessExpiry.After(set.ObtainedAt))
	fmt.Printf("%s %v\n", set.TokenType, strings.Contains(fmt.Sprint(set), set.AccessToken())) // printed redacted
	fmt.Println("logout:", c.Logout(ctx, set.RefreshToken()))
	// Output:
	// true true
	// true true
	// Bearer false
	// logout: <nil>
}

// A Transport adds the session's bearer token to every request of an http.Client.
func ExampleTransport() {
	srv, err := authtest.NewServer(authtest.WithUser("alice", "s3cret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := srv.VerifyAccessToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		fmt.Fprintln(w, "token accepted:", err == nil)
	}))
	defer api.Close()
	c, err := authclient.New(authclient.Config{ServerURL: srv.URL})
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
	hc := &http.Client{Transport: &authclient.Transport{Session: s}}
	resp, err := hc.Get(api.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
	// Output: token accepted: true
}

// SourceFromEnv follows the Python client's variables; a tokens file and credentials
// together are a configuration error that names the variable, never a value.
func ExampleSourceFromEnv() {
	env := map[string]string{
		"IQM_TOKENS_FILE":   "/nonexistent/tokens.json",
		"IQM_AUTH_USERNAME": "alice",
		"IQM_AUTH_PASSWORD": "s3cret",
	}
	_, err := authclient.SourceFromEnv(func(k string) string { return env[k] }, authclient.SourceOptions{})
	fmt.Println(errors.Is(err, authclient.ErrConfig))
	fmt.Println(err)

	src, err := authclient.SourceFromEnv(func(k string) string { return map[string]string{"IQM_TOKEN": "opaque"}[k] }, authclient.SourceOptions{})
	fmt.Println(src, err)
	// Output:
	// true
	// IQM_TOKENS_FILE: cannot be combined with credentials
	// StaticToken{[REDACTED]} <nil>
}
