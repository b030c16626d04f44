// Package api is the hand-written layer that services import: constructors for the
// three kinds of auth request, the form and JSON codecs that match the Python
// iqm-client byte for byte, and strict decoders for services that receive requests.
//
// Encoders validate first (see package validate): an invalid request is never
// encoded. Decoders are strict: a repeated key, an unknown key, bad percent-encoding,
// invalid UTF-8, a JSON value of the wrong type, trailing data or a body over the
// limit is a *DecodeError wrapping ErrDuplicateField, ErrUnknownField, ErrMalformed or
// ErrTooLarge. Error messages name the field or the offending key, never a value.
package api
