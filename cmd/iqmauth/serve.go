package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/authtest"
)

// EnvServeUsers lists users for iqmauth serve, so that no password needs to sit on a
// command line: "name:password" entries separated by commas or newlines.
const EnvServeUsers = "IQMAUTH_SERVE_USERS"

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// userFlag collects name:password entries and never prints a password.
type userFlag map[string]string

func (u userFlag) String() string { return fmt.Sprintf("%d users", len(u)) }
func (u userFlag) Set(v string) error {
	name, pw, ok := strings.Cut(v, ":")
	if !ok || name == "" || pw == "" {
		return fmt.Errorf("must be name:password")
	}
	u[name] = pw
	return nil
}

func (c *cli) serve(args []string) int {
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--realm cortex] [--client iqm_client]... [--user name:password]... [--access-ttl 300s] [--refresh-ttl 1800s]", c.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0: a free port)")
	realm := fs.String("realm", api.DefaultRealm, "realm")
	var clients multiFlag
	fs.Var(&clients, "client", "public client id (repeatable; default iqm_client)")
	users := userFlag{}
	fs.Var(users, "user", "user as name:password (repeatable; also $"+EnvServeUsers+", comma-separated)")
	accessTTL := fs.Duration("access-ttl", authtest.DefaultAccessTTL, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", authtest.DefaultRefreshTTL, "refresh token lifetime (0: never expires)")
	rotation := fs.Bool("rotation", false, "refresh-token rotation with reuse detection")
	lenient := fs.Bool("lenient", false, "ignore unknown and foreign fields, as Keycloak does")
	public := fs.Bool("allow-non-loopback", false, "allow listening on an address that is not loopback")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	for _, entry := range strings.FieldsFunc(c.getenv(EnvServeUsers), func(r rune) bool { return r == ',' || r == '\n' }) {
		if err := users.Set(strings.TrimSpace(entry)); err != nil {
			return c.usageError(fs, "$%s: each entry must be name:password", EnvServeUsers)
		}
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return c.usageError(fs, "--addr must be host:port")
	}
	if ip := net.ParseIP(host); !*public && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return c.usageError(fs, "--addr %s is not loopback; add --allow-non-loopback to serve on it", *addr)
	}
	if *accessTTL <= 0 || *refreshTTL < 0 {
		return c.usageError(fs, "--access-ttl must be positive and --refresh-ttl not negative")
	}
	if len(clients) == 0 {
		clients = multiFlag{api.DefaultClientID}
	}
	opts := []authtest.Option{authtest.WithAddr(*addr), authtest.WithRealm(authtest.Realm{Name: *realm, Clients: clients, Users: users}),
		authtest.WithAccessTTL(*accessTTL), authtest.WithRefreshTTL(*refreshTTL),
		authtest.WithLogger(slog.New(slog.NewTextHandler(c.stderr, nil)))}
	if *rotation {
		opts = append(opts, authtest.WithRotation())
	}
	if *lenient {
		opts = append(opts, authtest.WithLenient())
	}
	srv, err := authtest.NewServer(opts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth serve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, srv.URL)
	fmt.Fprintf(c.stderr, "iqmauth serve: realm %s, clients %s, %d users; stop with Ctrl-C\n", *realm, clients.String(), len(users))
	<-c.ctx.Done()
	srv.Close()
	fmt.Fprintln(c.stderr, "iqmauth serve: stopped")
	return exitOK
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
