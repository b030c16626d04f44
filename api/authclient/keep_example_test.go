package authclient_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// Keep renews a tokens file when half the lifetime of its 90 s access token is left:
// here on a fake clock whose waits pass at once, stopped after five minutes.
func ExampleKeep() {
	clock := authtest.NewClock(testtime.Epoch())
	srv, err := authtest.NewServer(authtest.WithClock(clock), authtest.WithUser("alice", "s3cret"), authtest.WithAccessTTL(90*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "keep-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tokens.json")
	c, _ := authclient.New(authclient.Config{ServerURL: srv.URL, Clock: clock})
	t, err := c.Login(context.Background(), "alice", "s3cret") // what iqmauth login does
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = tokensfile.Write(context.Background(), path, tokensfile.File{AuthServerURL: c.ServerURL(), Tokens: *t})

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	start := clock.Now()
	err = authclient.Keep(ctx, path, authclient.KeepOptions{
		Clock: clock,
		Sleep: func(ctx context.Context, d time.Duration) error { // a fake timer
			if clock.Advance(d); clock.Now().Sub(start) >= 5*time.Minute {
				stop()
			}
			return ctx.Err()
		},
		OnEvent: func(e authclient.KeepEvent) {
			if e.Kind == authclient.KeepRenewed {
				fmt.Printf("renewed at +%v, next at +%v\n", e.At.Sub(start), e.Next.Sub(start))
			}
		},
	})
	fmt.Println("Keep returned", err)
	// Output:
	// renewed at +45s, next at +1m30s
	// renewed at +1m30s, next at +2m15s
	// renewed at +2m15s, next at +3m0s
	// renewed at +3m0s, next at +3m45s
	// renewed at +3m45s, next at +4m30s
	// renewed at +4m30s, next at +5m15s
	// Keep returned <nil>
}
