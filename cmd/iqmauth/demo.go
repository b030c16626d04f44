package main

import (
	"context"
	"fmt"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
)

func (c *cli) demo(args []string) int {
	fs := newFlags("demo", "", c.stderr)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	password := randomPassword()
	srv, err := authtest.NewServer(authtest.WithUser("demo", password))
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth demo: %v\n", err)
		return exitFailure
	}
	defer srv.Close()
	fmt.Fprintf(c.stdout, "test auth server at %s (realm %s, client %s, user demo)\n", srv.URL, api.DefaultRealm, api.DefaultClientID)
	client, err := authclient.New(authclient.Config{ServerURL: srv.URL})
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth demo: %v\n", err)
		return exitFailure
	}
	s, err := authclient.NewSession(authclient.NewGrants(client, "demo", password), authclient.SessionOptions{})
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth demo: %v\n", err)
		return exitFailure
	}
	defer s.Close()

	ctx := c.ctx
	seen := 0
	step := func(n int, name string, do func(context.Context) error, wantRequests int) bool {
		start := time.Now()
		err := do(ctx)
		took := time.Since(start)
		if took > time.Microsecond {
			took = took.Round(time.Microsecond)
		}
		reqs := srv.Requests()
		fmt.Fprintf(c.stdout, "%d. %s (%s)\n", n, name, took)
		for _, r := range reqs[seen:] {
			fmt.Fprintf(c.stdout, "   %s request -> %d\n   body: %s\n", r.Kind, r.Status, r.RedactedBody)
		}
		if len(reqs)-seen == 0 {
			fmt.Fprintln(c.stdout, "   no request: the token was reused")
		}
		switch {
		case err != nil:
			fmt.Fprintf(c.stdout, "   FAILED: %v\n", err)
			return false
		case len(reqs)-seen != wantRequests:
			fmt.Fprintf(c.stdout, "   FAILED: %d requests, want %d\n", len(reqs)-seen, wantRequests)
			return false
		}
		seen = len(reqs)
		return true
	}
	var first string
	ok := step(1, "login with the password grant", func(ctx context.Context) error {
		var err error
		first, err = s.Token(ctx)
		if err == nil {
			_, err = srv.VerifyAccessToken(first)
		}
		return err
	}, 1) && step(2, "token reuse", func(ctx context.Context) error {
		tok, err := s.Token(ctx)
		if err == nil && tok != first {
			err = fmt.Errorf("a different token")
		}
		return err
	}, 0) && step(3, "forced refresh with the refresh_token grant", func(ctx context.Context) error {
		t, err := s.Refresh(ctx)
		if err == nil && t.AccessToken() == first {
			err = fmt.Errorf("the same token")
		}
		return err
	}, 1) && step(4, "logout", func(ctx context.Context) error {
		if err := s.Logout(ctx); err != nil {
			return err
		}
		if _, err := s.Token(ctx); err != authclient.ErrLoggedOut {
			return fmt.Errorf("after logout Token gave %v", err)
		}
		return nil
	}, 1)
	if !ok {
		fmt.Fprintln(c.stdout, "demo failed")
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "all steps passed")
	return exitOK
}
