package authschema_test

import (
	"fmt"
	"strings"

	authschema "github.com/iqm-finland/authschema"
	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
)

// A service of its own shares the schema: it takes IQM's AuthRequest (here as JSON),
// decodes it into the shared type with the strict decoder, and applies the shared
// per-kind rules. For its own code generation it uses the contract itself, openapi.yaml
// of the version in its go.mod (Spec, or `iqmauth spec`), whose facts are also Go
// values.
func Example_shareTheSchema() {
	body := []byte(`{"client_id":"iqm_client","grant_type":"refresh_token","refresh_token":"abc.def","username":"alice"}`)
	r, kind, err := api.DecodeJSONRequest(body)
	fmt.Println(r.ClientID, kind)
	fmt.Println(err)

	first, _, _ := strings.Cut(string(authschema.Spec()), "\n")
	fmt.Println(first)
	for _, f := range generated.AuthRequestFields() {
		fmt.Printf("%s secret=%v\n", f.Wire, f.Secret)
	}
	// Output:
	// iqm_client refresh
	// username: must be absent in a refresh request
	// openapi: 3.0.3
	// client_id secret=false
	// grant_type secret=false
	// username secret=false
	// password secret=true
	// refresh_token secret=true
}
