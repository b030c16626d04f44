package api_test

import (
	"fmt"

	"github.com/iqm-finland/authschema/api"
)

func ExampleNewPasswordRequest() {
	r := api.NewPasswordRequest(api.DefaultClientID, "alice", "s3cret pass")
	fmt.Println(r) // the password never shows
	body, err := api.EncodeForm(r)
	fmt.Println(string(body), err)
	// Output:
	// AuthRequest{client_id:"iqm_client" grant_type:"password" username:"alice" password:[REDACTED]}
	// client_id=iqm_client&grant_type=password&username=alice&password=s3cret+pass <nil>
}

func ExampleNewLogoutRequest() {
	body, _ := api.EncodeForm(api.NewLogoutRequest(api.DefaultClientID, "abc.def="))
	fmt.Println(string(body))
	// Output:
	// client_id=iqm_client&refresh_token=abc.def%3D
}

func ExampleEncodeForm() {
	body, err := api.EncodeForm(api.NewRefreshRequest(api.DefaultClientID, "abc.def="))
	fmt.Println(string(body), err)

	bad := api.NewRefreshRequest("", "abc.def=")
	_, err = api.EncodeForm(bad)
	fmt.Println(err)
	// Output:
	// client_id=iqm_client&grant_type=refresh_token&refresh_token=abc.def%3D <nil>
	// encode form: client_id: is required in a refresh request
}

func ExampleEncodeJSON() {
	body, _ := api.EncodeJSON(api.NewLogoutRequest(api.DefaultClientID, "tok\"en"))
	fmt.Println(string(body))
	// Output:
	// {"client_id":"iqm_client","refresh_token":"tok\"en"}
}

func ExampleDecodeFormRequest() {
	r, kind, err := api.DecodeFormRequest([]byte("client_id=iqm_client&refresh_token=abc.def%3D"))
	fmt.Println(kind, r.ClientID, err)

	_, _, err = api.DecodeFormRequest([]byte("client_id=iqm_client&client_secret=xyz"))
	fmt.Println(err)
	// Output:
	// logout iqm_client <nil>
	// "client_secret": unknown field
}

// Building the token endpoint's answer needs no pointers to literals.
func ExampleNewTokenResponse() {
	tr := api.NewTokenResponse("access-token", 300, "refresh-token", 1800, "profile email", "")
	fmt.Println(tr) // secrets never show
	fmt.Println(string(api.EncodeTokenResponse(&tr)))
	// Output:
	// TokenResponse{access_token:[REDACTED] expires_in:300 refresh_expires_in:1800 refresh_token:[REDACTED] token_type:"Bearer" not-before-policy:0 scope:"profile email"}
	// {"access_token":"access-token","expires_in":300,"refresh_expires_in":1800,"refresh_token":"refresh-token","token_type":"Bearer","not-before-policy":0,"scope":"profile email"}
}
