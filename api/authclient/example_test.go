package authclient_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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
