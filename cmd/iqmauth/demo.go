package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// demo starts a test server in-process and shows the module's two jobs: the per-kind
// rules (requests that break them, refused by validate and by the receiving side), and
// a session through its life cycle. Every body is printed redacted.
func (c *cli) demo(args []string) int {
	fs := newFlags("demo", "", c.stderr)
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	password := randomPassword()
	srv, err := authtest.NewServer(authtest.WithStrict(), authtest.WithUser("demo", password))
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth demo: %v\n", err)
		return exitFailure
	}
	defer srv.Close()
	fmt.Fprintf(c.stdout, "test auth server at %s (realm %s, client %s, user demo)\n", srv.URL, api.DefaultRealm, api.DefaultClientID)
	ok := c.demoRules(srv) && c.demoSession(srv, password)
	if !ok {
		fmt.Fprintln(c.stdout, "demo failed")
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "all steps passed")
	return exitOK
}

// demoRules sends two requests that break the per-kind rules: validate names each
// problem, and the receiving side answers 400 without looking further.
func (c *cli) demoRules(srv *authtest.Server) bool {
	fmt.Fprintln(c.stdout, "\nthe per-kind rules (validate), and the receiving side's answer to the same body:")
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, ex := range []struct {
		what, path, body string
		kind             validate.Kind
	}{
		{"a refresh request carrying a username", generated.RequestTokenPath,
			"client_id=iqm_client&grant_type=refresh_token&username=demo&refresh_token=eyJ.x.y", validate.KindRefresh},
		{"a logout request with a grant_type", generated.LogoutPath,
			"client_id=iqm_client&grant_type=refresh_token&refresh_token=eyJ.x.y", validate.KindLogout},
	} {
		fmt.Fprintf(c.stdout, "- %s\n  body:     %s\n", ex.what, api.RedactForm([]byte(ex.body)))
		r, err := api.Decoder{}.Form([]byte(ex.body))
		if err != nil {
			fmt.Fprintf(c.stdout, "  FAILED: %v\n", err)
			return false
		}
		verr := validate.Check(ex.kind, r)
		var fe *validate.FieldError
		if !errors.As(verr, &fe) || !errors.Is(verr, validate.ErrForbidden) {
			fmt.Fprintf(c.stdout, "  FAILED: validate said %v\n", verr)
			return false
		}
		fmt.Fprintf(c.stdout, "  validate: %v\n", verr)
		url := srv.URL + strings.Replace(ex.path, "{realm}", api.DefaultRealm, 1)
		resp, err := hc.Post(url, "application/x-www-form-urlencoded", strings.NewReader(ex.body))
		if err != nil {
			fmt.Fprintf(c.stdout, "  FAILED: %v\n", err)
			return false
		}
		var answer generated.OAuth2Error
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&answer)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || answer.ErrorDescription == nil {
			fmt.Fprintf(c.stdout, "  FAILED: the server answered %d (%v)\n", resp.StatusCode, err)
			return false
		}
		fmt.Fprintf(c.stdout, "  server:   %d %s: %s\n", resp.StatusCode, answer.Error, *answer.ErrorDescription)
	}
	return true
}

// demoSession runs a session through login, token reuse, a forced refresh and logout,
// printing each request the server received.
func (c *cli) demoSession(srv *authtest.Server, password string) bool {
	fmt.Fprintln(c.stdout, "\na session's life cycle (authclient):")
	srv.ResetRequests()
	client, err := authclient.New(authclient.Config{ServerURL: srv.URL})
	if err != nil {
		fmt.Fprintf(c.stdout, "FAILED: %v\n", err)
		return false
	}
	s, err := authclient.NewSession(authclient.NewGrants(client, "demo", password), authclient.SessionOptions{})
	if err != nil {
		fmt.Fprintf(c.stdout, "FAILED: %v\n", err)
		return false
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
	return step(1, "login with the password grant", func(ctx context.Context) error {
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
		if _, err := s.Token(ctx); !errors.Is(err, authclient.ErrLoggedOut) {
			return fmt.Errorf("after logout Token gave %v", err)
		}
		return nil
	}, 1)
}
