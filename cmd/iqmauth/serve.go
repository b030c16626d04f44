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

// userFlag collects name:password entries and never prints a password. Set never
// fails: the flag package would quote the value in its error, and the value may be a
// password; bad counts the malformed entries instead.
type userFlag struct {
	users map[string]string
	bad   int
}

func (u *userFlag) String() string {
	if u == nil {
		return "0 users"
	}
	return fmt.Sprintf("%d users", len(u.users))
}

func (u *userFlag) Set(v string) error {
	name, pw, ok := strings.Cut(v, ":")
	if !ok || name == "" || pw == "" {
		u.bad++
		return nil
	}
	u.users[name] = pw
	return nil
}

func (c *cli) serve(args []string) int {
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--realm cortex] [--client iqm_client]... [--user name:password]... [--access-ttl 300s] [--refresh-ttl 1800s] [--rotation] [--strict|--lenient] [--read-timeout 10s] [--write-timeout 60s] [--idle-timeout 60s]", c.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0: a free port)")
	realm := fs.String("realm", api.DefaultRealm, "realm")
	var clients multiFlag
	fs.Var(&clients, "client", "public client id (repeatable; default iqm_client)")
	users := &userFlag{users: map[string]string{}}
	fs.Var(users, "user", "user as name:password (repeatable; also $"+EnvServeUsers+", comma-separated)")
	accessTTL := fs.Duration("access-ttl", authtest.DefaultAccessTTL, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", authtest.DefaultRefreshTTL, "refresh token lifetime (0: never expires)")
	rotation := fs.Bool("rotation", false, "refresh-token rotation with reuse detection")
	lenient := fs.Bool("lenient", false, "ignore unknown and foreign fields, as Keycloak does")
	strict := fs.Bool("strict", false, "refuse what openapi.yaml's request schemas refuse (unknown and foreign fields); the default")
	public := fs.Bool("allow-non-loopback", false, "allow listening on an address that is not loopback")
	readTimeout := fs.Duration("read-timeout", authtest.DefaultTimeouts.Read, "longest time to read a request, body included")
	writeTimeout := fs.Duration("write-timeout", authtest.DefaultTimeouts.Write, "longest time to answer a request, from the end of its headers")
	idleTimeout := fs.Duration("idle-timeout", authtest.DefaultTimeouts.Idle, "longest time a keep-alive connection waits for its next request")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
	}
	if *strict && *lenient {
		return c.usageError(fs, "--strict and --lenient exclude each other")
	}
	if users.bad > 0 {
		return c.usageError(fs, "--user: each value must be name:password (the value is not shown: it may hold a password)")
	}
	for _, entry := range strings.FieldsFunc(c.getenv(EnvServeUsers), func(r rune) bool { return r == ',' || r == '\n' }) {
		if users.Set(strings.TrimSpace(entry)); users.bad > 0 {
			return c.usageError(fs, "$%s: each entry must be name:password (the value is not shown: it may hold a password)", EnvServeUsers)
		}
	}
	if *readTimeout <= 0 || *writeTimeout <= 0 || *idleTimeout <= 0 {
		return c.usageError(fs, "--read-timeout, --write-timeout and --idle-timeout must be positive")
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
	opts := []authtest.Option{authtest.WithAddr(*addr), authtest.WithRealm(authtest.Realm{Name: *realm, Clients: clients}),
		authtest.WithTimeouts(authtest.Timeouts{Read: *readTimeout, Write: *writeTimeout, Idle: *idleTimeout}),
		authtest.WithAccessTTL(*accessTTL), authtest.WithRefreshTTL(*refreshTTL),
		authtest.WithLogger(slog.New(slog.NewTextHandler(c.stderr, nil)))}
	if *rotation {
		opts = append(opts, authtest.WithRotation())
	}
	if *lenient {
		opts = append(opts, authtest.WithLenient())
	}
	for name, pw := range users.users {
		opts = append(opts, authtest.WithRealmUser(*realm, name, pw))
	}
	srv, err := authtest.NewServer(opts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "iqmauth serve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, srv.URL)
	fmt.Fprintf(c.stderr, "iqmauth serve: realm %s, clients %s, %d users; stop with Ctrl-C\n", *realm, clients.String(), len(users.users))
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
