// Package authclient talks to the auth server as IQM's Python client does: a Client
// sends the token and logout requests (validated first, bodies byte for byte the
// Python client's), and a Session keeps an access token fresh from a Source (Grants:
// the password and refresh grants; FileSource; StaticToken; FileGrants: a tokens file
// shared with other processes), renewing it once for any number of callers.
//
// Errors are values: *Error for an answer that is not a success (errors.Is with the
// code sentinels of package api, errors.As to *api.OAuthError), *TransportError
// (ErrNoAnswer) for a request that got no answer, *ConfigError for a configuration
// problem, sentinels for the session's states. Plain http:// is allowed only to
// loopback, and then stays there: no proxy, loopback addresses only. No secret appears in any
// of them, nor in any printed or logged form of the package's types.
package authclient
