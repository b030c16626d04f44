// Package validate decides which fields each kind of auth request may use.
//
// The Python iqm-client has one AuthRequest model for three kinds of request; which
// fields a kind uses is only written in the model's documentation. openapi.yaml says
// it as one schema per kind (PasswordRequest, RefreshRequest, LogoutRequest: required
// members, minLength: 1, additionalProperties: false, grant_type pinned), and `go
// generate` writes those schemas into this package as checks (rules.gen.go), so the
// rules are stated once:
//
//	field          password request    refresh request     logout request
//	client_id      required, non-empty required, non-empty required, non-empty
//	grant_type     "password"          "refresh_token"     must be absent
//	username       required, non-empty must be absent      must be absent
//	password       required, non-empty must be absent      must be absent
//	refresh_token  must be absent      required, non-empty required, non-empty
//
// A field is absent when its pointer is nil; an empty string counts as set, exactly
// as the Python client's model_dump(exclude_none=True) would still send it. client_id
// is a plain string in the schema, so an empty client_id is reported as missing.
// Every set string must also be valid UTF-8 (ErrInvalidValue otherwise), since the
// wire formats carry Unicode text.
//
// Every problem of a request is reported at once, in field order, in one *Error whose
// Unwrap() []error yields a *FieldError per problem, so errors.Is(err, ErrForbidden)
// and errors.As(err, &fieldErr) both work. Messages name the field and the problem,
// never a value. The checks are pure, do no I/O, and allocate nothing for a valid
// request.
package validate
