// Package authclient talks to the auth server as IQM's Python client does: a Client
// sends the token and logout requests (validated first, bodies byte for byte the
// Python client's), and a Session keeps an access token fresh from a Source (Grants:
// the password and refresh grants; TokensFileReader: IQM_TOKENS_FILE by iqm-client
// 36's rules; StaticToken; FileGrants: a tokens file shared with other processes; or
// one of your own), renewing it once for any number of callers. The Session alone
// decides when tokens are due (RenewalMargin) and tells the Source in a Renewal; what
// a Source can do besides Renew is what it implements of LoginSource, RefreshSource
// and LogoutSource. SourceFromEnv picks the
// source the environment names, by iqm-client 36's rules for IQM_TOKEN and
// IQM_TOKENS_FILE and 17.5's for the legacy variables. Transport adds the token to an
// http.Client's requests as iqm-client 35+ does.
//
// Keep keeps a tokens file fresh for the other processes that read it (iqm-client 36
// renews nothing): the loop behind iqmauth keep, for a goroutine of a Go service.
//
// Errors are values: *Error for an answer that is not a success (errors.Is with the
// code sentinels of package api, errors.As to *api.OAuthError), *TransportError
// (ErrNoAnswer) for a request that got no answer, *ConfigError for a configuration
// problem, sentinels for the session's states and Keep's ends. Plain http:// is allowed
// only to loopback, and then stays there: no proxy, loopback addresses only. No secret
// appears in any of them, nor in any printed or logged form of the package's types.
package authclient
