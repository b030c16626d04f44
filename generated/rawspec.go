package generated

// This file is written by hand (it is not generated).

import authschema "github.com/iqm-finland/authschema"

// PathToRawSpec maps pathToFile to the text of openapi.yaml. A consumer whose own spec
// refers to this one ($ref: "authschema.yaml#/components/schemas/AuthRequest") and
// maps it to this package (oapi-codegen's import-mapping) gets code that calls it when
// it embeds its spec (embedded-spec): its GetSwagger then resolves the reference.
func PathToRawSpec(pathToFile string) map[string]func() ([]byte, error) {
	return map[string]func() ([]byte, error){
		pathToFile: func() ([]byte, error) { return authschema.Spec(), nil },
	}
}
