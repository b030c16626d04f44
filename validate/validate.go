package validate

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/generated"
)

// Kind is the kind of an auth request.
type Kind int

// The request kinds. KindUnknown is the zero value.
const (
	KindUnknown Kind = iota
	KindPassword
	KindRefresh
	KindLogout
)

// String gives "unknown", "password", "refresh" or "logout".
func (k Kind) String() string {
	switch k {
	case KindPassword:
		return "password"
	case KindRefresh:
		return "refresh"
	case KindLogout:
		return "logout"
	default:
		return "unknown"
	}
}

// The problems a field can have. Each *FieldError wraps exactly one of them, so that
// a caller tells them apart with errors.Is without parsing a message.
var (
	// ErrMissing: a field the request kind requires is absent (or, for client_id, empty).
	ErrMissing = errors.New("is required")
	// ErrEmpty: a field the request kind requires is set to the empty string.
	ErrEmpty = errors.New("must not be empty")
	// ErrForbidden: a field the request kind may not use is set.
	ErrForbidden = errors.New("must be absent")
	// ErrInvalidValue: grant_type has a value the request kind does not allow, or a
	// string is not valid UTF-8.
	ErrInvalidValue = errors.New("has an invalid value")
)

// FieldError is one problem with one field of a request.
type FieldError struct {
	// Field is the wire name of the field, such as "client_id" (one of the
	// generated.AuthRequest* constants).
	Field string
	// Kind is the kind the request was checked as (KindUnknown when its grant_type
	// named no known kind).
	Kind Kind
	// Err is one of ErrMissing, ErrEmpty, ErrForbidden and ErrInvalidValue.
	Err error
}

// Error names the field and the problem, never the field's value.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.problem())
	if e.Kind != KindUnknown {
		b.WriteString(" in a ")
		b.WriteString(e.Kind.String())
		b.WriteString(" request")
	}
	return b.String()
}

func (e *FieldError) problem() string {
	if e.Err != ErrInvalidValue {
		if e.Err == nil {
			return "invalid"
		}
		return e.Err.Error()
	}
	if e.Field != generated.AuthRequestGrantType {
		return "must be valid UTF-8"
	}
	switch e.Kind {
	case KindPassword:
		return "must be " + strconv.Quote(string(generated.GrantTypePassword))
	case KindRefresh:
		return "must be " + strconv.Quote(string(generated.GrantTypeRefreshToken))
	default:
		return "must be " + strconv.Quote(string(generated.GrantTypePassword)) + " or " +
			strconv.Quote(string(generated.GrantTypeRefreshToken))
	}
}

// Unwrap returns the sentinel error.
func (e *FieldError) Unwrap() error { return e.Err }

// Error lists every problem of one request, in field order.
type Error struct {
	// Kind is the kind the request was checked as.
	Kind Kind
	// Fields holds one entry per problem, in the order of the fields in the model.
	Fields []*FieldError
}

// Error joins the field problems with "; ".
func (e *Error) Error() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap yields each *FieldError, so errors.Is and errors.As see every problem.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// Request classifies r by its grant_type ("password", "refresh_token", or absent for
// a logout request) and checks the rules of that kind. Any other grant_type value
// gives KindUnknown and a problem on grant_type.
func Request(r generated.AuthRequest) (Kind, error) {
	k := Classify(r)
	if k == KindUnknown {
		c := checker{kind: KindUnknown}
		c.nonEmptyString(generated.AuthRequestClientID, r.ClientID)
		if *r.GrantType == "" {
			c.add(generated.AuthRequestGrantType, ErrEmpty)
		} else {
			c.add(generated.AuthRequestGrantType, ErrInvalidValue)
		}
		return k, c.err()
	}
	return k, Check(k, r)
}

// Classify tells the kind r claims by its grant_type, without checking anything else.
func Classify(r generated.AuthRequest) Kind {
	switch {
	case r.GrantType == nil:
		return KindLogout
	case *r.GrantType == generated.GrantTypePassword:
		return KindPassword
	case *r.GrantType == generated.GrantTypeRefreshToken:
		return KindRefresh
	default:
		return KindUnknown
	}
}

// Check checks r against the rules of kind k (for a caller that knows which kind to
// expect, such as a logout endpoint), which are openapi.yaml's per-kind
// request schemas (PasswordRequest, RefreshRequest, LogoutRequest), generated into
// rules.gen.go. Checking as KindUnknown is itself a problem: it reports grant_type as
// invalid.
func Check(k Kind, r generated.AuthRequest) error {
	c := checker{kind: k}
	switch k {
	case KindPassword:
		c.checkPasswordRequest(&r)
	case KindRefresh:
		c.checkRefreshRequest(&r)
	case KindLogout:
		c.checkLogoutRequest(&r)
	default:
		c.nonEmptyString(generated.AuthRequestClientID, r.ClientID)
		c.add(generated.AuthRequestGrantType, ErrInvalidValue)
	}
	return c.err()
}

// checker collects problems; it allocates only when there is one.
type checker struct {
	kind     Kind
	problems []*FieldError
}

func (c *checker) add(field string, err error) {
	c.problems = append(c.problems, &FieldError{Field: field, Kind: c.kind, Err: err})
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &Error{Kind: c.kind, Fields: c.problems}
}

// nonEmptyString checks a required property that is a plain string in AuthRequest
// (client_id): absent and empty are the same, so empty is reported as missing.
func (c *checker) nonEmptyString(field string, v string) {
	switch {
	case v == "":
		c.add(field, ErrMissing)
	case !utf8.ValidString(v):
		c.add(field, ErrInvalidValue)
	}
}

// enumValue checks a required property whose only allowed value is want.
func (c *checker) enumValue(field string, v *string, want string) {
	switch {
	case v == nil:
		c.add(field, ErrMissing)
	case *v == "":
		c.add(field, ErrEmpty)
	case *v != want:
		c.add(field, ErrInvalidValue)
	}
}

// required checks a required property; nonEmpty is minLength: 1.
func (c *checker) required(field string, v *string, nonEmpty bool) {
	switch {
	case v == nil:
		c.add(field, ErrMissing)
	case nonEmpty && *v == "":
		c.add(field, ErrEmpty)
	case !utf8.ValidString(*v):
		c.add(field, ErrInvalidValue)
	}
}

// forbidden reports a property the kind's schema does not list (additionalProperties:
// false).
func (c *checker) forbidden(field string, set bool) {
	if set {
		c.add(field, ErrForbidden)
	}
}
