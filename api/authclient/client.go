package authclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/generated"
	genclient "github.com/iqm-finland/authschema/generated/client"
)

// defaultTimeout bounds each request, as the Python client's default
// (IQM_CLIENT_REQUESTS_TIMEOUT overrides it there and in SourceFromEnv).
const defaultTimeout = 60 * time.Second

// ErrConfig is wrapped by every configuration error (*ConfigError).
var ErrConfig = errors.New("configuration error")

// ErrInsecureTransport is wrapped by the configuration error for a plain http:// URL
// to a host that is not loopback.
var ErrInsecureTransport = errors.New("credentials would be sent over plain http")

// ConfigError is a configuration problem; it names the setting, never its value when
// the value could hold a secret.
type ConfigError struct {
	Setting string
	Problem string
	// Field, when set, is the Config field that would allow what was refused
	// ("AllowInsecureHTTP"): the message ends "or opt in with Config.<Field>", which a
	// command line replaces with its own flag.
	Field string
	Err   error // ErrConfig, or a more specific sentinel that ErrConfig also matches
}

func (e *ConfigError) Error() string {
	if e.Field != "" {
		return e.Setting + ": " + e.Problem + ", or opt in with Config." + e.Field
	}
	return e.Setting + ": " + e.Problem
}

// Unwrap yields ErrConfig and the specific sentinel.
func (e *ConfigError) Unwrap() []error {
	if e.Err == nil || e.Err == ErrConfig {
		return []error{ErrConfig}
	}
	return []error{ErrConfig, e.Err}
}

// Clock tells the wall-clock time. The client stamps each answer's tokens with it, and
// the session decides with it whether a token is still fresh; tests pass a fake one
// (authtest.Clock); nil wherever a Clock is configured means the real one.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// systemClock is the real clock.
var systemClock Clock = wallClock{}

// Config configures a Client.
type Config struct {
	// ServerURL is the auth server's base URL, the part before /realms
	// (IQM_AUTH_SERVER). Required.
	ServerURL string
	// Realm defaults to api.DefaultRealm, ClientID to api.DefaultClientID.
	Realm, ClientID string
	// HTTPClient sends the requests; nil means a new http.Client. It is copied, and the
	// copy never follows redirects. For a plain http:// server on loopback, its
	// Transport (nil: http.DefaultTransport) must be an *http.Transport, which is cloned
	// without its proxy and with a dialer that connects to loopback addresses only
	// ("localhost" is dialled as 127.0.0.1, then ::1, never looked up); another
	// RoundTripper is refused (ErrInsecureTransport) unless AllowInsecureHTTP is set.
	HTTPClient *http.Client
	// UserAgent, when set, is sent as the User-Agent header.
	UserAgent string
	// Timeout bounds each request; 0 means 60 s (the Python client's default),
	// negative means none.
	Timeout time.Duration
	// AllowInsecureHTTP allows a plain http:// ServerURL to a host that is not
	// loopback. Passwords and refresh tokens then cross the network in clear text.
	AllowInsecureHTTP bool
	// Clock defaults to the real clock.
	Clock Clock
}

// Client sends token and logout requests to one realm of an auth server, through
// the generated client, validating every request first.
type Client struct {
	gen       *genclient.Client
	hc        *http.Client
	base      string
	realm     string
	clientID  string
	userAgent string
	timeout   time.Duration
	clock     Clock
}

// New checks the configuration and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := normalizeServerURL(cfg.ServerURL, cfg.AllowInsecureHTTP)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, realm: cfg.Realm, clientID: cfg.ClientID, userAgent: cfg.UserAgent,
		timeout: cfg.Timeout, clock: cfg.Clock}
	if c.realm == "" {
		c.realm = api.DefaultRealm
	}
	if c.clientID == "" {
		c.clientID = api.DefaultClientID
	}
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.clock == nil {
		c.clock = systemClock
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	if hc.Transport, err = transportFor(base, hc.Transport, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = hc
	opts := []genclient.ClientOption{genclient.WithHTTPClient(hc)}
	if c.userAgent != "" {
		opts = append(opts, genclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("User-Agent", c.userAgent)
			return nil
		}))
	}
	if c.gen, err = genclient.NewClient(base+"/", opts...); err != nil {
		return nil, err
	}
	return c, nil
}

// normalizeServerURL checks the base URL and drops trailing slashes, so that joining
// "/realms/..." never doubles or misses one.
func normalizeServerURL(raw string, allowInsecure bool) (string, error) {
	setting := "server URL"
	if raw == "" {
		return "", &ConfigError{Setting: setting, Problem: "is required", Err: ErrConfig}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", &ConfigError{Setting: setting, Problem: "must be an absolute http:// or https:// URL", Err: ErrConfig}
	}
	if u.User != nil {
		return "", &ConfigError{Setting: setting, Problem: "must not carry user information", Err: ErrConfig}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", &ConfigError{Setting: setting, Problem: "must not have a query or fragment", Err: ErrConfig}
	}
	if before, ok := beforeRealms(u.EscapedPath()); ok {
		return "", &ConfigError{Setting: setting, Err: ErrConfig, Problem: fmt.Sprintf(
			"must be the part before /realms (%s); the realm is a setting of its own (default %s)",
			strings.TrimRight(u.Scheme+"://"+u.Host+before, "/"), api.DefaultRealm)}
	}
	if u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()) {
		return "", &ConfigError{Setting: setting, Err: ErrInsecureTransport, Field: "AllowInsecureHTTP", Problem: fmt.Sprintf(
			"refusing to send passwords and refresh tokens over plain http:// to %s, which is not loopback; use https://", u.Host)}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// beforeRealms cuts path at its first segment "realms" (in any case): a server URL
// holds none, the endpoints' paths add it.
func beforeRealms(path string) (string, bool) {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if strings.EqualFold(seg, "realms") {
			return strings.Join(segs[:i], "/"), true
		}
	}
	return "", false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CloseIdleConnections closes the idle connections of the client's transport (for a
// plain http:// server on loopback, the client's own clone of the caller's).
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// ServerURL is the normalized base URL. With Realm and ClientID, it is what a tokens
// file records of where its tokens came from (iqmauth login writes them).
func (c *Client) ServerURL() string { return c.base }

// Realm is the realm the client talks to.
func (c *Client) Realm() string { return c.realm }

// ClientID is the client id sent with every request.
func (c *Client) ClientID() string { return c.clientID }

// TokenURL is the token endpoint (openapi.yaml's path of requestToken): for a peer
// configured from the same settings (golang.org/x/oauth2's Endpoint, say).
func (c *Client) TokenURL() string { return c.base + realmPath(generated.RequestTokenPath, c.realm) }

// logoutURL is the logout endpoint (openapi.yaml's path of logout).
func (c *Client) logoutURL() string { return c.base + realmPath(generated.LogoutPath, c.realm) }

// realmPath fills in the {realm} of a path of openapi.yaml.
func realmPath(template, realm string) string {
	return strings.Replace(template, "{realm}", url.PathEscape(realm), 1)
}

// Login requests tokens with the password grant.
func (c *Client) Login(ctx context.Context, username, password string) (*tokens.Set, error) {
	return c.grant(ctx, api.NewPasswordRequest(c.clientID, username, password))
}

// Refresh requests tokens with the refresh_token grant.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*tokens.Set, error) {
	return c.grant(ctx, api.NewRefreshRequest(c.clientID, refreshToken))
}

// grant validates r, a password or refresh request (Login and Refresh make it),
// posts it to the token endpoint and maps the answer. An invalid request is refused
// locally and nothing is sent. Errors from the server are *Error.
//
// The request goes through the generated client (its path and request editors), with
// a body that api.EncodeForm writes: the generated form encoding sorts the keys, and
// the Python client sends them in the model's order.
func (c *Client) grant(ctx context.Context, r generated.AuthRequest) (*tokens.Set, error) {
	body, err := api.EncodeForm(r) // validates, once
	if err != nil {
		return nil, fmt.Errorf("token request not sent: %w", err)
	}
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	sent := c.clock.Now()
	resp, err := c.gen.RequestTokenWithBody(rctx, c.realm, formType, bytes.NewReader(body))
	if err != nil {
		return nil, c.noAnswer(ctx, rctx, "token", c.TokenURL(), err, secretsOf(r))
	}
	data, err := c.readBody(ctx, rctx, resp, "token", r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.errorResponse("token", c.TokenURL(), resp, data, secretsOf(r))
	}
	// One decode reads the token response and an error member a 200 should not have,
	// and tells whether the lifetimes were sent (a server other than Keycloak may
	// leave them out, though openapi.yaml requires them).
	var tr struct {
		generated.TokenResponse
		Error            *string `json:"error"`
		ExpiresIn        *int64  `json:"expires_in"`
		RefreshExpiresIn *int64  `json:"refresh_expires_in"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, &Error{Op: "token", StatusCode: resp.StatusCode, Err: ErrBadResponse,
			Detail: fmt.Sprintf("body is not a JSON token response (%s, %d bytes)", contentType(resp, secretsOf(r)), len(data))}
	}
	if tr.Error != nil {
		return nil, &Error{Op: "token", StatusCode: resp.StatusCode, Err: ErrBadResponse,
			Detail: fmt.Sprintf("200 answer carries error %q", clean([]byte(*tr.Error), secretsOf(r), maxExcerpt))}
	}
	if tr.AccessToken.Value() == "" {
		return nil, &Error{Op: "token", StatusCode: resp.StatusCode, Err: ErrBadResponse, Detail: "no access_token in the answer"}
	}
	if member := badToken(&tr.TokenResponse); member != "" {
		return nil, &Error{Op: "token", StatusCode: resp.StatusCode, Err: ErrBadResponse,
			Detail: member + " is not an RFC 6750 bearer token (only A-Z a-z 0-9 - . _ ~ + / and trailing =)"}
	}
	tr.TokenResponse.ExpiresIn, tr.TokenResponse.RefreshExpiresIn = -1, -1 // not sent: read from the JWT
	if tr.ExpiresIn != nil {
		tr.TokenResponse.ExpiresIn = *tr.ExpiresIn
	}
	if tr.RefreshExpiresIn != nil {
		tr.TokenResponse.RefreshExpiresIn = *tr.RefreshExpiresIn
	}
	t := tokens.FromResponse(&tr.TokenResponse, sent)
	return &t, nil
}

// badToken names the first token of r that is not a bearer token (tokens.ValidBearer),
// or gives "": a token with control characters would drive the terminal it is printed
// on, a line break would forge a header line.
func badToken(r *generated.TokenResponse) string {
	if !tokens.ValidBearer(r.AccessToken.Value()) {
		return "access_token"
	}
	if r.RefreshToken != nil && *r.RefreshToken != "" && !tokens.ValidBearer(*r.RefreshToken) {
		return "refresh_token"
	}
	return ""
}

// Logout ends the session of refreshToken: a 2xx status openapi.yaml lists for logout
// (204, or 200 as the Python client accepts) is success.
func (c *Client) Logout(ctx context.Context, refreshToken string) error {
	r := api.NewLogoutRequest(c.clientID, refreshToken)
	body, err := api.EncodeForm(r)
	if err != nil {
		return fmt.Errorf("logout request not sent: %w", err)
	}
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.gen.LogoutWithBody(rctx, c.realm, formType, bytes.NewReader(body))
	if err != nil {
		return c.noAnswer(ctx, rctx, "logout", c.logoutURL(), err, secretsOf(r))
	}
	data, err := c.readBody(ctx, rctx, resp, "logout", r)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 && slices.Contains(generated.LogoutStatuses(), resp.StatusCode) {
		return nil
	}
	return c.errorResponse("logout", c.logoutURL(), resp, data, secretsOf(r))
}

// formType is the body's media type.
const formType = "application/x-www-form-urlencoded"

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// secretsOf lists the values of r's secret fields (format: password in openapi.yaml),
// which error text must never show.
func secretsOf(r generated.AuthRequest) []string {
	var s []string
	v, set := r.WireValues()
	for i, f := range generated.AuthRequestFields() {
		if f.Secret && set[i] {
			s = append(s, v[i])
		}
	}
	return s
}

// readBody reads at most maxResponseBytes and closes the body. A read that fails
// because ctx (the request's, derived from parent) ended keeps the context's error as
// the cause; the text of any other failure is cleaned as the body would be, and not
// kept (r gives the secrets to remove).
func (c *Client) readBody(parent, ctx context.Context, resp *http.Response, op string, r generated.AuthRequest) ([]byte, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		secrets := secretsOf(r)
		e := &Error{Op: op, StatusCode: resp.StatusCode, Err: ErrBadResponse,
			Detail: "reading the body: " + clean([]byte(err.Error()), secrets, maxDescription)}
		if ctx.Err() != nil {
			ne := c.noAnswer(parent, ctx, op, "", ctx.Err(), secrets)
			e.Cause, e.Detail = ne.ctxErr, "reading the body: "+strings.TrimPrefix(ne.Error(), op+" request: ")
		}
		return nil, e
	}
	if len(data) > maxResponseBytes {
		return nil, &Error{Op: op, StatusCode: resp.StatusCode, Err: ErrResponseTooLarge,
			Detail: fmt.Sprintf("over %d bytes", maxResponseBytes)}
	}
	return data, nil
}

// contentType names the answer's media type for an error, cleaned as its body would
// be: a server may put anything there.
func contentType(resp *http.Response, secrets []string) string {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		return "Content-Type " + clean([]byte(ct), secrets, maxExcerpt)
	}
	return "no Content-Type"
}

// errorResponse maps a non-success answer from endpoint to an *Error.
func (c *Client) errorResponse(op, endpoint string, resp *http.Response, data []byte, secrets []string) error {
	e := &Error{Op: op, StatusCode: resp.StatusCode, URL: endpoint}
	if resp.StatusCode == http.StatusNotFound {
		e.Hint = fmt.Sprintf("the server URL (%s) must be the part before /realms, and the realm %q must exist", c.base, c.realm)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Err, e.Location = ErrRedirect, locationHint(resp.Header.Get("Location"), secrets)
		if resp.Header.Get("Location") == "" { // none, or one that did not parse (redirectGuard)
			e.Detail = "no usable Location"
		}
		return e
	}
	var body generated.OAuth2Error
	if err := json.Unmarshal(data, &body); err == nil && body.Error != "" {
		e.OAuth = &api.OAuthError{Status: resp.StatusCode, Code: excerpt([]byte(body.Error), secrets)}
		if body.ErrorDescription != nil {
			e.OAuth.Description = clean([]byte(*body.ErrorDescription), secrets, maxDescription)
		}
		return e
	}
	e.Err = ErrBadResponse
	if len(data) == 0 {
		e.Detail = "empty body"
	} else {
		e.Detail = fmt.Sprintf("error body is not an OAuth 2.0 error (%s)", contentType(resp, secrets))
		e.Excerpt = excerpt(data, secrets)
	}
	return e
}
