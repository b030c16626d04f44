package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
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
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--realm cortex] [--client iqm_client]... [--user name:password]... [--import-realm FILE] [--access-ttl 300s] [--refresh-ttl 1800s] [--rotation] [--strict] [--keycloak-version "+authtest.DefaultKeycloakVersion+"] [--max-sessions N] [--max-connections N] [--read-timeout 10s] [--write-timeout 60s] [--idle-timeout 60s]", c.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0: a free port)")
	realm := fs.String("realm", api.DefaultRealm, "realm")
	var clients multiFlag
	fs.Var(&clients, "client", "public client id (repeatable; default iqm_client)")
	users := &userFlag{users: map[string]string{}}
	fs.Var(users, "user", "user as name:password (repeatable; also $"+EnvServeUsers+", comma-separated)")
	accessTTL := fs.Duration("access-ttl", authtest.DefaultAccessTTL, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", authtest.DefaultRefreshTTL, "refresh token lifetime (0: never expires)")
	rotation := fs.Bool("rotation", false, "refresh-token rotation with reuse detection")
	_ = fs.Bool("lenient", true, "ignore unknown and foreign fields, as Keycloak does (the default; kept for scripts)")
	strict := fs.Bool("strict", false, "the schema's own rules: unknown parameters and fields a request's kind may not use are 400")
	version := fs.String("keycloak-version", authtest.DefaultKeycloakVersion, "answer as this Keycloak release where releases differ (26.5 and before: 401 for bad credentials)")
	var importRealm multiFlag
	fs.Var(&importRealm, "import-realm", "realm file as Keycloak imports it: realm, clients, users, token settings (repeatable)")
	maxSessions := fs.Int("max-sessions", authtest.DefaultMaxSessions, "sessions kept at most (expired ones are dropped first, then the oldest)")
	maxConns := fs.Int("max-connections", authtest.DefaultMaxConnections, "connections served at once (more wait)")
	public := fs.Bool("allow-non-loopback", false, "allow listening on an address that is not loopback")
	readTimeout := fs.Duration("read-timeout", authtest.DefaultTimeouts.Read, "longest time to read a request, body included")
	writeTimeout := fs.Duration("write-timeout", authtest.DefaultTimeouts.Write, "longest time to answer a request, from the end of its headers")
	idleTimeout := fs.Duration("idle-timeout", authtest.DefaultTimeouts.Idle, "longest time a keep-alive connection waits for its next request")
	if code, stop := parseFlags(fs, args, c.stdout); stop {
		return code
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
	if *maxSessions <= 0 || *maxConns <= 0 {
		return c.usageError(fs, "--max-sessions and --max-connections must be positive")
	}
	opts := []authtest.Option{authtest.WithAddr(*addr),
		authtest.WithTimeouts(authtest.Timeouts{Read: *readTimeout, Write: *writeTimeout, Idle: *idleTimeout}),
		authtest.WithAccessTTL(*accessTTL), authtest.WithRefreshTTL(*refreshTTL), authtest.WithKeycloakVersion(*version),
		authtest.WithMaxSessions(*maxSessions), authtest.WithMaxConnections(*maxConns),
		authtest.WithLogger(slog.New(slog.NewTextHandler(c.stderr, nil)))}
	for _, file := range importRealm {
		data, err := readRealmFile(file)
		if err != nil {
			return c.usageError(fs, "--import-realm: %v", err)
		}
		opts = append(opts, authtest.WithRealmJSON(data))
	}
	realmSet := false
	fs.Visit(func(f *flag.Flag) { realmSet = realmSet || f.Name == "realm" })
	switch {
	case len(importRealm) == 0:
		if len(clients) == 0 {
			clients = multiFlag{api.DefaultClientID}
		}
		opts = append(opts, authtest.WithRealm(authtest.Realm{Name: *realm, Clients: clients}))
	case realmSet || len(clients) > 0:
		opts = append(opts, authtest.WithRealm(authtest.Realm{Name: *realm, Clients: clients}))
	}
	if *rotation {
		opts = append(opts, authtest.WithRotation())
	}
	if *strict {
		opts = append(opts, authtest.WithStrict())
	}
	for name, pw := range users.users {
		if realmSet || len(importRealm) == 0 {
			opts = append(opts, authtest.WithRealmUser(*realm, name, pw))
		} else {
			opts = append(opts, authtest.WithUser(name, pw)) // to the realm file's first realm
		}
	}
	srv, err := authtest.NewServer(opts...)
	if err != nil {
		if errors.Is(err, authtest.ErrRealmFile) {
			return c.usageError(fs, "--import-realm: %v", err)
		}
		if errors.Is(err, authtest.ErrKeycloakVersion) {
			return c.usageError(fs, "--keycloak-version: %v", err)
		}
		fmt.Fprintf(c.stderr, "iqmauth serve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, srv.URL)
	fmt.Fprintf(c.stderr, "iqmauth serve: realms %s, Keycloak %s answers; stop with Ctrl-C\n", strings.Join(srv.RealmNames(), ", "), *version)
	<-c.ctx.Done()
	srv.Close()
	fmt.Fprintln(c.stderr, "iqmauth serve: stopped")
	return exitOK
}

// readRealmFile reads a realm file, bounded.
func readRealmFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 16<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 16<<20 {
		return nil, fmt.Errorf("%s is over 16 MiB", name)
	}
	return data, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
