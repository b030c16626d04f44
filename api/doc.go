// Package api is the codec of the auth requests: constructors for the three kinds of
// AuthRequest, form and JSON encoders that match the Python iqm-client byte for byte,
// strict decoders for services that receive them, and the shapes of the answers (the
// OAuth 2.0 error body, OAuthError; the token response, NewTokenResponse). It does no
// I/O.
//
// Encoders validate first (see package validate): an invalid request is never
// encoded. Decoders are strict: a repeated key, an unknown key, bad percent-encoding,
// invalid UTF-8, a JSON value of the wrong type, trailing data or a body over the
// limit is a *DecodeError wrapping ErrDuplicateField, ErrUnknownField, ErrMalformed or
// ErrTooLarge. Error messages name the field, never a value.
//
// The client and token session are in api/authclient, the receiving side in
// api/receiver.
package api
