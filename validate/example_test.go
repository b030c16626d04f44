package validate_test

import (
	"errors"
	"fmt"

	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

func ExampleRequest() {
	grant := generated.GrantTypeRefreshToken
	user, token := "alice", "secret-refresh-token"
	r := generated.AuthRequest{ClientID: "iqm_client", GrantType: &grant, Username: &user, RefreshToken: &token}

	kind, err := validate.Request(r)
	fmt.Println(kind)
	fmt.Println(err)
	fmt.Println(errors.Is(err, validate.ErrForbidden))

	var fe *validate.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field)
	}
	// Output:
	// refresh
	// username: must be absent in a refresh request
	// true
	// username
}
