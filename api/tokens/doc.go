// Package tokens holds what a login or refresh gives, a Set: the access and refresh
// tokens, kept out of every printed or logged form, and their absolute expiry times,
// read from the token endpoint's answer or from the tokens' JWT exp claims. It does no
// I/O.
package tokens
