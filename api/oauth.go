package api

import (
	"errors"

	"github.com/iqm-finland/authschema/generated"
)

// The error codes of openapi.yaml's OAuth2ErrorCode. errors.Is(err, ErrInvalidGrant) is
// true for an *OAuthError whose Code is "invalid_grant", and for the client's errors
// that carry one.
var (
	ErrInvalidRequest       = errors.New(string(generated.OAuth2ErrorCodeInvalidRequest))
	ErrInvalidClient        = errors.New(string(generated.OAuth2ErrorCodeInvalidClient))
	ErrInvalidGrant         = errors.New(string(generated.OAuth2ErrorCodeInvalidGrant))
	ErrUnauthorizedClient   = errors.New(string(generated.OAuth2ErrorCodeUnauthorizedClient))
	ErrUnsupportedGrantType = errors.New(string(generated.OAuth2ErrorCodeUnsupportedGrantType))
	ErrInvalidScope         = errors.New(string(generated.OAuth2ErrorCodeInvalidScope))
	ErrAccessDenied         = errors.New(string(generated.OAuth2ErrorCodeAccessDenied))
	ErrServerError          = errors.New(string(generated.OAuth2ErrorCodeServerError))
)

var oauthCodes = map[generated.OAuth2ErrorCode]error{
	generated.OAuth2ErrorCodeInvalidRequest:       ErrInvalidRequest,
	generated.OAuth2ErrorCodeInvalidClient:        ErrInvalidClient,
	generated.OAuth2ErrorCodeInvalidGrant:         ErrInvalidGrant,
	generated.OAuth2ErrorCodeUnauthorizedClient:   ErrUnauthorizedClient,
	generated.OAuth2ErrorCodeUnsupportedGrantType: ErrUnsupportedGrantType,
	generated.OAuth2ErrorCodeInvalidScope:         ErrInvalidScope,
	generated.OAuth2ErrorCodeAccessDenied:         ErrAccessDenied,
	generated.OAuth2ErrorCodeServerError:          ErrServerError,
}

// codeError returns the sentinel of an OAuth 2.0 error code (ErrInvalidGrant for
// "invalid_grant"), or nil for a code openapi.yaml does not list.
func codeError(code string) error { return oauthCodes[generated.OAuth2ErrorCode(code)] }

// OAuthError is an answer with an OAuth 2.0 error body (RFC 6749 section 5.2): what the
// receiving side answers, and what the client reads from an answer. Keycloak answers
// some statuses with a message in place of the code (404 "Realm does not exist").
type OAuthError struct {
	// Status is the HTTP status.
	Status int
	// Code is the error member, such as "invalid_grant".
	Code string
	// Description is the error_description member ("" when absent).
	Description string
}

// Error gives "code: description".
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Is matches the code's sentinel (ErrInvalidGrant, ...).
func (e *OAuthError) Is(target error) bool {
	return e != nil && target != nil && codeError(e.Code) == target
}
