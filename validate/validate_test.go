package validate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/internal/testsafe"
	"github.com/iqm-finland/authschema/validate"
)

func ptr[T any](v T) *T { return &v }

// cell is one value a field can take in a test request.
type cell int

const (
	absent cell = iota
	empty
	good
	bad // a wrong grant_type or invalid UTF-8
)

var cellNames = [...]string{"absent", "empty", "good", "bad"}

// request builds a request from one cell per field (client_id has no absent: it is a
// plain string, so absent and empty are the same).
func request(clientID, grant cell, grantGood generated.GrantType, username, password, refresh cell) generated.AuthRequest {
	str := func(c cell, v string) *string {
		switch c {
		case empty:
			return ptr("")
		case good:
			return ptr(v)
		case bad:
			return ptr("bad\xff")
		}
		return nil
	}
	r := generated.AuthRequest{}
	switch clientID {
	case good:
		r.ClientID = "iqm_client"
	case bad:
		r.ClientID = "iqm\xfe"
	}
	switch grant {
	case empty:
		r.GrantType = ptr(generated.GrantType(""))
	case good:
		r.GrantType = ptr(grantGood)
	case bad:
		r.GrantType = ptr(generated.GrantType("client_credentials"))
	}
	r.Username = str(username, "alice")
	r.Password = str(password, "CANARY-PASSWORD")
	r.RefreshToken = str(refresh, "CANARY-REFRESH")
	return r
}

// want computes, from the rules table, the sentinel of each field for kind k.
type rule int

const (
	required rule = iota
	forbidden
	grantIs
)

var rules = map[validate.Kind][5]rule{
	validate.KindPassword: {required, grantIs, required, required, forbidden},
	validate.KindRefresh:  {required, grantIs, forbidden, forbidden, required},
	validate.KindLogout:   {required, forbidden, forbidden, forbidden, required},
}

var fields = [5]string{"client_id", "grant_type", "username", "password", "refresh_token"}

func expected(k validate.Kind, cells [5]cell) []error {
	var errs []error
	for i, c := range cells {
		var e error
		switch rules[k][i] {
		case required, grantIs:
			switch {
			case c == absent || (i == 0 && c == empty):
				e = validate.ErrMissing
			case c == empty:
				e = validate.ErrEmpty
			case c == bad:
				e = validate.ErrInvalidValue
			}
		case forbidden:
			if c != absent {
				e = validate.ErrForbidden
			}
		}
		errs = append(errs, e)
	}
	return errs
}

// TestRulesTable checks every cell of the rules table in every combination, for the
// three kind-specific checks.
func TestRulesTable(t *testing.T) {
	kinds := []struct {
		kind  validate.Kind
		grant generated.GrantType
	}{
		{validate.KindPassword, generated.GrantTypePassword},
		{validate.KindRefresh, generated.GrantTypeRefreshToken},
		{validate.KindLogout, generated.GrantTypeRefreshToken},
	}
	all := []cell{absent, empty, good, bad}
	n := 0
	for _, k := range kinds {
		for _, c0 := range []cell{empty, good, bad} {
			for _, c1 := range all {
				for _, c2 := range all {
					for _, c3 := range all {
						for _, c4 := range all {
							cells := [5]cell{c0, c1, c2, c3, c4}
							r := request(c0, c1, k.grant, c2, c3, c4)
							if k.kind == validate.KindLogout && c1 == good {
								// a logout's grant_type is forbidden whatever it says
								r.GrantType = ptr(generated.GrantTypePassword)
							}
							checkAgainst(t, k.kind, cells, validate.Check(k.kind, r))
							n++
						}
					}
				}
			}
		}
	}
	if n != 3*3*4*4*4*4 {
		t.Fatalf("ran %d combinations", n)
	}
}

func checkAgainst(t *testing.T, k validate.Kind, cells [5]cell, err error) {
	t.Helper()
	want := expected(k, cells)
	name := fmt.Sprintf("%v %v", k, cellName(cells))
	var wantAny bool
	for _, w := range want {
		wantAny = wantAny || w != nil
	}
	if !wantAny {
		if err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
		}
		return
	}
	var verr *validate.Error
	if !errors.As(err, &verr) {
		t.Fatalf("%s: error %v is not a *validate.Error", name, err)
	}
	var got []*validate.FieldError
	for i, w := range want {
		if w == nil {
			continue
		}
		got = append(got, &validate.FieldError{Field: fields[i], Kind: k, Err: w})
		if !errors.Is(err, w) {
			t.Errorf("%s: errors.Is(err, %v) is false", name, w)
		}
	}
	if len(verr.Fields) != len(got) {
		t.Fatalf("%s: got %d problems (%v), want %d", name, len(verr.Fields), err, len(got))
	}
	for i := range got {
		if *verr.Fields[i] != *got[i] {
			t.Errorf("%s: problem %d is %+v, want %+v", name, i, *verr.Fields[i], *got[i])
		}
	}
	if verr.Kind != k {
		t.Errorf("%s: kind %v", name, verr.Kind)
	}
	msg := err.Error()
	for _, secret := range []string{"CANARY", "alice", "bad", "\xff", "client_credentials"} {
		if strings.Contains(msg, secret) {
			t.Errorf("%s: message %q shows a value", name, msg)
		}
	}
}

func cellName(c [5]cell) string {
	var parts []string
	for i, v := range c {
		parts = append(parts, fields[i]+"="+cellNames[v])
	}
	return strings.Join(parts, ",")
}

func TestRequestClassifies(t *testing.T) {
	tests := []struct {
		name string
		r    generated.AuthRequest
		kind validate.Kind
		errs []error
	}{
		{"password", request(good, good, generated.GrantTypePassword, good, good, absent), validate.KindPassword, nil},
		{"refresh", request(good, good, generated.GrantTypeRefreshToken, absent, absent, good), validate.KindRefresh, nil},
		{"logout", request(good, absent, "", absent, absent, good), validate.KindLogout, nil},
		{"unknown grant", request(good, bad, "", absent, absent, good), validate.KindUnknown, []error{validate.ErrInvalidValue}},
		{"empty grant", request(good, empty, "", absent, absent, good), validate.KindUnknown, []error{validate.ErrEmpty}},
		{"unknown grant, no client", request(absent, bad, "", good, good, good), validate.KindUnknown, []error{validate.ErrMissing, validate.ErrInvalidValue}},
		{"logout with password", request(good, absent, "", absent, good, good), validate.KindLogout, []error{validate.ErrForbidden}},
		{"password without password", request(good, good, generated.GrantTypePassword, good, absent, absent), validate.KindPassword, []error{validate.ErrMissing}},
		{"empty request", generated.AuthRequest{}, validate.KindLogout, []error{validate.ErrMissing, validate.ErrMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := validate.Request(tt.r)
			if k != tt.kind {
				t.Errorf("kind %v, want %v", k, tt.kind)
			}
			if tt.errs == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var verr *validate.Error
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *validate.Error", err)
			}
			if len(verr.Fields) != len(tt.errs) {
				t.Fatalf("problems %v, want %d", err, len(tt.errs))
			}
			for i, want := range tt.errs {
				if verr.Fields[i].Err != want {
					t.Errorf("problem %d: %v, want %v", i, verr.Fields[i].Err, want)
				}
			}
		})
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		r    generated.AuthRequest
		want string
	}{
		{request(good, good, generated.GrantTypeRefreshToken, good, absent, good),
			"username: must be absent in a refresh request"},
		{request(absent, good, generated.GrantTypePassword, empty, absent, good),
			"client_id: is required in a password request; username: must not be empty in a password request; password: is required in a password request; refresh_token: must be absent in a password request"},
		{request(good, bad, "", absent, absent, absent),
			`grant_type: must be "password" or "refresh_token"`},
		{request(good, absent, "", absent, absent, bad),
			"refresh_token: must be valid UTF-8 in a logout request"},
	}
	for _, tt := range tests {
		_, err := validate.Request(tt.r)
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v\nwant %s", err, tt.want)
		}
	}
	if got := validate.Check(validate.KindUnknown, tt0()).Error(); got != `grant_type: must be "password" or "refresh_token"` {
		t.Errorf("Check(KindUnknown) = %q", testsafe.Text(got))
	}
	var fe *validate.FieldError
	_, err := validate.Request(request(good, good, generated.GrantTypePassword, good, absent, absent))
	if !errors.As(err, &fe) || fe.Field != "password" || !errors.Is(fe, validate.ErrMissing) {
		t.Errorf("errors.As gave %+v", fe)
	}
}

func tt0() generated.AuthRequest {
	return request(good, absent, "", absent, absent, good)
}

func TestKindString(t *testing.T) {
	for k, want := range map[validate.Kind]string{
		validate.KindUnknown: "unknown", validate.KindPassword: "password",
		validate.KindRefresh: "refresh", validate.KindLogout: "logout", validate.Kind(42): "unknown",
	} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
}

func TestValidRequestAllocatesNothing(t *testing.T) {
	for _, r := range validRequests() {
		if n := testing.AllocsPerRun(100, func() { _, _ = validate.Request(r) }); n != 0 {
			t.Errorf("%v: %v allocs", r, n)
		}
	}
}

func validRequests() []generated.AuthRequest {
	return []generated.AuthRequest{
		request(good, good, generated.GrantTypePassword, good, good, absent),
		request(good, good, generated.GrantTypeRefreshToken, absent, absent, good),
		request(good, absent, "", absent, absent, good),
	}
}

func BenchmarkRequest(b *testing.B) {
	for _, r := range validRequests() {
		k, _ := validate.Request(r)
		b.Run(k.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := validate.Request(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzRequest: nothing panics, and the verdict agrees with the kind checks.
func FuzzRequest(f *testing.F) {
	for _, r := range validRequests() {
		f.Add(r.ClientID, r.GrantType != nil, string(deref((*string)(r.GrantType))), r.Username != nil, deref(r.Username),
			r.Password != nil, deref(r.Password), r.RefreshToken != nil, deref(r.RefreshToken))
	}
	f.Add("", true, "client_credentials", true, "", false, "", true, "\xff")
	f.Fuzz(func(t *testing.T, clientID string, hasGrant bool, grant string, hasUser bool, user string,
		hasPass bool, pass string, hasRefresh bool, refresh string) {
		r := generated.AuthRequest{ClientID: clientID}
		if hasGrant {
			r.GrantType = ptr(generated.GrantType(grant))
		}
		if hasUser {
			r.Username = &user
		}
		if hasPass {
			r.Password = &pass
		}
		if hasRefresh {
			r.RefreshToken = &refresh
		}
		k, err := validate.Request(r)
		if k != validate.Classify(r) {
			t.Fatalf("kind %v, Classify %v", k, validate.Classify(r))
		}
		if k != validate.KindUnknown && (err == nil) != (validate.Check(k, r) == nil) {
			t.Fatalf("Request and Check disagree: %v", err)
		}
		if err != nil {
			// Messages are built only from field names and fixed texts.
			var verr *validate.Error
			if !errors.As(err, &verr) || len(verr.Fields) == 0 {
				t.Fatalf("error %v is not a non-empty *validate.Error", err)
			}
			for _, fe := range verr.Fields {
				if !strings.Contains(strings.Join(fields[:], " "), fe.Field) {
					t.Fatalf("unknown field %q", fe.Field)
				}
				switch fe.Err {
				case validate.ErrMissing, validate.ErrEmpty, validate.ErrForbidden, validate.ErrInvalidValue:
				default:
					t.Fatalf("unknown sentinel %v", fe.Err)
				}
			}
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
